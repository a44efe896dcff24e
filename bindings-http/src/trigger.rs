//! `#[http_trigger(...)]`: the attribute, and binding it at start-up.

use std::sync::Arc;

use axum::http::Method;
use axum::routing::MethodFilter;
use bindings_core::{BindContext, Listener, TriggerAttribute};

use crate::HttpTrigger;
use crate::auth::{AuthLevel, Keys};
use crate::routes::HttpMetrics;
use crate::routes::{HttpRoutes, Route, RouteListener};

/// `#[http_trigger(...)]` as a value: methods, route and auth level.
///
/// ```
/// use bindings_http::{AuthLevel, HttpTriggerAttribute};
///
/// let attribute = HttpTriggerAttribute::new()
///     .methods(&["get", "post"])
///     .route("products/{id}")
///     .auth_level(AuthLevel::Anonymous);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct HttpTriggerAttribute {
    methods: Vec<String>,
    route: Option<String>,
    auth_level: AuthLevel,
}

impl HttpTriggerAttribute {
    /// Every method, route = the function's name, auth level `function`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The methods the route answers (others get 405). Default: all.
    pub fn methods(mut self, methods: &[&str]) -> Self {
        self.methods = methods.iter().map(|m| (*m).to_owned()).collect();
        self
    }

    /// The route after the prefix (may hold `{param}`s). Default: the function's name.
    pub fn route(mut self, route: &str) -> Self {
        self.route = Some(route.to_owned());
        self
    }

    /// Who may call it. Default: a function key.
    pub fn auth_level(mut self, level: AuthLevel) -> Self {
        self.auth_level = level;
        self
    }
}

impl TriggerAttribute for HttpTriggerAttribute {
    type Trigger = HttpTrigger;
    const NAME: &'static str = "http_trigger";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<Box<dyn Listener<HttpTrigger>>> {
        let function = cx.function_name().to_owned();
        let mut methods = Vec::new();
        for name in &self.methods {
            let method = Method::from_bytes(name.to_ascii_uppercase().as_bytes()).ok();
            match method.and_then(|m| Some((m.clone(), MethodFilter::try_from(m).ok()?))) {
                Some(method) => methods.push(method),
                None => cx.problem(format!(
                    "\"{name}\" is not an HTTP method the trigger can answer; use: get, post, put, \
                     patch, delete, head, options, trace"
                )),
            }
        }
        let route = self.route.clone().unwrap_or_else(|| function.clone());
        let route = cx.expand("route", &route)?;
        let prefix = cx
            .host_config()
            .extension::<crate::HttpOptions>()
            .route_prefix;
        let path = format!(
            "/{}",
            [prefix.as_str(), route.trim_matches('/')]
                .iter()
                .filter(|p| !p.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("/")
        );
        let keys = Keys::from_settings(cx.settings(), &function, self.auth_level)
            .map_err(|e| cx.problem(e.to_string()))
            .ok()?;
        let routes = cx.resource::<HttpRoutes>();
        routes.configure(cx)?;
        let metrics = cx.metrics().set::<HttpMetrics>();
        let route = Arc::new(Route::new(function, path, methods, keys, metrics));
        routes.add(cx, Arc::clone(&route))?;
        Some(Box::new(RouteListener { route, routes }))
    }
}
