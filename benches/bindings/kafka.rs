//! Kafka output throughput: messages/s through `#[kafka_output]` (functions triggered in-process,
//! many at once) vs raw rdkafka `FutureProducer::send` + await of the same messages, with the
//! producer settings the binding itself resolved — against librdkafka's mock cluster and Tansu.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bindings::HostHandle;
use bindings::kafka::{Producers, client_config};
use bindings::prelude::*;
use futures_util::future::join_all;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::measure::{Better, Plan, Record, Report, rotate};
use crate::{BenchResult, support};

/// Records per invocation of the batch function.
const BATCH: usize = 1_000;
/// Partitions of the benchmark topics.
const PARTITIONS: i32 = 3;
/// The throughput target: ours / baseline.
const TARGET: f64 = 0.95;
/// How long a send may wait for room in the producer's local queue (both sides).
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// One record per invocation: the payload as the value.
#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
async fn produce_one(value: Bytes) -> Bytes {
    value
}

/// [`BATCH`] records per invocation, each the payload.
#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
async fn produce_batch(value: Bytes) -> Vec<Bytes> {
    vec![value; BATCH]
}

/// Invocations in flight at once: enough to keep the producer's batches full.
pub(crate) fn concurrency(per_invocation: usize) -> usize {
    if per_invocation == 1 { 512 } else { 16 }
}

pub(crate) async fn run(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    let cluster =
        MockCluster::new(1).map_err(|err| format!("cannot start a mock cluster: {err}"))?;
    let topic = support::unique("bench-kafka");
    cluster
        .create_topic(&topic, PARTITIONS, 1)
        .map_err(|err| format!("mock cluster: cannot create topic `{topic}`: {err}"))?;
    compare(
        plan,
        report,
        "mock cluster",
        &cluster.bootstrap_servers(),
        &topic,
    )
    .await?;
    drop(cluster);

    let brokers = crate::measure::service("BINDINGS_KAFKA_BROKERS")?;
    let topic = tansu_topic(&brokers).await?;
    // Tansu's memory engine keeps every record (gigabytes after a full run, even when the
    // topic is deleted): `cargo xtask bench` stops the services it started.
    compare(plan, report, "Tansu", &brokers, &topic).await
}

/// A started host with [`produce_one`] and [`produce_batch`] on `topic` of `brokers`.
pub(crate) async fn output_host(brokers: &str, topic: &str) -> BenchResult<Arc<HostHandle>> {
    Ok(Arc::new(
        Host::builder()
            .settings(
                Settings::new()
                    .with("Brokers", brokers)
                    .with("Topic", topic),
            )
            .function::<produce_one>()
            .function::<produce_batch>()
            .build()
            .await?
            .start(),
    ))
}

fn admin(brokers: &str) -> BenchResult<AdminClient<DefaultClientContext>> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|err| format!("admin client for `{brokers}`: {err}"))?)
}

/// A fresh topic on the broker at `brokers`.
pub(crate) async fn tansu_topic(brokers: &str) -> BenchResult<String> {
    topic_with(brokers, PARTITIONS).await
}

/// A fresh topic of `partitions` partitions on the broker at `brokers`.
pub(crate) async fn topic_with(brokers: &str, partitions: i32) -> BenchResult<String> {
    let topic = support::unique("bench-kafka");
    let created = admin(brokers)?
        .create_topics(
            &[NewTopic::new(
                &topic,
                partitions,
                TopicReplication::Fixed(1),
            )],
            &AdminOptions::new(),
        )
        .await
        .map_err(|err| format!("creating topic `{topic}` on `{brokers}`: {err}"))?;
    for result in created {
        result.map_err(|(name, code)| format!("creating topic `{name}` on `{brokers}`: {code}"))?;
    }
    Ok(topic)
}

