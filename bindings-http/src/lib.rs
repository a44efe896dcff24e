//! The HTTP trigger for `bindings`, on axum: routes under a prefix (`api` by default), methods, auth
//! levels with function keys from settings, request and response types. The host serves the routes
//! on `HttpListenAddress` (default `127.0.0.1:7071`), or an application merges [`router`] into its own
//! axum app.

mod auth;
mod error;
mod kind;
mod options;
mod request;
mod response;
mod routes;
mod trigger;

pub use auth::{AuthLevel, FUNCTION_KEYS_PREFIX, HOST_KEYS_SETTING, MASTER_KEY_SETTING};
pub use error::Error;
pub use kind::HttpTrigger;
pub use options::HttpOptions;
pub use request::{HttpRequest, Query};
pub use response::HttpResponse;
pub use routes::{DEFAULT_LISTEN_ADDRESS, HttpRoutes, LISTEN_ADDRESS_SETTING, router};
pub use trigger::HttpTriggerAttribute;

/// The status codes, methods and headers of the `http` crate.
pub use axum::http;
