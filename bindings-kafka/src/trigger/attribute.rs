//! `#[kafka_trigger(...)]` as a value: its options, and binding it at start-up into a listener.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bindings_core::{BindContext, Listener, TriggerAttribute};
use bindings_spec::kafka;
use bindings_spec::value::Fields as _;

use super::avro::AvroDecoder;
use super::dead_letter::DeadLetter;
use super::kind::KafkaTrigger;
use super::listener::{KafkaListener, ListenerConfig};
use super::status::{KafkaScale, KafkaTriggerStatus, KafkaTriggers};
use crate::attribute::{parse_schema, schema_registry, text};
use crate::config::client_config;
use crate::literals;
use crate::merge::{client_options, layer};
use crate::value::{Set, setters};
use crate::{
    AuthenticationMode, AutoOffsetReset, ConsumerOptions, KafkaOptions, Ordering, ProducerOptions,
    Protocol, RetryStrategy, TriggerOptions,
};

/// `#[kafka_trigger(...)]` as a value. The macro builds it; it can be built by hand too.
///
/// The connection options (`broker_list`, `protocol`, `authentication_mode`, the credentials,
/// `ssl_*`) are the Kafka output's and are read the same way: credentials name the app setting
/// that holds them, other text may hold `%Setting%` references. The consumer options override
/// host.json's `extensions.kafka` for this function.
///
/// ```
/// use bindings_kafka::{KafkaTriggerAttribute, Ordering};
///
/// let trigger = KafkaTriggerAttribute::new("orders", "BrokerList", "$Default")
///     .ordering(Ordering::Key)
///     .max_retry_count(3)
///     .dead_letter_topic("orders-failed");
/// assert!(format!("{trigger:?}").contains("\"orders\""));
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct KafkaTriggerAttribute {
    topic: String,
    broker_list: String,
    consumer_group: String,
    /// The options set, by name.
    options: Set,
    batch: bool,
}

impl std::fmt::Debug for KafkaTriggerAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options: BTreeMap<&str, String> = kafka::TRIGGER_OPTIONS
            .iter()
            .filter_map(|option| Some((option, self.options.get(option.rust)?)))
            .map(|(option, raw)| {
                let shown = if option.credential {
                    "***".to_owned()
                } else {
                    raw.property(option)
                };
                (option.rust, shown)
            })
            .collect();
        f.debug_struct("KafkaTriggerAttribute")
            .field("topic", &self.topic)
            .field("broker_list", &self.broker_list)
            .field("consumer_group", &self.consumer_group)
            .field("options", &options)
            .field("batch", &self.batch)
            .finish()
    }
}

impl KafkaTriggerAttribute {
    /// Triggers on the records of `topic` (a name or `%Setting%`) read by consumer group
    /// `consumer_group` (the same) from the brokers named by `broker_list` (a setting name,
    /// `%Setting%`, or a literal `host:port` list).
    pub fn new(
        topic: impl Into<String>,
        broker_list: impl Into<String>,
        consumer_group: impl Into<String>,
    ) -> Self {
        Self {
            topic: topic.into(),
            broker_list: broker_list.into(),
            consumer_group: consumer_group.into(),
            ..Self::default()
        }
    }

    /// Hands the function up to `max_batch_size` records at once (`Vec<KafkaRecord>`) instead of
    /// one invocation per record. The macro sets this when the function takes `Vec<KafkaRecord>`.
    pub fn batch(mut self) -> Self {
        self.batch = true;
        self
    }

    setters! {
        lag_threshold: u32,
        ordering: Ordering,
        max_concurrency: u32,
        retry_strategy: RetryStrategy,
        max_retry_count: u32,
        delay_interval: Duration,
        minimum_interval: Duration,
        maximum_interval: Duration,
        dead_letter_topic: &str,
        max_batch_size: u32,
        subscriber_interval_in_seconds: u32,
        auto_commit_interval_ms: u32,
        fetch_max_bytes: u32,
        max_partition_fetch_bytes: u32,
        max_poll_interval_ms: u32,
        session_timeout_ms: u32,
        auto_offset_reset: AutoOffsetReset,
        queued_min_messages: u32,
        queued_max_messages_kbytes: u32,
        reconnect_backoff_ms: u32,
        reconnect_backoff_max_ms: u32,
        protocol: Protocol,
        authentication_mode: AuthenticationMode,
        username: &str,
        password: &str,
        ssl_ca_location: &str,
        ssl_certificate_location: &str,
        ssl_key_location: &str,
        ssl_key_password: &str,
        ssl_ca_pem: &str,
        ssl_certificate_pem: &str,
        ssl_key_pem: &str,
        ssl_certificate_and_key_pem: &str,
        schema_registry_url: &str,
        schema_registry_username: &str,
        schema_registry_password: &str,
        https_ca_location: &str,
        https_ca_pem: &str,
        metadata_max_age_ms: u32,
        socket_keepalive_enable: bool,
        librdkafka_debug: &str,
        avro_schema: &str,
        avro_key_schema: &str,
    }
}

