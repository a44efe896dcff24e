//! `extensions.kafka`: producer options shared by every Kafka output of the host.

use std::fmt;

/// Defines a closed set of Kafka option values with their accepted spellings and librdkafka names.
macro_rules! kafka_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $rd:literal [$($alias:literal),*]),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every valid value, as librdkafka names it.
            pub const VALID: &'static [&'static str] = &[$($rd),+];

            /// Parses a value, case-insensitively, ignoring inner `_` and `-` (`SaslSsl`, `SASL_SSL`, `sasl-ssl`).
            pub fn parse(text: &str) -> Option<Self> {
                let key = spelling(text);
                $(if [$($alias),*].contains(&key.as_str()) { return Some(Self::$variant); })+
                None
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

/// `text` lower-cased without inner `_` and `-`: the spelling values are compared in.
fn spelling(text: &str) -> String {
    text.char_indices()
        .filter(|&(i, c)| i == 0 || (c != '_' && c != '-'))
        .map(|(_, c)| c.to_ascii_lowercase())
        .collect()
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
    /// Why `text` is refused although Azure's extension knows it: `Gssapi` (Kerberos) and
    /// `OAuthBearer`. The bundled librdkafka is built without Cyrus SASL, which GSSAPI needs, and
    /// without libcurl, which its OIDC token client needs (its other OAUTHBEARER method only makes
    /// unsecured test tokens). Building either takes system libraries `cargo build` cannot provide.
    pub fn unsupported(text: &str) -> Option<&'static str> {
        match spelling(text).as_str() {
            "gssapi" => Some(
                "GSSAPI (Kerberos) is not supported: this library's librdkafka is built without Cyrus \
                 SASL, which GSSAPI needs; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
            ),
            "oauthbearer" => Some(
                "OAUTHBEARER is not supported: this library's librdkafka is built without libcurl, which \
                 its OIDC token client needs (its default method only makes unsecured test tokens); use \
                 PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
            ),
            _ => None,
        }
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
