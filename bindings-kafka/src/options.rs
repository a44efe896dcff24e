//! The producer options of one output, resolved: attribute, then host.json `extensions.kafka`, then
//! the declared defaults; `%Setting%` references replaced.

use bindings_spec::{OptionSpec, kafka};

use crate::config::ClientOptions;
use crate::value::option_fields;
use crate::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};

option_fields! {
    /// Everything that makes a producer: two outputs with equal options share one producer. Each
    /// field but `brokers` is an option of `bindings_spec::kafka`; a plain field starts at the
    /// declared default, an `Option` leaves librdkafka's default unless set.
    /// `Debug` hides the credentials (the SASL username too: Confluent Cloud's is its API key);
    /// equality and hashing include them (a different password is a different producer).
    #[derive(Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub struct ProducerOptions {
        own
        /// `bootstrap.servers`.
        brokers: String,
        pub max_message_bytes: u32,
        pub batch_size: u32,
        pub enable_idempotence: bool,
        pub message_timeout_ms: u32,
        pub request_timeout_ms: u32,
        pub max_retries: u32,
        pub linger_ms: u32,
        pub compression: Option<Compression>,
        pub acks: Option<Acks>,
        pub partitioner: Option<Partitioner>,
        pub protocol: Protocol,
        pub authentication_mode: AuthenticationMode,
        pub username: Option<String>,
        pub password: Option<String>,
        pub ssl_ca_location: Option<String>,
        pub ssl_certificate_location: Option<String>,
        pub ssl_key_location: Option<String>,
        pub ssl_key_password: Option<String>,
        pub ssl_ca_pem: Option<String>,
        pub ssl_certificate_pem: Option<String>,
        pub ssl_key_pem: Option<String>,
        pub metadata_max_age_ms: u32,
        pub socket_keepalive_enable: bool,
        pub librdkafka_debug: Option<String>,
    }
}

impl ProducerOptions {
    /// Options for `brokers` with every default.
    ///
    /// ```
    /// let options = bindings_kafka::ProducerOptions::new("b:9092");
    /// assert_eq!(options.linger_ms, bindings_spec::kafka::option("linger_ms").default_count().unwrap());
    /// ```
    pub fn new(brokers: impl Into<String>) -> Self {
        Self::initial(brokers.into())
    }
}

impl ClientOptions for ProducerOptions {
    const TABLE: &'static [OptionSpec] = kafka::OPTIONS;

    fn brokers(&self) -> &str {
        &self.brokers
    }
}
