//! `extensions.http`: the HTTP trigger's options.

use std::collections::BTreeMap;

use bindings_core::{Extension, Section};

/// Options of the HTTP trigger (host.json `extensions.http`).
///
/// ```
/// use bindings_core::HostConfig;
/// use bindings_http::HttpOptions;
///
/// let config = HostConfig::from_json_str(
///     r#"{ "version": "2.0", "extensions": { "http": { "routePrefix": "/v1/" } } }"#,
/// )?;
/// assert_eq!(config.extension::<HttpOptions>().route_prefix, "v1");
/// # Ok::<(), bindings_core::HostConfigError>(())
/// ```
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

impl Extension for HttpOptions {
    const NAME: &'static str = "http";

    fn read(section: &mut Section<'_>) -> Self {
        section.ignore(
            &["dynamicThrottlesEnabled", "hsts"],
            "a Functions host HTTP setting this library does not implement",
        );
        let defaults = Self::default();
        Self {
            route_prefix: section
                .string("routePrefix")
                .map_or(defaults.route_prefix, |prefix| {
                    prefix.trim_matches('/').to_owned()
                }),
            max_request_body_size: section
                .positive("maxRequestBodySize")
                .unwrap_or(defaults.max_request_body_size),
            max_concurrent_requests: section
                .limit("maxConcurrentRequests")
                .unwrap_or(defaults.max_concurrent_requests),
            max_outstanding_requests: section
                .limit("maxOutstandingRequests")
                .unwrap_or(defaults.max_outstanding_requests),
            custom_headers: section.string_map("customHeaders").unwrap_or_default(),
        }
    }
}

bindings_core::register_extension!(HttpOptions);

#[cfg(test)]
mod tests {
    use bindings_core::HostConfig;

    use super::*;

    #[test]
    fn reads_every_http_option() {
        let config = HostConfig::from_json_str(
            r#"{ "version": "2.0", "extensions": {
                "http": { "routePrefix": "/v1/", "maxConcurrentRequests": -1, "maxOutstandingRequests": 200,
                          "maxRequestBodySize": 1024, "customHeaders": { "X-Frame-Options": "DENY" },
                          "hsts": {} } } }"#,
        )
        .unwrap();
        let h = config.extension::<HttpOptions>();
        assert_eq!(h.route_prefix, "v1");
        assert_eq!(h.max_concurrent_requests, None);
        assert_eq!(h.max_outstanding_requests, Some(200));
        assert_eq!(h.max_request_body_size, 1024);
        assert_eq!(h.custom_headers["X-Frame-Options"], "DENY");
        assert_eq!(
            config.warnings,
            [
                "$.extensions.http.hsts: a Functions host HTTP setting this library does not implement; ignored"
            ]
        );
        let defaults = HostConfig::default().extension::<HttpOptions>();
        assert_eq!(defaults, HttpOptions::default());
        assert_eq!(defaults.route_prefix, "api");
    }

    #[test]
    fn invalid_values_are_reported_with_their_paths() {
        let problems = HostConfig::from_json_str(
            r#"{ "version": "2.0", "extensions": {
                "http": { "maxConcurrentRequests": 0, "maxRequestBodySize": 0, "customHeaders": { "X": 1 } } } }"#,
        )
        .expect_err("invalid values are refused")
        .problems();
        assert_eq!(
            problems,
            [
                "$.extensions.http.maxRequestBodySize: expected a positive whole number, found 0",
                "$.extensions.http.maxConcurrentRequests: expected -1 (unbounded) or a positive number, found 0",
                "$.extensions.http.customHeaders.X: expected a string, found a number",
            ]
        );
    }
}
