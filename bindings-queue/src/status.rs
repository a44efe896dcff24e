//! What a running queue-triggered function reports: counters and a scale hint for autoscalers.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bindings_core::telemetry::{
    MessagingLabels, MetricSet, Metrics, ScaleMonitor, ScaleReading, register, register_seconds,
};
use bindings_core::{BoxError, Registry as FunctionRegistry};
use futures_util::future::BoxFuture;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::{QueueService, ServiceError};

/// Every queue-triggered function of a host, by name: `handle.resources().get::<QueueFunctions>()`.
pub type QueueFunctions = FunctionRegistry<Arc<QueueFunction>>;

/// Scale out by at most this many instances at a time.
pub const MAX_SCALE_OUT_STEP: u64 = 4;

/// Counts of what a function's listener did since the host started (views of its metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Messages received.
    pub received: u64,
    /// Invocations that succeeded (the message was deleted).
    pub succeeded: u64,
    /// Invocations that failed (the message was released for a retry, or poisoned).
    pub failed: u64,
    /// Messages moved to the poison queue.
    pub poisoned: u64,
}

/// `messaging.system` of Azure Queue storage. The OpenTelemetry conventions define no value for it
/// (they have `servicebus` and `eventhubs`), so this is ours.
pub const MESSAGING_SYSTEM: &str = "azure_queue";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct QueueLabels {
    function: Arc<str>,
    queue: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    function: Arc<str>,
    queue: Arc<str>,
    result: &'static str,
}

/// The queue trigger's metric families (one set per host).
#[derive(Debug)]
pub(crate) struct QueueMetrics {
    deleted: Family<QueueLabels, Counter>,
    released: Family<QueueLabels, Counter>,
    poisoned: Family<QueueLabels, Counter>,
    renewals: Family<ResultLabels, Counter>,
    polls: Family<ResultLabels, Counter>,
    backoff: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    length: Family<QueueLabels, Gauge>,
}

impl MetricSet for QueueMetrics {
    fn register(registry: &mut Registry) -> Self {
        Self {
            deleted: register(
                registry,
                "bindings_queue_messages_deleted",
                "Queue messages deleted after their invocation succeeded",
                Family::default(),
            ),
            released: register(
                registry,
                "bindings_queue_messages_released",
                "Queue messages made visible again for a retry",
                Family::default(),
            ),
            poisoned: register(
                registry,
                "bindings_queue_messages_poisoned",
                "Queue messages moved to the poison queue",
                Family::default(),
            ),
            renewals: register(
                registry,
                "bindings_queue_visibility_renewals",
                "Visibility renewals of running messages, by result (renewed, failed)",
                Family::default(),
            ),
            polls: register(
                registry,
                "bindings_queue_polls",
                "Receive requests, by result (messages, empty, failed)",
                Family::default(),
            ),
            backoff: register_seconds(
                registry,
                "bindings_queue_backoff",
                "The listener's current wait before its next poll",
                Family::default(),
            ),
            length: register(
                registry,
                "bindings_queue_length",
                "Approximate messages in the queue, from the last scale reading",
                Family::default(),
            ),
        }
    }
}

/// One function's handles on the queue metrics: what the listener counts, as it happens.
#[derive(Debug)]
pub(crate) struct Counters {
    pub(crate) received: Counter,
    pub(crate) deleted: Counter,
    pub(crate) released: Counter,
    pub(crate) poisoned: Counter,
    pub(crate) renewed: Counter,
    pub(crate) renewal_failed: Counter,
    pub(crate) polls_with_messages: Counter,
    pub(crate) polls_empty: Counter,
    pub(crate) polls_failed: Counter,
    pub(crate) backoff: Gauge<f64, AtomicU64>,
    length: Gauge,
}

impl Counters {
    fn new(metrics: &Metrics, function: &Arc<str>, queue: &Arc<str>) -> Self {
        let set = metrics.set::<QueueMetrics>();
        let labels = QueueLabels {
            function: Arc::clone(function),
            queue: Arc::clone(queue),
        };
        let result = |result| ResultLabels {
            function: Arc::clone(function),
            queue: Arc::clone(queue),
            result,
        };
        Self {
            received: metrics
                .shared()
                .consumed
                .get_or_create_owned(&MessagingLabels {
                    function: Arc::clone(function),
                    messaging_system: MESSAGING_SYSTEM,
                    messaging_destination_name: Arc::clone(queue),
                }),
            deleted: set.deleted.get_or_create_owned(&labels),
            released: set.released.get_or_create_owned(&labels),
            poisoned: set.poisoned.get_or_create_owned(&labels),
            renewed: set.renewals.get_or_create_owned(&result("renewed")),
            renewal_failed: set.renewals.get_or_create_owned(&result("failed")),
            polls_with_messages: set.polls.get_or_create_owned(&result("messages")),
            polls_empty: set.polls.get_or_create_owned(&result("empty")),
            polls_failed: set.polls.get_or_create_owned(&result("failed")),
            backoff: set.backoff.get_or_create_owned(&labels),
            length: set.length.get_or_create_owned(&labels),
        }
    }
}

