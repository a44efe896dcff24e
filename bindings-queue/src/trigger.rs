//! `#[queue_trigger]`: the trigger kind, the attribute's options, and binding them at start-up.

use std::sync::Arc;
use std::time::Duration;

use bindings_core::{BindContext, Listener, TriggerAttribute};
use bindings_spec::option_setters;
use bindings_spec::value::Set;
use bindings_spec::{queue, trigger_queue_name};

use crate::{MessageEncoding, QueuesOptions};

use crate::kind::QueueTrigger;
use crate::listener::{ListenerConfig, QueueListener};
use crate::services::{AccountChoice, account_setters};
use crate::status::{QueueFunction, QueueFunctions, QueueScale};

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
    /// The host.json options this function overrides, by name.
    options: Set,
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

    option_setters! {
        lookup = queue::option;
        into = options;
        batch_size: u32,
        new_batch_threshold: u32,
        max_polling_interval: Duration,
        visibility_timeout: Duration,
        max_dequeue_count: u32,
        message_encoding: MessageEncoding,
        receive_visibility_timeout: Duration,
        trace_context: bool,
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
        let options = QueuesOptions::layered(cx, queue::OPTIONS, &self.options);
        let service = self.account.service(cx);
        let (queue, options, (connection, service)) = (queue?, options?, service?);
        let development = cx.is_development();
        let config =
            ListenerConfig::new(&queue, &options, development, self.batch, self.json_payload);
        let function = Arc::new(QueueFunction::new(
            &cx.metrics(),
            cx.function_name(),
            &config.queue,
            Arc::clone(&service),
            config.batch_size,
            config.new_batch_threshold,
            config.max_polling_interval,
        ));
        cx.resource::<QueueFunctions>()
            .insert(cx.function_name(), Arc::clone(&function));
        cx.scale_monitor(QueueScale(Arc::clone(&function)));
        let health = cx.service_health();
        let wakers = cx.resource::<crate::poison::Wakers>();
        Some(Box::new(QueueListener::new(
            service, config, connection, function, wakers, health,
        )))
    }
}

#[cfg(test)]
mod tests {
    use bindings_spec::value::Fields as _;

    use super::*;

    #[test]
    fn every_option_has_a_builder_method_and_a_field() {
        let sorted = |names: &[&'static str]| {
            let mut names = names.to_vec();
            names.sort_unstable();
            names
        };
        let declared: Vec<&str> = queue::OPTIONS.iter().map(|o| o.rust).collect();
        assert_eq!(sorted(QueueTriggerAttribute::SETTERS), sorted(&declared));
        assert_eq!(sorted(QueuesOptions::NAMES), sorted(&declared));
    }

    #[test]
    fn the_attribute_s_values_win_over_host_json_s() {
        let attribute = QueueTriggerAttribute::new("q")
            .batch_size(4)
            .visibility_timeout(Duration::from_secs(9))
            .message_encoding(MessageEncoding::None);
        let mut options = QueuesOptions {
            batch_size: 8,
            max_dequeue_count: 2,
            ..QueuesOptions::default()
        };
        options.overlay(queue::OPTIONS, &attribute.options);
        assert_eq!(options.batch_size, 4);
        assert_eq!(options.visibility_timeout, Duration::from_secs(9));
        assert_eq!(options.message_encoding, MessageEncoding::None);
        assert_eq!(options.max_dequeue_count, 2, "not set by the attribute");
        assert_eq!(options.range_problems(queue::OPTIONS), Vec::<String>::new());
        options.overlay(
            queue::OPTIONS,
            &QueueTriggerAttribute::new("q").batch_size(33).options,
        );
        assert_eq!(
            options.range_problems(queue::OPTIONS),
            ["`batch_size` = 33 is out of range; use 1 to 32"]
        );
    }
}
