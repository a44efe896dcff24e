//! What an autoscaler asks of a Kafka-triggered function: its consumer group's lag on the topic,
//! and the extension's target-based scale hint, `ceil(total lag / lag_threshold)` instances, at
//! most one per partition.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::metrics::MESSAGING_SYSTEM;
use bindings_core::telemetry::{
    MessagingLabels, MetricSet, Metrics, ScaleMonitor, ScaleReading, register,
};
use bindings_core::{BoxError, Registry as FunctionRegistry};
use futures_util::future::BoxFuture;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Every Kafka-triggered function of a host, by name: `handle.resources().get::<KafkaTriggers>()`.
pub type KafkaTriggers = FunctionRegistry<Arc<KafkaTriggerStatus>>;

/// How long each broker request of a lag reading may take.
const REQUEST: Duration = Duration::from_secs(10);

/// The least time between two lag readings for `/scale` and `/metrics`: scrapes within it share
/// one reading (three broker requests per partition), well inside KEDA's default 30 s polling.
pub const LAG_READ_INTERVAL: Duration = Duration::from_secs(10);

/// One Kafka-triggered function, for autoscalers and dashboards.
pub struct KafkaTriggerStatus {
    function: String,
    topic: String,
    group: String,
    lag_threshold: u32,
    /// The consumer's configuration (secrets included; never shown), without joining the group.
    client: ClientConfig,
    reader: OnceLock<BaseConsumer>,
    pub(crate) counters: Counters,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TopicLabels {
    function: Arc<str>,
    topic: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabels {
    function: Arc<str>,
    topic: Arc<str>,
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PartitionLabels {
    function: Arc<str>,
    topic: Arc<str>,
    partition: i32,
}

/// The Kafka trigger's metric families (one set per host).
#[derive(Debug)]
struct TriggerMetrics {
    records: Family<KindLabels, Counter>,
    lag: Family<PartitionLabels, Gauge>,
    commits: Family<KindLabels, Counter>,
    rebalances: Family<KindLabels, Counter>,
    buffered: Family<TopicLabels, Gauge>,
    pauses: Family<TopicLabels, Counter>,
}

impl MetricSet for TriggerMetrics {
    fn register(registry: &mut Registry) -> Self {
        Self {
            records: register(
                registry,
                "bindings_kafka_trigger_records",
                "Kafka trigger records by result: succeeded, retried (a failed attempt followed by another), dead_lettered",
                Family::default(),
            ),
            lag: register(
                registry,
                "bindings_kafka_consumer_lag",
                "Records after the consumer group's committed offset, per partition, from the last scale reading",
                Family::default(),
            ),
            commits: register(
                registry,
                "bindings_kafka_commits",
                "Offset commits of the consumer group, by result (committed, failed)",
                Family::default(),
            ),
            rebalances: register(
                registry,
                "bindings_kafka_rebalances",
                "Partitions assigned to or revoked from this host's consumer, by kind",
                Family::default(),
            ),
            buffered: register(
                registry,
                "bindings_kafka_buffered_records",
                "Records read and not completed (waiting or running)",
                Family::default(),
            ),
            pauses: register(
                registry,
                "bindings_kafka_partition_pauses",
                "Times a partition's lanes filled up (its records then wait unread in librdkafka)",
                Family::default(),
            ),
        }
    }
}

/// What the listener counts, as it happens: handles on the trigger's metrics.
#[derive(Debug)]
pub(crate) struct Counters {
    pub(crate) received: Counter,
    pub(crate) succeeded: Counter,
    pub(crate) retried: Counter,
    pub(crate) dead_lettered: Counter,
    pub(crate) committed: Counter,
    pub(crate) commit_failed: Counter,
    pub(crate) assigned: Counter,
    pub(crate) revoked: Counter,
    buffered: Gauge,
    pub(crate) max_buffered: AtomicUsize,
    pub(crate) pauses: Counter,
    set: Arc<TriggerMetrics>,
    labels: TopicLabels,
}

impl Counters {
    fn new(metrics: &Metrics, function: &str, topic: &str) -> Self {
        let set = metrics.set::<TriggerMetrics>();
        let labels = TopicLabels {
            function: function.into(),
            topic: topic.into(),
        };
        let kind = |kind| KindLabels {
            function: Arc::clone(&labels.function),
            topic: Arc::clone(&labels.topic),
            kind,
        };
        Self {
            received: metrics
                .shared()
                .consumed
                .get_or_create_owned(&MessagingLabels {
                    function: Arc::clone(&labels.function),
                    messaging_system: MESSAGING_SYSTEM,
                    messaging_destination_name: Arc::clone(&labels.topic),
                }),
            succeeded: set.records.get_or_create_owned(&kind("succeeded")),
            retried: set.records.get_or_create_owned(&kind("retried")),
            dead_lettered: set.records.get_or_create_owned(&kind("dead_lettered")),
            committed: set.commits.get_or_create_owned(&kind("committed")),
            commit_failed: set.commits.get_or_create_owned(&kind("failed")),
            assigned: set.rebalances.get_or_create_owned(&kind("assigned")),
            revoked: set.rebalances.get_or_create_owned(&kind("revoked")),
            buffered: set.buffered.get_or_create_owned(&labels),
            max_buffered: AtomicUsize::new(0),
            pauses: set.pauses.get_or_create_owned(&labels),
            set: Arc::clone(&set),
            labels,
        }
    }

    /// `records` more are read and not completed.
    pub(crate) fn buffer(&self, records: usize) {
        let now = self.buffered.inc_by(records as i64) + records as i64;
        self.max_buffered
            .fetch_max(usize::try_from(now).unwrap_or(0), Ordering::Relaxed);
    }

    /// `records` fewer are.
    pub(crate) fn unbuffer(&self, records: usize) {
        self.buffered.dec_by(records as i64);
    }

    /// The lag gauges of a reading.
    fn lag(&self, partitions: &[(i32, i64)]) {
        for (partition, lag) in partitions {
            self.set
                .lag
                .get_or_create(&PartitionLabels {
                    function: Arc::clone(&self.labels.function),
                    topic: Arc::clone(&self.labels.topic),
                    partition: *partition,
                })
                .set(*lag);
        }
    }
}

/// What a Kafka-triggered function has done so far (records, not invocations: a batch of 64 that
/// succeeds counts 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KafkaCounts {
    /// Records read from the brokers and handed to lanes.
    pub received: u64,
    /// Records whose invocation succeeded (their outputs delivered).
    pub succeeded: u64,
    /// Failed attempts followed by a retry.
    pub retried: u64,
    /// Records produced to the dead-letter topic.
    pub dead_lettered: u64,
    /// Records read and not completed now (waiting or running).
    pub buffered: usize,
    /// The most there were at once: at most `2 × max(max_batch_size, max_concurrency)` per
    /// partition, since a partition with that many is not read further until one completes.
    pub max_buffered: usize,
    /// How many times a partition's lanes filled up (its queue then waits unread).
    pub pauses: u64,
}

impl std::fmt::Debug for KafkaTriggerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaTriggerStatus")
            .field("function", &self.function)
            .field("topic", &self.topic)
            .field("group", &self.group)
            .field("lag_threshold", &self.lag_threshold)
            .finish_non_exhaustive()
    }
}

