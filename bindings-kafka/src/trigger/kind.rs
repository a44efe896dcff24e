//! The Kafka trigger kind: its event, and how the event binds to parameters by type.

use bindings_core::{FromInvocation, FunctionError, Invocation, Payload as _, Trigger};

use super::record::{KafkaRecord, KafkaTriggerEvent};
use crate::{Avro, Protobuf};

/// The Kafka trigger kind: functions triggered by records of a topic.
#[derive(Debug, Clone, Copy)]
pub struct KafkaTrigger;

impl Trigger for KafkaTrigger {
    const NAME: &'static str = "Kafka trigger";
    type Event = KafkaTriggerEvent;
    /// A batch succeeds or fails as a whole.
    type Reply = ();
}

impl FromInvocation<KafkaTrigger> for KafkaRecord {
    fn from_invocation(invocation: &mut Invocation<KafkaTrigger>) -> Result<Self, FunctionError> {
        invocation.event.record().cloned()
    }
}

impl FromInvocation<KafkaTrigger> for Vec<KafkaRecord> {
    fn from_invocation(invocation: &mut Invocation<KafkaTrigger>) -> Result<Self, FunctionError> {
        Ok(invocation.event.records.clone())
    }
}

impl<M: prost::Message + Default> FromInvocation<KafkaTrigger> for Protobuf<M> {
    /// The value decoded as protobuf `M`; a value that is not one is poison (decoding again cannot
    /// help), so it goes to the dead-letter topic at once.
    fn from_invocation(invocation: &mut Invocation<KafkaTrigger>) -> Result<Self, FunctionError> {
        let value = invocation.event.payload()?;
        M::decode(value.as_ref()).map(Protobuf).map_err(|e| {
            FunctionError::with_source(
                format!(
                    "the record's value is not a protobuf `{}`",
                    std::any::type_name::<M>()
                ),
                e,
            )
            .into_poison()
        })
    }
}

impl<T: serde::de::DeserializeOwned> FromInvocation<KafkaTrigger> for Avro<T> {
    /// The value decoded from Confluent's Avro wire format with the trigger's `avro_schema` or
    /// schema registry; a value that is not one is poison (dead-lettered at once).
    fn from_invocation(invocation: &mut Invocation<KafkaTrigger>) -> Result<Self, FunctionError> {
        let event = &invocation.event;
        let record = event.record()?;
        let decoder = event.avro.as_ref().ok_or_else(|| {
            FunctionError::poison(
                "an `Avro<T>` parameter needs `avro_schema` or `schema_registry_url` on the trigger",
            )
        })?;
        decoder.decode(record).map(Avro)
    }
}
