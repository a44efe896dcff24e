//! `extensions.kafka`: producer options shared by every Kafka output of the host.

use bindings_core::{Extension, Section};
use bindings_spec::kafka;

use crate::value::option_fields;
use crate::{Acks, AuthenticationMode, AutoOffsetReset, Compression, Partitioner, Protocol};

option_fields! {
    /// Options for every Kafka output and trigger of the host (host.json `extensions.kafka`).
    ///
    /// Each is `None` unless host.json sets it; a function's own attribute options win over these, and
    /// the declared defaults apply when neither sets a value. Every field is an option of
    /// `bindings_spec::kafka` that has a host.json key (README's Kafka table lists them with their
    /// keys, ranges and defaults). String options may hold `%AppSetting%` references, resolved at
    /// start-up; the credentials (`username`, `password`, `ssl_key_password`) name their app setting
    /// (`Name` or `%Name%`). `Debug` hides the credentials.
    ///
    /// ```
    /// use bindings_core::HostConfig;
    /// use bindings_kafka::{Compression, KafkaOptions};
    ///
    /// let config = HostConfig::from_json_str(
    ///     r#"{ "version": "2.0", "extensions": { "kafka": { "lingerMs": 50, "compression": "gzip" } } }"#,
    /// )?;
    /// let kafka = config.extension::<KafkaOptions>();
    /// assert_eq!(kafka.linger_ms, Some(50));
    /// assert_eq!(kafka.compression, Some(Compression::Gzip));
    /// # Ok::<(), bindings_core::HostConfigError>(())
    /// ```
    #[derive(Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct KafkaOptions {
        pub max_message_bytes: Option<u32>,
        pub batch_size: Option<u32>,
        pub enable_idempotence: Option<bool>,
        pub message_timeout_ms: Option<u32>,
        pub request_timeout_ms: Option<u32>,
        pub max_retries: Option<u32>,
        pub linger_ms: Option<u32>,
        pub compression: Option<Compression>,
        pub acks: Option<Acks>,
        pub partitioner: Option<Partitioner>,
        pub protocol: Option<Protocol>,
        pub authentication_mode: Option<AuthenticationMode>,
        pub username: Option<String>,
        pub password: Option<String>,
        pub ssl_ca_location: Option<String>,
        pub ssl_certificate_location: Option<String>,
        pub ssl_key_location: Option<String>,
        pub ssl_key_password: Option<String>,
        pub metadata_max_age_ms: Option<u32>,
        pub socket_keepalive_enable: Option<bool>,
        pub librdkafka_debug: Option<String>,
        pub max_batch_size: Option<u32>,
        pub subscriber_interval_in_seconds: Option<u32>,
        pub auto_commit_interval_ms: Option<u32>,
        pub fetch_max_bytes: Option<u32>,
        pub max_partition_fetch_bytes: Option<u32>,
        pub max_poll_interval_ms: Option<u32>,
        pub session_timeout_ms: Option<u32>,
        pub auto_offset_reset: Option<AutoOffsetReset>,
        pub queued_min_messages: Option<u32>,
        pub queued_max_messages_kbytes: Option<u32>,
        pub reconnect_backoff_ms: Option<u32>,
        pub reconnect_backoff_max_ms: Option<u32>,
    }
}

impl Default for KafkaOptions {
    fn default() -> Self {
        Self::initial()
    }
}

impl Extension for KafkaOptions {
    const NAME: &'static str = "kafka";

    fn read(section: &mut Section<'_>) -> Self {
        section.ignore(
            &["executorChannelCapacity", "channelFullRetryIntervalInMs"],
            "the extension's channel to its executor; this trigger pauses a partition whose \
             records wait instead (see the README's Kafka trigger section)",
        );
        section.ignore(
            &["commitOnFailure"],
            "this trigger commits a record's offset only after it succeeded or went to the \
             dead-letter topic, never after a failure",
        );
        section.ignore(
            &["statisticsIntervalMs"],
            "librdkafka statistics are not collected by this library",
        );
        let mut out = Self::default();
        section.read_into(kafka::OPTIONS, &mut out);
        section.read_into(kafka::CONSUMER, &mut out);
        out
    }
}

bindings_core::register_extension!(KafkaOptions);

#[cfg(test)]
mod tests {
    use bindings_core::HostConfig;

    use super::*;

