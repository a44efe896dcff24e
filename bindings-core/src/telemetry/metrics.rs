//! The host's metrics: one `prometheus-client` registry per host, the families every binding shares,
//! and typed sets each provider registers once.
//!
//! Names follow the OpenTelemetry semantic conventions (version [`SEMCONV_VERSION`]) mapped to
//! Prometheus: dots become underscores, the unit becomes a suffix (`_seconds`), counters end in
//! `_total`. Metrics the conventions do not define are named `bindings_…`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry, Unit};

/// The OpenTelemetry semantic conventions the metric and span names follow. The messaging and
/// `FaaS` conventions are marked Development there; names may change in later versions.
pub const SEMCONV_VERSION: &str = "1.36.0";

/// Bucket bounds (seconds) of every duration histogram: the OpenTelemetry conventions' advice for
/// `messaging.process.duration` and `http.server.request.duration`.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// A histogram with [`DURATION_BUCKETS`].
pub fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// A family of duration histograms, by label set.
pub type DurationFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// A new [`DurationFamily`].
pub fn duration_family<L: EncodeLabelSet + Clone + std::hash::Hash + Eq>() -> DurationFamily<L> {
    Family::new_with_constructor(duration_histogram)
}

/// Records `elapsed` in seconds.
pub fn observe(histogram: &Histogram, elapsed: Duration) {
    histogram.observe(elapsed.as_secs_f64());
}

/// How an invocation ended, as its listener completed it: the `outcome` label of
/// `faas_invocations_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// It succeeded and its input was completed (a message deleted, a record committed, a 2xx…4xx
    /// response written).
    Succeeded,
    /// It failed and its input will be delivered again.
    Retried,
    /// It failed and its input was moved to the poison queue.
    Poisoned,
    /// It failed and its input was produced to the dead-letter topic.
    DeadLettered,
    /// It failed and nothing is retried (an HTTP 5xx, a manual call's error).
    Failed,
}

impl Outcome {
    /// Every outcome, in declaration order (an outcome's discriminant is its index here).
    pub const ALL: [Outcome; 5] = [
        Outcome::Succeeded,
        Outcome::Retried,
        Outcome::Poisoned,
        Outcome::DeadLettered,
        Outcome::Failed,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Retried => "retried",
            Outcome::Poisoned => "poisoned",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::Failed => "failed",
        }
    }
}

/// Labels of a function's metrics: its name and the attribute that triggers it (`queue_trigger`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct FunctionLabels {
    /// The function's name.
    pub function: Arc<str>,
    /// The trigger attribute's name.
    pub trigger: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InvocationLabels {
    function: Arc<str>,
    trigger: &'static str,
    outcome: &'static str,
}

/// Labels of a messaging metric: the function, the system (`kafka`, `azure_queue`) and the queue or
/// topic (`messaging.destination.name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct MessagingLabels {
    /// The function's name.
    pub function: Arc<str>,
    /// `messaging.system`.
    pub messaging_system: &'static str,
    /// `messaging.destination.name`: the queue or topic.
    pub messaging_destination_name: Arc<str>,
}

/// An output's `messaging_client_sent_messages_total` series, by destination: the destination of a
/// static queue or topic name is made once, a rendered one is looked up per delivery.
#[derive(Debug, Clone)]
pub struct SentMessages {
    shared: Arc<SharedMetrics>,
    function: Arc<str>,
    system: &'static str,
    fixed: Option<(Arc<str>, Counter)>,
}

impl SentMessages {
    /// The series of `function`'s output to `system`; `fixed` is its destination if it is static.
    pub fn new(
        metrics: &Metrics,
        function: &str,
        system: &'static str,
        fixed: Option<&str>,
    ) -> Self {
        let shared = metrics.shared();
        let function: Arc<str> = function.into();
        let fixed = fixed.map(|destination| {
            let destination: Arc<str> = destination.into();
            let counter = shared.sent.get_or_create_owned(&MessagingLabels {
                function: Arc::clone(&function),
                messaging_system: system,
                messaging_destination_name: Arc::clone(&destination),
            });
            (destination, counter)
        });
        Self {
            shared,
            function,
            system,
            fixed,
        }
    }

