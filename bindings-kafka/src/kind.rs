//! What a function may return into `#[kafka_output]`: every `IntoItems<KafkaOutput>`, in the one
//! module that names both the output and the values (so neither depends on the other).

use bindings_core::{Bytes, FunctionError, IntoItems, Json};
use serde::Serialize;

use crate::deliver::KafkaOutput;
use crate::record::{IntoValue, KafkaEvent, ProducerRecord, parse_event_json, value_record};
use crate::serialize::{Avro, Protobuf};

impl<V: IntoValue> IntoItems<KafkaOutput> for KafkaEvent<V> {
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        items.push(ProducerRecord {
            key: self.key,
            value: Some(self.value.into_value()?),
            headers: self.headers,
            partition: self.partition,
            timestamp: self.timestamp,
            avro: None,
            avro_key: self.avro_key,
        });
        Ok(())
    }
}

impl IntoItems<KafkaOutput> for String {
    /// Text, or the extension's JSON-string event form (see [`parse_event_json`]).
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        items.push(match parse_event_json(&self)? {
            Some(record) => record,
            None => value_record(self.into_bytes()),
        });
        Ok(())
    }
}

impl IntoItems<KafkaOutput> for &'static str {
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        self.to_owned().into_items(items)
    }
}

impl IntoItems<KafkaOutput> for Vec<u8> {
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        items.push(value_record(self));
        Ok(())
    }
}

impl IntoItems<KafkaOutput> for Bytes {
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        items.push(value_record(self.to_vec()));
        Ok(())
    }
}

impl<T: Serialize> IntoItems<KafkaOutput> for Json<T> {
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        items.push(value_record(self.into_value()?));
        Ok(())
    }
}

impl<T: Serialize> IntoItems<KafkaOutput> for Avro<T> {
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        let value = apache_avro::to_value(&self.0).map_err(|e| {
            FunctionError::poison(format!(
                "cannot turn `{}` into an Avro value: {e}",
                std::any::type_name::<T>()
            ))
        })?;
        items.push(ProducerRecord {
            avro: Some(value),
            ..ProducerRecord::default()
        });
        Ok(())
    }
}

impl<M: prost::Message> IntoItems<KafkaOutput> for Protobuf<M> {
    fn into_items(self, items: &mut Vec<ProducerRecord>) -> Result<(), FunctionError> {
        items.push(ProducerRecord {
            value: Some(self.0.encode_to_vec()),
            ..ProducerRecord::default()
        });
        Ok(())
    }
}