    #[test]
    fn reads_the_kafka_section() {
        let config = HostConfig::from_json_str(
            r#"{ "version": "2.0", "extensions": {
                "kafka": { "maxMessageBytes": 2000, "enableIdempotence": true, "compression": "Zstd", "acks": "all",
                           "protocol": "SASLSSL", "authenticationMode": "ScramSha512", "lingerMs": 10,
                           "password": "%KafkaPassword%", "partitioner": "murmur2_random", "maxBatchSize": 4,
                           "executorChannelCapacity": 2 } } }"#,
        )
        .unwrap();
        let k = config.extension::<KafkaOptions>();
        assert_eq!(k.max_message_bytes, Some(2000));
        assert_eq!(k.enable_idempotence, Some(true));
        assert_eq!(k.compression, Some(Compression::Zstd));
        assert_eq!(k.acks, Some(Acks::All));
        assert_eq!(k.protocol, Some(Protocol::SaslSsl));
        assert_eq!(k.authentication_mode, Some(AuthenticationMode::ScramSha512));
        assert_eq!(k.linger_ms, Some(10));
        assert_eq!(k.password.as_deref(), Some("%KafkaPassword%"));
        assert_eq!(k.partitioner, Some(Partitioner::Murmur2Random));
        assert_eq!(k.batch_size, None);
        assert_eq!(k.max_batch_size, Some(4));
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        assert!(
            config.warnings[0]
                .starts_with("$.extensions.kafka.executorChannelCapacity: the extension's channel"),
            "{:?}",
            config.warnings
        );
        assert_eq!(
            HostConfig::default().extension::<KafkaOptions>(),
            KafkaOptions::default()
        );
    }

    fn problems(json: &str) -> Vec<String> {
        HostConfig::from_json_str(json)
            .expect_err("invalid values are refused")
            .problems()
    }

    #[test]
    fn invalid_values_are_reported_with_their_paths() {
        let text = problems(
            r#"{ "version": "2.0", "extensions": {
                "kafka": { "protocol": "tls", "maxMessageBytes": 10, "enableIdempotence": "yes" } } }"#,
        );
        assert_eq!(
            text,
            [
                "$.extensions.kafka.maxMessageBytes: 10 is out of range; must be 1000 to 1000000000",
                "$.extensions.kafka.enableIdempotence: expected true or false, found \"yes\"",
                "$.extensions.kafka.protocol: \"tls\" is not a valid value; use one of: plaintext, ssl, sasl_plaintext, sasl_ssl",
            ]
        );
    }

    #[test]
    fn gssapi_and_oauthbearer_in_host_json_are_refused_with_the_reason() {
        for (mode, reason) in [("Gssapi", "Cyrus SASL"), ("OAuthBearer", "libcurl")] {
            let text = problems(&format!(
                r#"{{ "version": "2.0", "extensions": {{ "kafka": {{ "authenticationMode": "{mode}" }} }} }}"#
            ));
            assert_eq!(text.len(), 1, "{text:?}");
            assert!(
                text[0].starts_with("$.extensions.kafka.authenticationMode: ")
                    && text[0].contains(reason),
                "{text:?}"
            );
        }
    }

    /// Every option with a host.json key is read into its field, whatever its kind: a count at its
    /// maximum, `true`, text and a credential as written, a choice in a loose spelling.
    #[test]
    fn every_host_json_key_of_the_table_is_read_by_its_kind() {
        use crate::value::{Fields as _, Raw};
        use bindings_spec::Kind;
        let mut keys = Vec::new();
        let mut expected = Vec::new();
        for option in kafka::OPTIONS.iter().chain(kafka::CONSUMER) {
            let Some(json) = option.json else { continue };
            let (value, raw) = match option.kind {
                Kind::Count { max, .. } => (max.to_string(), Raw::Count(max)),
                Kind::Bool { .. } => ("true".to_owned(), Raw::Flag(true)),
                Kind::Choice { .. } => {
                    let last = option.choices().len() - 1;
                    let loose = option.choices()[last]
                        .to_ascii_uppercase()
                        .replace('_', "-");
                    (format!("\"{loose}\""), Raw::Choice(last))
                }
                _ => (
                    format!("\"%{json}Setting%\""),
                    Raw::Text(format!("%{json}Setting%")),
                ),
            };
            keys.push(format!("\"{json}\": {value}"));
            expected.push((option, raw));
        }
        let config = HostConfig::from_json_str(&format!(
            r#"{{ "version": "2.0", "extensions": {{ "kafka": {{ {} }} }} }}"#,
            keys.join(", ")
        ))
        .unwrap();
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let kafka = config.extension::<KafkaOptions>();
        for (option, raw) in expected {
            assert_eq!(kafka.get(option), Some(raw), "{}", option.rust);
        }
        assert_eq!(kafka.protocol, Some(Protocol::SaslSsl));
        assert_eq!(kafka.socket_keepalive_enable, Some(true));
        assert_eq!(kafka.request_timeout_ms, Some(900_000));
        assert_eq!(
            kafka.librdkafka_debug.as_deref(),
            Some("%libkafkaDebugSetting%")
        );
    }

    #[test]
    fn debug_hides_the_credentials() {
        let options = KafkaOptions {
            password: Some("hunter2".into()),
            ssl_key_password: Some("k3y".into()),
            username: Some("%User%".into()),
            ssl_ca_location: Some("ca.pem".into()),
            ..KafkaOptions::default()
        };
        let debug = format!("{options:?}");
        for secret in ["hunter2", "k3y", "User"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("username: Some(\"***\")"), "{debug}");
        assert!(debug.contains("ca.pem"), "{debug}");
    }
}
