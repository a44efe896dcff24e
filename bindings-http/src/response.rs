//! What an HTTP-triggered function answers.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bindings_core::{Bytes, FunctionError};
use serde::Serialize;

/// An HTTP response. A function that returns nothing answers `204 No Content`.
///
/// ```
/// use bindings_http::HttpResponse;
///
/// let response = HttpResponse::ok().body("Ok").header("x-trace", "1");
/// assert_eq!(response.status().as_u16(), 200);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpResponse {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Default for HttpResponse {
    fn default() -> Self {
        Self::new(StatusCode::NO_CONTENT)
    }
}

impl HttpResponse {
    /// A response with `status` and no body.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// `200 OK`.
    pub fn ok() -> Self {
        Self::new(StatusCode::OK)
    }

    /// `400 Bad Request` with a text body.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST).body(message.into())
    }

    /// Sets the body (text: `text/plain; charset=utf-8` unless a content type is set).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    pub fn json<T: Serialize>(self, value: &T) -> Result<Self, FunctionError> {
        let body = serde_json::to_vec(value)
            .map_err(|e| FunctionError::with_source("cannot serialize the response", e))?;
        Ok(self.header("content-type", "application/json").body(body))
    }

    /// Adds a header; an invalid name or value is skipped with a warning.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => self.headers.push((name, value)),
            _ => tracing::warn!(name, "invalid response header skipped"),
        }
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }
}

impl IntoResponse for HttpResponse {
    fn into_response(self) -> Response {
        let has_type = self.headers.iter().any(|(n, _)| n == header::CONTENT_TYPE);
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.remove(header::CONTENT_TYPE);
        if !has_type && !response_is_empty(self.status) {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

fn response_is_empty(status: StatusCode) -> bool {
    status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}
