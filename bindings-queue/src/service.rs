//! The storage operations the trigger needs, behind one trait: Azure Queue storage (`azure.rs`) and
//! an in-memory queue with the same semantics (`memory.rs`).

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;

pub use bindings_spec::queue::{MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY};

/// The largest message text the service stores (64 KiB).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// A message as received: its text is still encoded (base64 or not, per `messageEncoding`).
#[derive(Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The message id.
    pub id: String,
    /// The receipt that proves this receiver holds the message; needed to delete or update it.
    pub pop_receipt: String,
    /// How many times the message has been received, this time included.
    pub dequeue_count: u32,
    /// When it was added.
    pub insertion_time: OffsetDateTime,
    /// When it expires.
    pub expiration_time: OffsetDateTime,
    /// When it becomes visible again (unless deleted or updated first).
    pub next_visible_time: OffsetDateTime,
    /// The raw text.
    pub text: String,
}

impl fmt::Debug for ReceivedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedMessage")
            .field("id", &self.id)
            .field("dequeue_count", &self.dequeue_count)
            .field("next_visible_time", &self.next_visible_time)
            .field("text_len", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// How long a sent message lives before the service deletes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeToLive {
    /// This long after it was added (rounded up to whole seconds; at least 1 second).
    After(Duration),
    /// Never expires (the service's `messagettl=-1`).
    Never,
}

impl Default for TimeToLive {
    /// The service's default: 7 days.
    fn default() -> Self {
        Self::After(DEFAULT_TIME_TO_LIVE)
    }
}

/// How long a message lives unless deleted (the service's default).
pub const DEFAULT_TIME_TO_LIVE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How a message is added: when it becomes visible, and how long it lives.
///
/// ```
/// use std::time::Duration;
/// use bindings_queue::{SendOptions, TimeToLive};
///
/// let options = SendOptions::new()
///     .visibility_delay(Duration::from_secs(30))
///     .time_to_live(TimeToLive::Never);
/// assert_eq!(options.visibility_delay, Duration::from_secs(30));
/// assert_eq!(SendOptions::default().time_to_live, TimeToLive::After(Duration::from_secs(7 * 24 * 3600)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendOptions {
    /// How long the message stays invisible after it is added: 0 (the default) to 7 days, and
    /// shorter than its time-to-live.
    pub visibility_delay: Duration,
    /// How long it lives; the default is the service's 7 days.
    pub time_to_live: TimeToLive,
}

impl SendOptions {
    /// Visible at once, lives 7 days.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`visibility_delay`](Self::visibility_delay).
    #[must_use]
    pub fn visibility_delay(mut self, delay: Duration) -> Self {
        self.visibility_delay = delay;
        self
    }

    /// Sets [`time_to_live`](Self::time_to_live).
    #[must_use]
    pub fn time_to_live(mut self, ttl: TimeToLive) -> Self {
        self.time_to_live = ttl;
        self
    }

    /// Why the service would refuse `text` with these options on `queue`, if it would: a text over
    /// [`MAX_MESSAGE_SIZE`], a delay over 7 days, or one not shorter than the time-to-live. Checked
    /// before sending, by every service alike.
    pub(crate) fn check(&self, queue: &str, text: &str) -> Result<(), ServiceError> {
        if text.len() > MAX_MESSAGE_SIZE {
            return Err(ServiceError::too_large(queue, text.len()));
        }
        let refuse = |why: String| {
            Err(ServiceError::new(
                ServiceErrorKind::InvalidRequest,
                format!("send on queue `{queue}`: {why}"),
            ))
        };
        if self.visibility_delay > MAX_VISIBILITY {
            return refuse(format!(
                "a visibility delay of {:?} is longer than the service's limit of 7 days",
                self.visibility_delay
            ));
        }
        match self.time_to_live {
            TimeToLive::After(ttl) if ttl.is_zero() => {
                refuse("a time-to-live of 0 would expire the message at once; use at least 1 second, or TimeToLive::Never".to_owned())
            }
            TimeToLive::After(ttl) if self.visibility_delay >= ttl => refuse(format!(
                "the visibility delay ({:?}) must be shorter than the time-to-live ({ttl:?}), or the \
                 message would expire before anyone sees it",
                self.visibility_delay
            )),
            _ => Ok(()),
        }
    }
}

/// The new receipt after a visibility update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The new pop receipt (the old one no longer works).
    pub pop_receipt: String,
    /// When the message becomes visible.
    pub next_visible_time: OffsetDateTime,
}

/// What went wrong talking to the queue service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceErrorKind {
    /// The queue does not exist.
    QueueNotFound,
    /// The message is gone (deleted, expired, or never existed).
    MessageNotFound,
    /// Another receiver holds the message now (its visibility expired and it was received again).
    PopReceiptMismatch,
    /// The credentials were refused (401/403): a configuration problem, not a passing one.
    Unauthorized,
    /// The service is busy or failing (5xx, throttling): back off and try again.
    Unavailable,
    /// The message is larger than the service accepts.
    MessageTooLarge,
    /// The request was invalid (400).
    InvalidRequest,
    /// The service could not be reached (connection refused, DNS, timeout).
    Transport,
    /// Anything else.
    Other,
}

/// An error from the queue service, with the HTTP status and service error code when there is one.
/// Messages never contain keys or signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{message}")]
pub struct ServiceError {
    /// The category, which decides what the listener does.
    pub kind: ServiceErrorKind,
    /// HTTP status, if the service answered.
    pub status: Option<u16>,
    /// The service's error code (`QueueNotFound`, `PopReceiptMismatch`, …), if any.
    pub code: Option<String>,
    /// What happened.
    pub message: String,
}

