//! The HTTP trigger's errors.

use std::net::SocketAddr;

/// What went wrong starting or serving the HTTP functions. Messages name the function, setting or
/// address involved, never a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A function that needs a key has none configured, so nobody could call it.
    #[error(
        "auth_level = \"{level}\" but no key is set: set {settings} (or make the function anonymous)"
    )]
    NoKeys {
        /// The function.
        function: String,
        /// Its auth level (`function` or `admin`).
        level: &'static str,
        /// The settings that would hold its keys, for the message.
        settings: String,
    },
    /// The listen address could not be bound.
    #[error("cannot listen for HTTP on {address} (`{setting}`): {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// The setting it came from.
        setting: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("the HTTP server on {address} failed: {source}")]
    Serve {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
