//! The listener: poll with back-off, run up to `batch_size + new_batch_threshold` messages at once,
//! keep each invisible while it runs, then delete it, release it for a retry, or poison it.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bindings_core::{
    BoxError, Bytes, FunctionError, Invoker, Listener, QueuesOptions, TriggerEvent,
};
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::message::binding_data;
use crate::poison::{Wakers, move_to_poison, poison_queue_name};
use crate::status::{Counters, QueueFunction};
use crate::{
    QueueEvent, QueueMessage, QueueMetadata, QueueService, QueueTrigger, ReceivedMessage,
    ServiceErrorKind,
};

/// A function's queue options, resolved.
#[derive(Debug, Clone)]
pub(crate) struct ListenerConfig {
    pub(crate) queue: Arc<str>,
    pub(crate) poison_queue: Option<Arc<str>>,
    pub(crate) batch_size: u32,
    pub(crate) new_batch_threshold: u32,
    pub(crate) max_polling_interval: Duration,
    pub(crate) retry_delay: Duration,
    pub(crate) max_dequeue_count: u32,
    pub(crate) base64: bool,
    pub(crate) receive_visibility: Duration,
}

impl ListenerConfig {
    pub(crate) fn new(queue: &str, options: &QueuesOptions, development: bool) -> Self {
        Self {
            queue: queue.into(),
            poison_queue: poison_queue_name(queue).map(Into::into),
            batch_size: options.batch_size,
            new_batch_threshold: options.effective_new_batch_threshold(),
            max_polling_interval: options.effective_max_polling_interval(development),
            retry_delay: options.visibility_timeout,
            max_dequeue_count: options.max_dequeue_count,
            base64: options.message_encoding == bindings_core::MessageEncoding::Base64,
            receive_visibility: options.receive_visibility_timeout,
        }
    }
}

/// Polls one queue for one function.
pub(crate) struct QueueListener {
    shared: Arc<Shared>,
    connection: String,
    wake: Arc<Notify>,
}

/// What every message task of a listener needs.
struct Shared {
    service: Arc<dyn QueueService>,
    config: ListenerConfig,
    function: Arc<QueueFunction>,
    wakers: Arc<Wakers>,
}

impl QueueListener {
    pub(crate) fn new(
        service: Arc<dyn QueueService>,
        config: ListenerConfig,
        connection: String,
        function: Arc<QueueFunction>,
        wakers: Arc<Wakers>,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        wakers.insert(&config.queue, Arc::clone(&wake));
        Self {
            shared: Arc::new(Shared {
                service,
                config,
                function,
                wakers,
            }),
            connection,
            wake,
        }
    }
}

impl Listener<QueueTrigger> for QueueListener {
    fn run(
        self: Box<Self>,
        invoker: Invoker<QueueTrigger>,
    ) -> BoxFuture<'static, Result<(), BoxError>> {
        let span = tracing::info_span!("queue_listener", function = %invoker.function_name(), queue = %self.shared.config.queue);
        Box::pin(async move { self.poll(invoker).await }.instrument(span))
    }
}

