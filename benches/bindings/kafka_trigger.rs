//! Kafka trigger throughput: records/s read by `#[kafka_trigger]` (a function per record, or batches
//! of 64) vs a hand-written rdkafka `StreamConsumer` loop with the same at-least-once rule (process,
//! then store the offset; librdkafka commits stored offsets every 200 ms) — on Tansu, the same topic
//! shape, in the same run. And what `ordering = "key"` buys a function that awaits 1 ms.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bindings::HostHandle;
use bindings::extend::FunctionDef;
use bindings::prelude::*;
use futures_util::future::join_all;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::measure::{Better, Plan, Record, Report, rate, rotate};
use crate::{BenchResult, support};

/// The throughput target: ours / baseline.
const TARGET: f64 = 0.9;
/// Records per batch, both sides (the extension's default `maxBatchSize`).
const BATCH: usize = 64;
/// Partitions of the benchmark topics.
const PARTITIONS: i32 = 3;
/// The longest a measurement may take before the benchmark gives up.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);
/// The keys of the ordering comparison.
const KEYS: usize = 16;

/// Records the functions have seen, and when the first was seen (one measurement at a time).
static SEEN: AtomicUsize = AtomicUsize::new(0);

#[kafka_trigger(topic = "%Topic%", broker_list = "Brokers", consumer_group = "%Group%")]
async fn one(record: KafkaRecord) {
    std::hint::black_box(record.value.as_ref().map(Bytes::len));
    SEEN.fetch_add(1, Ordering::SeqCst);
}

#[kafka_trigger(topic = "%Topic%", broker_list = "Brokers", consumer_group = "%Group%")]
async fn batch(records: Vec<KafkaRecord>) {
    std::hint::black_box(
        records
            .iter()
            .map(|r| r.value.as_ref().map_or(0, Bytes::len))
            .sum::<usize>(),
    );
    SEEN.fetch_add(records.len(), Ordering::SeqCst);
}

#[kafka_trigger(topic = "%Topic%", broker_list = "Brokers", consumer_group = "%Group%")]
async fn slow_by_partition(record: KafkaRecord) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    std::hint::black_box(record.offset);
    SEEN.fetch_add(1, Ordering::SeqCst);
}

#[kafka_trigger(
    topic = "%Topic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    ordering = "key"
)]
async fn slow_by_key(record: KafkaRecord) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    std::hint::black_box(record.offset);
    SEEN.fetch_add(1, Ordering::SeqCst);
}

pub(crate) async fn run(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    let brokers = crate::measure::service("BINDINGS_KAFKA_BROKERS")?;
    // A whole number of batches per partition, so no batch waits for more at the end.
    let per_partition = (plan.azurite_messages * 5 / PARTITIONS as usize).div_ceil(BATCH) * BATCH;
    let records = per_partition * PARTITIONS as usize;
    for size in [100, 1024] {
        for batched in [false, true] {
            let shape = if batched { "batches of 64" } else { "1 record" };
            let label = format!("{records} records of {size} B, {shape} per invocation");
            let names = ["baseline", "ours"];
            let samples = rotate(&label, plan.reps, &names, "rec/s", async |which| {
                let topic = filled_topic(&brokers, per_partition, size, false).await?;
                let took = if which == 0 {
                    hand_loop(&brokers, &topic, records, batched).await?
                } else if batched {
                    trigger::<batch>(&brokers, &topic, records).await?
                } else {
                    trigger::<one>(&brokers, &topic, records).await?
                };
                Ok(rate(records, took))
            })
            .await?;
            let [baseline, ours]: [Vec<f64>; 2] = samples.try_into().expect("two contenders");
            report.record(&Record {
                group: "kafka-trigger",
                scenario: format!("Kafka trigger: Tansu, {size} B values, {shape} per invocation"),
                unit: "rec/s",
                better: Better::Higher,
                ours,
                baseline: Some(baseline),
                target: Some(TARGET),
                note: format!(
                    "{records} records on {PARTITIONS} partitions per measurement, timed from the first \
                     record to the last; baseline: StreamConsumer, process then store the offset{}, \
                     auto-commit every 200 ms",
                    if batched { " (in batches of 64)" } else { "" }
                ),
            })?;
        }
    }

    // What key ordering buys a function that waits 1 ms: one partition, 16 keys.
    let keyed = (plan.azurite_messages / 2).max(KEYS);
    let label = format!("{keyed} records, {KEYS} keys, one partition, the function awaits 1 ms");
    let names = ["ordering = partition", "ordering = key"];
    let samples = rotate(&label, plan.reps, &names, "rec/s", async |which| {
        let topic = filled_topic(&brokers, keyed, 100, true).await?;
        let took = if which == 0 {
            trigger::<slow_by_partition>(&brokers, &topic, keyed).await?
        } else {
            trigger::<slow_by_key>(&brokers, &topic, keyed).await?
        };
        Ok(rate(keyed, took))
    })
    .await?;
    let [partition, key]: [Vec<f64>; 2] = samples.try_into().expect("two contenders");
    report.record(&Record {
        group: "kafka-trigger",
        scenario: format!("Kafka trigger: `ordering = \"key\"` vs `\"partition\"`, {KEYS} keys, 1 ms per record"),
        unit: "rec/s",
        better: Better::Higher,
        ours: key,
        baseline: Some(partition),
        target: None,
        note: format!(
            "{keyed} records on one partition; the baseline column is the same trigger with the default \
             `ordering = \"partition\"`: the ratio is the speed-up"
        ),
    })?;
    Ok(())
}

