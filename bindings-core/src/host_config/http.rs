//! `extensions.http`: the HTTP trigger's options.

use std::collections::BTreeMap;

/// Options of the HTTP trigger (host.json `extensions.http`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The prefix of every function route. Default `api` (routes are `/api/<route>`); empty for none.
    pub route_prefix: String,
    /// The largest request body accepted, in bytes; larger requests get 413. Default 100 MiB
    /// (Azure's limit). Not in Azure's host.json.
    pub max_request_body_size: u64,
    /// Requests executed at once per host; `None` (host.json `-1`) is unbounded. Default unbounded.
    pub max_concurrent_requests: Option<u32>,
    /// Requests held (running or queued) before new ones get 429; `None` (host.json `-1`) is unbounded.
    pub max_outstanding_requests: Option<u32>,
    /// Headers added to every response.
    pub custom_headers: BTreeMap<String, String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            route_prefix: "api".to_owned(),
            max_request_body_size: 100 * 1024 * 1024,
            max_concurrent_requests: None,
            max_outstanding_requests: None,
            custom_headers: BTreeMap::new(),
        }
    }
}
