//! A bound Kafka output: rendering topic and key, encoding, and sending a function's records with
//! every delivery awaited.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bindings_core::telemetry::current_trace_headers;
use bindings_core::{BindingData, FunctionError, Output, Template};
use futures_util::future::{BoxFuture, join_all};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message as _, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use tracing::Instrument as _;

use crate::metrics::{
    MESSAGING_SYSTEM, OutputTelemetry, enqueue_error_type, error_type, is_unreachable,
};
use crate::producer::{Producer, Shared};
use crate::serialize::AvroEncoder;
use crate::{Error, ProducerRecord};

/// How long a full local queue may delay an enqueue before the invocation fails.
const QUEUE_FULL_PATIENCE: Duration = Duration::from_secs(5);

/// A bound Kafka output: its topic and key templates and its (shared) producer.
pub struct KafkaOutput {
    topic: Template,
    key: Option<Template>,
    producer: Arc<Producer>,
    /// Messages of this producer sent and not yet settled (shared by its outputs).
    pending: Arc<AtomicUsize>,
    max_message_bytes: u32,
    avro: AvroEncoder,
    telemetry: OutputTelemetry,
}

impl std::fmt::Debug for KafkaOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaOutput")
            .field("topic", &self.topic.to_string())
            .finish_non_exhaustive()
    }
}

impl Output for KafkaOutput {
    type Item = ProducerRecord;

    fn deliver<'a>(
        &'a self,
        items: Vec<ProducerRecord>,
        data: &'a BindingData,
    ) -> BoxFuture<'a, Result<(), FunctionError>> {
        Box::pin(async move {
            let topic = self
                .topic
                .render(data)
                .map_err(|e| FunctionError::retry(format!("Kafka output: {e}")).into_poison())?;
            let default_key = match &self.key {
                Some(key) => Some(key.render(data).map_err(|e| {
                    FunctionError::retry(format!("Kafka output: {e}")).into_poison()
                })?),
                None => None,
            };
            let items = self
                .avro
                .encode(items, &topic)
                .await
                .map_err(Error::into_function_error)?;
            // The send, as OpenTelemetry's messaging conventions name it; its trace context goes
            // into every record's headers so a consumer continues the trace.
            let span = tracing::info_span!(
                "kafka_send",
                otel.name = %format_args!("send {topic}"),
                otel.kind = "producer",
                messaging.system = MESSAGING_SYSTEM,
                messaging.operation.type = "send",
                messaging.destination.name = %topic,
                messaging.batch.message_count = items.len(),
            );
            let trace = span.in_scope(current_trace_headers);
            self.send(topic, default_key, items, &trace)
                .instrument(span)
                .await
        })
    }
}

impl KafkaOutput {
    /// Sends `items` to `topic` and awaits every delivery report.
    async fn send(
        &self,
        topic: String,
        default_key: Option<String>,
        items: Vec<ProducerRecord>,
        trace: &[(&'static str, String)],
    ) -> Result<(), FunctionError> {
        let started = std::time::Instant::now();
        let mut pending = Vec::with_capacity(items.len());
        let mut enqueue_error = None;
        for item in &items {
            match self
                .enqueue(&topic, default_key.as_deref(), item, trace)
                .await
            {
                Ok(delivery) => pending.push(delivery),
                Err(err) => {
                    enqueue_error = Some(err);
                    break;
                }
            }
        }
        // Settle what was sent before reporting anything, so nothing is left unaccounted for.
        self.pending.fetch_add(pending.len(), Ordering::SeqCst);
        let sent = pending.len();
        let results = join_all(pending).await;
        self.pending.fetch_sub(sent, Ordering::SeqCst);
        let mut failures = Vec::new();
        let mut error_types = Vec::new();
        for result in results {
            match result {
                Ok(Ok(_)) => {}
                Ok(Err((err, message))) => {
                    if is_unreachable(&err) {
                        self.telemetry.unreachable(&topic, &err);
                    }
                    error_types.push(error_type(&err));
                    failures.push(format!("partition {}: {err}", message.partition()));
                }
                Err(_) => {
                    error_types.push("shutdown");
                    failures
                        .push("the producer was shut down before the delivery report".to_owned());
                }
            }
        }
        let delivered = sent - failures.len();
        self.telemetry
            .sent(&topic, delivered, started.elapsed(), &error_types);
        if let Some(err) = enqueue_error {
            self.telemetry
                .failed(&topic.as_str().into(), enqueue_error_type(&err));
            return Err(err.into_function_error());
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::Undelivered {
                topic,
                sent: items.len(),
                failures,
            }
            .into_function_error())
        }
    }

    pub(crate) fn new(
        topic: Template,
        key: Option<Template>,
        shared: Shared,
        max_message_bytes: u32,
        avro: AvroEncoder,
        telemetry: OutputTelemetry,
    ) -> Self {
        Self {
            telemetry,
            topic,
            key,
            producer: shared.producer,
            pending: shared.pending,
            max_message_bytes,
            avro,
        }
    }

    /// Puts one record on the producer's queue, waiting briefly while the queue is full.
    async fn enqueue(
        &self,
        topic: &str,
        default_key: Option<&str>,
        item: &ProducerRecord,
        trace: &[(&'static str, String)],
    ) -> Result<rdkafka::producer::DeliveryFuture, Error> {
        let waited = std::time::Instant::now();
        loop {
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
            if let Some(value) = &item.value {
                record = record.payload(value.as_slice());
            }
            match (&item.key, default_key) {
                (Some(key), _) => record = record.key(key.as_slice()),
                (None, Some(key)) => record = record.key(key.as_bytes()),
                (None, None) => {}
            }
            if !item.headers.is_empty() || !trace.is_empty() {
                let own = item
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_deref()));
                // The function's own trace headers, if it wrote any, win.
                let context = trace
                    .iter()
                    .filter(|(name, _)| {
                        !item
                            .headers
                            .iter()
                            .any(|(own, _)| own.eq_ignore_ascii_case(name))
                    })
                    .map(|(name, value)| (*name, Some(value.as_bytes())));
                let headers = own
                    .chain(context)
                    .fold(OwnedHeaders::new(), |headers, (key, value)| {
                        headers.insert(Header { key, value })
                    });
                record = record.headers(headers);
            }
            if let Some(partition) = item.partition {
                record = record.partition(partition);
            }
            if let Some(timestamp) = item.timestamp {
                record = record.timestamp(timestamp);
            }
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                    if waited.elapsed() < QUEUE_FULL_PATIENCE =>
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((err, _)) => return Err(self.local_error(topic, item, err)),
            }
        }
    }

    fn local_error(&self, topic: &str, item: &ProducerRecord, err: KafkaError) -> Error {
        let topic = topic.to_owned();
        match err {
            KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge) => {
                Error::TooLarge {
                    topic,
                    size: item.key.as_ref().map_or(0, Vec::len)
                        + item.value.as_ref().map_or(0, Vec::len)
                        + item
                            .headers
                            .iter()
                            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
                            .sum::<usize>(),
                    max_message_bytes: self.max_message_bytes,
                }
            }
            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => Error::QueueFull {
                topic,
                patience: QUEUE_FULL_PATIENCE,
            },
            source => Error::Send { topic, source },
        }
    }
}
