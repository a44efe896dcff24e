//! What an HTTP-triggered function receives.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, Uri};
use bindings_core::{Bytes, FromInvocation, FunctionError, Invocation, Payload};
use serde::de::DeserializeOwned;

use crate::HttpTrigger;

/// An HTTP request: method, URL, query, route parameters, headers and body. Bind it as a parameter
/// of type `HttpRequest`; the body also binds as `String`, `Bytes`, `Vec<u8>` or `Json<T>`.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The URL (path and query).
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The query parameters (the last value of a repeated name).
    pub query: BTreeMap<String, String>,
    /// The route parameters (`{id}` in the route).
    pub params: BTreeMap<String, String>,
    /// The body.
    pub body: Bytes,
}

impl HttpRequest {
    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// A route parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as UTF-8 text, if it is.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

impl Payload for HttpRequest {
    fn payload(&self) -> Result<&Bytes, FunctionError> {
        Ok(&self.body)
    }
}

impl FromInvocation<HttpTrigger> for HttpRequest {
    fn from_invocation(invocation: &mut Invocation<HttpTrigger>) -> Result<Self, FunctionError> {
        Ok(invocation.event.clone())
    }
}

/// The query string parsed into `T` (with serde): a parameter of type `Query<T>`.
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromInvocation<HttpTrigger> for Query<T> {
    fn from_invocation(invocation: &mut Invocation<HttpTrigger>) -> Result<Self, FunctionError> {
        let query = invocation.event.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(Query).map_err(|e| {
            FunctionError::with_source(
                format!(
                    "the query string does not fit `{}`",
                    std::any::type_name::<T>()
                ),
                e,
            )
            .into_poison()
        })
    }
}
