//! What a function can send to Kafka: plain values, `KafkaEvent`s with key, headers, partition and
//! timestamp, and the Azure extension's JSON-string event form.

use bindings_core::{Bytes, FunctionError, Json};
use serde::Serialize;
use serde_json::{Map, Value};

/// One record ready to produce.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProducerRecord {
    /// The key (`None`: the output's `key` template, if any).
    pub key: Option<Vec<u8>>,
    /// The value (`None`: a null value, a tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers, in order; values may be binary or null.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// An explicit partition (`None`: the partitioner chooses).
    pub partition: Option<i32>,
    /// Milliseconds since the Unix epoch (`None`: now).
    pub timestamp: Option<i64>,
    /// An Avro value, encoded with the output's `avro_schema` when sent (instead of `value`).
    pub avro: Option<apache_avro::types::Value>,
    /// An Avro key, encoded with the output's `avro_key_schema` when sent (instead of `key`).
    pub avro_key: Option<apache_avro::types::Value>,
}

/// Bytes a value becomes: text, bytes, or JSON.
pub trait IntoValue {
    /// The value's bytes.
    fn into_value(self) -> Result<Vec<u8>, FunctionError>;
}

impl IntoValue for String {
    fn into_value(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self.into_bytes())
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self.as_bytes().to_vec())
    }
}

impl IntoValue for Vec<u8> {
    fn into_value(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self)
    }
}

impl IntoValue for Bytes {
    fn into_value(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self.to_vec())
    }
}

impl<T: Serialize> IntoValue for Json<T> {
    fn into_value(self) -> Result<Vec<u8>, FunctionError> {
        serde_json::to_vec(&self.0).map_err(|e| {
            FunctionError::with_source(
                format!("cannot serialize `{}` as JSON", std::any::type_name::<T>()),
                e,
            )
            .into_poison()
        })
    }
}

/// Key bytes: text, bytes, or a big-endian integer (as Java's serializers write them).
pub trait IntoKey {
    /// The key's bytes.
    fn into_key(self) -> Vec<u8>;
}