    /// Counts `n` messages delivered to `destination`.
    pub fn add(&self, destination: &str, n: u64) {
        match &self.fixed {
            Some((fixed, counter)) if &**fixed == destination => {
                counter.inc_by(n);
            }
            _ => {
                self.shared
                    .sent
                    .get_or_create(&MessagingLabels {
                        function: Arc::clone(&self.function),
                        messaging_system: self.system,
                        messaging_destination_name: destination.into(),
                    })
                    .inc_by(n);
            }
        }
    }
}

/// A set of metric families a binding registers once per host: [`Metrics::set`].
pub trait MetricSet: Send + Sync + 'static {
    /// Creates the families and registers them.
    fn register(registry: &mut Registry) -> Self;
}

/// The families every binding shares (registered by the host itself).
#[derive(Debug)]
pub struct SharedMetrics {
    invocations: Family<InvocationLabels, Counter>,
    duration: DurationFamily<FunctionLabels>,
    /// `messaging_client_consumed_messages_total`: messages or records a trigger received.
    pub consumed: Family<MessagingLabels, Counter>,
    /// `messaging_client_sent_messages_total`: messages or records an output delivered.
    pub sent: Family<MessagingLabels, Counter>,
    /// `bindings_scale_hint`: the instances a function wants, from its last scale reading.
    pub scale_hint: Family<FunctionLabels, Gauge>,
    /// `bindings_ready`: 1 while a function is ready (see `/readyz`), else 0.
    pub ready: Family<FunctionLabels, Gauge>,
}

impl MetricSet for SharedMetrics {
    fn register(registry: &mut Registry) -> Self {
        Self {
            invocations: register(
                registry,
                "faas_invocations",
                "Invocations by function and outcome (OpenTelemetry faas.invocations, with an outcome label)",
                Family::default(),
            ),
            duration: register_seconds(
                registry,
                "faas_invoke_duration",
                "Time from the trigger's event to every output delivered (OpenTelemetry faas.invoke_duration)",
                duration_family(),
            ),
            consumed: register(
                registry,
                "messaging_client_consumed_messages",
                "Messages or records a trigger received (OpenTelemetry messaging.client.consumed.messages)",
                Family::default(),
            ),
            sent: register(
                registry,
                "messaging_client_sent_messages",
                "Messages or records an output delivered (OpenTelemetry messaging.client.sent.messages)",
                Family::default(),
            ),
            scale_hint: register(
                registry,
                "bindings_scale_hint",
                "Instances the function wants (Azure's target-based formula), from its last scale reading",
                Family::default(),
            ),
            ready: register(
                registry,
                "bindings_ready",
                "1 while the function is ready: listener running, service reachable at its last attempt",
                Family::default(),
            ),
        }
    }
}

/// Registers `metric` as `name` and gives it back: the registry holds a clone, which is the same
/// series (metrics are shared handles).
pub fn register<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// [`register`] with the unit seconds (the name gets `_seconds`).
pub fn register_seconds<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register_with_unit(name, help, Unit::Seconds, metric.clone());
    metric
}

/// One function's handles on the shared families, made once when it is bound.
#[derive(Clone, Debug)]
pub struct FunctionMetrics {
    outcomes: [Counter; Outcome::ALL.len()],
    duration: Histogram,
}

impl FunctionMetrics {
    /// The handles of `function`, triggered by `trigger` (a trigger attribute's name).
    pub fn new(metrics: &Metrics, function: &Arc<str>, trigger: &'static str) -> Self {
        let shared = metrics.shared();
        let outcomes = Outcome::ALL.map(|outcome| {
            shared.invocations.get_or_create_owned(&InvocationLabels {
                function: Arc::clone(function),
                trigger,
                outcome: outcome.as_str(),
            })
        });
        let duration = shared.duration.get_or_create_owned(&FunctionLabels {
            function: Arc::clone(function),
            trigger,
        });
        Self { outcomes, duration }
    }

