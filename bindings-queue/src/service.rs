//! The storage operations the trigger needs, behind one trait: Azure Queue storage (`azure.rs`) and
//! an in-memory queue with the same semantics (`memory.rs`).

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
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
pub trait QueueService: Send + Sync + 'static {
    /// Receives up to `max` (1..=32) visible messages, making them invisible for `visibility`.
    fn receive<'a>(
        &'a self,
        queue: &'a str,
        max: u32,
        visibility: Duration,
    ) -> BoxFuture<'a, Result<Vec<ReceivedMessage>, ServiceError>>;

    /// Makes a received message invisible for `visibility` from now (0 = visible at once).
    fn update_visibility<'a>(
        &'a self,
        queue: &'a str,
        id: &'a str,
        pop_receipt: &'a str,
        visibility: Duration,
    ) -> BoxFuture<'a, Result<Receipt, ServiceError>>;

    /// Deletes a received message.
    fn delete<'a>(
        &'a self,
        queue: &'a str,
        id: &'a str,
        pop_receipt: &'a str,
    ) -> BoxFuture<'a, Result<(), ServiceError>>;

    /// Adds a message (its text as stored, already encoded).
    fn send<'a>(&'a self, queue: &'a str, text: &'a str)
    -> BoxFuture<'a, Result<(), ServiceError>>;

    /// Creates the queue; succeeds if it exists already.
    fn create_queue<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), ServiceError>>;

    /// The approximate number of messages (visible or not).
    fn approximate_count<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<u64, ServiceError>>;

    /// Whether at least one message is visible now (a peek, which changes nothing).
    fn has_visible<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<bool, ServiceError>>;

    /// Where this service is, for logs: an account and endpoint, never a secret.
    fn describe(&self) -> String;
}
