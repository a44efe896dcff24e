//! The one error type of `xtask`: a message meant for a person, with its causes folded in.

use std::fmt;

/// What went wrong, already phrased for the terminal (may span several lines).
#[derive(Debug)]
pub(crate) struct Error {
    message: String,
}

/// `xtask`'s result type.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with this message.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// This error as `<prefix>: <message>` (e.g. the service's name).
    pub(crate) fn prefixed(self, prefix: &str) -> Self {
        Self::new(format!("{prefix}: {}", self.message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Adds "what we were doing" to a lower-level error.
pub(crate) trait Context<T> {
    /// On error, prefix the cause with `what` (e.g. "writing target/services/services.env").
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|cause| Error::new(format!("{}: {cause}", what())))
    }
}