impl TriggerAttribute for KafkaTriggerAttribute {
    type Trigger = KafkaTrigger;
    const NAME: &'static str = "kafka_trigger";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<Box<dyn Listener<KafkaTrigger>>> {
        let topic = cx.expand("topic", &self.topic).and_then(|topic| {
            literals::topic_name(&topic)
                .map(|()| topic)
                .map_err(|why| cx.problem(format!("`topic`: {why}")))
                .ok()
        });
        let group = cx
            .expand("consumer_group", &self.consumer_group)
            .and_then(|group| {
                if group.is_empty() {
                    cx.problem(
                        "`consumer_group` is empty; name the consumer group the trigger joins",
                    );
                    None
                } else {
                    Some(group)
                }
            });
        let brokers =
            cx.resolve_or_literal("broker_list", &self.broker_list, literals::broker_list);
        let host = cx.host_config().extension::<KafkaOptions>();
        let consumer = client_options(
            cx,
            ConsumerOptions::new(
                brokers.clone().unwrap_or_default(),
                group.clone().unwrap_or_default(),
            ),
            &self.options,
            &host,
        );
        let trigger = self.trigger_options(cx, &host);
        let avro = self.avro(cx);
        let (topic, group, brokers, consumer, trigger, avro) =
            (topic?, group?, brokers?, consumer?, trigger?, avro?);
        let dead_letter = match trigger.dead_letter_topic.as_deref() {
            Some("") => None,
            named => {
                let dlq = named.map_or_else(|| format!("{topic}-dlq"), str::to_owned);
                if let Err(why) = literals::topic_name(&dlq) {
                    cx.problem(format!("`dead_letter_topic`: {why}"));
                    return None;
                }
                let producer = dead_letter_producer(&consumer, &host);
                Some(DeadLetter::bind(cx, dlq, &producer, cx.function_name())?)
            }
        };
        let mut client = client_config(&consumer);
        client.set("group.id", &group);
        let reader = client.clone();
        let status = Arc::new(KafkaTriggerStatus::new(
            &cx.metrics(),
            cx.function_name(),
            &topic,
            &group,
            trigger.lag_threshold,
            reader,
        ));
        cx.resource::<KafkaTriggers>()
            .insert(cx.function_name(), Arc::clone(&status));
        cx.scale_monitor(KafkaScale(Arc::clone(&status)));
        let health = cx.service_health();
        let config = ListenerConfig {
            function: cx.function_name().into(),
            topic: topic.as_str().into(),
            group,
            brokers,
            client,
            options: trigger,
            batch: self.batch,
            dead_letter,
            avro,
            status,
            health,
        };
        Some(Box::new(KafkaListener::new(config)))
    }
}

impl KafkaTriggerAttribute {
    /// The Avro decoder of `avro_schema` and the schema registry, if either is set (`Some(None)`:
    /// neither); `None` after recording a problem.
    fn avro(&self, cx: &mut BindContext<'_>) -> Option<Option<Arc<AvroDecoder>>> {
        if text(&self.options, "avro_key_schema").is_some() {
            cx.problem(
                "`avro_key_schema`: the Kafka trigger does not decode Avro keys yet; bind `KafkaRecord` \
                 and decode `record.key`, or remove the option",
            );
            return None;
        }
        let schema =
            text(&self.options, "avro_schema").map(|raw| parse_schema(cx, "avro_schema", raw));
        let registry = schema_registry(cx, &self.options);
        let (schema, registry) = (schema.map_or(Some(None), |s| s.map(Some))?, registry?);
        Some(
            (schema.is_some() || registry.is_some())
                .then(|| Arc::new(AvroDecoder::new(schema, registry))),
        )
    }

    /// The trigger's own options, layered and checked; `None` after recording the problems.
    fn trigger_options(
        &self,
        cx: &mut BindContext<'_>,
        host: &KafkaOptions,
    ) -> Option<TriggerOptions> {
        let mut options = TriggerOptions::default();
        layer(cx, &mut options, kafka::TRIGGER_OWN, &self.options, host);
        let mut ok = true;
        for problem in options.range_problems(kafka::TRIGGER_OWN) {
            cx.problem(problem);
            ok = false;
        }
        let exponential = options.retry_strategy == RetryStrategy::ExponentialBackoff;
        let misplaced: Vec<&str> = if exponential {
            vec!["delay_interval"]
        } else {
            vec!["minimum_interval", "maximum_interval"]
        }
        .into_iter()
        .filter(|name| self.options.contains_key(name))
        .collect();
        if !misplaced.is_empty() {
            cx.problem(format!(
                "`{}` does not apply to retry_strategy = \"{}\"; remove it, or choose the other strategy",
                misplaced.join("`, `"),
                options.retry_strategy.as_librdkafka()
            ));
            ok = false;
        }
        if exponential && options.minimum_interval > options.maximum_interval {
            cx.problem(format!(
                "`minimum_interval` ({:?}) is longer than `maximum_interval` ({:?})",
                options.minimum_interval, options.maximum_interval
            ));
            ok = false;
        }
        ok.then_some(options)
    }
}

/// The producer of a trigger's dead-letter records: the consumer's connection, and host.json's
/// producer options.
fn dead_letter_producer(consumer: &ConsumerOptions, host: &KafkaOptions) -> ProducerOptions {
    let mut producer = ProducerOptions::new(consumer.brokers.clone());
    for option in kafka::CONNECTION {
        if let Some(raw) = consumer.get(option) {
            producer.put(option, &raw);
        }
    }
    for option in kafka::PRODUCER {
        if let Some(raw) = host.get(option) {
            producer.put(option, &raw);
        }
    }
    producer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_but_the_brokers_has_a_builder_method() {
        let mut expected: Vec<&str> = kafka::TRIGGER_OPTIONS
            .iter()
            .filter(|option| !option.required())
            .map(|option| option.rust)
            .collect();
        let mut setters = KafkaTriggerAttribute::SETTERS.to_vec();
        expected.sort_unstable();
        setters.sort_unstable();
        assert_eq!(setters, expected);
    }

    #[test]
    fn debug_hides_credentials() {
        let trigger = KafkaTriggerAttribute::new("t", "B", "g").password("%Secret%");
        let debug = format!("{trigger:?}");
        assert!(
            !debug.contains("Secret") && debug.contains("***"),
            "{debug}"
        );
    }
}
