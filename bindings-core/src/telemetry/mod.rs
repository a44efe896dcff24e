//! Running as a fleet: metrics, health and the scale signal, and the admin endpoint that serves
//! them.
//!
//! Every host has a [`Metrics`] registry, a [`Health`] and a [`Scale`] among its resources. The
//! bindings record into them while they run; with `AdminListenAddress` set, the host serves
//!
//! | path | answer |
//! |---|---|
//! | `GET /metrics` | Prometheus text (version 0.0.4) |
//! | `GET /healthz` | 200 while the host runs; 503 with the reason once a trigger failed |
//! | `GET /readyz` | 200 when every listener runs and every service answered at its last attempt; 503 with the reasons otherwise, and while shutting down |
//! | `GET /scale` | JSON: each function's name, trigger, `scale_hint` and the `input` it was computed from; the largest hint at the top |
//!
//! or merge [`router`] into your own axum app.

mod admin;
mod health;
mod metrics;
mod scale;
mod trace;

pub use admin::{ADMIN_LISTEN_ADDRESS_SETTING, METRICS_CONTENT_TYPE, paths, router};
pub(crate) use admin::{address, serve};
pub use health::{FunctionHealth, Health, ServiceHealth};
pub use metrics::{
    DURATION_BUCKETS, DurationFamily, FunctionLabels, FunctionMetrics, MessagingLabels, MetricSet,
    Metrics, Outcome, SEMCONV_VERSION, SentMessages, SharedMetrics, duration_family,
    duration_histogram, observe, register, register_seconds,
};
pub use prometheus_client;
pub use scale::{FunctionScale, Scale, ScaleMonitor, ScaleReading};
#[cfg(feature = "otel")]
pub use trace::otel;
pub use trace::{TRACEPARENT, TRACESTATE, continue_trace, current_trace_headers};
