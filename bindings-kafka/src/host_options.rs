//! `extensions.kafka`: producer options shared by every Kafka output of the host.

use std::fmt;

use bindings_core::{Extension, Section};

use crate::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};

/// Producer options for every Kafka output of the host (host.json `extensions.kafka`).
///
/// Each is `None` unless host.json sets it; a function's own attribute options win over these, and
/// the documented defaults apply when neither sets a value. String options may hold `%AppSetting%`
/// references, resolved at start-up; the credentials (`username`, `password`, `ssl_key_password`)
/// name their app setting (`Name` or `%Name%`). `Debug` hides the credentials.
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
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KafkaOptions {
    /// `message.max.bytes` in bytes, `1000..=1_000_000_000`. Default `1_000_000`.
    pub max_message_bytes: Option<u32>,
    /// `batch.num.messages`. Default 10000.
    pub batch_size: Option<u32>,
    /// `enable.idempotence`. Default false.
    pub enable_idempotence: Option<bool>,
    /// `message.timeout.ms` (0 = infinite). Default 300000.
    pub message_timeout_ms: Option<u32>,
    /// `request.timeout.ms`. Default 5000.
    pub request_timeout_ms: Option<u32>,
    /// `message.send.max.retries`. Default 2.
    pub max_retries: Option<u32>,
    /// `linger.ms`. Default 5.
    pub linger_ms: Option<u32>,
    /// `compression.type`. Default none.
    pub compression: Option<Compression>,
    /// `acks`. Default all.
    pub acks: Option<Acks>,
    /// `partitioner`. Default `consistent_random`.
    pub partitioner: Option<Partitioner>,
    /// `security.protocol`. Default plaintext.
    pub protocol: Option<Protocol>,
    /// `sasl.mechanism`. Default PLAIN.
    pub authentication_mode: Option<AuthenticationMode>,
    /// `sasl.username`: the app setting holding it (`Name` or `%Name%`), or `$ConnectionString`
    /// (Event Hubs).
    pub username: Option<String>,
    /// `sasl.password`: the app setting holding it (`Name` or `%Name%`).
    pub password: Option<String>,
    /// `ssl.ca.location`.
    pub ssl_ca_location: Option<String>,
    /// `ssl.certificate.location`.
    pub ssl_certificate_location: Option<String>,
    /// `ssl.key.location`.
    pub ssl_key_location: Option<String>,
    /// `ssl.key.password`: the app setting holding it (`Name` or `%Name%`).
    pub ssl_key_password: Option<String>,
    /// `metadata.max.age.ms`.
    pub metadata_max_age_ms: Option<u32>,
    /// `socket.keepalive.enable`.
    pub socket_keepalive_enable: Option<bool>,
    /// librdkafka `debug` contexts (e.g. `"broker,topic,msg"`).
    pub librdkafka_debug: Option<String>,
}

impl fmt::Debug for KafkaOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("KafkaOptions")
            .field("max_message_bytes", &self.max_message_bytes)
            .field("batch_size", &self.batch_size)
            .field("enable_idempotence", &self.enable_idempotence)
            .field("message_timeout_ms", &self.message_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("linger_ms", &self.linger_ms)
            .field("compression", &self.compression)
            .field("acks", &self.acks)
            .field("partitioner", &self.partitioner)
            .field("protocol", &self.protocol)
            .field("authentication_mode", &self.authentication_mode)
            .field("username", &hidden(&self.username))
            .field("password", &hidden(&self.password))
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("ssl_certificate_location", &self.ssl_certificate_location)
            .field("ssl_key_location", &self.ssl_key_location)
            .field("ssl_key_password", &hidden(&self.ssl_key_password))
            .field("metadata_max_age_ms", &self.metadata_max_age_ms)
            .field("socket_keepalive_enable", &self.socket_keepalive_enable)
            .field("librdkafka_debug", &self.librdkafka_debug)
            .finish()
    }
}

impl Extension for KafkaOptions {
    const NAME: &'static str = "kafka";

    fn read(section: &mut Section<'_>) -> Self {
        section.ignore(
            &[
                "maxBatchSize",
                "subscriberIntervalInSeconds",
                "executorChannelCapacity",
                "channelFullRetryIntervalInMs",
                "fetchMaxBytes",
                "autoCommitIntervalMs",
            ],
            "a Kafka trigger option (this library has the Kafka output only)",
        );
        let mut out = Self {
            max_message_bytes: section.u32("maxMessageBytes", 1_000, 1_000_000_000),
            batch_size: section.u32("batchSize", 1, 1_000_000),
            enable_idempotence: section.bool("enableIdempotence"),
            message_timeout_ms: section.u32("messageTimeoutMs", 0, i32::MAX as u32),
            request_timeout_ms: section.u32("requestTimeoutMs", 1, 900_000),
            max_retries: section.u32("maxRetries", 0, i32::MAX as u32),
            linger_ms: section.u32("lingerMs", 0, 900_000),
            compression: section.choice("compression", Compression::VALID, Compression::parse),
            acks: section.choice("acks", Acks::VALID, Acks::parse),
            partitioner: section.choice("partitioner", Partitioner::VALID, Partitioner::parse),
            protocol: section.choice("protocol", Protocol::VALID, Protocol::parse),
            ..Self::default()
        };
        let unsupported = section
            .peek("authenticationMode")
            .and_then(|v| v.as_str())
            .and_then(AuthenticationMode::unsupported);
        if let Some(why) = unsupported {
            if let Some((path, _)) = section.take("authenticationMode") {
                section.problem(&path, why);
            }
        } else {
            out.authentication_mode = section.choice(
                "authenticationMode",
                AuthenticationMode::VALID,
                AuthenticationMode::parse,
            );
        }
        out.username = section.string("username");
        out.password = section.string("password");
        out.ssl_ca_location = section.string("sslCaLocation");
        out.ssl_certificate_location = section.string("sslCertificateLocation");
        out.ssl_key_location = section.string("sslKeyLocation");
        out.ssl_key_password = section.string("sslKeyPassword");
        out.metadata_max_age_ms = section.u32("metadataMaxAgeMs", 1, 86_400_000);
        out.socket_keepalive_enable = section.bool("socketKeepaliveEnable");
        out.librdkafka_debug = section.string("libkafkaDebug");
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
                           "password": "%KafkaPassword%", "partitioner": "murmur2_random", "maxBatchSize": 4 } } }"#,
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
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        assert!(
            config.warnings[0]
                .starts_with("$.extensions.kafka.maxBatchSize: a Kafka trigger option"),
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
