//! An in-memory queue service with Azure Queue storage's observable semantics: visibility, dequeue
//! counts, pop receipts, time-to-live, 32 messages per receive and the 64 KiB limit. The embedded
//! default (no storage account needed) and a fast test double.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

use crate::service::{
    MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY, QueueService, Receipt, ReceivedMessage, SendOptions,
    ServiceError, ServiceErrorKind, TimeToLive,
};

/// When a message that never expires "expires", for the service's answers: far away, as Azure
/// answers `9999-12-31` for such messages.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

struct Stored {
    id: String,
    text: String,
    dequeue_count: u32,
    pop_receipt: Option<String>,
    inserted: Instant,
    /// `None`: never expires.
    expires: Option<Instant>,
    visible_at: Instant,
}

#[derive(Default)]
struct Queue {
    messages: VecDeque<Stored>,
    /// Whether any message was sent with a time-to-live other than the default, so that expired
    /// messages may be anywhere, not only at the front.
    mixed_ttl: bool,
}

#[derive(Default)]
struct State {
    queues: BTreeMap<String, Queue>,
    operations: u64,
}

/// An in-memory storage account. Clones share the same queues.
///
/// Times follow tokio's clock, so tests with a paused clock control visibility and expiry.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use bindings_queue::{MemoryQueueService, QueueService};
///
/// let account = MemoryQueueService::new();
/// account.create_queue("orders").await.unwrap();
/// account.send("orders", "hello").await.unwrap();
/// let received = account.receive("orders", 32, Duration::from_secs(30)).await.unwrap();
/// assert_eq!(received[0].text, "hello");
/// assert_eq!(received[0].dequeue_count, 1);
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryQueueService {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemoryQueueService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryQueueService")
            .field("queues", &state.queues.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn wall_clock(at: Instant) -> OffsetDateTime {
    let now = Instant::now();
    let wall = OffsetDateTime::now_utc();
    if at >= now {
        wall + (at - now)
    } else {
        wall - (now - at)
    }
}

fn not_found(queue: &str) -> ServiceError {
    ServiceError {
        kind: ServiceErrorKind::QueueNotFound,
        status: Some(404),
        code: Some("QueueNotFound".into()),
        message: format!("queue `{queue}` does not exist"),
    }
}

fn check_visibility(visibility: Duration) -> Result<(), ServiceError> {
    if visibility > MAX_VISIBILITY {
        return Err(ServiceError::from_status(
            400,
            Some("OutOfRangeQueryParameterValue".into()),
            "visibility over 7 days",
        ));
    }
    Ok(())
}

impl MemoryQueueService {
    /// An account with no queues.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every operation leaves the state consistent before it can panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_queue<T>(
        &self,
        queue: &str,
        f: impl FnOnce(&mut Queue, Instant) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut state = self.lock();
        let now = Instant::now();
        let q = state
            .queues
            .get_mut(queue)
            .ok_or_else(|| not_found(queue))?;
        let expired = |m: &Stored| m.expires.is_some_and(|at| at <= now);
        if q.mixed_ttl {
            q.messages.retain(|m| !expired(m));
        } else {
            // Every message lives the default time from its insertion, so the expired ones are at
            // the front: dropping them there keeps each operation from walking the whole queue.
            while q.messages.front().is_some_and(expired) {
                q.messages.pop_front();
            }
        }
        f(q, now)
    }

    fn count(&self) {
        self.lock().operations += 1;
    }

    /// How many storage operations were made so far (every trait method counts one): for measuring
    /// how often an idle listener polls.
    pub fn operation_count(&self) -> u64 {
        self.lock().operations
    }

    /// Every message's text in `queue`, visible or not, oldest first (for tests and diagnostics).
    pub fn peek_all(&self, queue: &str) -> Vec<String> {
        self.with_queue(queue, |q, _| {
            Ok(q.messages.iter().map(|m| m.text.clone()).collect())
        })
        .unwrap_or_default()
    }

    /// Whether `queue` exists.
    pub fn queue_exists(&self, queue: &str) -> bool {
        self.lock().queues.contains_key(queue)
    }
}

#[async_trait::async_trait]
impl QueueService for MemoryQueueService {
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, ServiceError> {
        self.count();
        if max == 0 || max > MAX_MESSAGES_PER_RECEIVE {
            return Err(ServiceError::from_status(
                400,
                Some("OutOfRangeQueryParameterValue".into()),
                format!("numofmessages must be 1 to {MAX_MESSAGES_PER_RECEIVE}, not {max}"),
            ));
        }
        check_visibility(visibility)?;
        self.with_queue(queue, |q, now| {
            let mut out = Vec::new();
            for m in q
                .messages
                .iter_mut()
                .filter(|m| m.visible_at <= now)
                .take(max as usize)
            {
                m.dequeue_count += 1;
                m.visible_at = now + visibility;
                let receipt = uuid::Uuid::new_v4().to_string();
                m.pop_receipt = Some(receipt.clone());
                out.push(ReceivedMessage {
                    id: m.id.clone(),
                    pop_receipt: receipt,
                    dequeue_count: m.dequeue_count,
                    insertion_time: wall_clock(m.inserted),
                    expiration_time: wall_clock(m.expires.unwrap_or(now + NEVER)),
                    next_visible_time: wall_clock(m.visible_at),
                    text: m.text.clone(),
                });
            }
            Ok(out)
        })
    }

    async fn update_visibility(
        &self,
        queue: &str,
        id: &str,
        pop_receipt: &str,
        visibility: Duration,
    ) -> Result<Receipt, ServiceError> {
        self.count();
        check_visibility(visibility)?;
        self.with_queue(queue, |q, now| {
            let m = find(q, id, pop_receipt)?;
            m.visible_at = now + visibility;
            let receipt = uuid::Uuid::new_v4().to_string();
            m.pop_receipt = Some(receipt.clone());
            Ok(Receipt {
                pop_receipt: receipt,
                next_visible_time: wall_clock(m.visible_at),
            })
        })
    }

    async fn delete(&self, queue: &str, id: &str, pop_receipt: &str) -> Result<(), ServiceError> {
        self.count();
        self.with_queue(queue, |q, _| {
            find(q, id, pop_receipt)?;
            // Stops at the message (usually near the front) instead of walking the whole queue.
            if let Some(index) = q.messages.iter().position(|m| m.id == id) {
                q.messages.remove(index);
            }
            Ok(())
        })
    }

    async fn send_with(
        &self,
        queue: &str,
        text: &str,
        options: SendOptions,
    ) -> Result<(), ServiceError> {
        self.count();
        options.check(queue, text)?;
        self.with_queue(queue, |q, now| {
            let expires = match options.time_to_live {
                TimeToLive::After(ttl) => Some(now + ttl),
                TimeToLive::Never => None,
            };
            q.mixed_ttl |= options.time_to_live != TimeToLive::default();
            q.messages.push_back(Stored {
                id: uuid::Uuid::new_v4().to_string(),
                text: text.to_owned(),
                dequeue_count: 0,
                pop_receipt: None,
                inserted: now,
                expires,
                visible_at: now + options.visibility_delay,
            });
            Ok(())
        })
    }

    async fn create_queue(&self, queue: &str) -> Result<(), ServiceError> {
        self.count();
        let mut state = self.lock();
        state.queues.entry(queue.to_owned()).or_default();
        Ok(())
    }

    async fn approximate_count(&self, queue: &str) -> Result<u64, ServiceError> {
        self.count();
        self.with_queue(queue, |q, _| Ok(q.messages.len() as u64))
    }

    async fn has_visible(&self, queue: &str) -> Result<bool, ServiceError> {
        self.count();
        self.with_queue(queue, |q, now| {
            Ok(q.messages.iter().any(|m| m.visible_at <= now))
        })
    }

    fn describe(&self) -> String {
        "the in-memory queue service".to_owned()
    }
}

fn find<'q>(q: &'q mut Queue, id: &str, pop_receipt: &str) -> Result<&'q mut Stored, ServiceError> {
    let m = q
        .messages
        .iter_mut()
        .find(|m| m.id == id)
        .ok_or_else(|| ServiceError {
            kind: ServiceErrorKind::MessageNotFound,
            status: Some(404),
            code: Some("MessageNotFound".into()),
            message: format!("message `{id}` does not exist"),
        })?;
    if m.pop_receipt.as_deref() != Some(pop_receipt) {
        return Err(ServiceError {
            kind: ServiceErrorKind::PopReceiptMismatch,
            status: Some(400),
            code: Some("PopReceiptMismatch".into()),
            message: format!("the pop receipt for message `{id}` is no longer valid"),
        });
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_MESSAGE_SIZE;

    const MINUTE: Duration = Duration::from_secs(60);

    async fn account_with(queue: &str, texts: &[&str]) -> MemoryQueueService {
        let account = MemoryQueueService::new();
        account.create_queue(queue).await.unwrap();
        for text in texts {
            account.send(queue, text).await.unwrap();
        }
        account
    }

    #[tokio::test(start_paused = true)]
    async fn received_messages_are_invisible_until_their_visibility_ends() {
        let account = account_with("q", &["a"]).await;
        let first = account.receive("q", 1, MINUTE).await.unwrap();
        assert_eq!((first.len(), first[0].dequeue_count), (1, 1));
        assert!(account.receive("q", 1, MINUTE).await.unwrap().is_empty());
        assert!(!account.has_visible("q").await.unwrap());
        tokio::time::advance(MINUTE).await;
        let again = account.receive("q", 1, MINUTE).await.unwrap();
        assert_eq!(
            (again[0].id.as_str(), again[0].dequeue_count),
            (first[0].id.as_str(), 2)
        );
        assert_ne!(again[0].pop_receipt, first[0].pop_receipt);
    }

    #[tokio::test(start_paused = true)]
    async fn pop_receipts_guard_delete_and_update() {
        let account = account_with("q", &["a"]).await;
        let m = account.receive("q", 1, MINUTE).await.unwrap().remove(0);
        let renewed = account
            .update_visibility("q", &m.id, &m.pop_receipt, MINUTE)
            .await
            .unwrap();
        let stale = account
            .delete("q", &m.id, &m.pop_receipt)
            .await
            .unwrap_err();
        assert_eq!(stale.kind, ServiceErrorKind::PopReceiptMismatch);
        account
            .delete("q", &m.id, &renewed.pop_receipt)
            .await
            .unwrap();
        let gone = account
            .delete("q", &m.id, &renewed.pop_receipt)
            .await
            .unwrap_err();
        assert_eq!(gone.kind, ServiceErrorKind::MessageNotFound);
        assert_eq!(account.approximate_count("q").await.unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn updating_to_zero_makes_a_message_visible_at_once() {
        let account = account_with("q", &["a"]).await;
        let m = account.receive("q", 1, MINUTE).await.unwrap().remove(0);
        account
            .update_visibility("q", &m.id, &m.pop_receipt, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            account.receive("q", 1, MINUTE).await.unwrap()[0].dequeue_count,
            2
        );
    }

    #[tokio::test(start_paused = true)]
    async fn receive_takes_at_most_32_in_order_and_rejects_more() {
        let texts: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let account = account_with("q", &refs).await;
        let batch = account.receive("q", 32, MINUTE).await.unwrap();
        assert_eq!(batch.len(), 32);
        assert_eq!(batch[0].text, "0");
        assert_eq!(account.receive("q", 32, MINUTE).await.unwrap().len(), 8);
        assert_eq!(
            account.receive("q", 33, MINUTE).await.unwrap_err().kind,
            ServiceErrorKind::InvalidRequest
        );
        assert_eq!(
            account.receive("q", 0, MINUTE).await.unwrap_err().kind,
            ServiceErrorKind::InvalidRequest
        );
    }

    #[tokio::test(start_paused = true)]
    async fn messages_expire_after_their_time_to_live() {
        let account = account_with("q", &["a"]).await;
        tokio::time::advance(crate::DEFAULT_TIME_TO_LIVE).await;
        assert_eq!(account.approximate_count("q").await.unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_sent_message_may_be_delayed_and_live_longer_or_shorter() {
        let account = account_with("q", &["default"]).await;
        let send = |text: &'static str, options: SendOptions| {
            let account = account.clone();
            async move { account.send_with("q", text, options).await }
        };
        send("late", SendOptions::new().visibility_delay(MINUTE))
            .await
            .unwrap();
        send(
            "short",
            SendOptions::new().time_to_live(TimeToLive::After(MINUTE * 2)),
        )
        .await
        .unwrap();
        send(
            "forever",
            SendOptions::new().time_to_live(TimeToLive::Never),
        )
        .await
        .unwrap();
        let texts = |received: Vec<ReceivedMessage>| {
            received.into_iter().map(|m| m.text).collect::<Vec<_>>()
        };
        let first = account
            .receive("q", 32, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(first[2].expiration_time.year() > 2100, "never expires");
        assert_eq!(texts(first), ["default", "short", "forever"]);
        tokio::time::advance(MINUTE).await;
        let second = account
            .receive("q", 32, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(texts(second), ["default", "late", "short", "forever"]);
        tokio::time::advance(MINUTE).await;
        // `short` expired although an older message did not: expiry is per message.
        assert_eq!(account.peek_all("q"), ["default", "late", "forever"]);
        tokio::time::advance(crate::DEFAULT_TIME_TO_LIVE).await;
        assert_eq!(account.peek_all("q"), ["forever"]);
    }

    #[tokio::test]
    async fn send_options_the_service_would_refuse_are_refused() {
        let account = account_with("q", &[]).await;
        for options in [
            SendOptions::new().visibility_delay(MAX_VISIBILITY + MINUTE),
            SendOptions::new().time_to_live(TimeToLive::After(Duration::ZERO)),
            SendOptions::new()
                .visibility_delay(MINUTE)
                .time_to_live(TimeToLive::After(MINUTE)),
        ] {
            let err = account.send_with("q", "x", options).await.unwrap_err();
            assert_eq!(err.kind, ServiceErrorKind::InvalidRequest, "{options:?}");
            assert!(err.message.contains("queue `q`"), "{err}");
        }
        assert!(account.peek_all("q").is_empty());
    }

    #[tokio::test]
    async fn limits_and_missing_queues_are_errors_like_the_service_s() {
        let account = account_with("q", &[]).await;
        let big = "x".repeat(MAX_MESSAGE_SIZE + 1);
        assert_eq!(
            account.send("q", &big).await.unwrap_err().kind,
            ServiceErrorKind::MessageTooLarge
        );
        account
            .send("q", &"x".repeat(MAX_MESSAGE_SIZE))
            .await
            .unwrap();
        assert_eq!(
            account.send("nope", "a").await.unwrap_err().kind,
            ServiceErrorKind::QueueNotFound
        );
        assert_eq!(
            account.receive("nope", 1, MINUTE).await.unwrap_err().kind,
            ServiceErrorKind::QueueNotFound
        );
        assert_eq!(
            account
                .receive("q", 1, MAX_VISIBILITY + MINUTE)
                .await
                .unwrap_err()
                .kind,
            ServiceErrorKind::InvalidRequest
        );
        account.create_queue("q").await.unwrap();
        assert_eq!(
            account.approximate_count("q").await.unwrap(),
            1,
            "creating an existing queue keeps it"
        );
        assert_eq!(
            account.operation_count(),
            8,
            "every call counts once, failed ones too"
        );
    }
}
