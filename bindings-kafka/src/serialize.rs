//! Values in binary formats: Avro (Confluent wire format) and protobuf.

use crate::{Error, ProducerRecord};
use apache_avro::Schema;
use apache_avro::types::Value as AvroValue;

/// The schema id written when no schema registry assigns one.
pub const DEFAULT_SCHEMA_ID: u32 = 1;

/// A value serialized with the output's `avro_schema`, in Confluent's wire format: a zero byte, the
/// schema id (4 bytes, big-endian), then the Avro binary encoding.
///
/// ```
/// use bindings_kafka::Avro;
///
/// #[derive(serde::Serialize)]
/// struct Order { id: String, total: i64 }
///
/// let value = Avro(Order { id: "o-1".into(), total: 5 });
/// ```
#[derive(Debug, Clone)]
pub struct Avro<T>(pub T);

/// A protobuf message, sent as its encoded bytes.
///
/// ```
/// use bindings_kafka::Protobuf;
///
/// #[derive(Clone, PartialEq, prost::Message)]
/// struct Order {
///     #[prost(string, tag = "1")]
///     id: String,
/// }
///
/// let value = Protobuf(Order { id: "o-1".into() });
/// ```
#[derive(Debug, Clone)]
pub struct Protobuf<M>(pub M);

/// Encodes `value` (the `part` of a record to `topic`) with `schema` in Confluent's wire format.
pub(crate) fn confluent_avro(
    (topic, part): (&str, &'static str),
    schema: &Schema,
    schema_id: u32,
    value: AvroValue,
) -> Result<Vec<u8>, Error> {
    let failed = |problem| {
        move |source| Error::Avro {
            topic: topic.to_owned(),
            part,
            problem,
            source,
        }
    };
    let resolved = value
        .resolve(schema)
        .map_err(failed("the value does not fit the schema"))?;
    let datum =
        apache_avro::to_avro_datum(schema, resolved).map_err(failed("Avro encoding failed"))?;
    let mut bytes = Vec::with_capacity(5 + datum.len());
    bytes.push(0);
    bytes.extend_from_slice(&schema_id.to_be_bytes());
    bytes.extend_from_slice(&datum);
    Ok(bytes)
}

/// An output's Avro schemas and schema registry: encodes `Avro` values and keys in Confluent's wire
/// format before anything is sent.
#[derive(Debug)]
pub(crate) struct AvroEncoder {
    value_schema: Option<Schema>,
    key_schema: Option<Schema>,
    registry: Option<crate::registry::Registry>,
}

impl AvroEncoder {
    pub(crate) fn new(
        value_schema: Option<Schema>,
        key_schema: Option<Schema>,
        registry: Option<crate::registry::Registry>,
    ) -> Self {
        Self {
            value_schema,
            key_schema,
            registry,
        }
    }

    /// Encodes Avro values and keys with the output's schemas (before anything is sent, so a bad
    /// value fails the invocation without a partial send).
    pub(crate) async fn encode(
        &self,
        mut items: Vec<ProducerRecord>,
        topic: &str,
    ) -> Result<Vec<ProducerRecord>, Error> {
        for item in &mut items {
            if let Some(value) = item.avro.take() {
                item.value = Some(
                    self.avro(topic, "value", self.value_schema.as_ref(), value)
                        .await?,
                );
            }
            if let Some(key) = item.avro_key.take() {
                item.key = Some(
                    self.avro(topic, "key", self.key_schema.as_ref(), key)
                        .await?,
                );
            }
        }
        Ok(items)
    }

    /// One Avro value in Confluent's wire format; `part` is `value` or `key` (the registry subject's
    /// suffix).
    async fn avro(
        &self,
        topic: &str,
        part: &'static str,
        schema: Option<&Schema>,
        value: AvroValue,
    ) -> Result<Vec<u8>, Error> {
        let option = if part == "key" {
            "avro_key_schema"
        } else {
            "avro_schema"
        };
        let Some(schema) = schema else {
            return Err(Error::NoAvroSchema {
                topic: topic.to_owned(),
                part,
                option,
            });
        };
        let schema_id = match &self.registry {
            None => crate::DEFAULT_SCHEMA_ID,
            Some(registry) => registry
                .id(&format!("{topic}-{part}"), &schema.canonical_form())
                .await
                .map_err(|source| Error::Registry {
                    topic: topic.to_owned(),
                    source: Box::new(source),
                })?,
        };
        confluent_avro((topic, part), schema, schema_id, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindings_core::IntoItems;
    use serde::Serialize;

    const SCHEMA: &str = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"total","type":"long"}]}"#;

    #[derive(Serialize)]
    struct Order {
        id: String,
        total: i64,
    }

    #[test]
    fn avro_values_use_confluent_s_wire_format_and_decode_back() {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let mut items = Vec::new();
        Avro(Order {
            id: "o-1".into(),
            total: 42,
        })
        .into_items(&mut items)
        .unwrap();
        let bytes =
            confluent_avro(("t", "value"), &schema, 7, items.remove(0).avro.unwrap()).unwrap();
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 7]);
        let decoded = apache_avro::from_avro_datum(&schema, &mut &bytes[5..], None).unwrap();
        assert_eq!(
            decoded,
            AvroValue::Record(vec![
                ("id".into(), AvroValue::String("o-1".into())),
                ("total".into(), AvroValue::Long(42))
            ])
        );
    }

    #[test]
    fn a_value_that_does_not_fit_the_schema_is_an_error() {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let err = confluent_avro(("t", "value"), &schema, 1, AvroValue::String("x".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not fit the schema"), "{err}");
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct Ping {
        #[prost(string, tag = "1")]
        id: String,
        #[prost(int64, tag = "2")]
        count: i64,
    }

    #[test]
    fn protobuf_messages_are_their_encoded_bytes() {
        let mut items = Vec::new();
        Protobuf(Ping {
            id: "p".into(),
            count: 3,
        })
        .into_items(&mut items)
        .unwrap();
        let decoded = <Ping as prost::Message>::decode(items[0].value.as_deref().unwrap()).unwrap();
        assert_eq!(
            decoded,
            Ping {
                id: "p".into(),
                count: 3
            }
        );
    }
}
