//! A [`QueueService`] decorator that counts and timestamps every storage request the trigger
//! makes, given to the host through the `QueueServices` resource: the honest way to count an idle
//! function's requests, see a host's first poll, and time messages from enqueue to completion
//! (benchmarks and tests share it). Each call is one request of the inner service: for
//! `AzureQueueService`, one HTTP request unless its client retries a failed one.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bindings::queue::{QueueService, Receipt, ReceivedMessage, SendOptions, ServiceError};
use tokio::sync::watch;

/// Enqueue-to-completion times of messages: the sender notes when it sends each text; a message's
/// latency ends when the trigger deletes it, which it does only after the function's outputs were
/// delivered (for a Kafka output: acknowledged by the broker).
#[derive(Debug, Default)]
pub(crate) struct LatencyProbe {
    /// When each message text was sent.
    sent: Mutex<HashMap<String, Instant>>,
    /// The text of each received message id.
    texts: Mutex<HashMap<String, String>>,
    /// Completed messages' latencies.
    latencies: Mutex<Vec<Duration>>,
}

impl LatencyProbe {
    /// Notes that `text` is being sent now.
    pub(crate) fn sending(&self, text: &str) {
        lock(&self.sent).insert(text.to_owned(), Instant::now());
    }

    /// The latencies so far (taking them).
    pub(crate) fn take(&self) -> Vec<Duration> {
        std::mem::take(&mut *lock(&self.latencies))
    }

    /// How many messages completed so far.
    pub(crate) fn completed(&self) -> usize {
        lock(&self.latencies).len()
    }

    fn received(&self, messages: &[ReceivedMessage]) {
        let mut texts = lock(&self.texts);
        for message in messages {
            texts.insert(message.id.clone(), message.text.clone());
        }
    }

    fn deleting(&self, id: &str) {
        let Some(text) = lock(&self.texts).remove(id) else {
            return;
        };
        if let Some(sent) = lock(&self.sent).remove(&text) {
            lock(&self.latencies).push(sent.elapsed());
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Forwards every operation to `inner`, noting when each request started and which queues were
/// polled.
pub(crate) struct Counting {
    inner: Arc<dyn QueueService>,
    requests: Mutex<Vec<Instant>>,
    polled: Mutex<HashSet<String>>,
    polled_count: watch::Sender<usize>,
    probe: Option<Arc<LatencyProbe>>,
    receive_max: Option<u32>,
}

impl Counting {
    pub(crate) fn new(inner: Arc<dyn QueueService>, probe: Option<Arc<LatencyProbe>>) -> Self {
        Self {
            inner,
            requests: Mutex::default(),
            polled: Mutex::default(),
            polled_count: watch::Sender::new(0),
            probe,
            receive_max: None,
        }
    }

    /// Asks the inner service for `max` messages per receive, whatever the listener asked for: a
    /// service that returns more than asked (`QueueService` is a public trait; the listener must
    /// cope).
    pub(crate) fn receiving(mut self, max: u32) -> Self {
        self.receive_max = Some(max);
        self
    }

    /// How many requests were made so far.
    pub(crate) fn request_count(&self) -> usize {
        lock(&self.requests).len()
    }

    /// When each request so far started.
    pub(crate) fn request_times(&self) -> Vec<Instant> {
        lock(&self.requests).clone()
    }

    /// Waits until `queues` distinct queues have been polled at least once.
    pub(crate) async fn polled(&self, queues: usize) {
        let mut count = self.polled_count.subscribe();
        // The sender lives in `self`, so the channel stays open while we wait.
        let _ = count.wait_for(|polled| *polled >= queues).await;
    }

    fn note(&self) {
        lock(&self.requests).push(Instant::now());
    }
}

#[bindings::queue::async_trait]
impl QueueService for Counting {
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, ServiceError> {
        self.note();
        let first = lock(&self.polled).insert(queue.to_owned());
        if first {
            self.polled_count.send_modify(|count| *count += 1);
        }
        let max = self.receive_max.unwrap_or(max);
        let messages = self.inner.receive(queue, max, visibility).await?;
        if let Some(probe) = &self.probe {
            probe.received(&messages);
        }
        Ok(messages)
    }

    async fn update_visibility(
        &self,
        queue: &str,
        id: &str,
        pop_receipt: &str,
        visibility: Duration,
    ) -> Result<Receipt, ServiceError> {
        self.note();
        self.inner
            .update_visibility(queue, id, pop_receipt, visibility)
            .await
    }

    async fn delete(&self, queue: &str, id: &str, pop_receipt: &str) -> Result<(), ServiceError> {
        self.note();
        if let Some(probe) = &self.probe {
            probe.deleting(id);
        }
        self.inner.delete(queue, id, pop_receipt).await
    }

    async fn send_with(
        &self,
        queue: &str,
        text: &str,
        options: SendOptions,
    ) -> Result<(), ServiceError> {
        self.note();
        self.inner.send_with(queue, text, options).await
    }

    async fn create_queue(&self, queue: &str) -> Result<(), ServiceError> {
        self.note();
        self.inner.create_queue(queue).await
    }

    async fn approximate_count(&self, queue: &str) -> Result<u64, ServiceError> {
        self.note();
        self.inner.approximate_count(queue).await
    }

    async fn has_visible(&self, queue: &str) -> Result<bool, ServiceError> {
        self.note();
        self.inner.has_visible(queue).await
    }

    fn describe(&self) -> String {
        format!("{} (counted)", self.inner.describe())
    }
}
