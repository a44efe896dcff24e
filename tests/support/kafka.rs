//! Kafka helpers shared by the tests: topics on a broker that creates none by itself (Tansu), and
//! one consumer that reads records back.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _, StreamConsumer};
use rdkafka::message::{Headers as _, Message as _};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

/// Upper bound for the broker's answer, and for the next record to arrive.
pub(crate) const WAIT: Duration = Duration::from_secs(60);

/// Creates `topic` (one partition) on `brokers` and returns its name.
pub(crate) async fn create_topic(brokers: &str, topic: &str) -> String {
    create_topic_with(brokers, topic, 1, &[]).await
}

/// Creates `topic` with `partitions` on `brokers`, through a client with `security` settings
/// (`(librdkafka key, value)` pairs), and returns its name.
pub(crate) async fn create_topic_with(
    brokers: &str,
    topic: &str,
    partitions: i32,
    security: &[(&str, &str)],
) -> String {
    let admin: AdminClient<DefaultClientContext> =
        config(brokers, security).create().expect("admin client");
    let created = tokio::time::timeout(
        WAIT,
        admin.create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(WAIT)),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("creating topic {topic} on {brokers}: no answer within {WAIT:?}"))
    .expect("CreateTopics answered");
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    topic.to_owned()
}

/// A record as read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub(crate) key: Option<Vec<u8>>,
    /// The payload as text (lossy UTF-8).
    pub(crate) value: String,
    /// The payload as sent.
    pub(crate) payload: Vec<u8>,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) headers: Vec<(String, Option<Vec<u8>>)>,
    /// Milliseconds since 1970, as the broker stored it.
    pub(crate) timestamp: Option<i64>,
}

impl Record {
    /// The key as text (lossy UTF-8; empty without a key).
    pub(crate) fn key_text(&self) -> String {
        text(self.key.as_deref())
    }

    /// The headers with their values as text (lossy UTF-8; empty for a null value).
    pub(crate) fn header_texts(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(key, value)| (key.clone(), text(value.as_deref())))
            .collect()
    }
}

fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

/// Reads the first `count` records of `topic` (every partition, from the start) with a consumer
/// of a fresh group.
pub(crate) async fn consume(brokers: &str, topic: &str, count: usize) -> Vec<Record> {
    consume_with(brokers, topic, count, &[]).await
}

/// [`consume`] through a client with `security` settings (`(librdkafka key, value)` pairs).
pub(crate) async fn consume_with(
    brokers: &str,
    topic: &str,
    count: usize,
    security: &[(&str, &str)],
) -> Vec<Record> {
    consume_until(
        brokers,
        topic,
        security,
        &format!("{count} records"),
        |read| read.len() >= count,
    )
    .await
}

/// Reads records of `topic` (every partition, from the start) until `done` holds for what was
/// read; fails the test, saying it waited for `what` and what had arrived, when no record comes
/// within [`WAIT`].
pub(crate) async fn consume_until(
    brokers: &str,
    topic: &str,
    security: &[(&str, &str)],
    what: &str,
    mut done: impl FnMut(&[Record]) -> bool,
) -> Vec<Record> {
    let consumer: StreamConsumer = config(brokers, security)
        .set("group.id", super::unique("g"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("a consumer");
    wait_for_topic(&consumer, brokers, topic).await;
    consumer
        .subscribe(&[topic])
        .unwrap_or_else(|err| panic!("subscribing to {topic} on {brokers}: {err}"));
    let mut read = Vec::new();
    while !done(&read) {
        let message = tokio::time::timeout(WAIT, consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{topic} on {brokers}: waiting for {what}, no record within {WAIT:?} after \
                     {} records: {read:?}",
                    read.len()
                )
            });
        let message = message.unwrap_or_else(|err| panic!("reading {topic} on {brokers}: {err}"));
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let payload = message.payload().unwrap_or_default().to_vec();
        read.push(Record {
            key: message.key().map(<[u8]>::to_vec),
            value: String::from_utf8_lossy(&payload).into_owned(),
            payload,
            partition: message.partition(),
            offset: message.offset(),
            headers,
            timestamp: message.timestamp().to_millis(),
        });
    }
    read
}

/// Produces `records` (`(partition, key, value)`) to `topic` in order, awaiting each delivery.
pub(crate) async fn produce(brokers: &str, topic: &str, records: &[(i32, Option<&str>, &str)]) {
    produce_with(brokers, topic, records, &[]).await;
}

