//! The Kafka options (`#[kafka_output(...)]` and host.json `extensions.kafka`), each declared once.
//!
//! The macro parses and checks attribute options from [`OPTIONS`], host.json is read with them,
//! the output layers attribute > host.json > default over them, the librdkafka configuration takes
//! its keys from them, and README.md's Kafka table is made from them (a test keeps it equal).
//! [`CONNECTION`] (brokers, security, schema registry, client) is shared by the output
//! ([`OPTIONS`]) and the trigger ([`TRIGGER_OPTIONS`]): each is declared once.

mod values;

pub use values::{
    Acks, AuthenticationMode, AutoOffsetReset, Compression, Ordering, Partitioner, Protocol,
    RetryStrategy,
};

use std::time::Duration;

use crate::option::{DefaultValue, Kind, OptionSpec, Shape, count};

/// How `max_retries` and `message_timeout_ms` are bounded (librdkafka's `int` properties).
const INT_MAX: u32 = i32::MAX as u32;

/// `authentication_mode` values Azure's extension knows and this build cannot do, with why. The
/// bundled librdkafka is built without Cyrus SASL, which GSSAPI needs, and without libcurl, which its
/// OIDC token client needs (its other OAUTHBEARER method only makes unsecured test tokens). Building
/// either takes system libraries `cargo build` cannot provide.
pub const REFUSED_MECHANISMS: &[(&str, &str)] = &[
    (
        "gssapi",
        "GSSAPI (Kerberos) is not supported: this library's librdkafka is built without Cyrus \
         SASL, which GSSAPI needs; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
    ),
    (
        "oauthbearer",
        "OAUTHBEARER is not supported: this library's librdkafka is built without libcurl, which \
         its OIDC token client needs (its default method only makes unsecured test tokens); use \
         PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
    ),
];

/// A choice among one of this module's enums.
macro_rules! choice {
    ($ty:ident, $default:literal) => {
        choice!($ty, $default, &[])
    };
    ($ty:ident, $default:literal, $refused:expr) => {
        Kind::Choice {
            rust_type: stringify!($ty),
            values: $ty::VALID,
            variants: $ty::VARIANTS,
            spellings: $ty::SPELLINGS,
            refused: $refused,
            default: $default,
        }
    };
}

const fn text(shape: Shape) -> Kind {
    Kind::Text { shape }
}

const SECRET: Kind = Kind::Credential { literal: None };

/// The producer's own options.
pub const PRODUCER: &[OptionSpec] = &[
    OptionSpec::new(
        "max_message_bytes",
        count(1_000, 1_000_000_000, "bytes", 1_000_000),
        "the largest message sent",
    )
    .in_host_json("maxMessageBytes")
    .with_librdkafka("message.max.bytes"),
    OptionSpec::new(
        "batch_size",
        count(1, 1_000_000, "messages", 10_000),
        "most messages in one batch",
    )
    .in_host_json("batchSize")
    .with_librdkafka("batch.num.messages"),
    OptionSpec::new(
        "enable_idempotence",
        Kind::Bool {
            default: DefaultValue::Value(false),
        },
        "no duplicates, order kept per partition (needs `acks` all)",
    )
    .in_host_json("enableIdempotence")
    .with_librdkafka("enable.idempotence"),
    OptionSpec::new(
        "message_timeout_ms",
        count(0, INT_MAX, "ms", 300_000),
        "how long a delivery may take, retries included (0: no limit)",
    )
    .in_host_json("messageTimeoutMs")
    .with_librdkafka("message.timeout.ms"),
    OptionSpec::new(
        "request_timeout_ms",
        count(1, 900_000, "ms", 5_000),
        "how long the leader may take to acknowledge",
    )
    .in_host_json("requestTimeoutMs")
    .with_librdkafka("request.timeout.ms"),
    OptionSpec::new(
        "max_retries",
        count(0, INT_MAX, "retries", 2),
        "retries of a failed send",
    )
    .in_host_json("maxRetries")
    .with_librdkafka("message.send.max.retries"),
    OptionSpec::new(
        "linger_ms",
        count(0, 900_000, "ms", 5),
        "how long to wait for more messages to batch",
    )
    .in_host_json("lingerMs")
    .with_librdkafka("linger.ms"),
    OptionSpec::new(
        "compression",
        choice!(Compression, 0),
        "the compression codec (unset: librdkafka's)",
    )
    .in_host_json("compression")
    .with_librdkafka("compression.type"),
    OptionSpec::new(
        "acks",
        choice!(Acks, 0),
        "replicas that must have a message (unset: librdkafka's)",
    )
    .in_host_json("acks")
    .with_librdkafka("acks"),
    OptionSpec::new(
        "partitioner",
        choice!(Partitioner, 2),
        "how keys map to partitions (unset: librdkafka's)",
    )
    .in_host_json("partitioner")
    .with_librdkafka("partitioner"),
];

