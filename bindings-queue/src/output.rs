//! `#[queue_output]`: the attribute as a value, binding it at start-up, what a function can send to
//! it, and delivering a function's messages with every one awaited.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use bindings_core::telemetry::{SentMessages, ServiceHealth};
use bindings_core::{
    BindContext, BindingData, Bytes, FunctionError, IntoBody, IntoItems, Json, Output,
    OutputAttribute, Template,
};
use bindings_spec::option_setters;
use bindings_spec::value::Set;
use bindings_spec::{output_queue_name, queue};
use futures_util::future::BoxFuture;
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use crate::envelope;
use crate::services::{AccountChoice, account_setters, key};
use crate::{
    MAX_MESSAGE_SIZE, MESSAGING_SYSTEM, MessageEncoding, QueueService, QueuesOptions, SendOptions,
    ServiceError, ServiceErrorKind, TimeToLive,
};

/// How many messages of one invocation are in flight to the service at once.
pub const MAX_CONCURRENT_SENDS: usize = 16;

/// `#[queue_output("queue", ...)]` as a value: the queue, its connection (resolved like the
/// trigger's) and the message encoding. The macro builds it; it can be built by hand too.
///
/// ```
/// use bindings_queue::{MessageEncoding, QueueOutputAttribute};
///
/// let output = QueueOutputAttribute::new("{region}-orders")
///     .connection("OrdersStorage")
///     .message_encoding(MessageEncoding::None);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct QueueOutputAttribute {
    queue: String,
    account: AccountChoice,
    /// The host.json options this output overrides, by name.
    options: Set,
}

impl QueueOutputAttribute {
    /// Sends to `queue`: a name, `%Setting%` references and `{bindingData}` expressions
    /// (`"{queueTrigger}-copies"`). Like Azure, the name is lower-cased and must be a valid queue
    /// name: checked at `build()` when it has no `{...}`, else per invocation.
    pub fn new(queue: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            ..Self::default()
        }
    }

    account_setters!();

    option_setters! {
        lookup = queue::option;
        into = options;
        message_encoding: MessageEncoding,
        trace_context: bool,
    }
}

impl OutputAttribute for QueueOutputAttribute {
    type Output = QueueOutput;
    const NAME: &'static str = "queue_output";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<QueueOutput> {
        let queue = cx.expand("queue_name", &self.queue).and_then(|expanded| {
            let template = Template::parse(&expanded)
                .map_err(|e| cx.problem(format!("`queue_name`: {e}")))
                .ok()?;
            if template.is_static() {
                output_queue_name(&expanded)
                    .map(QueueName::Static)
                    .map_err(|problem| cx.problem(problem))
                    .ok()
            } else {
                Some(QueueName::Expression(template))
            }
        });
        let options = QueuesOptions::layered(cx, queue::OUTPUT_OPTIONS, &self.options);
        let service = self.account.service(cx);
        let (queue, options, (connection, service)) = (queue?, options?, service?);
        let (encoding, trace_context) = (options.message_encoding, options.trace_context);
        let fixed = match &queue {
            QueueName::Static(name) => Some(name.as_str()),
            QueueName::Expression(_) => None,
        };
        let sent = SentMessages::new(&cx.metrics(), cx.function_name(), MESSAGING_SYSTEM, fixed);
        Some(QueueOutput {
            health: cx.service_health(),
            sent,
            queue,
            encoding,
            trace_context,
            service,
            connection: key(&connection),
            created: cx.resource::<CreatedQueues>(),
        })
    }
}

/// The queues this host's outputs have created (or found), by connection and name: each is created
/// once per host, not per message.
#[derive(Debug, Default)]
struct CreatedQueues(Mutex<HashSet<(String, String)>>);

impl CreatedQueues {
    fn contains(&self, connection: &str, queue: &str) -> bool {
        self.lock()
            .contains(&(connection.to_owned(), queue.to_owned()))
    }

    fn insert(&self, connection: &str, queue: &str) {
        self.lock()
            .insert((connection.to_owned(), queue.to_owned()));
    }

    fn remove(&self, connection: &str, queue: &str) {
        self.lock()
            .remove(&(connection.to_owned(), queue.to_owned()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String)>> {
        // Single inserts and lookups cannot leave the set half-updated.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug)]
enum QueueName {
    /// Checked and lower-cased at `build()`.
    Static(String),
    /// Rendered, lower-cased and checked per invocation.
    Expression(Template),
}

/// A bound queue output: its queue (or the expression naming it), encoding and service.
pub struct QueueOutput {
    queue: QueueName,
    encoding: MessageEncoding,
    /// Wrap each message in the trace-context envelope.
    trace_context: bool,
    service: Arc<dyn QueueService>,
    /// The connection's key in [`CreatedQueues`].
    connection: String,
    created: Arc<CreatedQueues>,
    sent: SentMessages,
    health: ServiceHealth,
}

impl std::fmt::Debug for QueueOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueOutput")
            .field("queue", &self.queue)
            .field("encoding", &self.encoding)
            .field("service", &self.service.describe())
            .finish_non_exhaustive()
    }
}

/// One message for a queue output: its body (before encoding) and how it is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    body: Vec<u8>,
    options: SendOptions,
}

impl Output for QueueOutput {
    type Item = QueueItem;