impl QueueListener {
    async fn poll(self, invoker: Invoker<QueueTrigger>) -> Result<(), BoxError> {
        let shared = &self.shared;
        let config = &shared.config;
        let service = &shared.service;
        let shutdown = invoker.shutdown_token().clone();
        // In flight at most batch + threshold: a poll takes `batch` permits, so it starts only when at
        // most `threshold` messages are still running; each message holds one permit until it completes.
        let slots = Arc::new(Semaphore::new(
            (config.batch_size + config.new_batch_threshold) as usize,
        ));
        let mut backoff = Backoff::new(config.max_polling_interval);
        let mut reported_missing = false;
        tracing::info!(service = %service.describe(), "listening");
        loop {
            let permits = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                permits = Arc::clone(&slots).acquire_many_owned(config.batch_size) => permits.expect("the semaphore is never closed"),
            };
            let delay = match service
                .receive(&config.queue, config.batch_size, config.receive_visibility)
                .await
            {
                Ok(messages) if !messages.is_empty() => {
                    reported_missing = false;
                    backoff.reset();
                    Counters::add(&shared.function.counters.received, messages.len() as u64);
                    let mut permits = permits;
                    for message in messages {
                        if shutdown.is_cancelled() {
                            // Received while stopping: hand it back at once rather than hold it invisible.
                            let released = service.update_visibility(
                                &config.queue,
                                &message.id,
                                &message.pop_receipt,
                                Duration::ZERO,
                            );
                            if let Err(err) = released.await {
                                tracing::warn!(message_id = %message.id, error = %err, "could not release a message at shutdown; it reappears after its visibility timeout");
                            }
                            continue;
                        }
                        let slot = permits
                            .split(1)
                            .expect("one permit per received message, at most batch_size");
                        let task = Arc::clone(&self.shared).process(message, invoker.clone());
                        invoker.spawn(async move {
                            task.await;
                            drop(slot);
                        });
                    }
                    continue;
                }
                Ok(_) => backoff.next_delay(),
                Err(err) => match err.kind {
                    ServiceErrorKind::Unauthorized => {
                        return Err(format!(
                            "queue `{}` on {}: the storage service refused the credentials ({err}); check connection `{}` \
                             (its account key, SAS or identity and their permissions)",
                            config.queue,
                            service.describe(),
                            self.connection
                        )
                        .into());
                    }
                    ServiceErrorKind::QueueNotFound => {
                        if !reported_missing {
                            tracing::warn!(
                                service = %service.describe(),
                                "queue `{}` does not exist; the trigger does not create it. Waiting for it (polling with back-off)",
                                config.queue
                            );
                            reported_missing = true;
                        }
                        backoff.next_delay()
                    }
                    _ => {
                        tracing::warn!(error = %err, "receiving failed; backing off");
                        backoff.next_delay()
                    }
                },
            };
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                () = self.wake.notified() => backoff.reset(),
                () = tokio::time::sleep(delay) => {}
            }
        }
        tracing::info!("stopped receiving");
        Ok(())
    }
}

/// One message's outcome, for the counters.
enum Outcome {
    Succeeded,
    Released,
    Poisoned,
    Kept,
}

impl Shared {
    async fn process(self: Arc<Self>, message: ReceivedMessage, invoker: Invoker<QueueTrigger>) {
        let span = tracing::info_span!(
            "queue_message",
            function = %self.function.name(),
            queue = %self.config.queue,
            message_id = %message.id,
            dequeue_count = message.dequeue_count
        );
        let outcome = self.handle(message, invoker).instrument(span).await;
        let counters = &self.function.counters;
        match outcome {
            Outcome::Succeeded => Counters::add(&counters.succeeded, 1),
            Outcome::Released => Counters::add(&counters.failed, 1),
            Outcome::Poisoned => {
                Counters::add(&counters.failed, 1);
                Counters::add(&counters.poisoned, 1);
            }
            Outcome::Kept => {}
        }
    }

    async fn handle(&self, message: ReceivedMessage, invoker: Invoker<QueueTrigger>) -> Outcome {
        let config = &self.config;
        if message.dequeue_count > config.max_dequeue_count {
            tracing::warn!(
                "received {} times, more than max_dequeue_count {} (the host stopped while processing it before?); \
                 moving it to the poison queue without running the function",
                message.dequeue_count,
                config.max_dequeue_count
            );
            return self.poison(&message, &message.pop_receipt).await;
        }
        let body = if config.base64 {
            match base64::engine::general_purpose::STANDARD.decode(message.text.trim()) {
                Ok(bytes) => Bytes::from(bytes),
                Err(err) => {
                    tracing::error!(
                        "message decoding failed; check messageEncoding: message `{}` is not valid base64 ({err}), \
                         but the trigger expects base64 (set message_encoding = \"none\" in the attribute or \
                         \"messageEncoding\": \"none\" in host.json if the producer sends plain text). Moving its raw \
                         text to the poison queue",
                        message.id
                    );
                    return self.poison(&message, &message.pop_receipt).await;
                }
            }
        } else {
            Bytes::from(message.text.clone())
        };
        let queue_message = QueueMessage {
            body,
            metadata: QueueMetadata {
                queue: Arc::clone(&config.queue),
                id: message.id.clone(),
                dequeue_count: message.dequeue_count,
                insertion_time: message.insertion_time,
                expiration_time: message.expiration_time,
                next_visible_time: message.next_visible_time,
                pop_receipt: message.pop_receipt.clone(),
            },
        };
        let data = binding_data(&queue_message);
        let run = invoker.invoke(TriggerEvent::new(
            QueueEvent {
                message: queue_message,
            },
            data,
        ));
        let (result, receipt) = self.run_with_renewal(run, &message).await;
        let Some(receipt) = receipt else {
            tracing::warn!(
                "the message was taken by another receiver while the function ran; leaving it to them"
            );
            return Outcome::Kept;
        };
        match result {
            Ok(()) => {
                self.delete(&message, &receipt).await;
                Outcome::Succeeded
            }
            Err(err) if err.is_poison() => {
                tracing::warn!(error = %err, "the function asked for this message to be poisoned");
                self.poison(&message, &receipt).await
            }
            Err(err) if message.dequeue_count >= config.max_dequeue_count => {
                tracing::warn!(error = %err, "failed on its last attempt ({} of {})", message.dequeue_count, config.max_dequeue_count);
                self.poison(&message, &receipt).await
            }
            Err(err) => self.release(&message, &receipt, &err).await,
        }
    }

