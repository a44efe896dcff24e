//! The Kafka trigger: `#[kafka_trigger(...)]` options to a consumer in a consumer group, records to
//! the function in order per partition (or per key), retries, a dead-letter topic, and offsets
//! committed only once a record's invocation and outputs are done.

mod attribute;
mod avro;
mod dead_letter;
mod kind;
mod listener;
mod offsets;
mod options;
mod record;
mod status;

pub use attribute::KafkaTriggerAttribute;
pub use dead_letter::DEAD_LETTER_HEADERS;
pub use kind::KafkaTrigger;
pub use options::{ConsumerOptions, TriggerOptions};
pub use record::{KafkaRecord, KafkaTriggerEvent};
pub use status::{KafkaCounts, KafkaLag, KafkaTriggerStatus, KafkaTriggers, LAG_READ_INTERVAL};
