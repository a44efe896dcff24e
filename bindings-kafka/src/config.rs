//! Resolved options -> librdkafka configuration: each property's key is its option's declaration.

use bindings_spec::{OptionSpec, kafka};
use rdkafka::ClientConfig;

use crate::Protocol;
use crate::value::{Fields, Raw};

/// Resolved options that make a librdkafka client (a producer's, a consumer's): the brokers, and
/// fields that are options of one `bindings_spec::kafka` table.
pub trait ClientOptions: Fields {
    /// The table the fields' options are declared in.
    const TABLE: &'static [OptionSpec];

    /// `bootstrap.servers`.
    fn brokers(&self) -> &str;

    /// The security protocol.
    fn protocol(&self) -> Protocol {
        match self.get(kafka::option("protocol")) {
            Some(Raw::Choice(index)) => Protocol::ALL[index],
            _ => Protocol::Plaintext,
        }
    }

    /// Whether the protocol uses SASL.
    fn uses_sasl(&self) -> bool {
        matches!(self.protocol(), Protocol::SaslPlaintext | Protocol::SaslSsl)
    }

    /// Whether the protocol uses TLS.
    fn uses_tls(&self) -> bool {
        matches!(self.protocol(), Protocol::Ssl | Protocol::SaslSsl)
    }
}

/// The librdkafka properties for `options`, in a stable order (the table's): the brokers, the
/// client id, then every option that is set and has a librdkafka key. `sasl.*` properties are
/// given only with a SASL protocol and `ssl.*` ones only with TLS, where librdkafka uses them.
pub fn librdkafka_properties<O: ClientOptions>(options: &O) -> Vec<(&'static str, String)> {
    let brokers = kafka::option("broker_list")
        .librdkafka
        .expect("the brokers have a librdkafka key");
    let mut p = vec![
        (brokers, options.brokers().to_owned()),
        ("client.id", "bindings".to_owned()),
    ];
    let (sasl, tls) = (options.uses_sasl(), options.uses_tls());
    for option in O::TABLE {
        let Some(key) = option.librdkafka else {
            continue;
        };
        let used = (!key.starts_with("sasl.") || sasl) && (!key.starts_with("ssl.") || tls);
        if let Some(value) = options.get(option).filter(|_| used) {
            p.push((key, value.property(option)));
        }
    }
    p
}

