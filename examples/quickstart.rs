//! Queue -> function -> Kafka in one process, with no external service: the in-memory queue and
//! librdkafka's own in-process mock cluster (the real Kafka client and protocol, no broker to
//! install). Five orders go in; three reach Kafka, one fails every time (retried, then poisoned)
//! and one asks for the poison queue at once. Prints a summary and exits by itself in seconds.
//!
//! ```sh
//! cargo run --example quickstart
//! RUST_LOG=info cargo run --example quickstart   # also the host's own log lines
//! ```
//!
//! The same function runs against Azure Queue storage (or Azurite) and a real broker by settings
//! alone: see `examples/queue_to_kafka.rs`.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::prelude::*;
use bindings::queue::{
    MemoryQueueService, QueueCounts, QueueFunctions, QueueService, QueueServices,
};
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Headers as _, Message as _};
use rdkafka::mocking::MockCluster;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

const QUEUE: &str = "orders-in";
const TOPIC: &str = "orders";
/// Upper bound for each wait: the orders are processed within a second or two.
const WAIT: Duration = Duration::from_secs(30);

/// An order as it arrives on the queue and leaves on the topic.
#[derive(Debug, Serialize, Deserialize)]
struct Order {
    id: String,
    total: i64,
    currency: String,
}

/// Forwards each order to Kafka, keyed by its id (`{id}` comes from the JSON body), with the
/// attempt number as a header.
///
/// - A negative total is an error worth retrying (a retrying `FunctionError`): it is tried
///   `max_dequeue_count` (3) times, then moved to `orders-in-poison`.
/// - A currency we do not support will never work: `FunctionError::poison` skips the retries.
///
/// `max_polling_interval` is short so the retries come quickly; the defaults (and host.json)
/// suit production.
#[queue_trigger(
    "orders-in",
    max_dequeue_count = 3,
    max_polling_interval = "00:00:00.200"
)]
#[kafka_output(topic = "orders", broker_list = "BrokerList", key = "{id}")]
async fn forward(
    order: Json<Order>,
    meta: QueueMetadata,
    log: Logger,
) -> Result<KafkaEvent<Json<Order>>, FunctionError> {
    if order.total < 0 {
        return Err(FunctionError::retry(format!(
            "order {} has a negative total {}",
            order.id, order.total
        )));
    }
    if !["EUR", "USD"].contains(&order.currency.as_str()) {
        return Err(FunctionError::poison(format!(
            "order {}: unsupported currency {}",
            order.id, order.currency
        )));
    }
    log.info(format!(
        "forwarding order {} (attempt {})",
        order.id, meta.dequeue_count
    ));
    Ok(KafkaEvent::new(order).header("dequeue-count", meta.dequeue_count.to_string()))
}

/// A record read back from the topic.
struct Record {
    key: String,
    value: String,
    headers: Vec<(String, String)>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Warnings, plus the functions' own `Logger` lines; RUST_LOG overrides.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,function=info")),
        )
        .with_target(false)
        .init();
    let started = Instant::now();

    // Kafka: librdkafka's in-process mock cluster, one broker.
    let cluster = MockCluster::new(1)?;
    cluster.create_topic(TOPIC, 1, 1)?;
    let brokers = cluster.bootstrap_servers();

    // The queue: in memory, with Azure's semantics. Bodies are base64, as the Functions default
    // `messageEncoding` expects (and as Azure's SDKs write them with a base64 policy).
    let memory = MemoryQueueService::new();
    memory.create_queue(QUEUE).await?;
    let orders = [
        r#"{"id":"o-1","total":120,"currency":"EUR"}"#,
        r#"{"id":"o-2","total":35,"currency":"USD"}"#,
        r#"{"id":"o-3","total":-10,"currency":"EUR"}"#,
        r#"{"id":"o-4","total":75,"currency":"XYZ"}"#,
        r#"{"id":"o-5","total":9,"currency":"EUR"}"#,
    ];
    for order in orders {
        memory.send(QUEUE, &BASE64.encode(order)).await?;
    }
    println!("enqueued {} orders on `{QUEUE}`", orders.len());

    let host = Host::builder()
        .settings(
            Settings::new()
                .with("BrokerList", brokers.clone())
                // The admin endpoint (`/metrics`, `/healthz`, `/readyz`, `/scale`), when asked for.
                .with_env("AdminListenAddress"),
        )
        .resource(Arc::new(
            // "Storage" is AzureWebJobsStorage, the default connection.
            QueueServices::new().with("Storage", memory.clone()),
        ))
        .function::<forward>()
        .build()
        .await?
        .start();

    // Wait until every order has either succeeded or been poisoned.
    let function = host
        .resources()
        .get::<QueueFunctions>()
        .and_then(|functions| functions.get("forward"))
        .ok_or("the host has no queue function `forward`")?;
    let deadline = Instant::now() + WAIT;
    let counts = loop {
        let counts = function.counts();
        if counts.succeeded + counts.poisoned >= orders.len() as u64 {
            break counts;
        }
        if Instant::now() > deadline {
            return Err(format!("not done within {WAIT:?}: {counts:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // Read the topic back with a real consumer.
    let records = consume(&brokers, counts.succeeded).await?;
    let poisoned = memory.peek_all(&format!("{QUEUE}-poison"));

    host.shutdown(Duration::from_secs(10)).await?;
    summary(orders.len(), counts, &records, &poisoned);
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Reads `count` records of the topic from the beginning (sorted by key).
async fn consume(brokers: &str, count: u64) -> Result<Vec<Record>, Box<dyn std::error::Error>> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "quickstart")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    // The one partition from its start (no consumer-group rebalance to wait for).
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition_offset(TOPIC, 0, Offset::Beginning)?;
    consumer.assign(&partitions)?;
    let mut records = Vec::new();
    while (records.len() as u64) < count {
        let message = tokio::time::timeout(WAIT, consumer.recv())
            .await
            .map_err(|_| format!("only {} of {count} records arrived", records.len()))??;
        let text =
            |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), text(h.value)))
                    .collect()
            })
            .unwrap_or_default();
        records.push(Record {
            key: text(message.key()),
            value: text(message.payload()),
            headers,
        });
    }
    records.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(records)
}

fn summary(enqueued: usize, counts: QueueCounts, records: &[Record], poisoned: &[String]) {
    let retries = counts.received.saturating_sub(enqueued as u64);
    println!();
    println!("summary");
    println!(
        "  processed: {} deliveries of {enqueued} messages ({retries} retries)",
        counts.received
    );
    println!(
        "  succeeded: {}, failed attempts: {}, poisoned: {}",
        counts.succeeded, counts.failed, counts.poisoned
    );
    println!(
        "  delivered to Kafka topic `{TOPIC}`: {} records",
        records.len()
    );
    for record in records {
        let headers: Vec<String> = record
            .headers
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        println!(
            "    key={} [{}] {}",
            record.key,
            headers.join(", "),
            record.value
        );
    }
    println!(
        "  poison queue `{QUEUE}-poison`: {} messages",
        poisoned.len()
    );
    for body in poisoned {
        // Copied as stored: base64, like the original.
        let text = BASE64
            .decode(body)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|_| body.clone());
        println!("    {text}");
    }
}