/// [`produce`] through a client with `security` settings (`(librdkafka key, value)` pairs).
pub(crate) async fn produce_with(
    brokers: &str,
    topic: &str,
    records: &[(i32, Option<&str>, &str)],
    security: &[(&str, &str)],
) {
    let producer: FutureProducer = config(brokers, security)
        .set("message.timeout.ms", "30000")
        .create()
        .expect("a producer");
    for (partition, key, value) in records {
        let mut record = FutureRecord::<str, str>::to(topic)
            .partition(*partition)
            .payload(*value);
        if let Some(key) = key {
            record = record.key(*key);
        }
        producer
            .send(record, WAIT)
            .await
            .unwrap_or_else(|(err, _)| panic!("producing to {topic} on {brokers}: {err}"));
    }
}

/// Produces one record with a binary `value` to `partition` of `topic`.
pub(crate) async fn produce_bytes(brokers: &str, topic: &str, partition: i32, value: &[u8]) {
    let producer: FutureProducer = config(brokers, &[]).create().expect("a producer");
    producer
        .send(
            FutureRecord::<(), [u8]>::to(topic)
                .partition(partition)
                .payload(value),
            WAIT,
        )
        .await
        .unwrap_or_else(|(err, _)| panic!("producing to {topic} on {brokers}: {err}"));
}

/// Produces `values` to `partition` of `topic` at once (in batches of several records), awaiting
/// every delivery.
pub(crate) async fn produce_batched(brokers: &str, topic: &str, partition: i32, values: &[&[u8]]) {
    let producer: FutureProducer = config(brokers, &[])
        .set("linger.ms", "20")
        .create()
        .expect("a producer");
    let sends = values.iter().map(|value| {
        producer.send(
            FutureRecord::<(), [u8]>::to(topic)
                .partition(partition)
                .payload(*value),
            WAIT,
        )
    });
    for sent in futures_util::future::join_all(sends).await {
        sent.unwrap_or_else(|(err, _)| panic!("producing to {topic} on {brokers}: {err}"));
    }
}

/// The offsets consumer group `group` committed on `partitions` of `topic` (`None`: none).
pub(crate) fn committed(
    brokers: &str,
    group: &str,
    topic: &str,
    partitions: i32,
) -> Vec<Option<i64>> {
    try_committed(brokers, group, topic, partitions)
        .unwrap_or_else(|err| panic!("committed offsets of {group} on {topic}: {err}"))
}

/// [`committed`], or the broker's error (while it recovers from a fault, say).
pub(crate) fn try_committed(
    brokers: &str,
    group: &str,
    topic: &str,
    partitions: i32,
) -> rdkafka::error::KafkaResult<Vec<Option<i64>>> {
    let consumer: BaseConsumer = config(brokers, &[])
        .set("group.id", group)
        .create()
        .expect("a consumer");
    let mut tpl = TopicPartitionList::new();
    for partition in 0..partitions {
        tpl.add_partition(topic, partition);
    }
    let committed = consumer.committed_offsets(tpl, WAIT)?;
    Ok((0..partitions)
        .map(|partition| {
            match committed
                .find_partition(topic, partition)
                .map(|e| e.offset())
            {
                Some(Offset::Offset(offset)) => Some(offset),
                _ => None,
            }
        })
        .collect())
}

/// Waits until `topic` exists: a topic the code under test creates on first use (a dead-letter
/// topic) may not yet, and a consumer subscribed to a missing topic sees it only at its next
/// metadata refresh, minutes later.
async fn wait_for_topic(consumer: &StreamConsumer, brokers: &str, topic: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let exists = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .is_ok_and(|m| {
                m.topics()
                    .iter()
                    .any(|t| t.name() == topic && t.error().is_none())
            });
        if exists {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{topic} does not exist on {brokers} after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `SASL_SSL` broker's credentials, as `cargo xtask services up` recorded them (SCRAM-SHA-512 over
/// TLS): the CA file, the user and the password.
pub(crate) struct SaslSsl {
    pub(crate) ca: String,
    pub(crate) user: String,
    pub(crate) password: String,
}

impl SaslSsl {
    /// The recorded credentials (a test that needs them has required the broker already).
    pub(crate) fn recorded() -> Self {
        let var = |name: &str| {
            super::service(name).unwrap_or_else(|| panic!("{name} is recorded with the broker"))
        };
        Self {
            ca: var("BINDINGS_KAFKA_SASL_SSL_CA"),
            user: var("BINDINGS_KAFKA_SASL_SSL_USER"),
            password: var("BINDINGS_KAFKA_SASL_SSL_PASSWORD"),
        }
    }

    /// The librdkafka settings of a test client with these credentials.
    pub(crate) fn client(&self) -> [(&'static str, &str); 5] {
        [
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", &self.user),
            ("sasl.password", &self.password),
            ("ssl.ca.location", &self.ca),
        ]
    }
}

/// A client configuration for `brokers` with `security` settings.
fn config(brokers: &str, security: &[(&str, &str)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    for (key, value) in security {
        config.set(*key, *value);
    }
    config
}
