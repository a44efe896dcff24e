//! What an autoscaler asks of a Kafka-triggered function: its consumer group's lag on the topic,
//! and the extension's target-based scale hint, `ceil(total lag / lag_threshold)` instances, at
//! most one per partition.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bindings_core::Registry;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Every Kafka-triggered function of a host, by name: `handle.resources().get::<KafkaTriggers>()`.
pub type KafkaTriggers = Registry<Arc<KafkaTriggerStatus>>;

/// How long each broker request of a lag reading may take.
const REQUEST: Duration = Duration::from_secs(10);

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

/// What the listener counts, as it happens.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) succeeded: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) buffered: AtomicUsize,
    pub(crate) max_buffered: AtomicUsize,
    pub(crate) pauses: AtomicU64,
}

impl Counters {
    /// `records` more are read and not completed.
    pub(crate) fn buffer(&self, records: usize) {
        let now = self.buffered.fetch_add(records, Ordering::Relaxed) + records;
        self.max_buffered.fetch_max(now, Ordering::Relaxed);
    }

    /// `records` fewer are.
    pub(crate) fn unbuffer(&self, records: usize) {
        self.buffered.fetch_sub(records, Ordering::Relaxed);
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
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
        function: &str,
        topic: &str,
        group: &str,
        lag_threshold: u32,
        client: ClientConfig,
    ) -> Self {
        Self {
            function: function.to_owned(),
            topic: topic.to_owned(),
            group: group.to_owned(),
            lag_threshold,
            client,
            reader: OnceLock::new(),
            counters: Counters::default(),
        }
    }

    /// What it has done so far.
    pub fn counts(&self) -> KafkaCounts {
        let c = &self.counters;
        KafkaCounts {
            received: c.received.load(Ordering::Relaxed),
            succeeded: c.succeeded.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            dead_lettered: c.dead_lettered.load(Ordering::Relaxed),
            buffered: c.buffered.load(Ordering::Relaxed),
            max_buffered: c.max_buffered.load(Ordering::Relaxed),
            pauses: c.pauses.load(Ordering::Relaxed),
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
        Ok(KafkaLag {
            target_instances: target_instances(total, self.lag_threshold, lags.len()),
            partitions: lags,
            total,
        })
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