    /// Counts an invocation's outcome.
    pub fn outcome(&self, outcome: Outcome) {
        self.outcomes[outcome as usize].inc();
    }

    /// How many invocations ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome as usize].get()
    }

    /// Records an invocation's duration.
    pub fn duration(&self, elapsed: Duration) {
        observe(&self.duration, elapsed);
    }
}

/// A host's metrics: `handle.resources().get::<Metrics>()`, or give the builder your own with
/// `.resource(Arc::new(metrics))` to register your application's metrics in the same registry.
///
/// ```
/// use bindings_core::telemetry::Metrics;
/// use prometheus_client::metrics::counter::Counter;
///
/// let metrics = Metrics::default();
/// let orders: Counter = Counter::default();
/// metrics.registry().register("shop_orders", "Orders taken", orders.clone());
/// orders.inc();
/// assert!(metrics.encode().contains("shop_orders_total 1"));
/// ```
pub struct Metrics {
    registry: Mutex<Registry>,
    sets: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Self {
            registry: Mutex::new(Registry::default()),
            sets: Mutex::new(HashMap::new()),
        };
        metrics.set::<SharedMetrics>();
        metrics
    }
}

impl Metrics {
    /// The registry, to register more metrics in it.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        lock(&self.registry)
    }

    /// The set of type `S`, registered on first use.
    pub fn set<S: MetricSet>(&self) -> Arc<S> {
        let mut sets = lock(&self.sets);
        let entry = sets.entry(TypeId::of::<S>()).or_insert_with(|| {
            let set = S::register(&mut lock(&self.registry));
            Arc::new(set)
        });
        Arc::clone(entry)
            .downcast::<S>()
            .expect("sets are keyed by their own TypeId")
    }

    /// The families every binding shares.
    pub fn shared(&self) -> Arc<SharedMetrics> {
        self.set::<SharedMetrics>()
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry())
            .expect("writing to a String cannot fail");
        text
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_durations_are_exposed_by_function_in_the_prometheus_text_format() {
        let metrics = Metrics::default();
        let f = FunctionMetrics::new(&metrics, &Arc::from("forward"), "queue_trigger");
        f.outcome(Outcome::Succeeded);
        f.outcome(Outcome::Succeeded);
        f.outcome(Outcome::Poisoned);
        f.duration(Duration::from_millis(20));
        let text = metrics.encode();
        assert!(
            text.contains("# TYPE faas_invocations_total counter"),
            "{text}"
        );
        assert!(
            text.contains(
                "faas_invocations_total{function=\"forward\",trigger=\"queue_trigger\",outcome=\"succeeded\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("outcome=\"poisoned\"} 1"), "{text}");
        assert!(text.contains("outcome=\"retried\"} 0"), "{text}");
        assert!(
            text.contains(
                "faas_invoke_duration_seconds_bucket{function=\"forward\",trigger=\"queue_trigger\",le=\"0.025\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE faas_invoke_duration_seconds histogram"),
            "{text}"
        );
        assert_eq!(f.count(Outcome::Succeeded), 2);
        for (index, outcome) in Outcome::ALL.iter().enumerate() {
            assert_eq!(
                *outcome as usize, index,
                "{outcome:?} indexes its own counter"
            );
        }
    }

    #[test]
    fn a_set_is_registered_once_however_often_it_is_asked_for() {
        struct Probe(Counter);
        impl MetricSet for Probe {
            fn register(registry: &mut Registry) -> Self {
                let counter = Counter::default();
                registry.register("probe", "A probe", counter.clone());
                Probe(counter)
            }
        }
        let metrics = Metrics::default();
        metrics.set::<Probe>().0.inc();
        metrics.set::<Probe>().0.inc();
        let text = metrics.encode();
        assert_eq!(
            text.matches("# TYPE probe_total counter").count(),
            1,
            "{text}"
        );
        assert!(text.contains("probe_total 2"), "{text}");
    }
}