/// A consumer group's lag on a topic, read from the brokers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaLag {
    /// Per partition, in partition order: the records after the group's committed offset (all of
    /// the partition's records if it committed none).
    pub partitions: Vec<(i32, i64)>,
    /// The sum over partitions.
    pub total: i64,
    /// `ceil(total / lag_threshold)`, at most the partition count: the extension's
    /// `KafkaTargetScaler`.
    pub target_instances: u32,
}

impl KafkaTriggerStatus {
    pub(crate) fn new(
        metrics: &Metrics,
        function: &str,
        topic: &str,
        group: &str,
        lag_threshold: u32,
        client: ClientConfig,
    ) -> Self {
        Self {
            counters: Counters::new(metrics, function, topic),
            function: function.to_owned(),
            topic: topic.to_owned(),
            group: group.to_owned(),
            lag_threshold,
            client,
            reader: OnceLock::new(),
        }
    }

    /// What it has done so far.
    pub fn counts(&self) -> KafkaCounts {
        let c = &self.counters;
        KafkaCounts {
            received: c.received.get(),
            succeeded: c.succeeded.get(),
            retried: c.retried.get(),
            dead_lettered: c.dead_lettered.get(),
            buffered: usize::try_from(c.buffered.get()).unwrap_or(0),
            max_buffered: c.max_buffered.load(Ordering::Relaxed),
            pauses: c.pauses.get(),
        }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.function
    }

