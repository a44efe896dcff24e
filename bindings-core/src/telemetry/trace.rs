//! Traces across the pipeline: the W3C trace context (`traceparent`, `tracestate`) read from what
//! triggers a function and written into what it sends, so an HTTP request, the Kafka record it
//! produced and the invocation that record triggered are one trace.
//!
//! Spans are `tracing` spans named and attributed after the OpenTelemetry messaging conventions
//! ([`SEMCONV_VERSION`](super::SEMCONV_VERSION)): `otel.name` = `process <queue>` or
//! `send <topic>`, `otel.kind`, `messaging.system`, `messaging.destination.name`,
//! `messaging.operation.type`, `messaging.message.id`, the Kafka partition and offset, and the
//! dequeue count. With the `otel` feature and a `tracing-opentelemetry` layer installed (see
//! [`otel`]), they are exported, and the functions below carry the context; without it they do
//! nothing.
//!
//! Azure Storage queue messages have no place for a trace context (no headers or properties, only
//! the body), so by default a queue trigger starts a new trace and a queue output writes none:
//! wrapping the body would change what every other reader of the queue sees. The queue binding's
//! `trace_context` option opts in to a JSON envelope on both ends.

/// The W3C header that carries the trace and parent span.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C header that carries vendor trace state.
pub const TRACESTATE: &str = "tracestate";

/// Makes `span` continue the remote trace whose W3C headers `header` gives (by lower-case name).
/// Nothing happens without a valid `traceparent`, or without the `otel` feature.
#[cfg_attr(not(feature = "otel"), allow(unused_variables))]
pub fn continue_trace<'a>(span: &tracing::Span, header: impl Fn(&str) -> Option<&'a str>) {
    #[cfg(feature = "otel")]
    otel::continue_trace(span, header);
}

/// The W3C headers of the current span's trace, to write into an outgoing message; empty when no
/// trace is being exported (or without the `otel` feature).
pub fn current_trace_headers() -> Vec<(&'static str, String)> {
    #[cfg(feature = "otel")]
    return otel::current_trace_headers();
    #[cfg(not(feature = "otel"))]
    Vec::new()
}

/// Exporting the spans with OpenTelemetry (the `otel` feature): an OTLP exporter and the
/// `tracing` layer that feeds it. A library installs no subscriber; an application adds the layer
/// to its own.
///
/// ```no_run
/// use bindings_core::telemetry::otel;
/// use tracing_subscriber::layer::SubscriberExt as _;
/// use tracing_subscriber::util::SubscriberInitExt as _;
///
/// // OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318).
/// let provider = otel::otlp_tracer_provider("orders-service").expect("an OTLP exporter");
/// tracing_subscriber::registry()
///     .with(otel::layer(&provider))
///     .with(tracing_subscriber::fmt::layer())
///     .init();
/// // ... run the host; then flush what is left:
/// provider.shutdown().expect("spans flushed");
/// ```
#[cfg(feature = "otel")]
pub mod otel {
    use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    pub use opentelemetry;
    pub use opentelemetry_otlp;
    pub use opentelemetry_sdk;
    pub use tracing_opentelemetry;

    /// The name the tracer reports as its instrumentation scope.
    pub const SCOPE: &str = "bindings";

    /// A tracer provider that batches spans to an OTLP collector over HTTP (protobuf), configured
    /// by the standard `OTEL_EXPORTER_OTLP_*` variables, for service `service_name`.
    pub fn otlp_tracer_provider(
        service_name: &str,
    ) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service_name.to_owned())
                    .build(),
            )
            .build())
    }

    /// The `tracing` layer that turns spans into OpenTelemetry spans of `provider`. It leaves out
    /// what `tracing-opentelemetry` adds to every span by default and a messaging span does not
    /// need — the source location (`code.*`), the thread (`thread.*`) and the busy/idle times —
    /// which roughly doubles what each span costs; build the layer yourself from
    /// [`tracing_opentelemetry::layer`] to have them.
    pub fn layer<S>(
        provider: &SdkTracerProvider,
    ) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        tracing_opentelemetry::layer()
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_tracer(provider.tracer(SCOPE))
    }

    struct Headers<'a, F>(F, std::marker::PhantomData<&'a str>);

    impl<'a, F: Fn(&str) -> Option<&'a str>> Extractor for Headers<'a, F> {
        fn get(&self, key: &str) -> Option<&str> {
            (self.0)(key)
        }
        fn keys(&self) -> Vec<&str> {
            [super::TRACEPARENT, super::TRACESTATE]
                .into_iter()
                .filter(|key| (self.0)(key).is_some())
                .collect()
        }
    }

    pub(super) fn continue_trace<'a>(
        span: &tracing::Span,
        header: impl Fn(&str) -> Option<&'a str>,
    ) {
        let context =
            TraceContextPropagator::new().extract(&Headers(header, std::marker::PhantomData));
        if context.span().span_context().is_valid() {
            // Fails only when the span is disabled or already started a trace of its own.
            let _ = span.set_parent(context);
        }
    }

    struct Collect(Vec<(&'static str, String)>);

    impl Injector for Collect {
        fn set(&mut self, key: &str, value: String) {
            let key = match key {
                super::TRACEPARENT => super::TRACEPARENT,
                super::TRACESTATE => super::TRACESTATE,
                _ => return,
            };
            self.0.push((key, value));
        }
    }

    pub(super) fn current_trace_headers() -> Vec<(&'static str, String)> {
        let context = tracing::Span::current().context();
        if !context.span().span_context().is_valid() {
            return Vec::new();
        }
        let mut headers = Collect(Vec::new());
        TraceContextPropagator::new().inject_context(&context, &mut headers);
        headers.0
    }
}
