//! The Kafka bindings' errors.

use std::time::Duration;

use bindings_core::FunctionError;
use rdkafka::error::KafkaError;

/// What went wrong creating a producer, talking to the schema registry, encoding or delivering.
/// (The trigger's own failures are its listener's errors and invocation failures.)
/// Messages name the brokers, topic, subject or option involved, never a credential or a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// librdkafka refused the producer's configuration.
    #[error(
        "cannot create a Kafka producer for brokers `{brokers}` ({})",
        creation_hint(source)
    )]
    Producer {
        /// The brokers.
        brokers: String,
        /// Why.
        #[source]
        source: KafkaError,
    },
    /// The schema registry's CA (`https_ca_location`/`https_ca_pem`) holds no certificate.
    #[error("`https_ca_location`/`https_ca_pem` holds no PEM certificate")]
    RegistryCa,
    /// The schema registry client could not be built.
    #[error("cannot create the schema registry client")]
    RegistryClient {
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The schema registry gave no answer within the request timeout.
    #[error(
        "schema registry {registry}: no answer within {} s (the registry request timeout); check \
         `schema_registry_url` and that the registry is up",
        timeout.as_secs()
    )]
    RegistryTimeout {
        /// The registry's URL, without user information.
        registry: String,
        /// The bound.
        timeout: Duration,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The schema registry could not be reached.
    #[error("schema registry {registry}: check `schema_registry_url` and that the registry is up")]
    RegistryUnreachable {
        /// The registry's URL, without user information.
        registry: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The schema registry refused to register a schema, or to give one.
    #[error("schema registry {registry} refused `{subject}`: {status}: {detail}")]
    RegistryRefused {
        /// The registry's URL, without user information.
        registry: String,
        /// The subject (`<topic>-value`) or the schema id asked about.
        subject: String,
        /// Its answer's status.
        status: reqwest::StatusCode,
        /// The start of its answer.
        detail: String,
    },
    /// The schema registry's answer is not a schema id, or not a schema.
    #[error("schema registry {registry}: unexpected answer for `{subject}`")]
    RegistryAnswer {
        /// The registry's URL, without user information.
        registry: String,
        /// The subject.
        subject: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The schema registry's schema for an id is not a valid Avro schema.
    #[error("schema registry {registry}: schema id {id} is not a valid Avro schema")]
    RegistrySchema {
        /// The registry's URL, without user information.
        registry: String,
        /// The id.
        id: u32,
        /// Why.
        #[source]
        source: apache_avro::Error,
    },
    /// The schema registry failed while encoding for `topic`.
    #[error("Kafka: topic `{topic}`")]
    Registry {
        /// The topic.
        topic: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// An Avro value or key but no schema for it.
    #[error("Kafka: an Avro {part} for topic `{topic}`, but the output has no `{option}`")]
    NoAvroSchema {
        /// The topic.
        topic: String,
        /// `value` or `key`.
        part: &'static str,
        /// The option that would hold the schema.
        option: &'static str,
    },
    /// An Avro value or key does not fit its schema, or cannot be encoded.
    #[error("Kafka: topic `{topic}`, Avro {part}: {problem}")]
    Avro {
        /// The topic.
        topic: String,
        /// `value` or `key`.
        part: &'static str,
        /// What failed: `the value does not fit the schema`, `Avro encoding failed`.
        problem: &'static str,
        /// Why.
        #[source]
        source: apache_avro::Error,
    },
    /// A message is larger than `max_message_bytes`.
    #[error(
        "Kafka: a message to topic `{topic}` is too large: {size} bytes of key, value and headers \
         (plus overhead) exceed max_message_bytes = {max_message_bytes}; raise max_message_bytes \
         (and the broker's and topic's limits) or send smaller messages"
    )]
    TooLarge {
        /// The topic.
        topic: String,
        /// Key, value and header bytes.
        size: usize,
        /// The limit.
        max_message_bytes: u32,
    },
    /// The producer's local queue stayed full.
    #[error(
        "Kafka: the producer's local queue for topic `{topic}` stayed full for {patience:?}; the \
         brokers are slower than the functions produce"
    )]
    QueueFull {
        /// The topic.
        topic: String,
        /// How long it waited.
        patience: Duration,
    },
    /// librdkafka refused a message.
    #[error("Kafka: cannot send to topic `{topic}`")]
    Send {
        /// The topic.
        topic: String,
        /// Why.
        #[source]
        source: KafkaError,
    },
    /// Some messages of an invocation were not delivered.
    #[error(
        "Kafka: {} of {sent} message(s) to topic `{topic}` were not delivered: {}",
        failures.len(),
        failures.join("; ")
    )]
    Undelivered {
        /// The topic.
        topic: String,
        /// How many were sent.
        sent: usize,
        /// Each failure: its partition and Kafka error.
        failures: Vec<String>,
    },
    /// Messages were still unsettled when the shutdown flush ended.
    #[error(
        "Kafka: not delivered before the shutdown timeout: {}",
        left.iter().map(|(brokers, n)| format!("{n} message(s) to brokers `{brokers}`")).collect::<Vec<_>>().join(", ")
    )]
    Shutdown {
        /// Per producer, its brokers and the messages left.
        left: Vec<(String, usize)>,
    },
}