/// A librdkafka client configuration for `options`.
pub fn client_config<O: ClientOptions>(options: &O) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in librdkafka_properties(options) {
        config.set(key, value);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Acks, AuthenticationMode, Compression, Partitioner, ProducerOptions, Protocol};

    fn props(options: &ProducerOptions) -> Vec<(String, String)> {
        librdkafka_properties(options)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    fn get(options: &ProducerOptions, key: &str) -> Option<String> {
        props(options)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let o = ProducerOptions::new("b:9092");
        let expected = [
            ("bootstrap.servers", "b:9092"),
            ("client.id", "bindings"),
            ("message.max.bytes", "1000000"),
            ("batch.num.messages", "10000"),
            ("enable.idempotence", "false"),
            ("message.timeout.ms", "300000"),
            ("request.timeout.ms", "5000"),
            ("message.send.max.retries", "2"),
            ("linger.ms", "5"),
            ("security.protocol", "plaintext"),
            ("metadata.max.age.ms", "180000"),
            ("socket.keepalive.enable", "true"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(props(&o), expected);
    }

    #[test]
    fn every_option_maps_to_its_librdkafka_key() {
        let mut o = ProducerOptions::new("b:9092");
        o.max_message_bytes = 2_000;
        o.batch_size = 7;
        o.enable_idempotence = true;
        o.message_timeout_ms = 0;
        o.request_timeout_ms = 900;
        o.max_retries = 9;
        o.linger_ms = 0;
        o.compression = Some(Compression::Zstd);
        o.acks = Some(Acks::All);
        o.partitioner = Some(Partitioner::Murmur2Random);
        o.protocol = Protocol::SaslSsl;
        o.authentication_mode = AuthenticationMode::ScramSha512;
        o.username = Some("user".into());
        o.password = Some("secret".into());
        o.ssl_ca_location = Some("/ca.pem".into());
        o.ssl_certificate_location = Some("/cert.pem".into());
        o.ssl_key_location = Some("/key.pem".into());
        o.ssl_key_password = Some("kp".into());
        o.ssl_ca_pem = Some("CA".into());
        o.ssl_certificate_pem = Some("CERT".into());
        o.ssl_key_pem = Some("KEY".into());
        o.metadata_max_age_ms = 60_000;
        o.socket_keepalive_enable = false;
        o.librdkafka_debug = Some("broker,msg".into());
        for (key, value) in [
            ("message.max.bytes", "2000"),
            ("batch.num.messages", "7"),
            ("enable.idempotence", "true"),
            ("message.timeout.ms", "0"),
            ("request.timeout.ms", "900"),
            ("message.send.max.retries", "9"),
            ("linger.ms", "0"),
            ("compression.type", "zstd"),
            ("acks", "all"),
            ("partitioner", "murmur2_random"),
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "user"),
            ("sasl.password", "secret"),
            ("ssl.ca.location", "/ca.pem"),
            ("ssl.certificate.location", "/cert.pem"),
            ("ssl.key.location", "/key.pem"),
            ("ssl.key.password", "kp"),
            ("ssl.ca.pem", "CA"),
            ("ssl.certificate.pem", "CERT"),
            ("ssl.key.pem", "KEY"),
            ("metadata.max.age.ms", "60000"),
            ("socket.keepalive.enable", "false"),
            ("debug", "broker,msg"),
        ] {
            assert_eq!(get(&o, key).as_deref(), Some(value), "{key}");
        }
    }

    /// Every option with a librdkafka key reaches the client configuration when set (with a SASL
    /// protocol over TLS, so that none is left out for its protocol).
    #[test]
    fn every_table_entry_with_a_librdkafka_key_reaches_the_config() {
        let mut o = ProducerOptions::new("b:9092");
        for option in bindings_spec::kafka::OPTIONS {
            let raw = match option.kind {
                bindings_spec::Kind::Count { min, .. } => crate::value::Raw::Count(min),
                bindings_spec::Kind::Bool { .. } => crate::value::Raw::Flag(true),
                bindings_spec::Kind::Choice { .. } => crate::value::Raw::Choice(0),
                _ => crate::value::Raw::Text(format!("{}-value", option.rust)),
            };
            o.put(option, &raw);
        }
        o.protocol = Protocol::SaslSsl;
        let properties = props(&o);
        for option in bindings_spec::kafka::OPTIONS {
            if let Some(key) = option.librdkafka {
                assert!(
                    properties.iter().any(|(k, _)| k == key),
                    "`{}` ({key}) is not in {properties:?}",
                    option.rust
                );
            }
        }
        assert_eq!(get(&o, "ssl.key.pem").as_deref(), Some("ssl_key_pem-value"));
        assert_eq!(get(&o, "linger.ms").as_deref(), Some("0"));
        assert_eq!(get(&o, "bootstrap.servers").as_deref(), Some("b:9092"));
    }

    #[test]
    fn sasl_and_tls_keys_appear_only_with_their_protocol() {
        let mut o = ProducerOptions::new("b:9092");
        o.username = Some("u".into());
        o.ssl_ca_location = Some("/ca".into());
        assert_eq!(get(&o, "sasl.username"), None);
        assert_eq!(get(&o, "sasl.mechanism"), None);
        assert_eq!(get(&o, "ssl.ca.location"), None);
        o.protocol = Protocol::Ssl;
        assert_eq!(get(&o, "ssl.ca.location").as_deref(), Some("/ca"));
        o.protocol = Protocol::SaslPlaintext;
        assert_eq!(get(&o, "sasl.mechanism").as_deref(), Some("PLAIN"));
        assert_eq!(get(&o, "ssl.ca.location"), None);
    }

    #[test]
    fn every_compression_codec_is_built_in() {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut o = ProducerOptions::new("127.0.0.1:1");
            o.compression = Some(codec);
            let producer: Result<rdkafka::producer::FutureProducer, _> = client_config(&o).create();
            assert!(producer.is_ok(), "{codec}: {:?}", producer.err());
        }
    }

    #[test]
    fn the_config_is_accepted_by_librdkafka() {
        let mut o = ProducerOptions::new("127.0.0.1:1");
        o.compression = Some(Compression::Lz4);
        o.enable_idempotence = true;
        let producer: Result<rdkafka::producer::FutureProducer, _> = client_config(&o).create();
        assert!(producer.is_ok(), "{:?}", producer.err());
        let debug = format!("{o:?}");
        assert!(debug.contains("127.0.0.1:1"));
    }
}
