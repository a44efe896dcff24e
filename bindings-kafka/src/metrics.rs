//! What a Kafka output reports: records delivered, the time each send took until its last delivery
//! report, failures by error kind, and whether the brokers answer (for readiness).

use std::sync::Arc;
use std::time::Duration;

use bindings_core::BindContext;
use bindings_core::telemetry::{
    DurationFamily, MetricSet, SentMessages, ServiceHealth, duration_family, observe, register,
    register_seconds,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// `messaging.system` of Kafka, as the OpenTelemetry conventions spell it.
pub(crate) const MESSAGING_SYSTEM: &str = "kafka";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SendLabels {
    function: Arc<str>,
    messaging_system: &'static str,
    messaging_destination_name: Arc<str>,
    messaging_operation_name: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    function: Arc<str>,
    topic: Arc<str>,
    error_type: &'static str,
}

/// The Kafka output's metric families (one set per host).
#[derive(Debug)]
struct OutputMetrics {
    duration: DurationFamily<SendLabels>,
    failures: Family<FailureLabels, Counter>,
}

impl MetricSet for OutputMetrics {
    fn register(registry: &mut Registry) -> Self {
        Self {
            duration: register_seconds(
                registry,
                "messaging_client_operation_duration",
                "Kafka sends: from the first record enqueued to the last delivery report (OpenTelemetry messaging.client.operation.duration, operation send)",
                duration_family(),
            ),
            failures: register(
                registry,
                "bindings_kafka_delivery_failures",
                "Kafka records not delivered, by error type (the librdkafka error code)",
                Family::default(),
            ),
        }
    }
}

/// One Kafka output's metrics and health report.
#[derive(Debug, Clone)]
pub(crate) struct OutputTelemetry {
    function: Arc<str>,
    set: Arc<OutputMetrics>,
    sent: SentMessages,
    /// The send-duration series of a static topic, made once.
    fixed: Option<(Arc<str>, Histogram)>,
    health: ServiceHealth,
}

impl OutputTelemetry {
    /// The telemetry of the output being bound; `fixed` is its topic if the name is static.
    pub(crate) fn bind(cx: &mut BindContext<'_>, fixed: Option<&str>) -> Self {
        let metrics = cx.metrics();
        let function: Arc<str> = cx.function_name().into();
        let set = metrics.set::<OutputMetrics>();
        let fixed = fixed.map(|topic| {
            let topic: Arc<str> = topic.into();
            let histogram = set
                .duration
                .get_or_create_owned(&send_labels(&function, &topic));
            (topic, histogram)
        });
        let topic = fixed.as_ref().map(|(topic, _)| &**topic);
        let sent = SentMessages::new(&metrics, &function, MESSAGING_SYSTEM, topic);
        Self {
            sent,
            function,
            set,
            fixed,
            health: cx.service_health(),
        }
    }

    /// Records one send of `delivered` records to `topic` that took `elapsed`, and its failures.
    pub(crate) fn sent(
        &self,
        topic: &str,
        delivered: usize,
        elapsed: Duration,
        failures: &[&'static str],
    ) {
        self.sent.add(topic, delivered as u64);
        match &self.fixed {
            Some((fixed, histogram)) if &**fixed == topic => observe(histogram, elapsed),
            _ => observe(
                &self
                    .set
                    .duration
                    .get_or_create(&send_labels(&self.function, &topic.into())),
                elapsed,
            ),
        }
        if !failures.is_empty() {
            let topic: Arc<str> = topic.into();
            for error_type in failures {
                self.failed(&topic, error_type);
            }
        }
        if delivered > 0 {
            self.health.reachable();
        }
    }

    /// Counts a record that failed with `error_type`.
    pub(crate) fn failed(&self, topic: &Arc<str>, error_type: &'static str) {
        self.set
            .failures
            .get_or_create(&FailureLabels {
                function: Arc::clone(&self.function),
                topic: Arc::clone(topic),
                error_type,
            })
            .inc();
    }

    /// The brokers did not answer: the function is not ready until a delivery succeeds.
    pub(crate) fn unreachable(&self, topic: &str, err: &KafkaError) {
        self.health.unreachable(format!("topic `{topic}`: {err}"));
    }
}

fn send_labels(function: &Arc<str>, topic: &Arc<str>) -> SendLabels {
    SendLabels {
        function: Arc::clone(function),
        messaging_system: MESSAGING_SYSTEM,
        messaging_destination_name: Arc::clone(topic),
        messaging_operation_name: "send",
    }
}

/// The `error_type` of a failed record: its librdkafka error code, as librdkafka names it.
pub(crate) fn error_type(err: &KafkaError) -> &'static str {
    match err.rdkafka_error_code() {
        Some(RDKafkaErrorCode::MessageTimedOut) => "MSG_TIMED_OUT",
        Some(RDKafkaErrorCode::QueueFull) => "QUEUE_FULL",
        Some(RDKafkaErrorCode::MessageSizeTooLarge) => "MSG_SIZE_TOO_LARGE",
        Some(RDKafkaErrorCode::UnknownTopicOrPartition) => "UNKNOWN_TOPIC_OR_PART",
        Some(RDKafkaErrorCode::TopicAuthorizationFailed) => "TOPIC_AUTHORIZATION_FAILED",
        Some(RDKafkaErrorCode::AllBrokersDown) => "ALL_BROKERS_DOWN",
        Some(RDKafkaErrorCode::BrokerTransportFailure) => "TRANSPORT",
        Some(RDKafkaErrorCode::NotEnoughReplicas) => "NOT_ENOUGH_REPLICAS",
        Some(RDKafkaErrorCode::InvalidProducerEpoch | RDKafkaErrorCode::ProducerFenced) => {
            "PRODUCER_FENCED"
        }
        Some(_) => "other",
        None => "client",
    }
}

/// The `error_type` of a record that could not be enqueued.
pub(crate) fn enqueue_error_type(err: &crate::Error) -> &'static str {
    match err {
        crate::Error::TooLarge { .. } => "MSG_SIZE_TOO_LARGE",
        crate::Error::QueueFull { .. } => "QUEUE_FULL",
        crate::Error::Send { source, .. } => error_type(source),
        _ => "client",
    }
}

/// Whether `err` says the brokers could not be reached (rather than refusing a record).
pub(crate) fn is_unreachable(err: &KafkaError) -> bool {
    matches!(
        err.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::Resolve
        )
    )
}