    fn deliver<'a>(
        &'a self,
        items: Vec<QueueItem>,
        data: &'a BindingData,
    ) -> BoxFuture<'a, Result<(), FunctionError>> {
        Box::pin(async move {
            if items.is_empty() {
                return Ok(());
            }
            let queue = match &self.queue {
                QueueName::Static(name) => name.clone(),
                QueueName::Expression(template) => template
                    .render(data)
                    .map_err(|e| e.to_string())
                    .and_then(|name| output_queue_name(&name))
                    .map_err(|problem| FunctionError::poison(format!("queue output: {problem}")))?,
            };
            // Every message is encoded and checked before any is sent: one that cannot be sent
            // fails the invocation at once, with nothing sent.
            let total = items.len();
            let messages = items
                .into_iter()
                .map(|item| self.encode(&queue, item))
                .collect::<Result<Vec<_>, _>>()?;
            self.create_once(&queue)
                .await
                .map_err(|err| failure(&queue, 0, total, &err))?;
            let results: Vec<Result<(), ServiceError>> = stream::iter(messages)
                .map(|(text, options)| self.send(&queue, text, options))
                .buffer_unordered(MAX_CONCURRENT_SENDS)
                .collect()
                .await;
            let sent = results.iter().filter(|r| r.is_ok()).count();
            self.sent.add(&queue, sent as u64);
            match results.into_iter().find_map(Result::err) {
                None => {
                    self.health.reachable();
                    Ok(())
                }
                Some(err) => {
                    if matches!(
                        err.kind,
                        ServiceErrorKind::Unavailable | ServiceErrorKind::Transport
                    ) {
                        self.health.unreachable(format!("queue `{queue}`: {err}"));
                    }
                    Err(failure(&queue, sent, total, &err))
                }
            }
        })
    }
}

impl QueueOutput {
    /// The message's text as stored, checked against the service's limits.
    fn encode(
        &self,
        queue: &str,
        mut item: QueueItem,
    ) -> Result<(String, SendOptions), FunctionError> {
        if self.trace_context {
            item.body = envelope::wrap(&item.body).map_err(|why| {
                FunctionError::poison(format!("queue output to queue `{queue}`: {why}"))
            })?;
        }
        let raw = item.body.len();
        let text = match self.encoding {
            MessageEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(&item.body),
            MessageEncoding::None => String::from_utf8(item.body).map_err(|_| {
                FunctionError::poison(format!(
                    "queue output to queue `{queue}`: a message of {raw} bytes is not UTF-8 text, and \
                     messageEncoding is `none`; send text, or use messageEncoding `base64`"
                ))
            })?,
        };
        if text.len() > MAX_MESSAGE_SIZE {
            let encoded = match self.encoding {
                MessageEncoding::Base64 => format!(" ({raw} bytes before base64)"),
                MessageEncoding::None => String::new(),
            };
            return Err(FunctionError::poison(format!(
                "queue output to queue `{queue}`: a message has {} bytes{encoded}; the service stores at \
                 most {MAX_MESSAGE_SIZE} (64 KiB) after encoding; store the payload elsewhere (a blob, \
                 say) and queue a reference to it",
                text.len()
            )));
        }
        item.options
            .check(queue, &text)
            .map_err(|err| FunctionError::poison(format!("queue output: {}", err.message)))?;
        Ok((text, item.options))
    }

    /// Creates `queue` unless this host's outputs already did.
    async fn create_once(&self, queue: &str) -> Result<(), ServiceError> {
        if !self.created.contains(&self.connection, queue) {
            self.service.create_queue(queue).await?;
            self.created.insert(&self.connection, queue);
        }
        Ok(())
    }

    /// Sends one message; if the queue was deleted since it was created, creates it again once.
    async fn send(
        &self,
        queue: &str,
        text: String,
        options: SendOptions,
    ) -> Result<(), ServiceError> {
        match self.service.send_with(queue, &text, options).await {
            Err(err) if err.kind == ServiceErrorKind::QueueNotFound => {
                self.created.remove(&self.connection, queue);
                self.create_once(queue).await?;
                self.service.send_with(queue, &text, options).await
            }
            other => other,
        }
    }
}

