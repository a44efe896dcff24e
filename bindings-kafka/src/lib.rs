//! The Kafka bindings for `bindings`.
//!
//! - The output, `#[kafka_output(...)]`: options to librdkafka configuration, a producer per
//!   configuration, message shapes, and delivery that every invocation awaits — a message that
//!   cannot be delivered fails the invocation, so its trigger retries it; nothing is lost silently.
//! - The trigger, `#[kafka_trigger(...)]`: a consumer group member per function, records in order
//!   per partition (or per key), retries, a dead-letter topic, and at-least-once commits: a
//!   record's offset is committed only after its invocation succeeded and its outputs were
//!   delivered, or after it reached the dead-letter topic.

mod attribute;
mod config;
mod deliver;
mod error;
mod host_options;
mod kind;
mod literals;
mod merge;
mod metrics;
mod options;
mod producer;
mod record;
mod registry;
mod serialize;
mod trigger;
mod value;

pub use attribute::KafkaOutputAttribute;
pub use bindings_spec::{
    Acks, AuthenticationMode, AutoOffsetReset, Compression, Ordering, Partitioner, Protocol,
    RetryStrategy,
};
pub use config::{ClientOptions, client_config, librdkafka_properties};
pub use deliver::KafkaOutput;
pub use error::Error;
pub use host_options::KafkaOptions;
pub use options::ProducerOptions;
pub use producer::{Producer, Producers, TracingContext};
pub use record::{IntoKey, IntoValue, KafkaEvent, ProducerRecord, parse_event_json};
pub use serialize::{Avro, DEFAULT_SCHEMA_ID, Protobuf};
pub use trigger::{
    ConsumerOptions, DEAD_LETTER_HEADERS, KafkaCounts, KafkaLag, KafkaRecord, KafkaTrigger,
    KafkaTriggerAttribute, KafkaTriggerEvent, KafkaTriggerStatus, KafkaTriggers, LAG_READ_INTERVAL,
    TriggerOptions,
};