impl Error {
    /// Whether retrying the invocation cannot help (the input is poisoned at once).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::NoAvroSchema { .. } | Self::Avro { .. } | Self::TooLarge { .. }
        )
    }

    /// This error as an invocation's failure: retried, or poisoned if [permanent](Self::is_permanent).
    pub(crate) fn into_function_error(self) -> FunctionError {
        let permanent = self.is_permanent();
        let err = FunctionError::from(self);
        if permanent { err.into_poison() } else { err }
    }

    /// The message and every cause, joined by `: ` (for `build()` problems, which are text).
    pub(crate) fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            text.push_str(&format!(": {err}"));
            cause = err.source();
        }
        text
    }
}

/// What to check when librdkafka refuses to create a producer, from the property it names.
fn creation_hint(error: &KafkaError) -> &'static str {
    let error = error.to_string();
    if error.contains("ssl.key") {
        "check `ssl_key_location` (or `ssl_key_pem`) and `ssl_key_password`: the key must be \
         PEM, match the certificate, and open with that password"
    } else if error.contains("ssl.certificate") {
        "check `ssl_certificate_location` (or `ssl_certificate_pem`): a PEM certificate"
    } else if error.contains("ssl.ca") {
        "check `ssl_ca_location` (or `ssl_ca_pem`): the PEM certificate of the CA that signed \
         the brokers' certificates"
    } else {
        "check the output's options and host.json's extensions.kafka"
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::error::RDKafkaErrorCode;

    use super::*;

    #[test]
    fn a_refused_producer_says_which_options_to_check() {
        for (error, option) in [
            (
                "ssl.key.location failed: error:0A080009:SSL routines::PEM lib",
                "`ssl_key_password`",
            ),
            (
                "ssl.certificate.location failed",
                "`ssl_certificate_location`",
            ),
            ("ssl.ca.location failed", "`ssl_ca_location`"),
            ("No such configuration property", "extensions.kafka"),
        ] {
            let err = Error::Producer {
                brokers: "b:9092".into(),
                source: KafkaError::ClientCreation(error.into()),
            };
            let text = err.chain();
            assert!(text.contains(option), "{text}");
            assert!(
                text.contains("brokers `b:9092`") && text.ends_with(error),
                "{text}"
            );
        }
    }

    #[test]
    fn failures_keep_their_source_and_disposition() {
        let send = Error::Send {
            topic: "t".into(),
            source: KafkaError::MessageProduction(RDKafkaErrorCode::UnknownTopic),
        };
        assert!(std::error::Error::source(&send).is_some());
        let err = send.into_function_error();
        assert!(!err.is_poison());
        assert!(
            err.to_string()
                .starts_with("Kafka: cannot send to topic `t`: "),
            "{err}"
        );
        let large = Error::TooLarge {
            topic: "t".into(),
            size: 10,
            max_message_bytes: 1,
        };
        assert!(large.into_function_error().is_poison());
    }
}
