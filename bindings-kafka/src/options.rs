//! The producer options of one output, resolved: attribute, then host.json `extensions.kafka`, then
//! the documented defaults; `%Setting%` references replaced.

use std::fmt;

use crate::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};

/// Defaults (the seed document's, where it has one).
pub mod defaults {
    /// `message.max.bytes`.
    pub const MAX_MESSAGE_BYTES: u32 = 1_000_000;
    /// `batch.num.messages`.
    pub const BATCH_SIZE: u32 = 10_000;
    /// `message.timeout.ms`.
    pub const MESSAGE_TIMEOUT_MS: u32 = 300_000;
    /// `request.timeout.ms`.
    pub const REQUEST_TIMEOUT_MS: u32 = 5_000;
    /// `message.send.max.retries`.
    pub const MAX_RETRIES: u32 = 2;
    /// `linger.ms`.
    pub const LINGER_MS: u32 = 5;
}

/// Everything that makes a producer: two outputs with equal options share one producer.
/// `Debug` hides the credentials (the SASL username too: Confluent Cloud's is its API key); equality and hashing include them (a different password is a
/// different producer).
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ProducerOptions {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// `message.max.bytes`.
    pub max_message_bytes: u32,
    /// `batch.num.messages`.
    pub batch_size: u32,
    /// `enable.idempotence`.
    pub enable_idempotence: bool,
    /// `message.timeout.ms` (0 = infinite).
    pub message_timeout_ms: u32,
    /// `request.timeout.ms`.
    pub request_timeout_ms: u32,
    /// `message.send.max.retries`.
    pub max_retries: u32,
    /// `linger.ms`.
    pub linger_ms: u32,
    /// `compression.type`; `None` leaves librdkafka's default (none).
    pub compression: Option<Compression>,
    /// `acks`; `None` leaves librdkafka's default (all).
    pub acks: Option<Acks>,
    /// `partitioner`; `None` leaves librdkafka's default (`consistent_random`).
    pub partitioner: Option<Partitioner>,
    /// `security.protocol`.
    pub protocol: Protocol,
    /// `sasl.mechanism` (used with the SASL protocols).
    pub authentication_mode: AuthenticationMode,
    /// `sasl.username`.
    pub username: Option<String>,
    /// `sasl.password`.
    pub password: Option<String>,
    /// `ssl.ca.location`.
    pub ssl_ca_location: Option<String>,
    /// `ssl.certificate.location`.
    pub ssl_certificate_location: Option<String>,
    /// `ssl.key.location`.
    pub ssl_key_location: Option<String>,
    /// `ssl.key.password`.
    pub ssl_key_password: Option<String>,
    /// `ssl.ca.pem` (a whole chain).
    pub ssl_ca_pem: Option<String>,
    /// `ssl.certificate.pem` (a whole chain).
    pub ssl_certificate_pem: Option<String>,
    /// `ssl.key.pem`.
    pub ssl_key_pem: Option<String>,
    /// `metadata.max.age.ms`.
    pub metadata_max_age_ms: Option<u32>,
    /// `socket.keepalive.enable`.
    pub socket_keepalive_enable: Option<bool>,
    /// librdkafka `debug` contexts.
    pub debug: Option<String>,
}

impl ProducerOptions {
    /// Options for `brokers` with every default.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            max_message_bytes: defaults::MAX_MESSAGE_BYTES,
            batch_size: defaults::BATCH_SIZE,
            enable_idempotence: false,
            message_timeout_ms: defaults::MESSAGE_TIMEOUT_MS,
            request_timeout_ms: defaults::REQUEST_TIMEOUT_MS,
            max_retries: defaults::MAX_RETRIES,
            linger_ms: defaults::LINGER_MS,
            compression: None,
            acks: None,
            partitioner: None,
            protocol: Protocol::Plaintext,
            authentication_mode: AuthenticationMode::Plain,
            username: None,
            password: None,
            ssl_ca_location: None,
            ssl_certificate_location: None,
            ssl_key_location: None,
            ssl_key_password: None,
            ssl_ca_pem: None,
            ssl_certificate_pem: None,
            ssl_key_pem: None,
            metadata_max_age_ms: None,
            socket_keepalive_enable: None,
            debug: None,
        }
    }

    /// Whether the protocol uses SASL.
    pub fn uses_sasl(&self) -> bool {
        matches!(self.protocol, Protocol::SaslPlaintext | Protocol::SaslSsl)
    }

    /// Whether the protocol uses TLS.
    pub fn uses_tls(&self) -> bool {
        matches!(self.protocol, Protocol::Ssl | Protocol::SaslSsl)
    }
}

impl fmt::Debug for ProducerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("ProducerOptions")
            .field("brokers", &self.brokers)
            .field("protocol", &self.protocol)
            .field("authentication_mode", &self.authentication_mode)
            .field("username", &hidden(&self.username))
            .field("password", &hidden(&self.password))
            .field("ssl_key_password", &hidden(&self.ssl_key_password))
            .field("ssl_key_pem", &hidden(&self.ssl_key_pem))
            .field("enable_idempotence", &self.enable_idempotence)
            .field("acks", &self.acks)
            .field("max_message_bytes", &self.max_message_bytes)
            .finish_non_exhaustive()
    }
}
