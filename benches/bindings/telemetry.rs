//! What observability costs: the queue trigger's and the Kafka output's throughput with
//! OpenTelemetry tracing exported (a `tracing-opentelemetry` layer feeding a batch span processor)
//! against the same without it, alternating in one run; and what recording one message's metrics
//! costs, against the time the in-memory queue spends per message.
//!
//! The tracing layer is installed at start (`subscriber`) behind a switch, so both sides run in
//! this one process. It needs the `otel` feature (`cargo xtask bench` builds with it); without it
//! the group says so and records nothing.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the OpenTelemetry layer sees spans now.
static TRACING: AtomicBool = AtomicBool::new(false);

/// The bench's subscriber: warnings to stderr, and (with `otel`) the switchable OpenTelemetry
/// layer.
pub(crate) fn subscriber() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        );
    let registry = tracing_subscriber::registry().with(log);
    #[cfg(feature = "otel")]
    let registry = registry.with(otel::layer());
    registry.init();
}

#[cfg(feature = "otel")]
mod otel {
    use std::sync::OnceLock;
    use std::sync::atomic::Ordering;

    use bindings::telemetry::otel;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::filter_fn;

    /// An exporter that drops what it gets: the cost measured is the spans' and the SDK's, not a
    /// collector's.
    #[derive(Debug)]
    struct Discard;

    impl SpanExporter for Discard {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            std::hint::black_box(batch);
            Ok(())
        }
    }

    static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

    /// The OpenTelemetry layer, on while [`super::TRACING`] is set.
    pub(super) fn layer<S>() -> impl tracing_subscriber::Layer<S>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        let provider = PROVIDER.get_or_init(|| {
            SdkTracerProvider::builder()
                .with_batch_exporter(Discard)
                .build()
        });
        // Spans and events at INFO and above, as an application would export them.
        otel::layer(provider).with_filter(filter_fn(|metadata| {
            super::TRACING.load(Ordering::Relaxed) && *metadata.level() <= tracing::Level::INFO
        }))
    }
}

