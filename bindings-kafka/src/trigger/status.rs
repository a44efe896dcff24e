//! What an autoscaler asks of a Kafka-triggered function: its consumer group's lag on the topic,
//! and the extension's target-based scale hint, `ceil(total lag / lag_threshold)` instances, at
//! most one per partition.

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