/// The output's own option besides `topic`: the record key.
pub const RECORD: &[OptionSpec] = &[OptionSpec::new(
    "key",
    text(Shape::Template),
    "the key of records that set none",
)];

/// The Avro schemas of values and keys: the output's (to encode) and the trigger's (to decode).
pub const AVRO: &[OptionSpec] = &[
    OptionSpec::new(
        "avro_schema",
        text(Shape::Json),
        "the Avro schema of `Avro<T>` values",
    ),
    OptionSpec::new(
        "avro_key_schema",
        text(Shape::Json),
        "the Avro schema of Avro keys",
    ),
];

/// Where the brokers are and how to reach them: a producer's and a consumer's alike.
pub const CONNECTION: &[OptionSpec] = &[
    OptionSpec::new(
        "broker_list",
        text(Shape::BrokerList),
        "the brokers: an app setting or a literal list",
    )
    .with_librdkafka("bootstrap.servers"),
    OptionSpec::new("protocol", choice!(Protocol, 0), "the security protocol")
        .in_host_json("protocol")
        .with_librdkafka("security.protocol"),
    OptionSpec::new(
        "authentication_mode",
        choice!(AuthenticationMode, 0, REFUSED_MECHANISMS),
        "the SASL mechanism",
    )
    .in_host_json("authenticationMode")
    .with_librdkafka("sasl.mechanism"),
    OptionSpec::new(
        "username",
        Kind::Credential {
            literal: Some("$ConnectionString"),
        },
        "the SASL username (Event Hubs: `$ConnectionString`)",
    )
    .in_host_json("username")
    .with_librdkafka("sasl.username"),
    OptionSpec::new("password", SECRET, "the SASL password")
        .in_host_json("password")
        .with_librdkafka("sasl.password"),
    OptionSpec::new(
        "ssl_ca_location",
        text(Shape::CaPath),
        "the CA certificate(s) of the brokers",
    )
    .in_host_json("sslCaLocation")
    .with_librdkafka("ssl.ca.location"),
    OptionSpec::new(
        "ssl_certificate_location",
        text(Shape::Path),
        "the client certificate",
    )
    .in_host_json("sslCertificateLocation")
    .with_librdkafka("ssl.certificate.location"),
    OptionSpec::new("ssl_key_location", text(Shape::Path), "the client key")
        .in_host_json("sslKeyLocation")
        .with_librdkafka("ssl.key.location"),
    OptionSpec::new("ssl_key_password", SECRET, "the client key's password")
        .in_host_json("sslKeyPassword")
        .with_librdkafka("ssl.key.password"),
    OptionSpec::new(
        "ssl_ca_pem",
        text(Shape::Pem),
        "the CA certificate(s), as PEM",
    )
    .with_librdkafka("ssl.ca.pem"),
    OptionSpec::new(
        "ssl_certificate_pem",
        text(Shape::Pem),
        "the client certificate, as PEM",
    )
    .with_librdkafka("ssl.certificate.pem"),
    OptionSpec::new("ssl_key_pem", SECRET, "the client key, as PEM").with_librdkafka("ssl.key.pem"),
    OptionSpec::new(
        "ssl_certificate_and_key_pem",
        SECRET,
        "the client certificate chain and key in one PEM (split into the two above)",
    ),
    OptionSpec::new(
        "schema_registry_url",
        text(Shape::Url),
        "a Confluent schema registry for `avro_schema`",
    ),
    OptionSpec::new(
        "schema_registry_username",
        text(Shape::Any),
        "the registry's user (basic auth)",
    ),
    OptionSpec::new(
        "schema_registry_password",
        SECRET,
        "the registry's password (basic auth)",
    ),
    OptionSpec::new(
        "https_ca_location",
        text(Shape::Path),
        "the CA of the registry's HTTPS certificate",
    ),
    OptionSpec::new("https_ca_pem", text(Shape::Pem), "the same, as PEM"),
    OptionSpec::new(
        "metadata_max_age_ms",
        count(1, 86_400_000, "ms", 180_000),
        "how often metadata is refreshed (the extension's default, under Azure's 4-minute idle timeout)",
    )
    .in_host_json("metadataMaxAgeMs")
    .with_librdkafka("metadata.max.age.ms"),
    OptionSpec::new(
        "socket_keepalive_enable",
        Kind::Bool {
            default: DefaultValue::Value(true),
        },
        "TCP keep-alive on broker connections (the extension's default)",
    )
    .in_host_json("socketKeepaliveEnable")
    .with_librdkafka("socket.keepalive.enable"),
    OptionSpec::new(
        "librdkafka_debug",
        text(Shape::Any),
        "librdkafka's debug contexts (`broker,topic,msg`)",
    )
    .in_host_json("libkafkaDebug")
    .with_librdkafka("debug"),
];

