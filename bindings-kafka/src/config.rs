//! Resolved options -> librdkafka configuration: the one place that maps them.

use crate::Protocol;
use rdkafka::ClientConfig;

use crate::ProducerOptions;

/// The librdkafka properties for `options`, in a stable order.
pub fn librdkafka_properties(options: &ProducerOptions) -> Vec<(&'static str, String)> {
    let mut p: Vec<(&'static str, String)> = vec![
        ("bootstrap.servers", options.brokers.clone()),
        ("client.id", "bindings".to_owned()),
        ("message.max.bytes", options.max_message_bytes.to_string()),
        ("batch.num.messages", options.batch_size.to_string()),
        ("enable.idempotence", options.enable_idempotence.to_string()),
        ("message.timeout.ms", options.message_timeout_ms.to_string()),
        ("request.timeout.ms", options.request_timeout_ms.to_string()),
        ("message.send.max.retries", options.max_retries.to_string()),
        ("linger.ms", options.linger_ms.to_string()),
        (
            "security.protocol",
            options.protocol.as_librdkafka().to_owned(),
        ),
    ];
    let mut optional = |key: &'static str, value: Option<String>| {
        if let Some(value) = value {
            p.push((key, value));
        }
    };
    optional(
        "compression.type",
        options.compression.map(|c| c.as_librdkafka().to_owned()),
    );
    optional("acks", options.acks.map(|a| a.as_librdkafka().to_owned()));
    optional(
        "partitioner",
        options.partitioner.map(|a| a.as_librdkafka().to_owned()),
    );
    if options.uses_sasl() {
        optional(
            "sasl.mechanism",
            Some(options.authentication_mode.as_librdkafka().to_owned()),
        );
        optional("sasl.username", options.username.clone());
        optional("sasl.password", options.password.clone());
    }
    if matches!(options.protocol, Protocol::Ssl | Protocol::SaslSsl) {
        optional("ssl.ca.location", options.ssl_ca_location.clone());
        optional(
            "ssl.certificate.location",
            options.ssl_certificate_location.clone(),
        );
        optional("ssl.key.location", options.ssl_key_location.clone());
        optional("ssl.key.password", options.ssl_key_password.clone());
        optional("ssl.ca.pem", options.ssl_ca_pem.clone());
        optional("ssl.certificate.pem", options.ssl_certificate_pem.clone());
        optional("ssl.key.pem", options.ssl_key_pem.clone());
    }
    optional(
        "metadata.max.age.ms",
        options.metadata_max_age_ms.map(|v| v.to_string()),
    );
    optional(
        "socket.keepalive.enable",
        options.socket_keepalive_enable.map(|v| v.to_string()),
    );
    optional("debug", options.debug.clone());
    p
}

/// A librdkafka client configuration for `options`.
pub fn client_config(options: &ProducerOptions) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in librdkafka_properties(options) {
        config.set(key, value);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Acks, AuthenticationMode, Compression, Partitioner};

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
        o.metadata_max_age_ms = Some(60_000);
        o.socket_keepalive_enable = Some(true);
        o.debug = Some("broker,msg".into());
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
            ("socket.keepalive.enable", "true"),
            ("debug", "broker,msg"),
        ] {
            assert_eq!(get(&o, key).as_deref(), Some(value), "{key}");
        }
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
