//! `extensions.kafka`: producer options shared by every Kafka output of the host.

use std::fmt;

use bindings_spec::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};

/// Producer options for every Kafka output of the host (host.json `extensions.kafka`).
///
/// Each is `None` unless host.json sets it; a function's own attribute options win over these, and
/// the documented defaults apply when neither sets a value. String options may hold `%AppSetting%`
/// references, resolved at start-up; the credentials (`username`, `password`, `ssl_key_password`)
/// name their app setting (`Name` or `%Name%`). `Debug` hides the credentials.
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

#[cfg(test)]
mod tests {
    use super::*;

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
