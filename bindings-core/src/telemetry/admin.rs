//! The admin endpoint: `GET /metrics`, `/healthz`, `/readyz` and `/scale`, on its own listener
//! (`AdminListenAddress`) or merged into an application's axum app ([`router`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{Health, Metrics, Scale};
use crate::{Resources, Settings};

/// The setting naming the admin endpoint's `host:port`; `off` (the default) serves none.
pub const ADMIN_LISTEN_ADDRESS_SETTING: &str = "AdminListenAddress";

/// `Content-Type` of `GET /metrics`: the Prometheus text format, version 0.0.4.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The paths the admin endpoint serves.
pub mod paths {
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";
    /// Liveness.
    pub const HEALTHZ: &str = "/healthz";
    /// Readiness.
    pub const READYZ: &str = "/readyz";
    /// Scale hints, as JSON.
    pub const SCALE: &str = "/scale";
}

/// Reads [`ADMIN_LISTEN_ADDRESS_SETTING`]: `None` when it is unset or `off`, else the address (a
/// host name is resolved; the first address it resolves to is used).
pub(crate) async fn address(settings: &Settings) -> Result<Option<SocketAddr>, String> {
    let Some(text) = settings.get(ADMIN_LISTEN_ADDRESS_SETTING).map(str::trim) else {
        return Ok(None);
    };
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(Some(address));
    }
    let wrong = || {
        format!(
            "`{ADMIN_LISTEN_ADDRESS_SETTING}` = \"{text}\" is not host:port (for example \
             0.0.0.0:9090), or \"off\""
        )
    };
    let (_, port) = text.rsplit_once(':').ok_or_else(wrong)?;
    port.parse::<u16>().map_err(|_| wrong())?;
    let mut resolved = tokio::net::lookup_host(text).await.map_err(|err| {
        format!(
            "`{ADMIN_LISTEN_ADDRESS_SETTING}` = \"{text}\": the host name does not resolve ({err})"
        )
    })?;
    resolved.next().map(Some).ok_or_else(|| {
        format!(
            "`{ADMIN_LISTEN_ADDRESS_SETTING}` = \"{text}\": the host name resolves to no address"
        )
    })
}

#[derive(Clone)]
struct Admin {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    scale: Arc<Scale>,
}

/// The admin routes of a host, to merge into an existing axum app (leave `AdminListenAddress` off
/// so the host does not serve them itself).
///
/// ```no_run
/// # async fn run(host: bindings_core::Host) {
/// let handle = host.start();
/// let app = axum::Router::new().merge(bindings_core::telemetry::router(handle.resources()));
/// # let _ = app;
/// # }
/// ```
pub fn router(resources: &Resources) -> Router {
    let state = Admin {
        metrics: resources.get::<Metrics>().unwrap_or_default(),
        health: resources.get::<Health>().unwrap_or_default(),
        scale: resources.get::<Scale>().unwrap_or_default(),
    };
    Router::new()
        .route(paths::METRICS, get(metrics))
        .route(paths::HEALTHZ, get(healthz))
        .route(paths::READYZ, get(readyz))
        .route(paths::SCALE, get(scale))
        .with_state(state)
}

async fn metrics(State(admin): State<Admin>) -> Response {
    // Refreshes the scale gauges (each at most once per its trigger's interval).
    admin.scale.readings().await;
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        admin.metrics.encode(),
    )
        .into_response()
}

fn probe(result: Result<(), String>, ok: &'static str) -> Response {
    match result {
        Ok(()) => (StatusCode::OK, ok).into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response(),
    }
}

async fn healthz(State(admin): State<Admin>) -> Response {
    probe(admin.health.liveness(), "alive\n")
}

async fn readyz(State(admin): State<Admin>) -> Response {
    probe(admin.health.readiness(), "ready\n")
}

async fn scale(State(admin): State<Admin>) -> Response {
    axum::Json(admin.scale.json().await).into_response()
}

/// Serves [`router`] on `listener` until `stop` is cancelled.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    stop: tokio_util::sync::CancellationToken,
) {
    let address = listener.local_addr().ok();
    if let Err(err) = axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
    {
        tracing::error!(?address, error = %err, "the admin endpoint stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_setting_is_off_by_default_and_names_itself_when_wrong() {
        assert_eq!(address(&Settings::new()).await, Ok(None));
        let off = Settings::new().with(ADMIN_LISTEN_ADDRESS_SETTING, "OFF");
        assert_eq!(address(&off).await, Ok(None));
        let ip = Settings::new().with(ADMIN_LISTEN_ADDRESS_SETTING, "0.0.0.0:9090");
        assert_eq!(
            address(&ip).await,
            Ok(Some("0.0.0.0:9090".parse().unwrap()))
        );
        let name = Settings::new().with(ADMIN_LISTEN_ADDRESS_SETTING, "localhost:9090");
        assert_eq!(address(&name).await.unwrap().unwrap().port(), 9090);
        for bad in ["9090", "localhost", "0.0.0.0:http", "0.0.0.0:70000"] {
            let settings = Settings::new().with(ADMIN_LISTEN_ADDRESS_SETTING, bad);
            let err = address(&settings).await.unwrap_err();
            assert!(
                err.contains("`AdminListenAddress`") && err.contains(bad),
                "{bad}: {err}"
            );
        }
    }
}