impl IntoKey for &str {
    fn into_key(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl IntoKey for String {
    fn into_key(self) -> Vec<u8> {
        self.into_bytes()
    }
}

impl IntoKey for Vec<u8> {
    fn into_key(self) -> Vec<u8> {
        self
    }
}

impl IntoKey for &[u8] {
    fn into_key(self) -> Vec<u8> {
        self.to_vec()
    }
}

impl IntoKey for i32 {
    fn into_key(self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
}

impl IntoKey for i64 {
    fn into_key(self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
}

/// A value with a key, headers, and optionally a partition and timestamp.
///
/// ```
/// use bindings_kafka::KafkaEvent;
///
/// let event = KafkaEvent::new("order placed")
///     .key("o-1")
///     .header("test", "rust")
///     .header("trace", vec![0u8, 1, 2])
///     .partition(0);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct KafkaEvent<V> {
    pub(crate) value: V,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) avro_key: Option<apache_avro::types::Value>,
    pub(crate) headers: Vec<(String, Option<Vec<u8>>)>,
    pub(crate) partition: Option<i32>,
    pub(crate) timestamp: Option<i64>,
}

impl<V> KafkaEvent<V> {
    /// An event with `value`.
    pub fn new(value: V) -> Self {
        Self {
            value,
            key: None,
            avro_key: None,
            headers: Vec::new(),
            partition: None,
            timestamp: None,
        }
    }

    /// Sets the key (wins over the output's `key` template).
    pub fn key(mut self, key: impl IntoKey) -> Self {
        self.key = Some(key.into_key());
        self
    }

    /// Sets an Avro key, encoded with the output's `avro_key_schema` (Confluent wire format).
    pub fn avro_key(mut self, key: &impl Serialize) -> Result<Self, FunctionError> {
        let value = apache_avro::to_value(key).map_err(|e| {
            FunctionError::poison(format!("cannot turn the key into an Avro value: {e}"))
        })?;
        self.avro_key = Some(value);
        Ok(self)
    }

    /// Adds a header; values may be text or bytes.
    pub fn header(mut self, name: impl Into<String>, value: impl IntoKey) -> Self {
        self.headers.push((name.into(), Some(value.into_key())));
        self
    }

    /// Adds a header with a null value.
    pub fn null_header(mut self, name: impl Into<String>) -> Self {
        self.headers.push((name.into(), None));
        self
    }

    /// Sends to this partition instead of the partitioner's choice.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the timestamp, in milliseconds since the Unix epoch.
    pub fn timestamp(mut self, millis: i64) -> Self {
        self.timestamp = Some(millis);
        self
    }
}

/// A record holding only `value`.
pub(crate) fn value_record(value: Vec<u8>) -> ProducerRecord {
    ProducerRecord {
        value: Some(value),
        ..ProducerRecord::default()
    }
}

/// The fields that make a JSON object the Azure Kafka extension's JSON-string event form: all six
/// must be there.
const EVENT_FIELDS: [&str; 6] = [
    "Offset",
    "Partition",
    "Topic",
    "Timestamp",
    "Value",
    "Headers",
];
/// The one optional field of the form.
const EVENT_KEY: &str = "Key";

/// Reads the Azure extension's JSON-string event form, for code ported from other languages:
/// `{"Offset":364,"Partition":0,"Topic":"t","Timestamp":"2022-04-09T03:20:06.591Z","Value":"v",
/// "Headers":[{"Key":"test","Value":"x"}]}`, optionally with `"Key"`.
///
/// As in the extension and the seed ("offset, partition and timestamp are generated at runtime;
/// only value and headers can be set"), the form is recognised only for a JSON object holding all
/// six fields `Offset`, `Partition`, `Topic`, `Timestamp`, `Value` and `Headers` (and at most `Key`
/// besides), and then only `Value`, `Key` and `Headers` are used: the partitioner picks the
/// partition, the timestamp is the time of produce and the output's topic wins. Any other text,
/// JSON or not, is not an event (`Ok(None)`: send it as it is). A recognised event with a malformed
/// field is an error naming the field, where the extension would silently send the raw string.
/// Explicit partitions and timestamps are for [`KafkaEvent`].
///
/// ```
/// use bindings_kafka::parse_event_json;
///
/// let event = r#"{"Offset":364,"Partition":0,"Topic":"t","Timestamp":"2022-04-09T03:20:06.591Z",
///                 "Value":"hello","Headers":[{"Key":"test","Value":"rust"}]}"#;
/// let record = parse_event_json(event).unwrap().unwrap();
/// assert_eq!(record.value.as_deref(), Some(&b"hello"[..]));
/// assert_eq!((record.partition, record.timestamp), (None, None));
/// // Not all six fields: the text is the value, as it is.
/// assert!(parse_event_json(r#"{"Key":"a","Value":"b"}"#).unwrap().is_none());
/// ```
pub fn parse_event_json(text: &str) -> Result<Option<ProducerRecord>, FunctionError> {
    if !text.trim_start().starts_with('{') {
        return Ok(None);
    }
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let is_event = EVENT_FIELDS.iter().all(|field| object.contains_key(*field))
        && object
            .keys()
            .all(|k| k == EVENT_KEY || EVENT_FIELDS.contains(&k.as_str()));
    if !is_event {
        return Ok(None);
    }
    let bad = |field: &str, expected: &str| {
        FunctionError::poison(format!(
            "the JSON-string Kafka event has an invalid \"{field}\": expected {expected}"
        ))
    };
    let value = match &object["Value"] {
        Value::String(s) => Some(s.clone().into_bytes()),
        Value::Null => None,
        _ => return Err(bad("Value", "a string or null")),
    };
    let key = match object.get(EVENT_KEY) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone().into_bytes()),
        Some(_) => return Err(bad(EVENT_KEY, "a string or null")),
    };
    // Generated at run time, so ignored; still checked, so that a mistake is not hidden.
    for (field, fits, expected) in [
        (
            "Offset",
            Value::is_i64 as fn(&Value) -> bool,
            "a whole number",
        ),
        ("Partition", Value::is_i64, "a whole number"),
        ("Topic", Value::is_string, "a string"),
        ("Timestamp", Value::is_string, "a time string"),
    ] {
        let found = &object[field];
        if !(found.is_null() || fits(found)) {
            return Err(bad(field, expected));
        }
    }
    let headers = match &object["Headers"] {
        Value::Null => Vec::new(),
        Value::Array(headers) => headers
            .iter()
            .enumerate()
            .map(|(i, header)| {
                header_of(header).ok_or_else(|| {
                    bad(
                        &format!("Headers[{i}]"),
                        "{\"Key\": string, \"Value\": string or null}",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("Headers", "an array of {\"Key\", \"Value\"} objects")),
    };
    Ok(Some(ProducerRecord {
        key,
        value,
        headers,
        partition: None,
        timestamp: None,
        avro: None,
        avro_key: None,
    }))
}

fn header_of(header: &Value) -> Option<(String, Option<Vec<u8>>)> {
    let object: &Map<String, Value> = header.as_object()?;
    if object.keys().any(|k| k != "Key" && k != "Value") {
        return None;
    }
    let key = object.get("Key")?.as_str()?.to_owned();
    let value = match object.get("Value") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone().into_bytes()),
        Some(_) => return None,
    };
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KafkaOutput;
    use bindings_core::IntoItems;

    fn items(value: impl IntoItems<KafkaOutput>) -> Result<Vec<ProducerRecord>, FunctionError> {
        let mut items = Vec::new();
        value.into_items(&mut items).map(|()| items)
    }

    #[test]
    fn plain_values_become_one_record_each() {
        assert_eq!(
            items("one".to_owned()).unwrap()[0].value.as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(items("two").unwrap()[0].value.as_deref(), Some(&b"two"[..]));
        assert_eq!(
            items(vec![1u8, 2]).unwrap()[0].value.as_deref(),
            Some(&[1u8, 2][..])
        );
        assert_eq!(
            items(Bytes::from_static(b"b")).unwrap()[0].value.as_deref(),
            Some(&b"b"[..])
        );
        let json = items(Json(serde_json::json!({"id": 1}))).unwrap();
        assert_eq!(json[0].value.as_deref(), Some(&br#"{"id":1}"#[..]));
        let many = items(vec!["one", "two"]).unwrap();
        assert_eq!(many.len(), 2);
        assert!(items(None::<String>).unwrap().is_empty());
        assert!(items(Err::<String, _>(FunctionError::retry("no"))).is_err());
        assert!(
            items("{\"not\": \"an event\"}").unwrap()[0]
                .headers
                .is_empty()
        );
    }

    #[test]
    fn events_carry_key_headers_partition_and_timestamp() {
        let event = KafkaEvent::new("v")
            .key(7i32)
            .header("test", "rust")
            .header("bin", vec![0u8, 255])
            .null_header("n")
            .partition(2)
            .timestamp(1_000);
        let record = items(event).unwrap().remove(0);
        assert_eq!(record.key, Some(vec![0, 0, 0, 7]));
        assert_eq!(
            record.headers,
            [
                ("test".to_owned(), Some(b"rust".to_vec())),
                ("bin".to_owned(), Some(vec![0, 255])),
                ("n".to_owned(), None)
            ]
        );
        assert_eq!((record.partition, record.timestamp), (Some(2), Some(1_000)));
    }

    /// The seed's headers sample, as its samples write it.
    const SEED_EVENT: &str = r#"{"Offset":364,"Partition":0,"Topic":"kafkaeventhubtest1","Timestamp":"2022-04-09T03:20:06.591Z","Value":"hello","Headers":[{"Key":"test","Value":"dotnet"}]}"#;

    /// `SEED_EVENT` with `field` replaced by `value` (or removed, for `None`).
    fn seed_event_with(field: &str, value: Option<Value>) -> String {
        let mut event: Map<String, Value> = serde_json::from_str(SEED_EVENT).unwrap();
        match value {
            Some(value) => event.insert(field.to_owned(), value),
            None => event.remove(field),
        };
        Value::Object(event).to_string()
    }

    #[test]
    fn the_extension_s_json_string_form_uses_only_value_key_and_headers() {
        let record = parse_event_json(SEED_EVENT).unwrap().unwrap();
        assert_eq!(record.value.as_deref(), Some(&b"hello"[..]));
        assert_eq!(record.key, None);
        assert_eq!(
            (record.partition, record.timestamp),
            (None, None),
            "offset, partition and timestamp are generated at run time"
        );
        assert_eq!(
            record.headers,
            [("test".to_owned(), Some(b"dotnet".to_vec()))]
        );
        let keyed = parse_event_json(&seed_event_with("Key", Some("k".into())))
            .unwrap()
            .unwrap();
        assert_eq!(keyed.key.as_deref(), Some(&b"k"[..]));
    }

    #[test]
    fn other_json_is_just_text() {
        let mut texts = vec![
            r#"{"Key":"a","Value":"b"}"#.to_owned(),
            r#"{"Value":5}"#.to_owned(),
            r#"{"value":"lower-case"}"#.to_owned(),
            r#"["Value"]"#.to_owned(),
            "plain".to_owned(),
            "{broken".to_owned(),
            seed_event_with("Extra", Some(1.into())),
        ];
        texts.extend(
            EVENT_FIELDS
                .iter()
                .map(|field| seed_event_with(field, None)),
        );
        for text in texts {
            assert_eq!(parse_event_json(&text).unwrap(), None, "{text}");
            let record = items(text.clone()).unwrap().remove(0);
            assert_eq!(
                record.value.as_deref(),
                Some(text.as_bytes()),
                "sent as it is"
            );
        }
    }

    #[test]
    fn each_malformed_field_is_named() {
        for (field, value) in [
            ("Value", Value::from(5)),
            ("Key", 1.into()),
            ("Partition", "0".into()),
            ("Offset", "x".into()),
            ("Topic", 1.into()),
            ("Timestamp", 1.into()),
            ("Headers", serde_json::json!({})),
            ("Headers", serde_json::json!([{"Key": "a", "Value": 1}])),
            ("Headers", serde_json::json!([{"Value": "x"}])),
        ] {
            let text = seed_event_with(field, Some(value));
            let err = parse_event_json(&text).unwrap_err();
            assert!(
                err.to_string().contains(&format!("\"{field}")),
                "{text}: {err}"
            );
            assert!(
                err.is_poison(),
                "a malformed event will not get better on retry"
            );
        }
    }
}
