//! The host's error type.

use std::time::Duration;

use crate::trigger::BoxError;
use crate::{BuildError, HostConfigError, SettingsError};

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
    /// Invocations were still running when the shutdown timeout passed. Their inputs were not completed
    /// (queue messages reappear after their visibility timeout).
    #[error(
        "{running} invocation(s) still running after the shutdown timeout of {timeout:?}; their inputs were \
         not completed and will be delivered again"
    )]
    ShutdownTimeout {
        /// The timeout.
        timeout: Duration,
        /// How many were still running.
        running: usize,
    },
    /// Work registered for shutdown (flushing outputs) failed.
    #[error("at shutdown, {name}: {message}")]
    ShutdownHook {
        /// What the work was.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// Listening for Ctrl-C / SIGTERM failed.
    #[error("cannot listen for shutdown signals: {0}")]
    Signal(#[source] std::io::Error),
}