/// A duration option of the trigger's retry policy.
const fn span(max_secs: u64, default_secs: u64) -> Kind {
    Kind::TimeSpan {
        min: Duration::ZERO,
        max: Duration::from_secs(max_secs),
        default: DefaultValue::Value(Duration::from_secs(default_secs)),
    }
}

/// A count whose default is librdkafka's own.
const fn librdkafka_count(min: u32, max: u32, unit: &'static str, default: &'static str) -> Kind {
    Kind::Count {
        min,
        max,
        unit,
        default: DefaultValue::Computed(default),
    }
}

/// The trigger's consumer options: host.json `extensions.kafka` keys with the extension's
/// defaults, which a function's attribute may override.
pub const CONSUMER: &[OptionSpec] = &[
    OptionSpec::new(
        "max_batch_size",
        count(1, 100_000, "records", 64),
        "most records handed to a batch function (`Vec<KafkaRecord>`) at once",
    )
    .in_host_json("maxBatchSize"),
    OptionSpec::new(
        "subscriber_interval_in_seconds",
        count(1, 3_600, "s", 1),
        "how long a batch function's batch may wait to fill up",
    )
    .in_host_json("subscriberIntervalInSeconds"),
    OptionSpec::new(
        "auto_commit_interval_ms",
        count(1, 86_400_000, "ms", 200),
        "how often completed offsets are committed",
    )
    .in_host_json("autoCommitIntervalMs")
    .with_librdkafka("auto.commit.interval.ms"),
    OptionSpec::new(
        "fetch_max_bytes",
        librdkafka_count(0, INT_MAX, "bytes", "librdkafka's (52428800)"),
        "most data one fetch returns",
    )
    .in_host_json("fetchMaxBytes")
    .with_librdkafka("fetch.max.bytes"),
    OptionSpec::new(
        "max_partition_fetch_bytes",
        librdkafka_count(1, INT_MAX, "bytes", "librdkafka's (1048576)"),
        "most data one fetch returns per partition",
    )
    .in_host_json("maxPartitionFetchBytes")
    .with_librdkafka("max.partition.fetch.bytes"),
    OptionSpec::new(
        "max_poll_interval_ms",
        count(1, 86_400_000, "ms", 300_000),
        "most time between polls before the group drops the consumer",
    )
    .in_host_json("maxPollIntervalMs")
    .with_librdkafka("max.poll.interval.ms"),
    OptionSpec::new(
        "session_timeout_ms",
        count(1, 3_600_000, "ms", 10_000),
        "how long the group waits for a silent consumer",
    )
    .in_host_json("sessionTimeoutMs")
    .with_librdkafka("session.timeout.ms"),
    OptionSpec::new(
        "auto_offset_reset",
        choice!(AutoOffsetReset, 0),
        "where a group without a committed offset starts",
    )
    .in_host_json("autoOffsetReset")
    .with_librdkafka("auto.offset.reset"),
    OptionSpec::new(
        "queued_min_messages",
        librdkafka_count(1, 10_000_000, "records", "librdkafka's (100000)"),
        "records librdkafka tries to keep prefetched per partition",
    )
    .in_host_json("queuedMinMessages")
    .with_librdkafka("queued.min.messages"),
    OptionSpec::new(
        "queued_max_messages_kbytes",
        librdkafka_count(1, 2_097_151, "KiB", "librdkafka's (65536)"),
        "most data librdkafka prefetches per partition",
    )
    .in_host_json("queuedMaxMessagesKbytes")
    .with_librdkafka("queued.max.messages.kbytes"),
    OptionSpec::new(
        "reconnect_backoff_ms",
        librdkafka_count(0, 3_600_000, "ms", "librdkafka's (100)"),
        "first wait before reconnecting to a broker",
    )
    .in_host_json("reconnectBackoffMs")
    .with_librdkafka("reconnect.backoff.ms"),
    OptionSpec::new(
        "reconnect_backoff_max_ms",
        librdkafka_count(0, 3_600_000, "ms", "librdkafka's (10000)"),
        "longest wait before reconnecting to a broker",
    )
    .in_host_json("reconnectBackoffMaxMs")
    .with_librdkafka("reconnect.backoff.max.ms"),
];