impl ServiceError {
    /// An error of `kind`.
    pub fn new(kind: ServiceErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            code: None,
            message: message.into(),
        }
    }

    /// `send` on `queue` refused before any request: the message has `len` bytes, over
    /// [`MAX_MESSAGE_SIZE`].
    pub(crate) fn too_large(queue: &str, len: usize) -> Self {
        Self {
            kind: ServiceErrorKind::MessageTooLarge,
            status: None,
            code: None,
            message: format!(
                "send on queue `{queue}`: the message has {len} bytes; the service stores at most \
                 {MAX_MESSAGE_SIZE}; store the payload elsewhere (a blob, say) and queue a reference to it"
            ),
        }
    }

    /// Classifies an HTTP answer by status and service error code.
    pub fn from_status(status: u16, code: Option<String>, message: impl Into<String>) -> Self {
        let kind = match (status, code.as_deref()) {
            (_, Some("QueueNotFound")) => ServiceErrorKind::QueueNotFound,
            (_, Some("MessageNotFound")) => ServiceErrorKind::MessageNotFound,
            (_, Some("PopReceiptMismatch")) => ServiceErrorKind::PopReceiptMismatch,
            (_, Some("RequestBodyTooLarge" | "MessageTooLarge")) | (413, _) => {
                ServiceErrorKind::MessageTooLarge
            }
            (401 | 403, _) => ServiceErrorKind::Unauthorized,
            (404, _) => ServiceErrorKind::QueueNotFound,
            (408 | 429 | 500..=599, _) => ServiceErrorKind::Unavailable,
            (400, _) => ServiceErrorKind::InvalidRequest,
            _ => ServiceErrorKind::Other,
        };
        Self {
            kind,
            status: Some(status),
            code,
            message: message.into(),
        }
    }
}

/// Queue storage operations, per account: Azure Queue storage, or the in-memory queue.
///
/// Hosts hold it as `Arc<dyn QueueService>`; implement it with [`async_trait`](crate::async_trait)
/// (re-exported here), as the provided services and test decorators do:
///
/// ```
/// use std::time::Duration;
/// use bindings_queue::{
///     QueueService, Receipt, ReceivedMessage, SendOptions, ServiceError, async_trait,
/// };
///
/// /// A service that logs each call and forwards it.
/// struct Logged<S>(S);
///
/// #[async_trait]
/// impl<S: QueueService> QueueService for Logged<S> {
///     async fn receive(&self, queue: &str, max: u32, visibility: Duration)
///         -> Result<Vec<ReceivedMessage>, ServiceError> {
///         println!("receive {max} from {queue}");
///         self.0.receive(queue, max, visibility).await
///     }
///     async fn update_visibility(&self, queue: &str, id: &str, pop_receipt: &str,
///         visibility: Duration) -> Result<Receipt, ServiceError> {
///         self.0.update_visibility(queue, id, pop_receipt, visibility).await
///     }
///     async fn delete(&self, queue: &str, id: &str, pop_receipt: &str) -> Result<(), ServiceError> {
///         self.0.delete(queue, id, pop_receipt).await
///     }
///     async fn send_with(&self, queue: &str, text: &str, options: SendOptions)
///         -> Result<(), ServiceError> {
///         self.0.send_with(queue, text, options).await
///     }
///     async fn create_queue(&self, queue: &str) -> Result<(), ServiceError> {
///         self.0.create_queue(queue).await
///     }
///     async fn approximate_count(&self, queue: &str) -> Result<u64, ServiceError> {
///         self.0.approximate_count(queue).await
///     }
///     async fn has_visible(&self, queue: &str) -> Result<bool, ServiceError> {
///         self.0.has_visible(queue).await
///     }
///     fn describe(&self) -> String {
///         format!("{} (logged)", self.0.describe())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait QueueService: Send + Sync + 'static {
    /// Receives up to `max` (1..=32) visible messages, making them invisible for `visibility`.
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, ServiceError>;

    /// Makes a received message invisible for `visibility` from now (0 = visible at once).
    async fn update_visibility(
        &self,
        queue: &str,
        id: &str,
        pop_receipt: &str,
        visibility: Duration,
    ) -> Result<Receipt, ServiceError>;

    /// Deletes a received message.
    async fn delete(&self, queue: &str, id: &str, pop_receipt: &str) -> Result<(), ServiceError>;

    /// Adds a message (its text as stored, already encoded), visible at once and living 7 days.
    async fn send(&self, queue: &str, text: &str) -> Result<(), ServiceError> {
        self.send_with(queue, text, SendOptions::default()).await
    }

    /// Adds a message with a visibility delay and time-to-live.
    async fn send_with(
        &self,
        queue: &str,
        text: &str,
        options: SendOptions,
    ) -> Result<(), ServiceError>;

    /// Creates the queue; succeeds if it exists already.
    async fn create_queue(&self, queue: &str) -> Result<(), ServiceError>;

    /// The approximate number of messages (visible or not).
    async fn approximate_count(&self, queue: &str) -> Result<u64, ServiceError>;

    /// Whether at least one message is visible now (a peek, which changes nothing).
    async fn has_visible(&self, queue: &str) -> Result<bool, ServiceError>;

    /// Where this service is, for logs: an account and endpoint, never a secret.
    fn describe(&self) -> String;
}
