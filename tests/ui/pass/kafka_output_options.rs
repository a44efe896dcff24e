// Every Kafka option, the seed's spellings, and the return shapes compile.
use bindings::prelude::*;

#[queue_trigger("orders-in")]
#[kafka_output(topic = "%OutputTopic%", broker_list = "BrokerList", key = "{id}",
               username = "%ConfluentCloudUserName%", password = "%ConfluentCloudPassword%",
               protocol = "SASLSSL", authentication_mode = "PLAIN", enable_idempotence = true,
               max_message_bytes = 1000000, batch_size = 100, message_timeout_ms = 30000,
               request_timeout_ms = 5000, max_retries = 3, linger_ms = 10, compression = "zstd",
               acks = "all", partitioner = "murmur2_random", ssl_ca_location = "/etc/ca.pem",
               ssl_certificate_location = "/etc/cert.pem", ssl_key_location = "/etc/key.pem",
               ssl_key_password = "%KeyPassword%", metadata_max_age_ms = 60000,
               socket_keepalive_enable = true, librdkafka_debug = "broker")]
async fn forward(order: String) -> Result<KafkaEvent<String>, FunctionError> {
    Ok(KafkaEvent::new(order).header("test", "rust"))
}

#[kafka_output(topic = "topic", broker_list = "BrokerList", protocol = "sasl_ssl", authentication_mode = "SCRAM-SHA-512",
               username = "%User%", password = "%Password%")]
#[manual_trigger]
async fn batch(_text: String) -> Vec<&'static str> {
    vec!["one", "two"]
}

#[manual_trigger]
#[kafka_output(topic = "topic", broker_list = "localhost:9092", protocol = "Ssl", ssl_ca_pem = "%CaPem%",
               ssl_certificate_pem = "CertPem", ssl_key_pem = "KeyPem", avro_schema = "%Schema%",
               avro_key_schema = r#"{"type":"string"}"#, schema_registry_url = "https://registry:8081",
               schema_registry_username = "%RegistryUser%", schema_registry_password = "RegistryPassword",
               https_ca_location = "registry-ca.pem")]
async fn pems(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(topic = "topic", broker_list = "localhost:9092", protocol = "Ssl",
               ssl_certificate_and_key_pem = "%CertificateAndKey%", ssl_key_password = "KeyPassword",
               schema_registry_url = "%RegistryUrl%", https_ca_pem = "%RegistryCaPem%")]
async fn maybe(text: String) -> Option<Json<Vec<String>>> {
    (!text.is_empty()).then(|| Json(vec![text]))
}

fn main() {
    let _ = Host::builder()
        .function::<forward>()
        .function::<batch>()
        .function::<pems>()
        .function::<maybe>();
}
