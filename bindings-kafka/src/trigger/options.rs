//! A Kafka trigger's options, resolved: the consumer's librdkafka settings ([`ConsumerOptions`]) and
//! the trigger's own ([`TriggerOptions`]), each attribute > host.json `extensions.kafka` > default.

use std::time::Duration;

use bindings_spec::{OptionSpec, kafka};

use crate::config::ClientOptions;
use crate::value::option_fields;
use crate::{AuthenticationMode, AutoOffsetReset, Ordering, Protocol, RetryStrategy};

option_fields! {
    /// Everything that makes a trigger's consumer: the brokers, the consumer group, the connection's
    /// security and the consumer's tuning. Each field but `brokers` and `group_id` is an option of
    /// `bindings_spec::kafka`; `Debug` hides the credentials.
    #[derive(Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct ConsumerOptions {
        own
        /// `bootstrap.servers`.
        brokers: String,
        own
        /// `group.id`.
        group_id: String,
        pub auto_commit_interval_ms: u32,
        pub fetch_max_bytes: Option<u32>,
        pub max_partition_fetch_bytes: Option<u32>,
        pub max_poll_interval_ms: u32,
        pub session_timeout_ms: u32,
        pub auto_offset_reset: AutoOffsetReset,
        pub queued_min_messages: Option<u32>,
        pub queued_max_messages_kbytes: Option<u32>,
        pub reconnect_backoff_ms: Option<u32>,
        pub reconnect_backoff_max_ms: Option<u32>,
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

impl ConsumerOptions {
    /// Options for group `group_id` on `brokers`, with every default.
    ///
    /// ```
    /// let options = bindings_kafka::ConsumerOptions::new("b:9092", "orders");
    /// assert_eq!(options.auto_commit_interval_ms, 200); // the extension's default
    /// ```
    pub fn new(brokers: impl Into<String>, group_id: impl Into<String>) -> Self {
        Self::initial(brokers.into(), group_id.into())
    }
}

impl ClientOptions for ConsumerOptions {
    const TABLE: &'static [OptionSpec] = kafka::TRIGGER_OPTIONS;

    fn brokers(&self) -> &str {
        &self.brokers
    }
}

option_fields! {
    /// How a trigger runs its function: batches, ordering, concurrency, retries, the dead-letter
    /// topic and the scale hint's threshold.
    #[derive(Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct TriggerOptions {
        pub max_batch_size: u32,
        pub subscriber_interval_in_seconds: u32,
        pub lag_threshold: u32,
        pub ordering: Ordering,
        pub max_concurrency: u32,
        pub retry_strategy: RetryStrategy,
        pub max_retry_count: u32,
        pub delay_interval: Duration,
        pub minimum_interval: Duration,
        pub maximum_interval: Duration,
        pub dead_letter_topic: Option<String>,
    }
}

impl Default for TriggerOptions {
    fn default() -> Self {
        Self::initial()
    }
}

impl TriggerOptions {
    /// The wait before retry number `retry` (1 for the first).
    ///
    /// ```
    /// use std::time::Duration;
    /// use bindings_kafka::{RetryStrategy, TriggerOptions};
    ///
    /// let mut options = TriggerOptions::default();
    /// options.retry_strategy = RetryStrategy::ExponentialBackoff;
    /// options.minimum_interval = Duration::from_secs(1);
    /// options.maximum_interval = Duration::from_secs(5);
    /// let waits: Vec<u64> = (1..=5).map(|r| options.retry_delay(r).as_secs()).collect();
    /// assert_eq!(waits, [1, 2, 4, 5, 5]);
    /// ```
    pub fn retry_delay(&self, retry: u32) -> Duration {
        match self.retry_strategy {
            RetryStrategy::FixedDelay => self.delay_interval,
            RetryStrategy::ExponentialBackoff => {
                let factor = 2u32.saturating_pow(retry.saturating_sub(1));
                self.minimum_interval
                    .saturating_mul(factor)
                    .min(self.maximum_interval)
            }
        }
    }

    /// How many records of one partition may be read and not completed before it is read no
    /// further (until one completes): `2 × max(max_batch_size, max_concurrency)`.
    pub fn buffered_records(&self) -> usize {
        2 * self.max_batch_size.max(self.max_concurrency) as usize
    }
}
