//! What an HTTP-triggered function receives.

use std::collections::BTreeMap;
use std::fmt;

use axum::http::{HeaderMap, Method, Uri};
use bindings_core::{Bytes, FunctionError, Payload};

/// An HTTP request: method, URL, query, route parameters, headers and body. Bind it as a parameter
/// of type `HttpRequest`; the body also binds as `String`, `Bytes`, `Vec<u8>` or `Json<T>`.
///
/// Its `Debug` output hides the function key (the `x-functions-key` header and the `code` query
/// parameter) and the `Authorization` header, so a request can be logged.
#[derive(Clone)]
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

/// The query parameter that carries a function key.
const KEY_QUERY: &str = "code";
/// Headers whose values are secrets.
const SECRET_HEADERS: [&str; 2] = ["x-functions-key", "authorization"];
/// What `Debug` prints in place of a secret.
const HIDDEN: &str = "***";

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if SECRET_HEADERS.contains(&name.as_str()) {
                    HIDDEN
                } else {
                    value.to_str().unwrap_or("(not text)")
                };
                (name.as_str(), value)
            })
            .collect();
        let query: BTreeMap<&str, &str> = self
            .query
            .iter()
            .map(|(name, value)| {
                let value = if name == KEY_QUERY {
                    HIDDEN
                } else {
                    value.as_str()
                };
                (name.as_str(), value)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("uri", &DebugUri(&self.uri))
            .field("headers", &headers)
            .field("query", &query)
            .field("params", &self.params)
            .field("body", &self.body)
            .finish()
    }
}

/// A URI with the value of its `code` query parameter hidden.
struct DebugUri<'a>(&'a Uri);

impl fmt::Debug for DebugUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(scheme), Some(authority)) = (self.0.scheme_str(), self.0.authority()) {
            write!(f, "{scheme}://{authority}")?;
        }
        f.write_str(self.0.path())?;
        let Some(query) = self.0.query() else {
            return Ok(());
        };
        f.write_str("?")?;
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            // Compare the decoded name, so `c%6Fde=` is hidden too.
            let decoded: Vec<(String, String)> =
                serde_urlencoded::from_str(pair).unwrap_or_default();
            match pair.split_once('=') {
                Some((name, _)) if decoded.iter().any(|(n, _)| n == KEY_QUERY) => {
                    write!(f, "{name}={HIDDEN}")?;
                }
                _ => f.write_str(pair)?,
            }
        }
        Ok(())
    }
}

impl Payload for HttpRequest {
    fn payload(&self) -> Result<&Bytes, FunctionError> {
        Ok(&self.body)
    }
}

/// The query string parsed into `T` (with serde): a parameter of type `Query<T>`.
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_function_keys_and_authorization() {
        let uri: Uri = "/api/f?name=x&code=key-in-query&c%6Fde=encoded-key"
            .parse()
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-functions-key", "key-in-header".parse().unwrap());
        headers.insert("authorization", "Bearer token-value".parse().unwrap());
        headers.insert("accept", "text/plain".parse().unwrap());
        let query = serde_urlencoded::from_str::<Vec<(String, String)>>(uri.query().unwrap())
            .unwrap()
            .into_iter()
            .collect();
        let request = HttpRequest {
            method: Method::GET,
            uri,
            headers,
            query,
            params: BTreeMap::new(),
            body: Bytes::from_static(b"body"),
        };
        let debug = format!("{request:?}");
        for secret in [
            "key-in-query",
            "encoded-key",
            "key-in-header",
            "token-value",
        ] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        for shown in ["/api/f?name=x&code=***", "text/plain", "\"name\": \"x\""] {
            assert!(debug.contains(shown), "{shown} not in {debug}");
        }
    }
}
