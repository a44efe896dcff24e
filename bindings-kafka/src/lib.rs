//! The Kafka output binding for `bindings`: `#[kafka_output(...)]` options to librdkafka
//! configuration, a producer per configuration, message shapes, and delivery that every
//! invocation awaits — a message that cannot be delivered fails the invocation, so its trigger
//! retries it; nothing is lost silently.

mod attribute;
mod config;
mod deliver;
mod error;
mod host_options;
mod kind;
mod literals;
mod merge;
mod options;
mod producer;
mod record;
mod registry;
mod serialize;
mod value;

pub use attribute::KafkaOutputAttribute;
pub use bindings_spec::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};
pub use config::{client_config, librdkafka_properties};
pub use deliver::KafkaOutput;
pub use error::Error;
pub use host_options::KafkaOptions;
pub use options::ProducerOptions;
pub use producer::{Producer, Producers, TracingContext};
pub use record::{IntoKey, IntoValue, KafkaEvent, KafkaRecord, parse_event_json};
pub use serialize::{Avro, DEFAULT_SCHEMA_ID, Protobuf};
