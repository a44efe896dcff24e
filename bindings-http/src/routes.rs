//! The functions' routes as one axum `Router`, served by the host (or merged into an application's
//! own axum app).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawPathParams, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, any, on};
use bindings_core::telemetry::{
    DurationFamily, MetricSet, Outcome, continue_trace, duration_family, observe, register_seconds,
};
use bindings_core::{BindContext, BindingData, BoxError, Invoker, Listener, TriggerEvent};
use futures_util::future::BoxFuture;
use prometheus_client::encoding::EncodeLabelSet;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::auth::Keys;
use crate::{Error, HttpRequest, HttpTrigger};

/// The setting naming the address the host serves HTTP functions on; `off` serves nothing (merge
/// [`router`] into your own app instead).
pub const LISTEN_ADDRESS_SETTING: &str = "HttpListenAddress";
/// The default address.
pub const DEFAULT_LISTEN_ADDRESS: &str = "127.0.0.1:7071";

/// One function's route.
pub(crate) struct Route {
    function: String,
    path: String,
    /// Empty: every method.
    methods: Vec<(Method, MethodFilter)>,
    keys: Keys,
    invoker: OnceLock<Invoker<HttpTrigger>>,
    metrics: Arc<HttpMetrics>,
}

impl Route {
    pub(crate) fn new(
        function: String,
        path: String,
        methods: Vec<(Method, MethodFilter)>,
        keys: Keys,
        metrics: Arc<HttpMetrics>,
    ) -> Self {
        Self {
            function,
            path,
            methods,
            keys,
            invoker: OnceLock::new(),
            metrics,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    function: String,
    http_request_method: String,
    http_response_status_code: u16,
}

/// The HTTP trigger's metrics (one set per host).
#[derive(Debug)]
pub(crate) struct HttpMetrics {
    requests: DurationFamily<RequestLabels>,
}

impl MetricSet for HttpMetrics {
    fn register(registry: &mut prometheus_client::registry::Registry) -> Self {
        Self {
            requests: register_seconds(
                registry,
                "http_server_request_duration",
                "HTTP requests by function, method and status, and their duration (OpenTelemetry \
                 http.server.request.duration)",
                duration_family(),
            ),
        }
    }
}

/// Every HTTP function of a host.
#[derive(Default)]
pub struct HttpRoutes {
    routes: Mutex<Vec<Arc<Route>>>,
    settings: OnceLock<ServerSettings>,
    serving: AtomicBool,
}

#[derive(Debug, Clone)]
struct ServerSettings {
    address: Option<SocketAddr>,
    body_limit: usize,
    custom_headers: Arc<[(HeaderName, HeaderValue)]>,
    limits: Arc<Limits>,
}

/// host.json's `maxConcurrentRequests` and `maxOutstandingRequests`, for all HTTP functions of a host.
#[derive(Debug, Default)]
struct Limits {
    /// Requests running at once; the rest wait.
    running: Option<Arc<Semaphore>>,
    /// Requests held (running or waiting); more get 429.
    outstanding_max: Option<usize>,
    outstanding: AtomicUsize,
}

impl std::fmt::Debug for HttpRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes = self.lock();
        f.debug_struct("HttpRoutes")
            .field(
                "paths",
                &routes.iter().map(|r| r.path.clone()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HttpRoutes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Route>>> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the server settings once per host.
    pub(crate) fn configure(&self, cx: &mut BindContext<'_>) -> Option<()> {
        if self.settings.get().is_some() {
            return Some(());
        }
        let address = cx
            .settings()
            .get(LISTEN_ADDRESS_SETTING)
            .unwrap_or(DEFAULT_LISTEN_ADDRESS)
            .to_owned();
        let address = if address.eq_ignore_ascii_case("off") {
            None
        } else {
            Some(
                address
                    .parse::<SocketAddr>()
                    .map_err(|_| cx.problem(format!("`{LISTEN_ADDRESS_SETTING}` = \"{address}\" is not host:port (or \"off\")")))
                    .ok()?,
            )
        };
        let http = &cx.host_config().extension::<crate::HttpOptions>();
        let mut custom_headers = Vec::with_capacity(http.custom_headers.len());
        let mut problems = Vec::new();
        for (name, value) in &http.custom_headers {
            match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                (Ok(name), Ok(value)) => custom_headers.push((name, value)),
                (Err(_), _) => problems.push(format!(
                    "host.json `extensions.http.customHeaders`: \"{name}\" is not a valid header name \
                     (letters, digits and !#$%&'*+-.^_`|~ only)"
                )),
                (_, Err(_)) => problems.push(format!(
                    "host.json `extensions.http.customHeaders.{name}`: the value is not a valid header \
                     value (no control characters or line breaks)"
                )),
            }
        }
        let body_limit = usize::try_from(http.max_request_body_size).unwrap_or(usize::MAX);
        let limits = Arc::new(Limits {
            running: http
                .max_concurrent_requests
                .map(|n| Arc::new(Semaphore::new(n as usize))),
            outstanding_max: http.max_outstanding_requests.map(|n| n as usize),
            outstanding: AtomicUsize::new(0),
        });
        if !problems.is_empty() {
            for problem in problems {
                cx.problem(problem);
            }
            return None;
        }
        let _ = self.settings.set(ServerSettings {
            address,
            body_limit,
            custom_headers: custom_headers.into(),
            limits,
        });
        Some(())
    }

    /// Adds a route; two functions may not answer the same path and method.
    pub(crate) fn add(&self, cx: &mut BindContext<'_>, route: Arc<Route>) -> Option<()> {
        let mut routes = self.lock();
        let overlap = |a: &[(Method, MethodFilter)], b: &[(Method, MethodFilter)]| {
            a.is_empty() || b.is_empty() || a.iter().any(|(m, _)| b.iter().any(|(n, _)| m == n))
        };
        if let Some(other) = routes
            .iter()
            .find(|r| r.path == route.path && overlap(&r.methods, &route.methods))
        {
            cx.problem(format!(
                "route `{}` is also answered by function `{}`",
                route.path, other.function
            ));
            return None;
        }
        routes.push(route);
        Some(())
    }

    /// Every function's route as one router (paths include the route prefix).
    pub fn router(&self) -> Router {
        let settings = self.settings.get().cloned().unwrap_or(ServerSettings {
            address: None,
            body_limit: 100 * 1024 * 1024,
            custom_headers: Arc::from([]),
            limits: Arc::default(),
        });
        let mut router = Router::new();
        for route in self.lock().iter() {
            let state = (Arc::clone(route), Arc::clone(&settings.limits));
            let method_router: MethodRouter = if route.methods.is_empty() {
                any(handle).with_state(state)
            } else {
                let filter = route
                    .methods
                    .iter()
                    .map(|(_, filter)| *filter)
                    .reduce(MethodFilter::or)
                    .expect("a route with methods has at least one");
                on(filter, handle).with_state(state)
            };
            router = router.route(&route.path, method_router);
        }
        let headers = settings.custom_headers;
        router
            .layer(DefaultBodyLimit::max(settings.body_limit))
            .layer(axum::middleware::map_response(
                move |mut response: Response| {
                    let headers = Arc::clone(&headers);
                    async move {
                        for (name, value) in headers.iter() {
                            response.headers_mut().insert(name.clone(), value.clone());
                        }
                        response
                    }
                },
            ))
    }
}

/// Runs one request through its function, and counts it by status.
async fn handle(
    State((route, limits)): State<(Arc<Route>, Arc<Limits>)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    params: RawPathParams,
    body: Bytes,
) -> Response {
    let started = std::time::Instant::now();
    let labels_method = method.as_str().to_owned();
    // The server span, after OpenTelemetry's HTTP conventions; it continues the caller's trace
    // (`traceparent`), and the invocation runs inside it.
    let span = tracing::info_span!(
        "http_request",
        function = %route.function,
        otel.name = %format_args!("{method} {}", route.path),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route.path,
        http.response.status_code = tracing::field::Empty,
    );
    continue_trace(&span, |name| {
        headers.get(name).and_then(|v| v.to_str().ok())
    });
    let response = respond(&route, &limits, method, uri, headers, params, body)
        .instrument(span.clone())
        .await;
    span.record("http.response.status_code", response.status().as_u16());
    observe(
        &route.metrics.requests.get_or_create(&RequestLabels {
            function: route.function.clone(),
            http_request_method: labels_method,
            http_response_status_code: response.status().as_u16(),
        }),
        started.elapsed(),
    );
    response
}

async fn respond(
    route: &Route,
    limits: &Limits,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    params: RawPathParams,
    body: Bytes,
) -> Response {
    let query: BTreeMap<String, String> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(uri.query().unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .collect();
    let presented = headers
        .get("x-functions-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| query.get("code").map(String::as_str));
    if !route.keys.allows(presented) {
        return (
            StatusCode::UNAUTHORIZED,
            "a valid key is required (x-functions-key header or ?code=)",
        )
            .into_response();
    }
    let Some(invoker) = route.invoker.get() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the function is starting").into_response();
    };
    // Count this request while it is held; over maxOutstandingRequests it is refused.
    let held = limits.outstanding.fetch_add(1, Ordering::SeqCst) + 1;
    let _release = Release(&limits.outstanding);
    if limits.outstanding_max.is_some_and(|max| held > max) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests (maxOutstandingRequests); try again later",
        )
            .into_response();
    }
    let _running = match &limits.running {
        Some(semaphore) => Some(
            Arc::clone(semaphore)
                .acquire_owned()
                .await
                .expect("never closed"),
        ),
        None => None,
    };
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let mut data = BindingData::new();
    for (name, value) in query.iter().chain(&params) {
        data.insert(name.clone(), value.clone());
    }
    if body.first() == Some(&b'{')
        && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body)
    {
        data.extend_from_json(&json);
    }
    let request = HttpRequest {
        method,
        uri,
        headers,
        query,
        params,
        body,
    };
    let run = invoker.invoke(TriggerEvent::new(request, data));
    // Tracked by the host, so shutdown waits for the response.
    let result = invoker.spawn(run.in_current_span()).await;
    invoker.completed(match &result {
        Ok(Ok(_)) => Outcome::Succeeded,
        _ => Outcome::Failed,
    });
    match result {
        Ok(Ok(response)) => response.into_response(),
        // The request did not bind to the function's parameters: the client's mistake.
        Ok(Err(err)) if err.is_binding_error() => {
            tracing::warn!(function = %route.function, error = %err, "the HTTP request does not fit the function's parameters");
            (StatusCode::BAD_REQUEST, format!("bad request: {err}")).into_response()
        }
        Ok(Err(err)) => {
            tracing::error!(function = %route.function, error = %err, "the HTTP function failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Decrements the outstanding count when a request is done, however it ends.
struct Release<'a>(&'a AtomicUsize);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A function's part in serving: hands its invoker to the route; the first one serves the router.
pub(crate) struct RouteListener {
    pub(crate) route: Arc<Route>,
    pub(crate) routes: Arc<HttpRoutes>,
}

impl Listener<HttpTrigger> for RouteListener {
    fn run(
        self: Box<Self>,
        invoker: Invoker<HttpTrigger>,
    ) -> BoxFuture<'static, Result<(), BoxError>> {
        Box::pin(async move {
            let shutdown = invoker.shutdown_token().clone();
            let _ = self.route.invoker.set(invoker);
            let address = self.routes.settings.get().and_then(|s| s.address);
            let Some(address) =
                address.filter(|_| !self.routes.serving.swap(true, Ordering::SeqCst))
            else {
                shutdown.cancelled().await;
                return Ok(());
            };
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|source| Error::Listen {
                    address,
                    setting: LISTEN_ADDRESS_SETTING,
                    source,
                })?;
            tracing::info!(%address, "serving HTTP functions");
            axum::serve(listener, self.routes.router())
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await
                .map_err(|source| Error::Serve { address, source })?;
            Ok(())
        })
    }
}

/// The router of a running host's HTTP functions, to merge into an existing axum app (set
/// `HttpListenAddress` to `off` so the host does not serve them itself).
pub fn router(resources: &bindings_core::Resources) -> Router {
    resources
        .get::<HttpRoutes>()
        .map(|routes| routes.router())
        .unwrap_or_default()
}
