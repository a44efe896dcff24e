//! What a Kafka-triggered function receives: [`KafkaRecord`], one record with its metadata, and the
//! binding data it offers other bindings.

use std::sync::Arc;

use base64::Engine as _;
use bindings_core::{BindingData, Bytes, FunctionError, Payload};
use serde_json::{Value, json};

use super::avro::AvroDecoder;

/// One record read from a topic. Bind it as a parameter to get the value with its key, headers and
/// position; `Vec<KafkaRecord>` receives a batch.
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaRecord {
    /// The topic it was read from.
    pub topic: Arc<str>,
    /// Its partition.
    pub partition: i32,
    /// Its offset in the partition.
    pub offset: i64,
    /// The key, if it has one.
    pub key: Option<Bytes>,
    /// The value (`None`: a null value, a tombstone).
    pub value: Option<Bytes>,
    /// The headers, in order; values may be binary or null.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Milliseconds since the Unix epoch, as the broker stored it (`None` if it has none).
    pub timestamp: Option<i64>,
}

impl std::fmt::Debug for KafkaRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaRecord")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("offset", &self.offset)
            .field("key_len", &self.key.as_ref().map(Bytes::len))
            .field("value_len", &self.value.as_ref().map(Bytes::len))
            .field("headers", &self.headers.len())
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

impl KafkaRecord {
    /// The value as UTF-8 text, if it has one and it is text.
    pub fn text(&self) -> Option<&str> {
        self.value
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The key as UTF-8 text, if it has one and it is text.
    pub fn key_text(&self) -> Option<&str> {
        self.key
            .as_deref()
            .and_then(|k| std::str::from_utf8(k).ok())
    }

    /// The value of the first header named `name` (`Some(None)`: present with a null value).
    pub fn header(&self, name: &str) -> Option<Option<&[u8]>> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_deref())
    }

    /// `<partition>:<offset>`, as logs and the dead-letter headers name a record.
    pub fn position(&self) -> String {
        format!("{}:{}", self.partition, self.offset)
    }

    /// The record's fields as JSON, under Azure's binding-data names.
    fn binding_values(&self) -> [(&'static str, Value); 6] {
        let headers: Vec<Value> = self
            .headers
            .iter()
            .map(|(key, value)| {
                let value = value
                    .as_deref()
                    .map(|v| base64::engine::general_purpose::STANDARD.encode(v));
                json!({ "Key": key, "Value": value })
            })
            .collect();
        [
            ("Key", self.key_text().map_or(Value::Null, Value::from)),
            ("Partition", self.partition.into()),
            ("Offset", self.offset.into()),
            ("Timestamp", self.timestamp.map_or(Value::Null, rfc3339)),
            ("Topic", Value::from(&*self.topic)),
            ("Headers", Value::Array(headers)),
        ]
    }
}

fn rfc3339(millis: i64) -> Value {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::from)
}

