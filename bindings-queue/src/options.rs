//! `extensions.queues`: the queue trigger's options, as host.json and the attribute set them.

use std::time::Duration;

use bindings_core::{BindContext, Extension, Section};
use bindings_spec::value::{Fields as _, Set};
use bindings_spec::{OptionSpec, queue};

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

bindings_spec::option_fields! {
    lookup = queue::option;
    /// Options of the queue trigger (host.json `extensions.queues`). Each can also be set per function.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bindings_core::HostConfig;
    /// use bindings_queue::QueuesOptions;
    ///
    /// let config = HostConfig::from_json_str(r#"{
    ///     "version": "2.0",
    ///     "extensions": { "queues": { "batchSize": 8, "maxPollingInterval": "00:00:02" } }
    /// }"#)?;
    /// let queues = config.extension::<QueuesOptions>();
    /// assert_eq!(queues.batch_size, 8);
    /// assert_eq!(queues.effective_new_batch_threshold(), 4);
    /// assert_eq!(queues.max_polling_interval, Some(Duration::from_secs(2)));
    /// # Ok::<(), bindings_core::HostConfigError>(())
    /// ```
    ///
    /// Each option's range and default are declared once, in `bindings_spec::queue` (README.md's
    /// `extensions.queues` table is made from it); the field docs say what the option means.
    #[derive(Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct QueuesOptions {
        /// Messages fetched per receive.
        pub batch_size: u32,
        /// Poll again once in-flight messages drop to this many; `None`: `batch_size / 2`
        /// (the .NET host multiplies by the CPU count; we do not, so a function's concurrency does
        /// not depend on the machine).
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
        /// How long a received message stays invisible while it is processed (renewed at half this
        /// interval; after a crash the message reappears after at most this long). Not in Azure,
        /// which hard-codes 10 minutes.
        pub receive_visibility_timeout: Duration,
        /// Carry the W3C trace context (`traceparent`, `tracestate`) through the queue in a JSON
        /// envelope, `{"traceparent": …, "tracestate": …, "body": "<the message>"}`: an output
        /// wraps each message, a trigger unwraps one and continues its trace. Queue messages have
        /// no other place for it, and every reader of the queue must expect the envelope, so it
        /// is off unless both ends opt in. Not in Azure.
        pub trace_context: bool,
    }
}

bindings_spec::plain_choices!(MessageEncoding);
bindings_spec::required_slots!(MessageEncoding);

impl Default for QueuesOptions {
    /// The defaults `bindings_spec::queue` declares.
    fn default() -> Self {
        Self::initial()
    }
}

impl QueuesOptions {
    /// host.json's options with an attribute's own values of `options` (`set`) over them, checked
    /// against their declared ranges; `None` after recording the problems.
    pub(crate) fn layered(
        cx: &mut BindContext<'_>,
        options: &[OptionSpec],
        set: &Set,
    ) -> Option<Self> {
        let mut layered = cx.host_config().extension::<Self>();
        layered.overlay(options, set);
        let problems = layered.range_problems(options);
        let ok = problems.is_empty();
        for problem in problems {
            cx.problem(problem);
        }
        ok.then_some(layered)
    }

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

impl Extension for QueuesOptions {
    const NAME: &'static str = "queues";

    fn read(section: &mut Section<'_>) -> Self {
        let mut options = Self::default();
        section.read_into(queue::OPTIONS, &mut options);
        options
    }
}

bindings_core::register_extension!(QueuesOptions);

#[cfg(test)]
mod tests {
    use bindings_core::HostConfig;

    use super::*;

    fn read(json: &str) -> QueuesOptions {
        HostConfig::from_json_str(json)
            .unwrap()
            .extension::<QueuesOptions>()
    }

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let q = read(r#"{ "version": "2.0" }"#);
        assert_eq!(q.batch_size, 16);
        assert_eq!(q.effective_new_batch_threshold(), 8);
        assert_eq!(
            q.effective_max_polling_interval(false),
            Duration::from_secs(60)
        );
        assert_eq!(
            q.effective_max_polling_interval(true),
            Duration::from_secs(2)
        );
        assert_eq!(q.visibility_timeout, Duration::ZERO);
        assert_eq!(q.max_dequeue_count, 5);
        assert_eq!(q.message_encoding, MessageEncoding::Base64);
        assert_eq!(q.receive_visibility_timeout, Duration::from_secs(600));
        assert_eq!(q, QueuesOptions::default());
    }

    #[test]
    fn reads_every_queues_option() {
        let q = read(
            r#"{ "version": "2.0", "extensions": { "Queues": {
                "maxPollingInterval": "00:00:02", "visibilityTimeout": "00:00:30", "BATCHSIZE": 32,
                "maxDequeueCount": 3, "newBatchThreshold": 0, "messageEncoding": "none",
                "receiveVisibilityTimeout": "00:01:00" } } }"#,
        );
        assert_eq!(q.max_polling_interval, Some(Duration::from_secs(2)));
        assert_eq!(
            q.effective_max_polling_interval(false),
            Duration::from_secs(2)
        );
        assert_eq!(q.visibility_timeout, Duration::from_secs(30));
        assert_eq!(q.batch_size, 32);
        assert_eq!(q.max_dequeue_count, 3);
        assert_eq!(q.effective_new_batch_threshold(), 0);
        assert_eq!(q.message_encoding, MessageEncoding::None);
        assert_eq!(q.receive_visibility_timeout, Duration::from_secs(60));
    }

    #[test]
    fn every_invalid_value_is_reported_at_once_with_its_path() {
        let problems = HostConfig::from_json_str(
            r#"{ "version": "2.0", "extensions": { "queues": {
                "batchSize": 64, "maxPollingInterval": "00:00:00.050", "visibilityTimeout": 30,
                "maxDequeueCount": 0, "messageEncoding": "utf8", "receiveVisibilityTimeout": "10 minutes" } } }"#,
        )
        .expect_err("invalid values are refused")
        .problems();
        assert_eq!(
            problems,
            [
                "$.extensions.queues.batchSize: 64 is out of range; must be 1 to 32",
                "$.extensions.queues.maxDequeueCount: 0 is out of range; must be 1 to 100000",
                "$.extensions.queues.maxPollingInterval: \"00:00:00.050\" is too short; must be at least 00:00:00.1000000",
                "$.extensions.queues.visibilityTimeout: expected a TimeSpan string such as \"00:00:30\", found 30",
                "$.extensions.queues.receiveVisibilityTimeout: `10 minutes` is not a TimeSpan (expected a whole \
                 number of days); write `hh:mm:ss`, `d.hh:mm:ss` or `hh:mm:ss.fff`, e.g. \"00:00:30\"",
                "$.extensions.queues.messageEncoding: \"utf8\" is not a valid value; use one of: base64, none",
            ]
        );
    }

    #[test]
    fn a_misspelt_option_is_a_warning_naming_the_right_one() {
        let config = HostConfig::from_json_str(
            r#"{ "version": "2.0", "extensions": { "queues": { "batchSzie": 4 } } }"#,
        )
        .unwrap();
        assert_eq!(
            config.warnings,
            ["$.extensions.queues.batchSzie: unknown key, ignored; did you mean `batchSize`?"]
        );
        assert_eq!(config.extension::<QueuesOptions>().batch_size, 16);
    }
}
