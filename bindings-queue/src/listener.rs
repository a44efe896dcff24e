//! The listener: poll with back-off, run up to `batch_size + new_batch_threshold` messages at once,
//! keep each invisible while it runs, then delete it, release it for a retry, or poison it.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bindings_core::telemetry::{Outcome as Invocation, ServiceHealth, continue_trace};
use bindings_core::{BindingData, BoxError, Bytes, FunctionError, Invoker, Listener, TriggerEvent};
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::envelope::{self, Trace};
use crate::message::binding_data;
use crate::poison::{Wakers, move_to_poison};
use crate::status::QueueFunction;
use crate::{
    BatchOutcome, MESSAGING_SYSTEM, MessageEncoding, QueueEvent, QueueMessage, QueueMetadata,
    QueueService, QueueTrigger, QueuesOptions, ReceivedMessage, ServiceErrorKind,
};
use bindings_spec::poison_queue_name;

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
    /// One invocation per poll with every message (`Vec<QueueMessage>`), instead of one per message.
    pub(crate) batch: bool,
    /// The function binds `Json<T>`: a JSON body's properties join the binding data.
    pub(crate) json_payload: bool,
    /// Unwrap the trace-context envelope.
    pub(crate) trace_context: bool,
}

impl ListenerConfig {
    pub(crate) fn new(
        queue: &str,
        options: &QueuesOptions,
        development: bool,
        batch: bool,
        json_payload: bool,
    ) -> Self {
        Self {
            queue: queue.into(),
            poison_queue: poison_queue_name(queue).map(Into::into),
            batch_size: options.batch_size,
            new_batch_threshold: options.effective_new_batch_threshold(),
            max_polling_interval: options.effective_max_polling_interval(development),
            retry_delay: options.visibility_timeout,
            max_dequeue_count: options.max_dequeue_count,
            base64: options.message_encoding == MessageEncoding::Base64,
            receive_visibility: options.receive_visibility_timeout,
            batch,
            json_payload,
            trace_context: options.trace_context,
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
    /// Whether the storage service answered the last receive, for readiness.
    health: ServiceHealth,
}

impl QueueListener {
    pub(crate) fn new(
        service: Arc<dyn QueueService>,
        config: ListenerConfig,
        connection: String,
        function: Arc<QueueFunction>,
        wakers: Arc<Wakers>,
        health: ServiceHealth,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        wakers.insert(&config.queue, Arc::clone(&wake));
        Self {
            shared: Arc::new(Shared {
                service,
                config,
                function,
                wakers,
                health,
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
                Ok(mut messages) if !messages.is_empty() => {
                    reported_missing = false;
                    shared.health.reachable();
                    shared.function.counters.polls_with_messages.inc();
                    if messages.len() > config.batch_size as usize {
                        let surplus = messages.split_off(config.batch_size as usize);
                        tracing::warn!(
                            service = %service.describe(),
                            "the queue service returned {} messages for a receive of at most {}; handing the {} \
                             extra back (they are received again by a later poll)",
                            messages.len() + surplus.len(),
                            config.batch_size,
                            surplus.len()
                        );
                        self.release_all(&surplus).await;
                    }
                    shared
                        .function
                        .counters
                        .received
                        .inc_by(messages.len() as u64);
                    if shutdown.is_cancelled() {
                        // Received while stopping: hand them back at once rather than hold them invisible.
                        self.release_all(&messages).await;
                        continue;
                    }
                    if self.start(messages, permits, &invoker) {
                        backoff.reset();
                        shared.function.counters.backoff.set(0.0);
                        continue;
                    }
                    // Nothing new could run (undecodable, crash-looped, or past its attempts on a
                    // queue without a poison queue): wait as after an empty poll, so nothing spins.
                    backoff.next_delay()
                }
                Ok(_) => {
                    shared.health.reachable();
                    shared.function.counters.polls_empty.inc();
                    backoff.next_delay()
                }
                Err(err) => match err.kind {
                    ServiceErrorKind::Unauthorized => {
                        shared.function.counters.polls_failed.inc();
                        shared.health.unreachable(format!(
                            "queue `{}`: the storage service refused the credentials",
                            config.queue
                        ));
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
                        shared.function.counters.polls_failed.inc();
                        shared
                            .health
                            .unreachable(format!("queue `{}` does not exist", config.queue));
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
                        shared.function.counters.polls_failed.inc();
                        shared
                            .health
                            .unreachable(format!("queue `{}`: {err}", config.queue));
                        tracing::warn!(error = %err, "receiving failed; backing off");
                        backoff.next_delay()
                    }
                },
            };
            shared.function.counters.backoff.set(delay.as_secs_f64());
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

impl QueueListener {
    /// Spawns the processing of `messages` (at most `batch_size`, one of `permits` each). Whether the
    /// poll found work: a message that runs within its `max_dequeue_count` attempts.
    fn start(
        &self,
        messages: Vec<ReceivedMessage>,
        mut permits: OwnedSemaphorePermit,
        invoker: &Invoker<QueueTrigger>,
    ) -> bool {
        let shared = &self.shared;
        let prepared: Vec<Prepared> = messages.into_iter().map(|m| shared.prepare(m)).collect();
        let found_work = prepared.iter().any(|p| p.is_work(&shared.config));
        // Each message holds one permit until it completes; the permits of a batch are held by its
        // one invocation.
        let groups: Vec<Vec<Prepared>> = if shared.config.batch {
            vec![prepared]
        } else {
            prepared.into_iter().map(|p| vec![p]).collect()
        };
        for group in groups {
            let slots = permits.split(group.len()).expect(
                "one permit per message: the poll took batch_size and kept at most that many",
            );
            let task = Arc::clone(shared).process(group, invoker.clone());
            invoker.spawn(async move {
                task.await;
                drop(slots);
            });
        }
        found_work
    }

    /// Makes `messages` visible again at once, unprocessed.
    async fn release_all(&self, messages: &[ReceivedMessage]) {
        let config = &self.shared.config;
        for message in messages {
            let released = self.shared.service.update_visibility(
                &config.queue,
                &message.id,
                &message.pop_receipt,
                Duration::ZERO,
            );
            if let Err(err) = released.await {
                tracing::warn!(message_id = %message.id, error = %err, "could not hand a message back; it reappears after its visibility timeout");
            }
        }
    }
}

/// A received message, decoded if it can run.
struct Prepared {
    message: ReceivedMessage,
    decoded: Result<QueueMessage, Refusal>,
    /// The trace context of its envelope (`trace_context`).
    trace: Option<Trace>,
}

impl Prepared {
    /// Runs, and within its attempts: only such a message makes the listener poll again at once.
    fn is_work(&self, config: &ListenerConfig) -> bool {
        self.decoded.is_ok() && self.message.dequeue_count <= config.max_dequeue_count
    }
}

/// Why a received message does not run.
enum Refusal {
    /// Received more than `max_dequeue_count` times (hosts stopped while running it).
    CrashLoop,
    /// Not valid base64 under the base64 encoding.
    Undecodable(base64::DecodeError),
}

/// One message's outcome, for the counters.
#[derive(Clone, Copy)]
enum Outcome {
    Succeeded,
    Released,
    Poisoned,
    Kept,
}

impl Shared {
    /// Runs the function on `received` (one message, or a batch) and completes each message.
    async fn process(self: Arc<Self>, received: Vec<Prepared>, invoker: Invoker<QueueTrigger>) {
        let span = match received.as_slice() {
            // Named and attributed after OpenTelemetry's messaging conventions (`otel.*` and
            // `messaging.*`); a message in the trace-context envelope (`trace_context`) continues its trace.
            [one] if !self.config.batch => tracing::info_span!(
                "queue_message",
                function = %self.function.name(),
                queue = %self.config.queue,
                message_id = %one.message.id,
                dequeue_count = one.message.dequeue_count,
                otel.name = %format_args!("process {}", self.config.queue),
                otel.kind = "consumer",
                messaging.system = MESSAGING_SYSTEM,
                messaging.operation.type = "process",
                messaging.destination.name = %self.config.queue,
                messaging.message.id = %one.message.id,
            ),
            many => tracing::info_span!(
                "queue_batch",
                function = %self.function.name(),
                queue = %self.config.queue,
                messages = many.len(),
                otel.name = %format_args!("process {}", self.config.queue),
                otel.kind = "consumer",
                messaging.system = MESSAGING_SYSTEM,
                messaging.operation.type = "process",
                messaging.destination.name = %self.config.queue,
                messaging.batch.message_count = many.len(),
            ),
        };
        if let [
            Prepared {
                trace: Some(trace), ..
            },
        ] = received.as_slice()
        {
            continue_trace(&span, |name| trace.header(name));
        }
        async {
            let mut ready = Vec::with_capacity(received.len());
            for Prepared {
                message, decoded, ..
            } in received
            {
                match decoded {
                    Ok(decoded) => ready.push((message, decoded)),
                    Err(refusal) => {
                        let outcome = self.refuse(&message, refusal).await;
                        self.count(&outcome);
                    }
                }
            }
            if ready.is_empty() {
                return;
            }
            let event = if self.config.batch {
                let messages = ready.iter().map(|(_, decoded)| decoded.clone()).collect();
                TriggerEvent::new(QueueEvent::batch(messages), BindingData::new())
            } else {
                let decoded = ready[0].1.clone();
                let data = binding_data(&decoded, self.config.json_payload);
                TriggerEvent::new(QueueEvent::single(decoded), data)
            };
            let run = invoker.invoke(event);
            let received: Vec<&ReceivedMessage> =
                ready.iter().map(|(message, _)| message).collect();
            let (result, receipts) = self.run_with_renewal(run, &received).await;
            let mut invocation = Invocation::Succeeded;
            for (message, receipt) in received.into_iter().zip(receipts) {
                let outcome = self
                    .complete(message, receipt, &result)
                    .instrument(message_span(message))
                    .await;
                self.count(&outcome);
                invocation = match (outcome, invocation) {
                    (Outcome::Poisoned, _) | (_, Invocation::Poisoned) => Invocation::Poisoned,
                    (Outcome::Released, _) | (_, Invocation::Retried) => Invocation::Retried,
                    _ => Invocation::Succeeded,
                };
            }
            if invocation == Invocation::Succeeded && result.is_err() {
                // Every message was taken by another receiver: it will be retried there.
                invocation = Invocation::Retried;
            }
            invoker.completed(invocation);
        }
        .instrument(span)
        .await;
    }

    fn count(&self, outcome: &Outcome) {
        let counters = &self.function.counters;
        match outcome {
            Outcome::Succeeded => counters.deleted.inc(),
            Outcome::Released => counters.released.inc(),
            Outcome::Poisoned => counters.poisoned.inc(),
            Outcome::Kept => 0,
        };
    }

    /// Checks the dequeue count and decodes the body, without any request. A queue without a poison
    /// queue has no crash-loop check: its function runs on every delivery.
    fn prepare(&self, message: ReceivedMessage) -> Prepared {
        match self.decode(&message) {
            Ok((decoded, trace)) => Prepared {
                message,
                decoded: Ok(decoded),
                trace,
            },
            Err(refusal) => Prepared {
                message,
                decoded: Err(refusal),
                trace: None,
            },
        }
    }

    fn decode(&self, message: &ReceivedMessage) -> Result<(QueueMessage, Option<Trace>), Refusal> {
        let config = &self.config;
        if config.poison_queue.is_some() && message.dequeue_count > config.max_dequeue_count {
            return Err(Refusal::CrashLoop);
        }
        let mut body = if config.base64 {
            base64::engine::general_purpose::STANDARD
                .decode(message.text.trim())
                .map(Bytes::from)
                .map_err(Refusal::Undecodable)?
        } else {
            Bytes::from(message.text.clone())
        };
        let mut trace = None;
        if config.trace_context
            && let Some((inner, context)) = envelope::unwrap(&body)
        {
            body = inner;
            trace = Some(context);
        }
        let decoded = QueueMessage {
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
        Ok((decoded, trace))
    }

    /// Says why `message` does not run, and poisons it (on a queue without a poison queue: releases it
    /// for a retry).
    async fn refuse(&self, message: &ReceivedMessage, refusal: Refusal) -> Outcome {
        match refusal {
            Refusal::CrashLoop => tracing::warn!(
                message_id = %message.id,
                "received {} times, more than max_dequeue_count {} (the host stopped while processing it before?); \
                 moving it to the poison queue without running the function",
                message.dequeue_count,
                self.config.max_dequeue_count
            ),
            Refusal::Undecodable(err) => tracing::error!(
                message_id = %message.id,
                "message decoding failed; check messageEncoding: message `{}` is not valid base64 ({err}), \
                 but the trigger expects base64 (set message_encoding = \"none\" in the attribute or \
                 \"messageEncoding\": \"none\" in host.json if the producer sends plain text). {}",
                message.id,
                if self.config.poison_queue.is_some() {
                    "Moving its raw text to the poison queue"
                } else {
                    "It stays (this queue has no poison queue) and will be retried"
                }
            ),
        }
        self.poison(message, &message.pop_receipt).await
    }

    /// Deletes, releases or poisons one message after the function ran.
    async fn complete(
        &self,
        message: &ReceivedMessage,
        receipt: Option<String>,
        result: &Result<BatchOutcome, FunctionError>,
    ) -> Outcome {
        let Some(receipt) = receipt else {
            tracing::warn!(
                "the message was taken by another receiver while the function ran; leaving it to them"
            );
            return Outcome::Kept;
        };
        let error = match result {
            Ok(outcome) => outcome.failure(&message.id),
            Err(err) => Some(err),
        };
        match error {
            None => {
                self.delete(message, &receipt).await;
                Outcome::Succeeded
            }
            Some(err) if self.config.poison_queue.is_none() => {
                tracing::warn!(
                    error = %err,
                    retry_in = ?self.config.retry_delay,
                    "failed; `{}` is itself a poison queue, so the message stays and will be retried",
                    self.config.queue
                );
                self.release(message, &receipt).await
            }
            Some(err) if err.is_poison() => {
                tracing::warn!(error = %err, "the function asked for this message to be poisoned");
                self.poison(message, &receipt).await
            }
            Some(err) if message.dequeue_count >= self.config.max_dequeue_count => {
                tracing::warn!(
                    error = %err,
                    "failed on its last attempt ({} of {})",
                    message.dequeue_count,
                    self.config.max_dequeue_count
                );
                self.poison(message, &receipt).await
            }
            Some(err) => {
                tracing::warn!(error = %err, retry_in = ?self.config.retry_delay, "failed; the message will be retried");
                self.release(message, &receipt).await
            }
        }
    }

    /// Runs the invocation while renewing its messages' invisibility at half the receive visibility.
    /// Returns the result and each message's current pop receipt (`None` for a message lost to
    /// another receiver).
    async fn run_with_renewal(
        &self,
        run: impl Future<Output = Result<BatchOutcome, FunctionError>>,
        messages: &[&ReceivedMessage],
    ) -> (Result<BatchOutcome, FunctionError>, Vec<Option<String>>) {
        let config = &self.config;
        let interval = config.receive_visibility / 2;
        let mut receipts: Vec<Option<String>> = messages
            .iter()
            .map(|m| Some(m.pop_receipt.clone()))
            .collect();
        let mut next = Instant::now() + interval;
        tokio::pin!(run);
        loop {
            tokio::select! {
                result = &mut run => return (result, receipts),
                () = tokio::time::sleep_until(next), if receipts.iter().any(Option::is_some) => {
                    for (message, receipt) in messages.iter().zip(&mut receipts) {
                        let Some(current) = receipt.clone() else { continue };
                        let renewed = self
                            .service
                            .update_visibility(&config.queue, &message.id, &current, config.receive_visibility)
                            .instrument(message_span(message))
                            .await;
                        let counters = &self.function.counters;
                        if renewed.is_ok() { counters.renewed.inc(); } else { counters.renewal_failed.inc(); }
                        match renewed {
                            Ok(renewed) => *receipt = Some(renewed.pop_receipt),
                            Err(err) if matches!(err.kind, ServiceErrorKind::PopReceiptMismatch | ServiceErrorKind::MessageNotFound) => {
                                tracing::warn!(message_id = %message.id, error = %err, "could not renew the message's invisibility; another receiver may process it too");
                                *receipt = None;
                            }
                            Err(err) => tracing::warn!(message_id = %message.id, error = %err, "renewing the message's invisibility failed; trying again"),
                        }
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

    /// Makes the message visible again after `visibility_timeout`, the retry delay.
    async fn release(&self, message: &ReceivedMessage, receipt: &str) -> Outcome {
        let config = &self.config;
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
            tracing::warn!(
                retry_in = ?config.retry_delay,
                "`{}` is itself a poison queue and has none of its own: the message stays and will be retried",
                config.queue
            );
            return self.release(message, receipt).await;
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

/// A span naming one message, for lines about it inside a batch.
fn message_span(message: &ReceivedMessage) -> tracing::Span {
    tracing::debug_span!("message", message_id = %message.id, dequeue_count = message.dequeue_count)
}
