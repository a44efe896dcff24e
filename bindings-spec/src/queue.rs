//! The queue trigger's and output's options (`#[queue_trigger(...)]`, `#[queue_output(...)]` and
//! host.json `extensions.queues`).
//!
//! The macro checks attribute values against these declarations, host.json is read with them, the
//! trigger checks the merged values at `build()` with them, and README.md's table is made from them.

use std::time::Duration;

use crate::option::{DefaultValue, Kind, OptionSpec};

/// Most messages one receive returns (the service's limit).
pub const MAX_MESSAGES_PER_RECEIVE: u32 = 32;
/// The longest visibility timeout the service accepts (7 days).
pub const MAX_VISIBILITY: Duration = Duration::from_secs(7 * 24 * 3600);
/// The shortest wait between polls, and the smallest `maxPollingInterval`.
pub const MIN_POLLING_INTERVAL: Duration = Duration::from_millis(100);

/// `batchSize`.
pub const BATCH_SIZE: OptionSpec = OptionSpec {
    rust: "batch_size",
    json: Some("batchSize"),
    kind: Kind::Count {
        min: 1,
        max: MAX_MESSAGES_PER_RECEIVE,
        unit: "messages",
        default: DefaultValue::Value(16),
    },
    doc: "messages fetched per receive",
    librdkafka: None,
    credential: false,
};

/// `newBatchThreshold`.
pub const NEW_BATCH_THRESHOLD: OptionSpec = OptionSpec {
    rust: "new_batch_threshold",
    json: Some("newBatchThreshold"),
    kind: Kind::Count {
        min: 0,
        max: 100_000,
        unit: "messages",
        default: DefaultValue::Computed("`batchSize / 2`"),
    },
    doc: "poll again when in-flight messages drop to this many",
    librdkafka: None,
    credential: false,
};

/// `maxPollingInterval`.
pub const MAX_POLLING_INTERVAL: OptionSpec = OptionSpec {
    rust: "max_polling_interval",
    json: Some("maxPollingInterval"),
    kind: Kind::TimeSpan {
        min: MIN_POLLING_INTERVAL,
        max: Duration::MAX,
        default: DefaultValue::Computed("`00:01:00` (`00:00:02` in Development)"),
    },
    doc: "the longest wait between polls of an empty queue",
    librdkafka: None,
    credential: false,
};

/// `visibilityTimeout`.
pub const VISIBILITY_TIMEOUT: OptionSpec = OptionSpec {
    rust: "visibility_timeout",
    json: Some("visibilityTimeout"),
    kind: Kind::TimeSpan {
        min: Duration::ZERO,
        max: MAX_VISIBILITY,
        default: DefaultValue::Value(Duration::ZERO),
    },
    doc: "the retry delay after a failure",
    librdkafka: None,
    credential: false,
};

/// `maxDequeueCount`.
pub const MAX_DEQUEUE_COUNT: OptionSpec = OptionSpec {
    rust: "max_dequeue_count",
    json: Some("maxDequeueCount"),
    kind: Kind::Count {
        min: 1,
        max: 100_000,
        unit: "attempts",
        default: DefaultValue::Value(5),
    },
    doc: "attempts before a message moves to the poison queue",
    librdkafka: None,
    credential: false,
};

/// `messageEncoding`.
pub const MESSAGE_ENCODING: OptionSpec = OptionSpec {
    rust: "message_encoding",
    json: Some("messageEncoding"),
    kind: Kind::Choice {
        rust_type: "MessageEncoding",
        values: &["base64", "none"],
        variants: &["Base64", "None"],
        spellings: &[],
        refused: &[],
        default: 0,
    },
    doc: "how message bodies are encoded",
    librdkafka: None,
    credential: false,
};

/// `receiveVisibilityTimeout` (ours; Azure hard-codes 10 minutes).
pub const RECEIVE_VISIBILITY_TIMEOUT: OptionSpec = OptionSpec {
    rust: "receive_visibility_timeout",
    json: Some("receiveVisibilityTimeout"),
    kind: Kind::TimeSpan {
        min: Duration::from_secs(1),
        max: MAX_VISIBILITY,
        default: DefaultValue::Value(Duration::from_secs(600)),
    },
    doc: "ours: how long a received message stays invisible while it is processed",
    librdkafka: None,
    credential: false,
};

/// `traceContext`.
pub const TRACE_CONTEXT: OptionSpec = OptionSpec {
    rust: "trace_context",
    json: Some("traceContext"),
    kind: Kind::Bool {
        default: DefaultValue::Value(false),
    },
    doc: "carry the W3C trace context in a JSON envelope around the body; opt in on both ends (not in Azure)",
    librdkafka: None,
    credential: false,
};

/// Every option of `extensions.queues`, each also an attribute option: counts, durations, choices
/// (the order the macro reports errors in and the docs list them in).
pub const OPTIONS: &[OptionSpec] = &[
    BATCH_SIZE,
    NEW_BATCH_THRESHOLD,
    MAX_DEQUEUE_COUNT,
    MAX_POLLING_INTERVAL,
    VISIBILITY_TIMEOUT,
    RECEIVE_VISIBILITY_TIMEOUT,
    MESSAGE_ENCODING,
    TRACE_CONTEXT,
];

/// The options of `extensions.queues` that `#[queue_output]` also takes, overriding host.json for that
/// output (the output's own are its queue and its connection).
pub const OUTPUT_OPTIONS: &[OptionSpec] = &[MESSAGE_ENCODING, TRACE_CONTEXT];

/// The declaration of the queue option whose Rust name is `rust` (a compile-time error in a const
/// context when there is none).
///
/// ```
/// assert_eq!(bindings_spec::queue::option("batch_size").json, Some("batchSize"));
/// ```
pub const fn option(rust: &str) -> &'static OptionSpec {
    crate::option::find(OPTIONS, rust)
}