/// Runs `measure` with the OpenTelemetry layer on or off.
async fn traced<T>(on: bool, measure: impl AsyncFnOnce() -> T) -> T {
    TRACING.store(on, Ordering::Relaxed);
    // The switch is read per span: a callsite's interest must not be cached as "never".
    tracing::callsite::rebuild_interest_cache();
    let result = measure().await;
    TRACING.store(false, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
    result
}

#[cfg(not(feature = "otel"))]
pub(crate) async fn run(
    _: &crate::measure::Plan,
    _: &mut crate::measure::Report,
) -> crate::BenchResult<()> {
    let _ = traced(false, async || ()).await;
    println!("  skipped: built without the `otel` feature (`cargo xtask bench` turns it on)");
    Ok(())
}

#[cfg(feature = "otel")]
pub(crate) use with_otel::run;

#[cfg(feature = "otel")]
mod with_otel {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use bindings::queue::{MemoryQueueService, QueueService};
    use bindings::telemetry::prometheus_client::metrics::counter::Counter;
    use bindings::telemetry::{FunctionMetrics, Metrics, Outcome};
    use rdkafka::mocking::MockCluster;

    use super::traced;
    use crate::measure::{Better, Plan, Record, Report, rate, rotate};
    use crate::{BenchResult, support};

    /// Tracing may cost at most this share of throughput: ours with / ours without ≥ 0.97.
    const TARGET: f64 = 0.97;

    pub(crate) async fn run(plan: &Plan, report: &mut Report) -> BenchResult<()> {
        let memory: Arc<dyn QueueService> = Arc::new(MemoryQueueService::new());
        queue(
            plan,
            report,
            "in-memory queue",
            memory,
            plan.memory_messages,
        )
        .await?;
        queue(
            plan,
            report,
            "Azurite",
            crate::queue::azurite()?,
            plan.azurite_messages,
        )
        .await?;
        kafka(plan, report).await?;
        metrics(report, plan.memory_messages)
    }

    fn record(
        report: &mut Report,
        scenario: String,
        unit: &'static str,
        [on, off]: [Vec<f64>; 2],
        note: String,
    ) -> BenchResult<()> {
        report.record(&Record {
            group: "telemetry",
            scenario,
            unit,
            better: Better::Higher,
            ours: on,
            baseline: Some(off),
            target: Some(TARGET),
            note,
        })
    }

    async fn queue(
        plan: &Plan,
        report: &mut Report,
        backend: &str,
        service: Arc<dyn QueueService>,
        messages: usize,
    ) -> BenchResult<()> {
        let queue = support::unique("bench-traced");
        service.create_queue(&queue).await?;
        let config = crate::queue::host_config(false)?;
        let label = format!("{backend}, {messages} messages");
        let samples = rotate(
            &label,
            plan.reps,
            &["traced", "untraced"],
            "msg/s",
            async |which| {
                crate::queue::fill(&*service, &queue, messages).await?;
                let took = traced(which == 0, async || {
                    crate::queue::trigger(&service, &queue, messages, config.clone()).await
                })
                .await?;
                Ok(rate(messages, took))
            },
        )
        .await?;
        record(
            report,
            format!(
                "Queue trigger throughput with OpenTelemetry tracing: {backend}, default options"
            ),
            "msg/s",
            samples.try_into().expect("two contenders"),
            format!(
                "{messages} messages per measurement; baseline: the same without the tracing layer \
                 (metrics on in both)"
            ),
        )
    }

    async fn kafka(plan: &Plan, report: &mut Report) -> BenchResult<()> {
        let cluster =
            MockCluster::new(1).map_err(|err| format!("cannot start a mock cluster: {err}"))?;
        let topic = support::unique("bench-traced");
        cluster
            .create_topic(&topic, 3, 1)
            .map_err(|err| format!("mock cluster: cannot create topic `{topic}`: {err}"))?;
        let host = crate::kafka::output_host(&cluster.bootstrap_servers(), &topic).await?;
        let value = bindings::Bytes::from(vec![b'x'; 100]);
        let workers = crate::kafka::concurrency(1);
        crate::kafka::ours(
            &host,
            "produce_one",
            1,
            &value,
            workers,
            Duration::from_millis(200),
        )
        .await?;
        let samples = rotate(
            "mock cluster, 1 msg/invocation, 100 B",
            plan.reps,
            &["traced", "untraced"],
            "msg/s",
            async |which| {
                traced(which == 0, async || {
                    crate::kafka::ours(&host, "produce_one", 1, &value, workers, plan.kafka_window)
                        .await
                })
                .await
            },
        )
        .await?;
        record(
            report,
            "Kafka output throughput with OpenTelemetry tracing: mock cluster, 1 msg/invocation, 100 B"
                .to_owned(),
            "msg/s",
            samples.try_into().expect("two contenders"),
            format!(
                "{workers} invocations in flight; baseline: the same without the tracing layer \
                 (metrics on in both); traced records also carry a traceparent header"
            ),
        )?;
        let host = Arc::try_unwrap(host).map_err(|_| "the host handle is still shared")?;
        host.shutdown(Duration::from_secs(30)).await?;
        Ok(())
    }

    /// The metric updates the queue trigger makes for one message of a successful invocation:
    /// received, polled (a batch's share), deleted, the invocation's outcome and duration.
    fn metrics(report: &mut Report, messages: usize) -> BenchResult<()> {
        let metrics = Metrics::default();
        let counters: Vec<Counter> = (0..4).map(|_| Counter::default()).collect();
        let function = FunctionMetrics::new(&metrics, &"bench".into(), "queue_trigger");
        let mut samples = Vec::new();
        for _ in 0..5 {
            let began = Instant::now();
            for n in 0..messages {
                counters[0].inc();
                if n % 16 == 0 {
                    counters[1].inc();
                }
                counters[2].inc();
                function.outcome(Outcome::Succeeded);
                function.duration(std::hint::black_box(Duration::from_micros(3)));
                counters[3].inc();
            }
            std::hint::black_box(&counters);
            samples.push(began.elapsed().as_secs_f64() * 1e9 / messages as f64);
        }
        report.record(&Record {
            group: "telemetry",
            scenario: "Metrics recorded per queue message (in-process)".to_owned(),
            unit: "ns",
            better: Better::Lower,
            ours: samples,
            baseline: None,
            target: None,
            note:
                "the counter and histogram updates one message makes; compare with the in-memory \
                   queue row's time per message (1 / its rate)"
                    .to_owned(),
        })
    }
}