    /// The topic it reads, and its consumer group.
    pub fn topic_and_group(&self) -> (&str, &str) {
        (&self.topic, &self.group)
    }

    /// Reads the group's lag from the brokers (a metadata, an offset-fetch and a list-offsets
    /// request per partition) and the scale hint it makes.
    pub async fn lag(self: &Arc<Self>) -> Result<KafkaLag, KafkaError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.read_lag())
            .await
            .unwrap_or_else(|join| {
                Err(KafkaError::Canceled).inspect_err(|_| {
                    tracing::error!(error = %join, "reading the Kafka lag failed");
                })
            })
    }

    fn read_lag(&self) -> Result<KafkaLag, KafkaError> {
        let reader = match self.reader.get() {
            Some(reader) => reader,
            None => {
                let created: BaseConsumer = self.client.create()?;
                self.reader.get_or_init(|| created)
            }
        };
        let metadata = reader.fetch_metadata(Some(&self.topic), REQUEST)?;
        let mut partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| {
                t.partitions()
                    .iter()
                    .map(rdkafka::metadata::MetadataPartition::id)
            })
            .collect();
        partitions.sort_unstable();
        let mut tpl = TopicPartitionList::new();
        for partition in &partitions {
            tpl.add_partition(&self.topic, *partition);
        }
        let committed = reader.committed_offsets(tpl, REQUEST)?;
        let mut lags = Vec::with_capacity(partitions.len());
        for partition in partitions {
            let (low, high) = reader.fetch_watermarks(&self.topic, partition, REQUEST)?;
            let from = match committed
                .find_partition(&self.topic, partition)
                .map(|e| e.offset())
            {
                Some(Offset::Offset(offset)) => offset.max(low),
                _ => low,
            };
            lags.push((partition, (high - from).max(0)));
        }
        let total = lags.iter().map(|(_, lag)| lag).sum();
        self.counters.lag(&lags);
        Ok(KafkaLag {
            target_instances: target_instances(total, self.lag_threshold, lags.len()),
            partitions: lags,
            total,
        })
    }
}

/// The function's scale monitor: its group's lag, read at most every [`LAG_READ_INTERVAL`].
pub(crate) struct KafkaScale(pub(crate) Arc<KafkaTriggerStatus>);

impl ScaleMonitor for KafkaScale {
    fn read(&self) -> BoxFuture<'_, Result<ScaleReading, BoxError>> {
        Box::pin(async move {
            let status = &self.0;
            let lag = status.lag().await.map_err(|err| {
                format!(
                    "topic `{}`, group `{}`: reading the lag failed: {err}",
                    status.topic, status.group
                )
            })?;
            let mut input = serde_json::Map::new();
            input.insert("topic".into(), status.topic.clone().into());
            input.insert("consumer_group".into(), status.group.clone().into());
            input.insert("lag".into(), lag.total.into());
            input.insert("lag_threshold".into(), status.lag_threshold.into());
            input.insert("partitions".into(), lag.partitions.len().into());
            Ok(ScaleReading {
                target_instances: u64::from(lag.target_instances),
                input,
            })
        })
    }

    fn interval(&self) -> Duration {
        LAG_READ_INTERVAL
    }
}

/// `ceil(lag / threshold)`, capped at `partitions`.
fn target_instances(lag: i64, threshold: u32, partitions: usize) -> u32 {
    let wanted = u64::try_from(lag)
        .unwrap_or(0)
        .div_ceil(u64::from(threshold.max(1)));
    u32::try_from(wanted.min(partitions as u64)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_divides_the_lag_by_the_threshold_and_stops_at_the_partitions() {
        assert_eq!(target_instances(0, 1000, 4), 0);
        assert_eq!(target_instances(1, 1000, 4), 1);
        assert_eq!(target_instances(1000, 1000, 4), 1);
        assert_eq!(target_instances(1001, 1000, 4), 2);
        assert_eq!(target_instances(1_000_000, 1000, 4), 4);
    }
}
