//! The Kafka options' closed sets of values (`protocol`, `acks`, …), with their accepted spellings
//! and librdkafka names. Their options in [`super::OPTIONS`] hold these lists, so the macro and the
//! host.json reader accept the same spellings.

use std::fmt;

use crate::option::spelling;

/// Defines a closed set of Kafka option values with their accepted spellings and librdkafka names.
macro_rules! kafka_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $rd:literal [$($alias:literal),*]),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every valid value, as librdkafka names it.
            pub const VALID: &'static [&'static str] = &[$($rd),+];
            /// Every value, in the order of `VALID`.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// The variants' names, in the order of `VALID`.
            pub const VARIANTS: &'static [&'static str] = &[$(stringify!($variant)),+];
            /// Per value, its accepted spellings (lower-cased, without inner `_` and `-`).
            pub const SPELLINGS: &'static [&'static [&'static str]] = &[$(&[$($alias),*]),+];

            /// Parses a value, case-insensitively, ignoring inner `_` and `-` (`SaslSsl`, `SASL_SSL`, `sasl-ssl`).
            pub fn parse(text: &str) -> Option<Self> {
                let key = spelling(text);
                Self::SPELLINGS
                    .iter()
                    .position(|s| s.contains(&key.as_str()))
                    .map(|i| Self::ALL[i])
            }

            /// The value librdkafka expects.
            pub fn as_librdkafka(self) -> &'static str {
                match self { $(Self::$variant => $rd),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_librdkafka()) }
        }
    };
}

kafka_enum! {
    /// `security.protocol`.
    Protocol {
        /// No TLS, no SASL.
        Plaintext = "plaintext" ["plaintext"],
        /// TLS.
        Ssl = "ssl" ["ssl"],
        /// SASL without TLS.
        SaslPlaintext = "sasl_plaintext" ["saslplaintext"],
        /// SASL over TLS.
        SaslSsl = "sasl_ssl" ["saslssl"],
    }
}

kafka_enum! {
    /// `sasl.mechanism`.
    AuthenticationMode {
        /// Username and password in clear (over TLS).
        Plain = "PLAIN" ["plain"],
        /// SCRAM with SHA-256.
        ScramSha256 = "SCRAM-SHA-256" ["scramsha256"],
        /// SCRAM with SHA-512.
        ScramSha512 = "SCRAM-SHA-512" ["scramsha512"],
    }
}

impl AuthenticationMode {
    /// Why `text` is refused although Azure's extension knows it (`Gssapi`, `OAuthBearer`): see
    /// [`super::REFUSED_MECHANISMS`].
    pub fn unsupported(text: &str) -> Option<&'static str> {
        super::option("authentication_mode").refused(text)
    }
}

kafka_enum! {
    /// `compression.type`.
    Compression {
        /// No compression (librdkafka's default).
        None = "none" ["none"],
        /// gzip.
        Gzip = "gzip" ["gzip"],
        /// Snappy.
        Snappy = "snappy" ["snappy"],
        /// LZ4.
        Lz4 = "lz4" ["lz4"],
        /// Zstandard.
        Zstd = "zstd" ["zstd"],
    }
}

kafka_enum! {
    /// `acks`: which replicas must have a message before it counts as delivered.
    Acks {
        /// Every in-sync replica (librdkafka's default; required by idempotence).
        All = "all" ["all", "-1"],
        /// No acknowledgement at all (fire and forget: messages can be lost).
        None = "0" ["none", "0"],
        /// The partition leader only.
        Leader = "1" ["leader", "1"],
    }
}