/// A queue-triggered function as it runs.
pub struct QueueFunction {
    name: String,
    queue: String,
    service: Arc<dyn QueueService>,
    batch_size: u32,
    new_batch_threshold: u32,
    /// The least time between two scale readings: the listener's polling interval.
    polling_interval: Duration,
    pub(crate) counters: Counters,
}

impl std::fmt::Debug for QueueFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueFunction")
            .field("name", &self.name)
            .field("queue", &self.queue)
            .field("service", &self.service.describe())
            .field("counts", &self.counts())
            .finish()
    }
}

/// What an autoscaler should do for one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleHint {
    /// Messages in the queue (approximate; 0 when none is visible).
    pub queue_length: u64,
    /// Instances wanted: `ceil(queue_length / (batch_size + new_batch_threshold))`.
    pub target_instances: u64,
}

impl ScaleHint {
    /// The next instance count from `current`: towards the target, growing by at most
    /// [`MAX_SCALE_OUT_STEP`] at a time.
    pub fn next_instance_count(&self, current: u64) -> u64 {
        if self.target_instances > current {
            self.target_instances.min(current + MAX_SCALE_OUT_STEP)
        } else {
            self.target_instances
        }
    }
}

/// `ceil(queue_length / (batch_size + new_batch_threshold))`: the instances needed so that each holds
/// as many messages as one host processes at once.
pub fn target_instances(queue_length: u64, batch_size: u32, new_batch_threshold: u32) -> u64 {
    let per_instance = u64::from(batch_size) + u64::from(new_batch_threshold);
    queue_length.div_ceil(per_instance.max(1))
}

impl QueueFunction {
    pub(crate) fn new(
        metrics: &Metrics,
        name: &str,
        queue: &Arc<str>,
        service: Arc<dyn QueueService>,
        batch_size: u32,
        new_batch_threshold: u32,
        polling_interval: Duration,
    ) -> Self {
        Self {
            name: name.to_owned(),
            queue: queue.to_string(),
            service,
            batch_size,
            new_batch_threshold,
            polling_interval,
            counters: Counters::new(metrics, &Arc::from(name), queue),
        }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The queue it listens on.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// What it has done so far.
    pub fn counts(&self) -> QueueCounts {
        let c = &self.counters;
        QueueCounts {
            received: c.received.get(),
            succeeded: c.deleted.get(),
            failed: c.released.get() + c.poisoned.get(),
            poisoned: c.poisoned.get(),
        }
    }

    /// Asks the queue how long it is and how many instances it needs. An approximate count above
    /// zero with no visible message counts as zero (everything in it is being processed).
    pub async fn scale_hint(&self) -> Result<ScaleHint, ServiceError> {
        let mut queue_length = self.service.approximate_count(&self.queue).await?;
        if queue_length > 0 && !self.service.has_visible(&self.queue).await? {
            queue_length = 0;
        }
        self.counters
            .length
            .set(i64::try_from(queue_length).unwrap_or(i64::MAX));
        Ok(ScaleHint {
            queue_length,
            target_instances: target_instances(
                queue_length,
                self.batch_size,
                self.new_batch_threshold,
            ),
        })
    }
}

/// The function's scale monitor: its queue's length, read at most once per polling interval.
pub(crate) struct QueueScale(pub(crate) Arc<QueueFunction>);

impl ScaleMonitor for QueueScale {
    fn read(&self) -> BoxFuture<'_, Result<ScaleReading, BoxError>> {
        Box::pin(async move {
            let function = &self.0;
            let hint = function.scale_hint().await.map_err(|err| {
                format!(
                    "queue `{}`: reading its length failed: {err}",
                    function.queue
                )
            })?;
            let mut input = serde_json::Map::new();
            input.insert("queue".into(), function.queue.clone().into());
            input.insert("queue_length".into(), hint.queue_length.into());
            input.insert("batch_size".into(), function.batch_size.into());
            input.insert(
                "new_batch_threshold".into(),
                function.new_batch_threshold.into(),
            );
            Ok(ScaleReading {
                target_instances: hint.target_instances,
                input,
            })
        })
    }

    fn interval(&self) -> Duration {
        self.0.polling_interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_instances_divide_the_queue_by_what_one_host_holds() {
        assert_eq!(target_instances(0, 16, 8), 0);
        assert_eq!(target_instances(1, 16, 8), 1);
        assert_eq!(target_instances(24, 16, 8), 1);
        assert_eq!(target_instances(25, 16, 8), 2);
        assert_eq!(target_instances(1000, 1, 0), 1000);
    }

    #[test]
    fn scaling_out_moves_at_most_four_at_a_time_and_in_at_once() {
        let hint = ScaleHint {
            queue_length: 1000,
            target_instances: 42,
        };
        assert_eq!(hint.next_instance_count(1), 5);
        assert_eq!(hint.next_instance_count(40), 42);
        assert_eq!(
            ScaleHint {
                queue_length: 0,
                target_instances: 0
            }
            .next_instance_count(7),
            0
        );
    }
}
