//! Poison messages: moved to `<queue>-poison` (created on first use), and a same-host listener on that
//! queue woken at once.

use std::sync::Arc;

use bindings_core::Registry;
use tokio::sync::Notify;

use crate::{QueueService, ReceivedMessage, ServiceError, ServiceErrorKind};

/// Wake-up signals of this host's listeners, by queue name.
pub(crate) type Wakers = Registry<Arc<Notify>>;

/// Copies the message's body (as stored, same encoding) to `poison`, creating that queue if needed,
/// then deletes the original. If the copy fails the original stays, so nothing is lost.
pub(crate) async fn move_to_poison(
    service: &dyn QueueService,
    queue: &str,
    poison: &str,
    message: &ReceivedMessage,
    pop_receipt: &str,
    wakers: &Wakers,
) -> Result<(), ServiceError> {
    match service.send(poison, &message.text).await {
        Err(err) if err.kind == ServiceErrorKind::QueueNotFound => {
            service.create_queue(poison).await?;
            service.send(poison, &message.text).await?;
        }
        other => other?,
    }
    if let Some(waker) = wakers.get(poison) {
        waker.notify_one();
    }
    service.delete(queue, &message.id, pop_receipt).await
}
