//! `extensions.queues`: the queue trigger's options.

use std::time::Duration;

use bindings_spec::queue;

/// How queue message bodies are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageEncoding {
    /// Bodies are base64 text (the Functions default; what most SDKs' "text" policies write).
    Base64,
    /// Bodies are used as they are.
    None,
}

impl MessageEncoding {
    /// The variants in the order of `bindings_spec::queue::MESSAGE_ENCODING`'s values.
    const ALL: [Self; 2] = [Self::Base64, Self::None];

    /// The valid host.json spellings.
    pub const VALID: &'static [&'static str] = queue::MESSAGE_ENCODING.choices();

    /// Parses `base64` or `none` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        queue::MESSAGE_ENCODING
            .choice(text)
            .map(|index| Self::ALL[index])
    }
}

impl Default for MessageEncoding {
    /// The default `bindings_spec::queue` declares (base64).
    fn default() -> Self {
        Self::ALL[queue::MESSAGE_ENCODING
            .default_choice()
            .expect("a choice has a default")]
    }
}

/// Options of the queue trigger (host.json `extensions.queues`). Each can also be set per function.
///
/// Each option's range and default are declared once, in `bindings_spec::queue` (README.md's
/// `extensions.queues` table is made from it); the field docs say what the option means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueuesOptions {
    /// Messages fetched per receive.
    pub batch_size: u32,
    /// Poll again once in-flight messages drop to this many; `None`: `batch_size / 2`
    /// (the .NET host multiplies by the CPU count; we do not, so a function's concurrency does not depend
    /// on the machine).
    pub new_batch_threshold: Option<u32>,
    /// The longest wait between polls of an empty queue; `None`: 1 minute, or 2 seconds when
    /// `AZURE_FUNCTIONS_ENVIRONMENT` is `Development`.
    pub max_polling_interval: Option<Duration>,
    /// The retry delay: how long a message that failed stays invisible before it is tried again.
    pub visibility_timeout: Duration,
    /// Attempts before a message moves to the `-poison` queue.
    pub max_dequeue_count: u32,
    /// Body encoding.
    pub message_encoding: MessageEncoding,
    /// How long a received message stays invisible while it is processed (renewed at half this interval;
    /// after a crash the message reappears after at most this long). Not in Azure, which hard-codes
    /// 10 minutes.
    pub receive_visibility_timeout: Duration,
}

impl Default for QueuesOptions {
    /// The defaults `bindings_spec::queue` declares.
    fn default() -> Self {
        Self {
            batch_size: expect_default(queue::BATCH_SIZE.default_count()),
            new_batch_threshold: None,
            max_polling_interval: None,
            visibility_timeout: expect_default(queue::VISIBILITY_TIMEOUT.default_duration()),
            max_dequeue_count: expect_default(queue::MAX_DEQUEUE_COUNT.default_count()),
            message_encoding: MessageEncoding::default(),
            receive_visibility_timeout: expect_default(
                queue::RECEIVE_VISIBILITY_TIMEOUT.default_duration(),
            ),
        }
    }
}

fn expect_default<T>(value: Option<T>) -> T {
    value.expect("bindings_spec::queue declares this default as a value")
}

impl QueuesOptions {
    /// The smallest allowed `maxPollingInterval`.
    pub const MIN_POLLING_INTERVAL: Duration = queue::MIN_POLLING_INTERVAL;

    /// `new_batch_threshold`, or its default `batch_size / 2`.
    pub fn effective_new_batch_threshold(&self) -> u32 {
        self.new_batch_threshold.unwrap_or(self.batch_size / 2)
    }

    /// `max_polling_interval`, or its default for the environment (2 s in Development, else 1 minute).
    pub fn effective_max_polling_interval(&self, development: bool) -> Duration {
        self.max_polling_interval.unwrap_or(if development {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(60)
        })
    }
}