kafka_enum! {
    /// `partitioner`: how keys map to partitions.
    Partitioner {
        /// Random partition.
        Random = "random" ["random"],
        /// CRC32 of the key.
        Consistent = "consistent" ["consistent"],
        /// CRC32 of the key; random for empty keys (librdkafka's default).
        ConsistentRandom = "consistent_random" ["consistentrandom"],
        /// Java-compatible murmur2 of the key.
        Murmur2 = "murmur2" ["murmur2"],
        /// Java-compatible murmur2; random for empty keys (the Java client's default).
        Murmur2Random = "murmur2_random" ["murmur2random"],
        /// FNV-1a of the key.
        Fnv1a = "fnv1a" ["fnv1a"],
        /// FNV-1a; random for empty keys.
        Fnv1aRandom = "fnv1a_random" ["fnv1arandom"],
    }
}

kafka_enum! {
    /// `auto.offset.reset`: where a consumer group without a committed offset starts.
    AutoOffsetReset {
        /// The oldest record still on the partition (the extension's default).
        Earliest = "earliest" ["earliest"],
        /// Only records produced from now on.
        Latest = "latest" ["latest"],
    }
}

kafka_enum! {
    /// A Kafka trigger's `ordering`: which records of a partition may run at the same time.
    Ordering {
        /// One record of a partition at a time, in offset order (Azure's behaviour).
        Partition = "partition" ["partition"],
        /// Records with the same key in offset order; different keys concurrently.
        Key = "key" ["key"],
        /// Any records concurrently (offsets still commit only once every earlier one completed).
        None = "none" ["none"],
    }
}

kafka_enum! {
    /// A Kafka trigger's `retry_strategy`, as Azure Functions declares retry policies.
    RetryStrategy {
        /// The same `delay_interval` before each retry (Azure's `fixedDelay`).
        FixedDelay = "fixed_delay" ["fixeddelay", "fixed"],
        /// Twice the previous delay, from `minimum_interval` up to `maximum_interval` (Azure's
        /// `exponentialBackoff`).
        ExponentialBackoff = "exponential_backoff" ["exponentialbackoff", "exponential"],
    }
}

// The choices as option values (`crate::value`); the protocol and the mechanism always have one.
crate::plain_choices!(
    Acks,
    AuthenticationMode,
    AutoOffsetReset,
    Compression,
    Ordering,
    Partitioner,
    Protocol,
    RetryStrategy
);
crate::required_slots!(
    Protocol,
    AuthenticationMode,
    AutoOffsetReset,
    Ordering,
    RetryStrategy
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_seed_spellings_case_insensitively() {
        for text in ["SASLSSL", "SaslSsl", "sasl_ssl", "sasl-ssl"] {
            assert_eq!(Protocol::parse(text), Some(Protocol::SaslSsl), "{text}");
        }
        for text in ["PLAIN", "Plain"] {
            assert_eq!(
                AuthenticationMode::parse(text),
                Some(AuthenticationMode::Plain)
            );
        }
        for text in ["ScramSha256", "SCRAM-SHA-256", "scram_sha_256"] {
            assert_eq!(
                AuthenticationMode::parse(text),
                Some(AuthenticationMode::ScramSha256),
                "{text}"
            );
        }
        assert_eq!(Acks::parse("-1"), Some(Acks::All));
        assert_eq!(Acks::parse("0"), Some(Acks::None));
        assert_eq!(
            Partitioner::parse("murmur2_random"),
            Some(Partitioner::Murmur2Random)
        );
        assert_eq!(
            Compression::parse("zstd").map(Compression::as_librdkafka),
            Some("zstd")
        );
        assert_eq!(Protocol::parse("tls"), None);
    }

    #[test]
    fn gssapi_and_oauthbearer_are_refused_with_the_reason() {
        for (text, reason) in [
            ("Gssapi", "Cyrus SASL"),
            ("GSSAPI", "Cyrus SASL"),
            ("gss_api", "Cyrus SASL"),
            ("OAuthBearer", "libcurl"),
            ("OAUTHBEARER", "libcurl"),
        ] {
            assert_eq!(AuthenticationMode::parse(text), None, "{text}");
            assert!(
                AuthenticationMode::unsupported(text).is_some_and(|why| why.contains(reason)),
                "{text}"
            );
        }
        assert_eq!(AuthenticationMode::unsupported("Plain"), None);
    }
}