/// The invocation's error when the service refused: the count sent and the first error. Refusals
/// that a retry repeats exactly (a bad request, a too-large message) are poison.
fn failure(queue: &str, sent: usize, total: usize, err: &ServiceError) -> FunctionError {
    let message = format!(
        "queue output to queue `{queue}`: {sent} of {total} message(s) sent before a failure (a retry \
         sends all {total} again: at-least-once); the first error: {err}"
    );
    match err.kind {
        ServiceErrorKind::InvalidRequest | ServiceErrorKind::MessageTooLarge => {
            FunctionError::poison(message)
        }
        _ => FunctionError::retry(message),
    }
}

/// A queue message with options of its own: a visibility delay and a time-to-live (Azure's output
/// has neither; Functions host issue 4176 asks for them). Its value is any plain value the output
/// takes: `String`, `&'static str`, `Vec<u8>`, `Bytes`, `Json<T>`.
///
/// ```
/// use std::time::Duration;
/// use bindings_queue::QueueMessageOut;
///
/// // Visible in a minute, and never expires.
/// let reminder = QueueMessageOut::new("call back")
///     .visibility_delay(Duration::from_secs(60))
///     .never_expires();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct QueueMessageOut<V> {
    value: V,
    options: SendOptions,
}

impl<V> QueueMessageOut<V> {
    /// `value`, visible at once and living 7 days (the service's default).
    pub fn new(value: V) -> Self {
        Self {
            value,
            options: SendOptions::default(),
        }
    }

    /// Invisible for `delay` after it is added (Azure's `initialVisibilityDelay`): 0 to 7 days,
    /// shorter than the time-to-live; rounded up to whole seconds.
    pub fn visibility_delay(mut self, delay: Duration) -> Self {
        self.options.visibility_delay = delay;
        self
    }

    /// Deleted by the service `ttl` after it is added (at least 1 second; rounded up).
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.options.time_to_live = TimeToLive::After(ttl);
        self
    }

    /// Never expires (Azure's time-to-live of `-1`).
    pub fn never_expires(mut self) -> Self {
        self.options.time_to_live = TimeToLive::Never;
        self
    }
}

impl<V: IntoBody> IntoItems<QueueOutput> for QueueMessageOut<V> {
    fn into_items(self, items: &mut Vec<QueueItem>) -> Result<(), FunctionError> {
        items.push(QueueItem {
            body: self.value.into_body()?,
            options: self.options,
        });
        Ok(())
    }
}

/// The plain values: one message each, visible at once, living 7 days.
macro_rules! plain_values {
    ($( [$($param:tt)*] $ty:ty ),* $(,)?) => {
        $(
            impl<$($param)*> IntoItems<QueueOutput> for $ty {
                fn into_items(self, items: &mut Vec<QueueItem>) -> Result<(), FunctionError> {
                    QueueMessageOut::new(self).into_items(items)
                }
            }
        )*
    };
}

plain_values! {
    [] String,
    [] &'static str,
    [] Vec<u8>,
    [] Bytes,
    [T: Serialize] Json<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(value: impl IntoItems<QueueOutput>) -> Vec<QueueItem> {
        let mut items = Vec::new();
        value.into_items(&mut items).unwrap();
        items
    }

    #[test]
    fn every_value_type_is_one_message_and_vec_and_option_several_or_none() {
        let body = |value: Vec<QueueItem>| value.into_iter().map(|i| i.body).collect::<Vec<_>>();
        assert_eq!(body(items("a".to_owned())), [b"a".to_vec()]);
        assert_eq!(body(items("b")), [b"b".to_vec()]);
        assert_eq!(body(items(vec![1u8, 2])), [vec![1, 2]]);
        assert_eq!(body(items(Bytes::from_static(b"c"))), [b"c".to_vec()]);
        assert_eq!(
            body(items(Json(serde_json::json!({"id": 1})))),
            [br#"{"id":1}"#.to_vec()]
        );
        assert_eq!(body(items(vec!["x", "y"])), [b"x".to_vec(), b"y".to_vec()]);
        assert!(items(None::<String>).is_empty());
        assert!(items(Vec::<String>::new()).is_empty());
        let out = items(
            QueueMessageOut::new(Json(3))
                .visibility_delay(Duration::from_secs(5))
                .never_expires(),
        );
        assert_eq!(out[0].body, b"3");
        assert_eq!(
            out[0].options,
            SendOptions::new()
                .visibility_delay(Duration::from_secs(5))
                .time_to_live(TimeToLive::Never)
        );
    }

    #[test]
    fn every_output_option_has_a_builder_method() {
        let declared: Vec<&str> = queue::OUTPUT_OPTIONS.iter().map(|o| o.rust).collect();
        assert_eq!(QueueOutputAttribute::SETTERS, declared);
    }
}
