//! `extensions.queues`: the queue trigger's options.

use std::time::Duration;

/// How queue message bodies are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageEncoding {
    /// Bodies are base64 text (the Functions default; what most SDKs' "text" policies write).
    #[default]
    Base64,
    /// Bodies are used as they are.
    None,
}

impl MessageEncoding {
    /// The valid host.json spellings.
    pub const VALID: &'static [&'static str] = &["base64", "none"];

    /// Parses `base64` or `none` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "base64" => Some(Self::Base64),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// Options of the queue trigger (host.json `extensions.queues`). Each can also be set per function.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueuesOptions {
    /// Messages fetched per receive, 1–32. Default 16.
    pub batch_size: u32,
    /// Poll again once in-flight messages drop to this many. Default: `batch_size / 2`
    /// (the .NET host multiplies by the CPU count; we do not, so a function's concurrency does not depend
    /// on the machine).
    pub new_batch_threshold: Option<u32>,
    /// The longest wait between polls of an empty queue. Default 1 minute, or 2 seconds when
    /// `AZURE_FUNCTIONS_ENVIRONMENT` is `Development`. At least 100 ms.
    pub max_polling_interval: Option<Duration>,
    /// The retry delay: how long a message that failed stays invisible before it is tried again. Default 0.
    pub visibility_timeout: Duration,
    /// Attempts before a message moves to the `-poison` queue, at least 1. Default 5.
    pub max_dequeue_count: u32,
    /// Body encoding. Default base64.
    pub message_encoding: MessageEncoding,
    /// How long a received message stays invisible while it is processed (renewed at half this interval;
    /// after a crash the message reappears after at most this long). Default 10 minutes. Not in Azure,
    /// which hard-codes 10 minutes.
    pub receive_visibility_timeout: Duration,
}

impl Default for QueuesOptions {
    fn default() -> Self {
        Self {
            batch_size: 16,
            new_batch_threshold: None,
            max_polling_interval: None,
            visibility_timeout: Duration::ZERO,
            max_dequeue_count: 5,
            message_encoding: MessageEncoding::Base64,
            receive_visibility_timeout: Duration::from_secs(600),
        }
    }
}

impl QueuesOptions {
    /// The smallest allowed `maxPollingInterval`.
    pub const MIN_POLLING_INTERVAL: Duration = Duration::from_millis(100);

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