/// A fresh topic of [`PARTITIONS`] partitions (one if `keyed`, its records keyed by one of [`KEYS`])
/// holding `per_partition` records of `size` bytes in each partition.
async fn filled_topic(
    brokers: &str,
    per_partition: usize,
    size: usize,
    keyed: bool,
) -> BenchResult<String> {
    let partitions = if keyed { 1 } else { PARTITIONS };
    let topic = crate::kafka::topic_with(brokers, partitions).await?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .map_err(|err| format!("a producer for `{brokers}`: {err}"))?;
    let value = vec![b'x'; size];
    let keys: Vec<String> = (0..KEYS).map(|k| format!("key-{k}")).collect();
    for partition in 0..partitions {
        let sends = (0..per_partition).map(|i| {
            let mut record = FutureRecord::<str, [u8]>::to(&topic)
                .partition(partition)
                .payload(&value);
            if keyed {
                record = record.key(&keys[i % KEYS]);
            }
            producer.send(record, Duration::from_secs(30))
        });
        for sent in join_all(sends).await {
            sent.map_err(|(err, _)| format!("filling `{topic}`: {err}"))?;
        }
    }
    Ok(topic)
}

/// A host running trigger function `F` on `topic` from its start until it has seen `count` records;
/// the time from the first record to the last.
async fn trigger<F: FunctionDef>(
    brokers: &str,
    topic: &str,
    count: usize,
) -> BenchResult<Duration> {
    SEEN.store(0, Ordering::SeqCst);
    let host: HostHandle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", brokers)
                .with("Topic", topic)
                .with("Group", support::unique("bench-group")),
        )
        .function::<F>()
        .build()
        .await?
        .start();
    let began = Instant::now();
    while SEEN.load(Ordering::SeqCst) == 0 {
        if began.elapsed() > DRAIN_LIMIT {
            return Err(format!("topic `{topic}`: no record within {DRAIN_LIMIT:?}").into());
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let first = Instant::now();
    while SEEN.load(Ordering::SeqCst) < count {
        if began.elapsed() > DRAIN_LIMIT {
            let seen = SEEN.load(Ordering::SeqCst);
            return Err(format!(
                "topic `{topic}`: {seen} of {count} records within {DRAIN_LIMIT:?}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let took = first.elapsed();
    host.shutdown(Duration::from_secs(30)).await?;
    Ok(took)
}

/// The hand-written loop: receive, process (one record, or a batch of up to [`BATCH`] records of
/// one partition), then store the processed offsets; until `count` records; the time from the first
/// record to the last.
async fn hand_loop(
    brokers: &str,
    topic: &str,
    count: usize,
    batched: bool,
) -> BenchResult<Duration> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", support::unique("bench-baseline"))
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.commit.interval.ms", "200")
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(|err| format!("a consumer for `{brokers}`: {err}"))?;
    consumer.subscribe(&[topic])?;
    let began = Instant::now();
    let mut first = None;
    let mut done = 0;
    let mut pending: Vec<(i32, i64, usize)> = Vec::with_capacity(BATCH);
    while done < count {
        let left = DRAIN_LIMIT.saturating_sub(began.elapsed());
        let message = tokio::time::timeout(left, consumer.recv())
            .await
            .map_err(|_| {
                format!("topic `{topic}`: {done} of {count} records within {DRAIN_LIMIT:?}")
            })??;
        first.get_or_insert_with(Instant::now);
        pending.push((
            message.partition(),
            message.offset(),
            message.payload().map_or(0, <[u8]>::len),
        ));
        drop(message);
        if batched && pending.len() < BATCH && done + pending.len() < count {
            continue;
        }
        std::hint::black_box(pending.iter().map(|(_, _, len)| len).sum::<usize>());
        for (partition, offset, _) in pending.drain(..) {
            consumer.store_offset(topic, partition, offset)?;
            done += 1;
        }
    }
    Ok(first.map_or(Duration::ZERO, |first| first.elapsed()))
}
