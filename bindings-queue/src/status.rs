//! What a running queue-triggered function reports: counters and a scale hint for autoscalers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bindings_core::Registry;

use crate::{QueueService, ServiceError};

/// Every queue-triggered function of a host, by name: `handle.resources().get::<QueueFunctions>()`.
pub type QueueFunctions = Registry<Arc<QueueFunction>>;

/// Scale out by at most this many instances at a time.
pub const MAX_SCALE_OUT_STEP: u64 = 4;

/// Counts of what a function's listener did since the host started.
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

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) succeeded: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) poisoned: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A queue-triggered function as it runs.
pub struct QueueFunction {
    name: String,
    queue: String,
    service: Arc<dyn QueueService>,
    batch_size: u32,
    new_batch_threshold: u32,
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
        name: &str,
        queue: &str,
        service: Arc<dyn QueueService>,
        batch_size: u32,
        new_batch_threshold: u32,
    ) -> Self {
        Self {
            name: name.to_owned(),
            queue: queue.to_owned(),
            service,
            batch_size,
            new_batch_threshold,
            counters: Counters::default(),
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
            received: c.received.load(Ordering::Relaxed),
            succeeded: c.succeeded.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            poisoned: c.poisoned.load(Ordering::Relaxed),
        }
    }

    /// Asks the queue how long it is and how many instances it needs. An approximate count above
    /// zero with no visible message counts as zero (everything in it is being processed).
    pub async fn scale_hint(&self) -> Result<ScaleHint, ServiceError> {
        let mut queue_length = self.service.approximate_count(&self.queue).await?;
        if queue_length > 0 && !self.service.has_visible(&self.queue).await? {
            queue_length = 0;
        }
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