/// The trigger's own options besides `topic` and `consumer_group`: scaling, ordering, retries and
/// the dead-letter topic.
pub const TRIGGER: &[OptionSpec] = &[
    OptionSpec::new(
        "lag_threshold",
        count(1, u32::MAX, "records", 1_000),
        "lag one instance handles, for the scale hint",
    ),
    OptionSpec::new(
        "ordering",
        choice!(Ordering, 0),
        "which records of a partition may run at once",
    ),
    OptionSpec::new(
        "max_concurrency",
        count(1, 10_000, "invocations", 32),
        "most invocations of the function running at once",
    ),
    OptionSpec::new(
        "retry_strategy",
        choice!(RetryStrategy, 0),
        "how the wait grows between retries of a failed record",
    ),
    OptionSpec::new(
        "max_retry_count",
        count(0, 10_000, "retries", 5),
        "retries before a record goes to the dead-letter topic",
    ),
    OptionSpec::new(
        "delay_interval",
        span(86_400, 1),
        "the wait before each retry (`fixed_delay`)",
    ),
    OptionSpec::new(
        "minimum_interval",
        span(86_400, 1),
        "the first wait (`exponential_backoff`)",
    ),
    OptionSpec::new(
        "maximum_interval",
        span(86_400, 60),
        "the longest wait (`exponential_backoff`)",
    ),
    OptionSpec::new(
        "dead_letter_topic",
        text(Shape::Any),
        "where records go after their retries (unset: `<topic>-dlq`; empty: none, the partition stops)",
    ),
];

/// Every option of `#[kafka_output(...)]` besides `topic`, in the order the docs list them.
pub const OPTIONS: &[OptionSpec] = &concat::<
    { PRODUCER.len() + RECORD.len() + AVRO.len() + CONNECTION.len() },
>(&[PRODUCER, RECORD, AVRO, CONNECTION]);

/// The trigger's options without the connection's: what README's trigger table lists.
pub const TRIGGER_OWN: &[OptionSpec] =
    &concat::<{ TRIGGER.len() + CONSUMER.len() }>(&[TRIGGER, CONSUMER]);

/// Every option of `#[kafka_trigger(...)]` besides `topic` and `consumer_group`, in the order the
/// docs list them (`broker_list` is [`CONNECTION`]'s, as for the output).
pub const TRIGGER_OPTIONS: &[OptionSpec] = &concat::<
    { TRIGGER.len() + CONSUMER.len() + AVRO.len() + CONNECTION.len() },
>(&[TRIGGER, CONSUMER, AVRO, CONNECTION]);

/// Every Kafka option once: the output's and the trigger's.
const ALL: &[OptionSpec] = &concat::<
    {
        PRODUCER.len()
            + RECORD.len()
            + AVRO.len()
            + CONNECTION.len()
            + TRIGGER.len()
            + CONSUMER.len()
    },
>(&[PRODUCER, RECORD, AVRO, CONNECTION, TRIGGER, CONSUMER]);

/// The option named `rust`, of the output or the trigger (a `const` lookup: in a `const` context a
/// wrong name fails the build).
///
/// ```
/// assert_eq!(bindings_spec::kafka::option("linger_ms").json, Some("lingerMs"));
/// assert_eq!(bindings_spec::kafka::option("max_batch_size").json, Some("maxBatchSize"));
/// ```
pub const fn option(rust: &str) -> &'static OptionSpec {
    crate::option::find(ALL, rust)
}

const fn concat<const N: usize>(parts: &[&[OptionSpec]]) -> [OptionSpec; N] {
    let mut out = [PRODUCER[0]; N];
    let (mut n, mut part) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            out[n] = parts[part][i];
            n += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(n == N, "N must count every option");
    out
}
