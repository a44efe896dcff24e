//! The Kafka output binding for `bindings`: `#[kafka_output(...)]` options to librdkafka
//! configuration, a producer per configuration, message shapes, and delivery that every
//! invocation awaits — a message that cannot be delivered fails the invocation, so its trigger
//! retries it; nothing is lost silently.

mod config;
mod literals;
mod options;
mod output;
mod producer;
mod record;
mod registry;
mod serialize;

pub use config::{client_config, librdkafka_properties};
pub use options::{ProducerOptions, defaults};
pub use output::{KafkaOutput, KafkaOutputAttribute};
pub use producer::{Producer, Producers, TracingContext};
pub use record::{IntoKey, IntoValue, KafkaEvent, KafkaRecord, parse_event_json};
pub use serialize::{Avro, DEFAULT_SCHEMA_ID, Protobuf};
