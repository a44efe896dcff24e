//! Avro values of the records a trigger reads: Confluent's wire format (a zero byte, the writer
//! schema's id in 4 bytes, the Avro binary), decoded with the trigger's `avro_schema`, or with the
//! writer schema the schema registry has for that id (`avro_schema`, if also set, is then the
//! reader schema).

use std::sync::Arc;

use apache_avro::Schema;
use bindings_core::FunctionError;
use serde::de::DeserializeOwned;

use super::record::KafkaRecord;
use crate::registry::Registry;

/// A trigger's Avro schema and schema registry.
#[derive(Debug)]
pub(crate) struct AvroDecoder {
    schema: Option<Arc<Schema>>,
    registry: Option<Registry>,
}

/// The schema id of a value in Confluent's wire format.
fn schema_id(value: &[u8]) -> Option<u32> {
    match value {
        [0, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

impl AvroDecoder {
    pub(crate) fn new(schema: Option<Schema>, registry: Option<Registry>) -> Self {
        Self {
            schema: schema.map(Arc::new),
            registry,
        }
    }

    /// Reads from the registry the writer schemas of `records`' values not seen yet (an
    /// unreachable registry fails the attempt, which is retried).
    pub(crate) async fn prepare(&self, records: &[KafkaRecord]) -> Result<(), FunctionError> {
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        for record in records {
            if let Some(id) = record.value.as_deref().and_then(schema_id) {
                registry
                    .schema(id)
                    .await
                    .map_err(crate::Error::into_function_error)?;
            }
        }
        Ok(())
    }

    /// `record`'s value as a `T`. A value that is not Avro of the schema, or does not fit `T`, is
    /// poison: decoding it again cannot help.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        record: &KafkaRecord,
    ) -> Result<T, FunctionError> {
        let at = || format!("record {} of `{}`", record.position(), record.topic);
        let value = record.value.as_deref().ok_or_else(|| {
            FunctionError::poison(format!("{} has a null value (a tombstone), not Avro", at()))
        })?;
        let id = schema_id(value).ok_or_else(|| {
            FunctionError::poison(format!(
                "{}: the value is not in Confluent's Avro wire format (a zero byte, a 4-byte \
                 schema id, then the Avro binary)",
                at()
            ))
        })?;
        let writer = match (&self.registry, &self.schema) {
            (Some(registry), _) => registry.cached(id).ok_or_else(|| {
                FunctionError::retry(format!(
                    "{}: schema id {id} was not read from the registry",
                    at()
                ))
            })?,
            (None, Some(schema)) => Arc::clone(schema),
            (None, None) => {
                return Err(FunctionError::poison(
                    "the trigger has neither `avro_schema` nor `schema_registry_url`",
                ));
            }
        };
        let reader = self.registry.as_ref().and(self.schema.as_deref());
        let datum =
            apache_avro::from_avro_datum(&writer, &mut &value[5..], reader).map_err(|e| {
                FunctionError::with_source(
                    format!("{}: the value is not Avro of its schema", at()),
                    e,
                )
                .into_poison()
            })?;
        apache_avro::from_value::<T>(&datum).map_err(|e| {
            FunctionError::with_source(
                format!(
                    "{}: the Avro value does not fit `{}`",
                    at(),
                    std::any::type_name::<T>()
                ),
                e,
            )
            .into_poison()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str =
        r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}"#;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Order {
        id: String,
    }

    fn record(value: &[u8]) -> KafkaRecord {
        KafkaRecord {
            topic: Arc::from("orders"),
            partition: 0,
            offset: 3,
            key: None,
            value: Some(bindings_core::Bytes::copy_from_slice(value)),
            headers: Vec::new(),
            timestamp: None,
        }
    }

    #[test]
    fn decodes_the_wire_format_with_the_schema_and_refuses_other_bytes() {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let value = apache_avro::types::Value::Record(vec![(
            "id".into(),
            apache_avro::types::Value::String("o-1".into()),
        )]);
        let bytes =
            crate::serialize::confluent_avro(("orders", "value"), &schema, 9, value).unwrap();
        let decoder = AvroDecoder::new(Some(schema), None);
        let order: Order = decoder.decode(&record(&bytes)).unwrap();
        assert_eq!(order, Order { id: "o-1".into() });
        let err = decoder
            .decode::<Order>(&record(br#"{"id":1}"#))
            .unwrap_err();
        assert!(err.is_poison(), "{err}");
        assert!(
            err.to_string().contains(
                "record 0:3 of `orders`: the value is not in Confluent's Avro wire format"
            ),
            "{err}"
        );
        let truncated = decoder.decode::<Order>(&record(&bytes[..5])).unwrap_err();
        assert!(
            truncated.is_poison() && truncated.to_string().contains("is not Avro of its schema"),
            "{truncated}"
        );
    }
}
