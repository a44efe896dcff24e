//! `#[queue_trigger]`: the trigger kind, the attribute's options, and binding them at start-up.

use std::sync::Arc;
use std::time::Duration;

use bindings_core::{BindContext, Listener, TriggerAttribute};

use crate::{MessageEncoding, QueuesOptions};
use bindings_spec::{OptionSpec, Refusal, format_timespan, queue, trigger_queue_name};

use crate::kind::QueueTrigger;
use crate::listener::{ListenerConfig, QueueListener};
use crate::services::{AccountChoice, account_setters};
use crate::status::{QueueFunction, QueueFunctions};

/// The connection used when no `connection` or `storage_account` names one.
pub const DEFAULT_CONNECTION: &str = "Storage";

/// `#[queue_trigger(...)]` as a value: the queue, its connection, and per-function overrides of
/// host.json's `extensions.queues`. The macro builds it; it can be built by hand too.
///
/// ```
/// use std::time::Duration;
/// use bindings_queue::QueueTriggerAttribute;
///
/// let attribute = QueueTriggerAttribute::new("%InputQueue%")
///     .connection("StorageConnectionAppSetting")
///     .batch_size(1)
///     .max_dequeue_count(3)
///     .visibility_timeout(Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct QueueTriggerAttribute {
    queue: String,
    account: AccountChoice,
    batch_size: Option<u32>,
    new_batch_threshold: Option<u32>,
    max_polling_interval: Option<Duration>,
    visibility_timeout: Option<Duration>,
    max_dequeue_count: Option<u32>,
    message_encoding: Option<MessageEncoding>,
    receive_visibility_timeout: Option<Duration>,
    batch: bool,
    json_payload: bool,
}

impl QueueTriggerAttribute {
    /// Triggers on `queue`: a name, or `%Setting%` naming the setting that holds it. Like Azure, the
    /// name is lower-cased (`MyQueue` polls `myqueue`); it and its poison queue `<name>-poison` must
    /// be valid queue names (checked at `build()`, and at compile time for a literal in the macro).
    pub fn new(queue: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            ..Self::default()
        }
    }

    account_setters!();

    /// Overrides `batchSize`. Each override's range and default: `bindings_spec::queue`, the
    /// README's table.
    pub fn batch_size(mut self, value: u32) -> Self {
        self.batch_size = Some(value);
        self
    }

    /// Overrides `newBatchThreshold`.
    pub fn new_batch_threshold(mut self, value: u32) -> Self {
        self.new_batch_threshold = Some(value);
        self
    }

    /// Overrides `maxPollingInterval`.
    pub fn max_polling_interval(mut self, value: Duration) -> Self {
        self.max_polling_interval = Some(value);
        self
    }

    /// Overrides `visibilityTimeout`: the retry delay after a failure.
    pub fn visibility_timeout(mut self, value: Duration) -> Self {
        self.visibility_timeout = Some(value);
        self
    }

    /// Overrides `maxDequeueCount`.
    pub fn max_dequeue_count(mut self, value: u32) -> Self {
        self.max_dequeue_count = Some(value);
        self
    }

    /// Overrides `messageEncoding`.
    pub fn message_encoding(mut self, value: MessageEncoding) -> Self {
        self.message_encoding = Some(value);
        self
    }

    /// Overrides `receiveVisibilityTimeout`: how long a received message stays invisible while processed.
    pub fn receive_visibility_timeout(mut self, value: Duration) -> Self {
        self.receive_visibility_timeout = Some(value);
        self
    }

    /// Hands the function every message of a poll at once (`Vec<QueueMessage>`), instead of one
    /// invocation per message. The macro sets this when the function takes `Vec<QueueMessage>`.
    pub fn batch(mut self) -> Self {
        self.batch = true;
        self
    }

    /// The function binds the payload as `Json<T>` (Azure's POCO case): the top-level properties of a
    /// JSON object body join the binding data, winning on a name clash (`{id}` is then the body's
    /// `id`). Without it, as for `String`, bytes and `QueueMessage` parameters, `{id}` is the message
    /// id. The macro sets this when a parameter is `Json<..>`.
    pub fn json_payload(mut self) -> Self {
        self.json_payload = true;
        self
    }

    /// host.json's options with this function's overrides, checked.
    fn options(&self, cx: &mut BindContext<'_>) -> Option<QueuesOptions> {
        let mut options = cx.host_config().extension::<QueuesOptions>();
        let before = options.clone();
        options.batch_size = self.batch_size.unwrap_or(before.batch_size);
        options.new_batch_threshold = self.new_batch_threshold.or(before.new_batch_threshold);
        options.max_polling_interval = self.max_polling_interval.or(before.max_polling_interval);
        options.visibility_timeout = self.visibility_timeout.unwrap_or(before.visibility_timeout);
        options.max_dequeue_count = self.max_dequeue_count.unwrap_or(before.max_dequeue_count);
        options.message_encoding = self.message_encoding.unwrap_or(before.message_encoding);
        options.receive_visibility_timeout = self
            .receive_visibility_timeout
            .unwrap_or(before.receive_visibility_timeout);
        let mut ok = true;
        let mut check = |option: &OptionSpec, shown: String, refused: Option<Refusal>| {
            if let Some(refusal) = refused {
                cx.problem(format!("{} {shown} {refusal}", option.rust));
                ok = false;
            }
        };
        for (option, value) in [
            (&queue::BATCH_SIZE, options.batch_size),
            (&queue::MAX_DEQUEUE_COUNT, options.max_dequeue_count),
        ] {
            check(
                option,
                value.to_string(),
                option.check_count(value.into()).err(),
            );
        }
        for (option, value) in [
            (
                &queue::MAX_POLLING_INTERVAL,
                options.effective_max_polling_interval(false),
            ),
            (&queue::VISIBILITY_TIMEOUT, options.visibility_timeout),
            (
                &queue::RECEIVE_VISIBILITY_TIMEOUT,
                options.receive_visibility_timeout,
            ),
        ] {
            check(
                option,
                format_timespan(value),
                option.check_duration(value).err(),
            );
        }
        ok.then_some(options)
    }
}

impl TriggerAttribute for QueueTriggerAttribute {
    type Trigger = QueueTrigger;
    const NAME: &'static str = "queue_trigger";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<Box<dyn Listener<QueueTrigger>>> {
        let queue = cx.expand("queue_name", &self.queue).and_then(|queue| {
            trigger_queue_name(&queue)
                .map_err(|problem| cx.problem(problem))
                .ok()
        });
        let options = self.options(cx);
        let service = self.account.service(cx);
        let (queue, options, (connection, service)) = (queue?, options?, service?);
        let development = cx.is_development();
        let config =
            ListenerConfig::new(&queue, &options, development, self.batch, self.json_payload);
        let function = Arc::new(QueueFunction::new(
            cx.function_name(),
            &config.queue,
            Arc::clone(&service),
            config.batch_size,
            config.new_batch_threshold,
        ));
        cx.resource::<QueueFunctions>()
            .insert(cx.function_name(), Arc::clone(&function));
        let wakers = cx.resource::<crate::poison::Wakers>();
        Some(Box::new(QueueListener::new(
            service, config, connection, function, wakers,
        )))
    }
}