    /// Runs the invocation while renewing the message's invisibility at half the receive visibility.
    /// Returns the result and the current pop receipt (`None` if the message was lost to another receiver).
    async fn run_with_renewal(
        &self,
        run: impl Future<Output = Result<(), FunctionError>>,
        message: &ReceivedMessage,
    ) -> (Result<(), FunctionError>, Option<String>) {
        let config = &self.config;
        let interval = config.receive_visibility / 2;
        let mut receipt = Some(message.pop_receipt.clone());
        let mut next = Instant::now() + interval;
        tokio::pin!(run);
        loop {
            tokio::select! {
                result = &mut run => return (result, receipt),
                () = tokio::time::sleep_until(next), if receipt.is_some() => {
                    let current = receipt.clone().unwrap_or_default();
                    match self.service.update_visibility(&config.queue, &message.id, &current, config.receive_visibility).await {
                        Ok(renewed) => {
                            tracing::debug!("renewed invisibility");
                            receipt = Some(renewed.pop_receipt);
                        }
                        Err(err) if matches!(err.kind, ServiceErrorKind::PopReceiptMismatch | ServiceErrorKind::MessageNotFound) => {
                            tracing::warn!(error = %err, "could not renew the message's invisibility; another receiver may process it too");
                            receipt = None;
                        }
                        Err(err) => tracing::warn!(error = %err, "renewing the message's invisibility failed; trying again"),
                    }
                    next = Instant::now() + interval;
                }
            }
        }
    }

    async fn delete(&self, message: &ReceivedMessage, receipt: &str) {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .service
                .delete(&self.config.queue, &message.id, receipt)
                .await
            {
                Ok(()) => return,
                Err(err)
                    if matches!(
                        err.kind,
                        ServiceErrorKind::MessageNotFound | ServiceErrorKind::PopReceiptMismatch
                    ) =>
                {
                    tracing::warn!(error = %err, "the message was already deleted or taken by another receiver");
                    return;
                }
                Err(err)
                    if attempts < 3
                        && matches!(
                            err.kind,
                            ServiceErrorKind::Unavailable | ServiceErrorKind::Transport
                        ) =>
                {
                    tracing::warn!(error = %err, "deleting the message failed; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * attempts)).await;
                }
                Err(err) => {
                    tracing::error!(error = %err, "deleting the processed message failed; it will be delivered again");
                    return;
                }
            }
        }
    }

    async fn release(
        &self,
        message: &ReceivedMessage,
        receipt: &str,
        err: &FunctionError,
    ) -> Outcome {
        let config = &self.config;
        tracing::warn!(error = %err, retry_in = ?config.retry_delay, "failed; the message will be retried");
        if let Err(update) = self
            .service
            .update_visibility(&config.queue, &message.id, receipt, config.retry_delay)
            .await
        {
            tracing::warn!(error = %update, "could not release the message for a retry; it reappears after its visibility timeout");
        }
        Outcome::Released
    }

    async fn poison(&self, message: &ReceivedMessage, receipt: &str) -> Outcome {
        let config = &self.config;
        let Some(poison) = &config.poison_queue else {
            tracing::error!(
                "the message is poison but `{}` is itself a poison queue; leaving it there",
                config.queue
            );
            let _ = self
                .service
                .update_visibility(&config.queue, &message.id, receipt, config.retry_delay)
                .await;
            return Outcome::Released;
        };
        match move_to_poison(
            &*self.service,
            &config.queue,
            poison,
            message,
            receipt,
            &self.wakers,
        )
        .await
        {
            Ok(()) => {
                tracing::warn!(poison_queue = %poison, "moved to the poison queue");
                Outcome::Poisoned
            }
            Err(err) => {
                tracing::error!(poison_queue = %poison, error = %err, "could not move the message to the poison queue; it stays and will be tried again");
                Outcome::Released
            }
        }
    }
}
