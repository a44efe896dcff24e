//! The dead-letter topic: where a record goes once its retries are spent (or its function called it
//! poison), with its key, value and headers intact and headers saying why.

use std::sync::Arc;

use bindings_core::{BindContext, BindingData, FunctionError, Output as _, Template};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use tokio::sync::OnceCell;

use super::record::KafkaRecord;
use crate::config::client_config;
use crate::deliver::KafkaOutput;
use crate::metrics::OutputTelemetry;
use crate::producer::Producers;
use crate::serialize::AvroEncoder;
use crate::{ProducerOptions, ProducerRecord};

/// The headers a dead-lettered record gains, in this order.
pub const DEAD_LETTER_HEADERS: [&str; 6] = [
    "dlq-error",
    "dlq-function",
    "dlq-source-topic",
    "dlq-source-partition",
    "dlq-source-offset",
    "dlq-attempts",
];

/// A trigger's dead-letter topic and the producer that writes to it.
pub(crate) struct DeadLetter {
    pub(crate) topic: String,
    function: String,
    output: KafkaOutput,
    /// The admin client's configuration (secrets included: not in `Debug`), to create the topic.
    admin: rdkafka::ClientConfig,
    created: OnceCell<()>,
}

impl std::fmt::Debug for DeadLetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetter")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl DeadLetter {
    /// The dead-letter topic `topic` of `function`, written with `producer`'s options.
    pub(crate) fn bind(
        cx: &mut BindContext<'_>,
        topic: String,
        producer: &ProducerOptions,
        function: &str,
    ) -> Option<Self> {
        // A valid topic name has no `{`: the template is the name itself.
        let template = Template::parse(&topic)
            .map_err(|e| cx.problem(format!("`dead_letter_topic`: {e}")))
            .ok()?;
        let shared = Producers::bound(cx, producer)?;
        let telemetry = OutputTelemetry::bind(cx, Some(&topic));
        Some(Self {
            function: function.to_owned(),
            output: KafkaOutput::new(
                template,
                None,
                shared,
                producer.max_message_bytes,
                AvroEncoder::new(None, None, None),
                telemetry,
            ),
            topic,
            admin: client_config(producer),
            created: OnceCell::new(),
        })
    }

    /// Produces `records` to the dead-letter topic and awaits their delivery.
    pub(crate) async fn send(
        &self,
        records: &[KafkaRecord],
        error: &FunctionError,
        attempts: u32,
    ) -> Result<(), FunctionError> {
        self.created
            .get_or_init(|| self.create(records.first().map(|r| Arc::clone(&r.topic))))
            .await;
        let items = records
            .iter()
            .map(|record| {
                let mut headers: Vec<(String, Option<Vec<u8>>)> = record
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_ref().map(|v| v.to_vec())))
                    .collect();
                let values = [
                    error.to_string(),
                    self.function.clone(),
                    record.topic.to_string(),
                    record.partition.to_string(),
                    record.offset.to_string(),
                    attempts.to_string(),
                ];
                for (name, value) in DEAD_LETTER_HEADERS.iter().zip(values) {
                    headers.push(((*name).to_owned(), Some(value.into_bytes())));
                }
                ProducerRecord {
                    key: record.key.as_ref().map(|k| k.to_vec()),
                    value: record.value.as_ref().map(|v| v.to_vec()),
                    headers,
                    timestamp: record.timestamp,
                    ..ProducerRecord::default()
                }
            })
            .collect();
        self.output.deliver(items, &BindingData::new()).await
    }

    /// Creates the topic if it does not exist (a broker may not create topics on first use), with
    /// as many partitions as the source topic. A failure is logged: the send that follows says
    /// whether the topic is usable.
    async fn create(&self, source: Option<Arc<str>>) {
        let admin: AdminClient<DefaultClientContext> = match self.admin.create() {
            Ok(admin) => admin,
            Err(err) => {
                tracing::warn!(topic = %self.topic, error = %err, "cannot create an admin client to create the dead-letter topic");
                return;
            }
        };
        let partitions = source
            .and_then(|source| {
                admin
                    .inner()
                    .fetch_metadata(Some(&source), std::time::Duration::from_secs(10))
                    .ok()
                    .and_then(|m| m.topics().first().map(|t| t.partitions().len()))
            })
            .filter(|n| *n > 0)
            .unwrap_or(1);
        let options =
            AdminOptions::new().operation_timeout(Some(std::time::Duration::from_secs(30)));
        let topic = NewTopic::new(
            &self.topic,
            i32::try_from(partitions).unwrap_or(1),
            TopicReplication::Fixed(1),
        );
        match admin.create_topics([&topic], &options).await {
            Ok(results) => match results.into_iter().next() {
                Some(Ok(_)) => {
                    tracing::info!(topic = %self.topic, partitions, "created the dead-letter topic");
                }
                Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) | None => {}
                Some(Err((_, code))) => {
                    tracing::warn!(topic = %self.topic, error = %code, "could not create the dead-letter topic; create it, or set `dead_letter_topic` to one that exists");
                }
            },
            Err(err) => {
                tracing::warn!(topic = %self.topic, error = %err, "could not create the dead-letter topic; create it, or set `dead_letter_topic` to one that exists");
            }
        }
    }
}