/// Every size and batch shape against one broker.
async fn compare(
    plan: &Plan,
    report: &mut Report,
    broker: &str,
    brokers: &str,
    topic: &str,
) -> BenchResult<()> {
    let host = output_host(brokers, topic).await?;
    // The baseline producer gets exactly the librdkafka properties the binding resolved.
    let producers = host
        .resources()
        .get::<Producers>()
        .ok_or("the host has no Kafka producers")?;
    let options = match producers.configurations().as_slice() {
        [one] => one.clone(),
        other => {
            return Err(format!("expected one producer configuration, got {}", other.len()).into());
        }
    };
    let raw: Arc<FutureProducer> = Arc::new(
        client_config(&options)
            .set_log_level(RDKafkaLogLevel::Warning)
            .create()
            .map_err(|err| format!("baseline producer: {err}"))?,
    );
    for per_invocation in [1, BATCH] {
        for size in [100, 1024] {
            let value = Bytes::from(vec![b'x'; size]);
            let label = format!("{broker}, {per_invocation} msg/invocation, {size} B");
            let workers = concurrency(per_invocation);
            let function = if per_invocation == 1 {
                "produce_one"
            } else {
                "produce_batch"
            };
            // Warm both up (connections, metadata, first batches) before measuring.
            ours(
                &host,
                function,
                per_invocation,
                &value,
                workers,
                Duration::from_millis(200),
            )
            .await?;
            baseline(
                &raw,
                topic,
                per_invocation,
                &value,
                workers,
                Duration::from_millis(200),
            )
            .await?;
            let samples = rotate(
                &label,
                plan.reps,
                &["ours", "baseline"],
                "msg/s",
                async |which| {
                    if which == 0 {
                        ours(
                            &host,
                            function,
                            per_invocation,
                            &value,
                            workers,
                            plan.kafka_window,
                        )
                        .await
                    } else {
                        baseline(
                            &raw,
                            topic,
                            per_invocation,
                            &value,
                            workers,
                            plan.kafka_window,
                        )
                        .await
                    }
                },
            )
            .await?;
            let [ours_samples, baseline_samples]: [Vec<f64>; 2] =
                samples.try_into().expect("two contenders");
            report.record(&Record {
                group: "kafka",
                scenario: format!("Kafka output throughput: {label}"),
                unit: "msg/s",
                better: Better::Higher,
                ours: ours_samples,
                baseline: Some(baseline_samples),
                target: Some(TARGET),
                note: format!(
                    "baseline: FutureProducer send + await, same properties; {workers} invocations in flight"
                ),
            })?;
        }
    }
    let host = Arc::try_unwrap(host).map_err(|_| "the host handle is still shared")?;
    host.shutdown(Duration::from_secs(30)).await?;
    Ok(())
}

/// Invokes `function` with `value` from `workers` loops until `window` has passed.
pub(crate) async fn ours(
    host: &Arc<HostHandle>,
    function: &'static str,
    per_invocation: usize,
    value: &Bytes,
    workers: usize,
    window: Duration,
) -> BenchResult<f64> {
    let (host, value) = (Arc::clone(host), value.clone());
    drive(workers, window, per_invocation, move || {
        let (host, value) = (Arc::clone(&host), value.clone());
        async move { Ok(host.call(function, value).await?) }
    })
    .await
}

/// The same shape by hand: each call sends `per_invocation` records with `FutureProducer::send`
/// and awaits every delivery.
async fn baseline(
    producer: &Arc<FutureProducer>,
    topic: &str,
    per_invocation: usize,
    value: &Bytes,
    workers: usize,
    window: Duration,
) -> BenchResult<f64> {
    let (producer, value, topic) = (Arc::clone(producer), value.clone(), Arc::<str>::from(topic));
    drive(workers, window, per_invocation, move || {
        let (producer, value, topic) = (Arc::clone(&producer), value.clone(), Arc::clone(&topic));
        async move {
            let deliveries = (0..per_invocation).map(|_| {
                producer.send(
                    FutureRecord::<[u8], [u8]>::to(&topic).payload(&value[..]),
                    QUEUE_TIMEOUT,
                )
            });
            for delivery in join_all(deliveries).await {
                delivery.map_err(|(err, _)| format!("baseline delivery to `{topic}`: {err}"))?;
            }
            Ok(())
        }
    })
    .await
}

/// Runs `workers` tasks that each repeat `call` (which sends `per_call` messages and awaits their
/// delivery) until `window` has passed; messages/s over the time until the last call finished.
async fn drive<F, Fut>(
    workers: usize,
    window: Duration,
    per_call: usize,
    call: F,
) -> BenchResult<f64>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = BenchResult<()>> + Send,
{
    let sent = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let deadline = began + window;
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (call, sent) = (call.clone(), Arc::clone(&sent));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    call().await?;
                    sent.fetch_add(per_call, Ordering::Relaxed);
                }
                Ok::<_, crate::BenchError>(())
            })
        })
        .collect();
    for task in join_all(tasks).await {
        task??;
    }
    Ok(crate::measure::rate(
        sent.load(Ordering::Relaxed),
        began.elapsed(),
    ))
}