/// The binding data of one record (`Key`, `Partition`, `Offset`, `Timestamp`, `Topic`, `Headers`),
/// or of a batch (the same names with `Array`, each a list in the batch's order). A key that is not
/// UTF-8 text, and a missing timestamp, are `null`; header values are base64, as Azure's binding
/// data writes bytes.
pub(crate) fn binding_data(records: &[KafkaRecord], batch: bool) -> BindingData {
    let mut data = BindingData::new();
    match records {
        [record] if !batch => {
            for (name, value) in record.binding_values() {
                data.insert(name, value);
            }
        }
        many => {
            let mut columns: Vec<(&'static str, Vec<Value>)> = Vec::new();
            for record in many {
                for (i, (name, value)) in record.binding_values().into_iter().enumerate() {
                    if columns.len() <= i {
                        columns.push((name, Vec::with_capacity(many.len())));
                    }
                    columns[i].1.push(value);
                }
            }
            for (name, values) in columns {
                data.insert(format!("{name}Array"), Value::Array(values));
            }
        }
    }
    data
}

/// The Kafka trigger's event: one record, or (for a function that takes `Vec<KafkaRecord>`) a batch.
#[derive(Debug, Clone)]
pub struct KafkaTriggerEvent {
    pub(crate) records: Vec<KafkaRecord>,
    batch: bool,
    /// The trigger's Avro decoder, for `Avro<T>` parameters.
    pub(crate) avro: Option<Arc<AvroDecoder>>,
}

impl KafkaTriggerEvent {
    /// One record.
    pub fn single(record: KafkaRecord) -> Self {
        Self::new(vec![record], false, None)
    }

    /// A batch.
    pub fn batch(records: Vec<KafkaRecord>) -> Self {
        Self::new(records, true, None)
    }

    pub(crate) fn new(
        records: Vec<KafkaRecord>,
        batch: bool,
        avro: Option<Arc<AvroDecoder>>,
    ) -> Self {
        Self {
            records,
            batch,
            avro,
        }
    }

    /// The record of a single-record event.
    pub fn record(&self) -> Result<&KafkaRecord, FunctionError> {
        match self.records.as_slice() {
            [record] if !self.batch => Ok(record),
            _ => Err(FunctionError::retry(
                "this function receives a batch; bind `Vec<KafkaRecord>` and read each record from it",
            )),
        }
    }

    /// The records, in offset order per partition.
    pub fn records(&self) -> &[KafkaRecord] {
        &self.records
    }
}

impl Payload for KafkaTriggerEvent {
    fn payload(&self) -> Result<&Bytes, FunctionError> {
        let record = self.record()?;
        record.value.as_ref().ok_or_else(|| {
            FunctionError::poison(format!(
                "record {} of `{}` has a null value (a tombstone); bind `KafkaRecord` to receive \
                 records without a value",
                record.position(),
                record.topic
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(offset: i64, key: Option<&str>, value: &str) -> KafkaRecord {
        KafkaRecord {
            topic: "orders".into(),
            partition: 2,
            offset,
            key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
            value: Some(Bytes::copy_from_slice(value.as_bytes())),
            headers: vec![("trace".into(), Some(Bytes::from_static(&[0, 1])))],
            timestamp: Some(0),
        }
    }

    #[test]
    fn a_record_offers_azure_s_names() {
        let data = binding_data(&[record(7, Some("k-1"), "v")], false);
        assert_eq!(data.get("key"), Some(&json!("k-1")));
        assert_eq!(data.get("Partition"), Some(&json!(2)));
        assert_eq!(data.get("Offset"), Some(&json!(7)));
        assert_eq!(data.get("Topic"), Some(&json!("orders")));
        assert_eq!(data.get("Timestamp"), Some(&json!("1970-01-01T00:00:00Z")));
        assert_eq!(
            data.get("Headers"),
            Some(&json!([{ "Key": "trace", "Value": "AAE=" }]))
        );
    }

    #[test]
    fn a_batch_offers_arrays_in_order() {
        let data = binding_data(&[record(1, Some("a"), "x"), record(2, None, "y")], true);
        assert_eq!(data.get("KeyArray"), Some(&json!(["a", null])));
        assert_eq!(data.get("OffsetArray"), Some(&json!([1, 2])));
        assert_eq!(data.get("PartitionArray"), Some(&json!([2, 2])));
        assert_eq!(data.get("Key"), None);
    }

    #[test]
    fn a_tombstone_has_no_payload_and_says_what_to_bind() {
        let mut tombstone = record(3, None, "");
        tombstone.value = None;
        let err = KafkaTriggerEvent::single(tombstone).payload().unwrap_err();
        assert!(err.is_poison());
        assert!(err.to_string().contains("record 2:3 of `orders`"), "{err}");
        assert!(
            KafkaTriggerEvent::batch(vec![record(1, None, "x")])
                .payload()
                .is_err()
        );
    }
}
