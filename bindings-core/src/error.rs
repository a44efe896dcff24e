//! The host's error type.

use std::time::Duration;

use crate::trigger::BoxError;
use crate::{BuildError, CallError, HostConfigError, SettingsError};

/// `Result` with the host's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the host could not start, or what went wrong while it ran or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// App settings could not be loaded.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// host.json could not be used.
    #[error(transparent)]
    HostConfig(#[from] HostConfigError),
    /// Functions' configuration has problems (all of them are listed).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A function's listener stopped with an error.
    #[error("function `{function}`: its trigger stopped: {source}")]
    Listener {
        /// The function.
        function: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The shutdown timeout passed before every trigger had stopped and every invocation had
    /// finished. Their inputs were not completed (queue messages reappear after their visibility
    /// timeout).
    #[error(
        "the shutdown timeout of {timeout:?} passed with {running} invocation(s) still running{}; \
         their inputs were not completed and will be delivered again (give the host a longer \
         shutdown timeout if they need more time)",
        not_stopped(triggers)
    )]
    ShutdownTimeout {
        /// The timeout.
        timeout: Duration,
        /// How many invocations were still running.
        running: usize,
        /// The functions whose trigger had not stopped yet (typically waiting for an answer from
        /// its service, such as a storage request).
        triggers: Vec<String>,
    },
    /// Work registered for shutdown (flushing outputs) failed.
    #[error("at shutdown, {name}: {message}")]
    ShutdownHook {
        /// What the work was.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A call of a manually triggered function failed ([`HostHandle::call`](crate::HostHandle::call)).
    #[error(transparent)]
    Call(#[from] CallError),
    /// Listening for Ctrl-C / SIGTERM failed.
    #[error("cannot listen for shutdown signals: {0}")]
    Signal(#[source] std::io::Error),
}

/// The part of [`Error::ShutdownTimeout`]'s message that names the triggers still stopping.
fn not_stopped(triggers: &[String]) -> String {
    if triggers.is_empty() {
        return String::new();
    }
    let names: Vec<String> = triggers.iter().map(|name| format!("`{name}`")).collect();
    format!(
        " and the trigger of {} not stopped (still waiting for its service to answer)",
        names.join(", ")
    )
}
