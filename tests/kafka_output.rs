//! The Kafka output: delivery awaited and failures surfaced, against librdkafka's in-process mock
//! cluster (fault injection) and against Tansu (a real broker, from `cargo xtask services up`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bindings::extend::FunctionDef;
use bindings::prelude::*;
use bindings::{BindingData, CallError, HostHandle};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use support::kafka::{Record, consume, consume_with, create_topic_with};

mod support;

/// Sends each comma-separated word of the payload as a message, keyed from the binding data.
#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    key = "{id}",
    message_timeout_ms = 3000
)]
async fn words(text: String) -> Vec<String> {
    text.split(',').map(str::to_owned).collect()
}

/// Sends an event through the extension's JSON-string form. Its partition (7, on topics of at
/// most 3 partitions) and its timestamp are not used: they are generated when the record is produced.
#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers", enable_idempotence = true)]
async fn events(text: String) -> Result<Vec<String>, FunctionError> {
    let event = format!(
        r#"{{"Offset":0,"Partition":7,"Topic":"ignored","Timestamp":"2022-04-09T03:20:06.591Z","Key":"json-key","Value":"{text} (json)","Headers":[{{"Key":"test","Value":"rust"}}]}}"#
    );
    Ok(vec![event])
}

#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
async fn typed_event(text: String) -> KafkaEvent<String> {
    KafkaEvent::new(text)
        .key("k-1")
        .header("test", "rust")
        .header("bin", vec![0u8, 1, 255])
        .partition(2)
}

#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers", max_message_bytes = 1000)]
async fn big(size: String) -> Vec<u8> {
    vec![b'x'; size.parse().unwrap_or(0)]
}

async fn host<F: FunctionDef>(brokers: &str, topic: &str) -> HostHandle {
    Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", brokers)
                .with("Topic", topic),
        )
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start()
}

fn data(id: &str) -> BindingData {
    let mut data = BindingData::new();
    data.insert("id", id);
    data
}

fn failure(result: Result<(), CallError>) -> FunctionError {
    match result {
        Err(CallError::Failed { error, .. }) => error,
        other => panic!("expected the invocation to fail, got {other:?}"),
    }
}

/// Calls `function` as a trigger retries a failed message: again until it succeeds (at most 60 s).
async fn retry_until_delivered(handle: &HostHandle, function: &str, payload: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match handle
            .call_with(function, payload.to_owned(), data("k"))
            .await
        {
            Ok(()) => return,
            Err(err) if tokio::time::Instant::now() < deadline => {
                eprintln!("retrying after: {err}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(err) => panic!("still failing after 60 s: {err}"),
        }
    }
}

fn mock(
    topic: &str,
    partitions: i32,
) -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let cluster = MockCluster::new(3).expect("a mock cluster");
    cluster.create_topic(topic, partitions, 1).expect("a topic");
    cluster
}

#[tokio::test]
async fn values_are_delivered_with_the_key_from_binding_data() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let handle = host::<words>(&cluster.bootstrap_servers(), &topic).await;
    handle
        .call_with("words", "one,two", data("order-7"))
        .await
        .unwrap();
    let read = consume(&cluster.bootstrap_servers(), &topic, 2).await;
    let values: Vec<&str> = read.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(values, ["one", "two"], "in order");
    assert!(
        read.iter()
            .all(|r| r.key.as_deref() == Some(&b"order-7"[..]))
    );
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn a_broker_that_is_down_fails_the_invocation_and_it_recovers_after() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let handle = host::<words>(&cluster.bootstrap_servers(), &topic).await;
    handle
        .call_with("words", "warm-up", data("k"))
        .await
        .unwrap();
    for broker in 1..=3 {
        cluster.broker_down(broker).unwrap();
    }
    let err = failure(handle.call_with("words", "lost?", data("k")).await);
    let text = err.to_string();
    assert!(!err.is_poison(), "a broker outage is worth retrying");
    assert!(
        text.contains(&format!("to topic `{topic}` were not delivered")),
        "{text}"
    );
    assert!(text.contains("partition"), "{text}");
    for broker in 1..=3 {
        cluster.broker_up(broker).unwrap();
    }
    // The trigger's retries: the same invocation again until the client has reconnected.
    retry_until_delivered(&handle, "words", "lost?").await;
    let values: Vec<String> = consume(&cluster.bootstrap_servers(), &topic, 2)
        .await
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(values[0], "warm-up");
    assert!(
        values.contains(&"lost?".to_owned()),
        "nothing lost: {values:?}"
    );
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn produce_errors_from_the_broker_fail_the_invocation() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let handle = host::<words>(&cluster.bootstrap_servers(), &topic).await;
    handle
        .call_with("words", "warm-up", data("k"))
        .await
        .unwrap();
    // More retriable errors than the producer's own retries (max_retries = 2) absorb.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 10],
    );
    let err = failure(handle.call_with("words", "refused", data("k")).await);
    assert!(err.to_string().contains("were not delivered"), "{err}");
    assert!(
        err.to_string().contains("NotEnoughReplicas"),
        "the broker's error is named: {err}"
    );
    cluster.clear_request_errors(RDKafkaApiKey::Produce);
    retry_until_delivered(&handle, "words", "refused").await;
    let values: Vec<String> = consume(&cluster.bootstrap_servers(), &topic, 2)
        .await
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(values, ["warm-up", "refused"]);
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn a_message_over_max_message_bytes_is_a_clear_error_at_once() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let handle = host::<big>(&cluster.bootstrap_servers(), &topic).await;
    handle.call("big", "100").await.unwrap();
    let err = failure(handle.call("big", "5000").await);
    assert!(err.is_poison(), "too large never gets better");
    assert!(err.to_string().contains("too large: 5000 bytes"), "{err}");
    assert!(
        err.to_string().contains("max_message_bytes = 1000"),
        "{err}"
    );
    // Counted by error type, beside the one delivered record and the two sends.
    let metrics = handle
        .resources()
        .get::<bindings::telemetry::Metrics>()
        .expect("every host has metrics")
        .encode();
    for line in [
        format!(
            "bindings_kafka_delivery_failures_total{{function=\"big\",topic=\"{topic}\",error_type=\"MSG_SIZE_TOO_LARGE\"}} 1"
        ),
        format!(
            "messaging_client_sent_messages_total{{function=\"big\",messaging_system=\"kafka\",messaging_destination_name=\"{topic}\"}} 1"
        ),
        format!(
            "messaging_client_operation_duration_seconds_count{{function=\"big\",messaging_system=\"kafka\",messaging_destination_name=\"{topic}\",messaging_operation_name=\"send\"}} 2"
        ),
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn events_carry_keys_headers_partitions_and_timestamps() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 3);
    let handle = host::<typed_event>(&cluster.bootstrap_servers(), &topic).await;
    handle.call("typed_event", "typed").await.unwrap();
    let read = consume(&cluster.bootstrap_servers(), &topic, 1)
        .await
        .remove(0);
    assert_eq!(read.key.as_deref(), Some(&b"k-1"[..]));
    assert_eq!(read.partition, 2);
    assert_eq!(
        read.headers,
        [
            ("test".to_owned(), Some(b"rust".to_vec())),
            ("bin".to_owned(), Some(vec![0, 1, 255]))
        ]
    );
    handle.shutdown(Duration::from_secs(10)).await.unwrap();

    let topic = support::unique("t");
    let cluster = mock(&topic, 3);
    let handle = host::<events>(&cluster.bootstrap_servers(), &topic).await;
    let before = support::now_millis();
    handle.call("events", "compat").await.unwrap();
    let after = support::now_millis();
    let read = consume(&cluster.bootstrap_servers(), &topic, 1)
        .await
        .remove(0);
    assert_eq!(read.value, "compat (json)");
    assert_eq!(read.key.as_deref(), Some(&b"json-key"[..]));
    assert!(
        (0..3).contains(&read.partition),
        "the partitioner picks the partition: {read:?}"
    );
    assert_eq!(read.headers, [("test".to_owned(), Some(b"rust".to_vec()))]);
    assert!(
        read.timestamp
            .is_some_and(|at| (before..=after).contains(&at)),
        "stamped when produced ({before}..={after}), not in 2022: {read:?}"
    );
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
}

#[manual_trigger]
#[kafka_output(
    topic = "t",
    broker_list = "Brokers",
    protocol = "SASLSSL",
    authentication_mode = "PLAIN",
    username = "%KafkaUser%",
    password = "%KafkaPassword%"
)]
async fn secured(text: String) -> String {
    text
}

#[tokio::test]
async fn settings_problems_are_reported_at_build_without_secrets() {
    let err = Host::builder()
        .settings(Settings::new().with("Brokers", "127.0.0.1:1"))
        .function::<words>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("function `words`, #[kafka_output]: `topic` refers to app setting `Topic`, which is not set"), "{err}");
    let err = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", "127.0.0.1:1")
                .with("KafkaUser", "alice"),
        )
        .function::<secured>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`password` names app setting `KafkaPassword`, which is not set"),
        "{err}"
    );
    // With every setting there, the producer is created (brokers need not answer at start-up).
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", "127.0.0.1:1")
                .with("KafkaUser", "alice")
                .with("KafkaPassword", "s3cret"),
        )
        .function::<secured>()
        .build()
        .await
        .expect("an unreachable broker is a warning, not a build error")
        .start();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

// ---- Against Tansu, a real Kafka-API broker. ----

/// A fresh topic with `partitions` on Tansu.
async fn tansu_topic(brokers: &str, partitions: i32) -> String {
    create_topic_with(brokers, &support::unique("t"), partitions, &[]).await
}

#[tokio::test]
async fn on_tansu_values_keys_headers_and_partitions_arrive() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = tansu_topic(&brokers, 3).await;
    let handle = host::<typed_event>(&brokers, &topic).await;
    handle.call("typed_event", "to tansu").await.unwrap();
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let handle = host::<words>(&brokers, &topic).await;
    handle
        .call_with("words", "a,b,c", data("id-9"))
        .await
        .unwrap();
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let read = consume(&brokers, &topic, 4).await;
    let by_value: HashMap<&str, &Record> = read.iter().map(|r| (r.value.as_str(), r)).collect();
    let typed = by_value["to tansu"];
    assert_eq!(
        (typed.key.as_deref(), typed.partition),
        (Some(&b"k-1"[..]), 2)
    );
    assert_eq!(typed.headers[1], ("bin".to_owned(), Some(vec![0, 1, 255])));
    for word in ["a", "b", "c"] {
        assert_eq!(by_value[word].key.as_deref(), Some(&b"id-9"[..]));
    }
    // One key, one partition: in order.
    let words: Vec<&str> = read
        .iter()
        .filter(|r| r.key.as_deref() == Some(&b"id-9"[..]))
        .map(|r| r.value.as_str())
        .collect();
    assert_eq!(words, ["a", "b", "c"]);
}

#[tokio::test]
async fn on_tansu_an_idempotent_producer_delivers() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = tansu_topic(&brokers, 3).await;
    let handle = host::<events>(&brokers, &topic).await;
    for i in 0..3 {
        handle.call("events", format!("e{i}")).await.unwrap();
    }
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let values: Vec<String> = consume(&brokers, &topic, 3)
        .await
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(values, ["e0 (json)", "e1 (json)", "e2 (json)"]);
}

#[allow(dead_code)]
fn assert_send_sync(_: Arc<HostHandle>) {}

// ---- Queue -> Kafka: a message is deleted only after its records are delivered. ----

#[queue_trigger(
    "%Queue%",
    max_dequeue_count = 1000,
    max_polling_interval = "00:00:00.200",
    message_encoding = "none"
)]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    key = "{id}",
    message_timeout_ms = 1500
)]
async fn forward(text: String) -> String {
    text
}

#[tokio::test]
async fn queue_to_kafka_loses_nothing_while_the_brokers_are_down() {
    use bindings::queue::{MemoryQueueService, QueueFunctions, QueueService, QueueServices};
    let (queue, topic) = (support::unique("q"), support::unique("t"));
    let cluster = mock(&topic, 3);
    let memory = MemoryQueueService::new();
    memory.create_queue(&queue).await.unwrap();
    for i in 0..20 {
        memory.send(&queue, &format!("m{i}")).await.unwrap();
    }
    for broker in 1..=3 {
        cluster.broker_down(broker).unwrap();
    }
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", cluster.bootstrap_servers())
                .with("Topic", topic.clone())
                .with("Queue", queue.clone()),
        )
        .resource(Arc::new(
            QueueServices::new().with("Storage", memory.clone()),
        ))
        .function::<forward>()
        .build()
        .await
        .unwrap()
        .start();
    let function = handle
        .resources()
        .get::<QueueFunctions>()
        .unwrap()
        .get("forward")
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while function.counts().failed < 20 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries did not fail while the brokers were down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        memory.peek_all(&queue).len(),
        20,
        "no message is deleted while its record is undelivered"
    );
    for broker in 1..=3 {
        cluster.broker_up(broker).unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while function.counts().succeeded < 20 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all delivered after the brokers came back: {:?}",
            function.counts()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    assert!(memory.peek_all(&queue).is_empty());
    assert!(
        !memory.queue_exists(&format!("{queue}-poison")),
        "nothing was poisoned"
    );
    let mut values: Vec<String> = consume(&cluster.bootstrap_servers(), &topic, 20)
        .await
        .into_iter()
        .map(|r| r.value)
        .collect();
    values.sort();
    values.dedup();
    assert_eq!(values.len(), 20, "every message arrived");
}

// ---- Several outputs from one invocation. ----

#[derive(Outputs)]
struct Fanout {
    #[kafka_output(topic = "%Topic%", broker_list = "Brokers", key = "{id}")]
    orders: Vec<String>,
    #[kafka_output(topic = "%AuditTopic%", broker_list = "Brokers", linger_ms = 0)]
    audit: Option<KafkaEvent<String>>,
}

#[manual_trigger]
async fn fanout(text: String) -> Result<Fanout, FunctionError> {
    Ok(Fanout {
        orders: text.split(',').map(str::to_owned).collect(),
        audit: Some(KafkaEvent::new(format!("saw {text}")).header("source", "fanout")),
    })
}

#[tokio::test]
async fn a_derive_outputs_struct_sends_each_field_to_its_output() {
    let (topic, audit) = (support::unique("t"), support::unique("audit"));
    let cluster = mock(&topic, 1);
    cluster.create_topic(&audit, 1, 1).unwrap();
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", cluster.bootstrap_servers())
                .with("Topic", topic.clone())
                .with("AuditTopic", audit.clone()),
        )
        .function::<fanout>()
        .build()
        .await
        .unwrap()
        .start();
    handle
        .call_with("fanout", "a,b", data("o-1"))
        .await
        .unwrap();
    let producers = handle
        .resources()
        .get::<bindings::kafka::Producers>()
        .unwrap();
    assert_eq!(
        producers.len(),
        2,
        "different options (linger_ms) make different producers"
    );
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let orders: Vec<String> = consume(&cluster.bootstrap_servers(), &topic, 2)
        .await
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(orders, ["a", "b"]);
    let audit = consume(&cluster.bootstrap_servers(), &audit, 1)
        .await
        .remove(0);
    assert_eq!(audit.value, "saw a,b");
    assert_eq!(
        audit.headers,
        [("source".to_owned(), Some(b"fanout".to_vec()))]
    );
}

#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers", linger_ms = 10)]
async fn layered(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers", linger_ms = 10)]
async fn layered_twin(text: String) -> String {
    text
}

#[tokio::test]
async fn options_layer_attribute_over_host_json_over_defaults_and_producers_are_shared() {
    let config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "extensions": { "kafka": { "lingerMs": 50, "compression": "gzip", "maxRetries": 7 } } }"#,
    )
    .unwrap();
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", "127.0.0.1:1")
                .with("Topic", "t"),
        )
        .host_config(config)
        .function::<layered>()
        .function::<layered_twin>()
        .build()
        .await
        .unwrap()
        .start();
    let producers = handle
        .resources()
        .get::<bindings::kafka::Producers>()
        .unwrap();
    let configurations = producers.configurations();
    assert_eq!(configurations.len(), 1, "equal options share one producer");
    let options = &configurations[0];
    assert_eq!(options.linger_ms, 10, "the attribute wins");
    assert_eq!(
        options.compression,
        Some(bindings::Compression::Gzip),
        "then host.json"
    );
    assert_eq!(options.max_retries, 7, "then host.json");
    assert_eq!(options.batch_size, 10_000, "then the default");
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

// ---- Avro and protobuf values, decoded back from the topic. ----

const ORDER_SCHEMA: &str = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"total","type":"long"}]}"#;

#[derive(serde::Serialize)]
struct AvroOrder {
    id: String,
    total: i64,
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    avro_schema = "%OrderSchema%"
)]
async fn avro_orders(id: String) -> Avro<AvroOrder> {
    Avro(AvroOrder { id, total: 42 })
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoOrder {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(int64, tag = "2")]
    total: i64,
}

#[manual_trigger]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
async fn proto_orders(id: String) -> Protobuf<ProtoOrder> {
    Protobuf(ProtoOrder { id, total: 7 })
}

/// The raw bytes of the first record of `topic`.
async fn first_value(brokers: &str, topic: &str) -> Vec<u8> {
    consume(brokers, topic, 1).await.remove(0).payload
}

#[tokio::test]
async fn avro_values_arrive_in_confluent_wire_format_and_protobuf_as_its_bytes() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", cluster.bootstrap_servers())
                .with("Topic", topic.clone())
                .with("OrderSchema", ORDER_SCHEMA),
        )
        .function::<avro_orders>()
        .build()
        .await
        .unwrap()
        .start();
    handle.call("avro_orders", "o-1").await.unwrap();
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let bytes = first_value(&cluster.bootstrap_servers(), &topic).await;
    assert_eq!(&bytes[..5], &[0, 0, 0, 0, 1], "magic byte and schema id 1");
    let schema = apache_avro::Schema::parse_str(ORDER_SCHEMA).unwrap();
    let decoded = apache_avro::from_avro_datum(&schema, &mut &bytes[5..], None).unwrap();
    assert_eq!(
        decoded,
        apache_avro::types::Value::Record(vec![
            ("id".into(), apache_avro::types::Value::String("o-1".into())),
            ("total".into(), apache_avro::types::Value::Long(42)),
        ])
    );

    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let handle = host::<proto_orders>(&cluster.bootstrap_servers(), &topic).await;
    handle.call("proto_orders", "p-1").await.unwrap();
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let bytes = first_value(&cluster.bootstrap_servers(), &topic).await;
    assert_eq!(
        <ProtoOrder as prost::Message>::decode(bytes.as_slice()).unwrap(),
        ProtoOrder {
            id: "p-1".into(),
            total: 7
        }
    );
}

#[tokio::test]
async fn an_invalid_avro_schema_is_a_build_problem() {
    let err = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", "127.0.0.1:1")
                .with("Topic", "t")
                .with("OrderSchema", "{\"type\": \"nope\"}"),
        )
        .function::<avro_orders>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "function `avro_orders`, #[kafka_output]: `avro_schema` is not a valid Avro schema"
        ),
        "{err}"
    );
}

// ---- Security, against Tansu behind SCRAM and stunnel (`cargo xtask services up`). ----

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "SaslPlaintext",
    authentication_mode = "ScramSha256",
    username = "%KafkaUser%",
    password = "%KafkaPassword%",
    message_timeout_ms = 3000
)]
async fn scram256(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "SASL_PLAINTEXT",
    authentication_mode = "SCRAM-SHA-512",
    username = "%KafkaUser%",
    password = "%KafkaPassword%",
    message_timeout_ms = 3000
)]
async fn scram512(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "Ssl",
    ssl_ca_location = "%CaFile%",
    ssl_certificate_location = "%CertFile%",
    ssl_key_location = "%KeyFile%",
    ssl_key_password = "%KeyPassword%",
    message_timeout_ms = 3000
)]
async fn mutual_tls(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "Ssl",
    ssl_ca_pem = "%CaPem%",
    ssl_certificate_pem = "%CertPem%",
    ssl_key_pem = "%KeyPem%",
    ssl_key_password = "%KeyPassword%",
    message_timeout_ms = 3000
)]
async fn pem_tls(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "Ssl",
    message_timeout_ms = 3000
)]
async fn tls_without_ca(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "SaslSsl",
    authentication_mode = "ScramSha512",
    username = "%KafkaUser%",
    password = "%KafkaPassword%",
    ssl_ca_location = "%CaFile%",
    message_timeout_ms = 3000
)]
async fn sasl_ssl(text: String) -> String {
    text
}

fn service(var: &str) -> String {
    support::require(var).unwrap_or_else(|| panic!("{var} is needed"))
}

/// Produces `text` through `F` with `settings`, then reads it back with a consumer using `security`.
async fn round_trip<F: FunctionDef>(
    function: &str,
    settings: Settings,
    brokers: &str,
    security: &[(&str, &str)],
) {
    round_trip_in::<F>(function, settings, HostConfig::default(), brokers, security).await;
}

/// [`round_trip`] on a host configured with `host_config`.
async fn round_trip_in<F: FunctionDef>(
    function: &str,
    settings: Settings,
    host_config: HostConfig,
    brokers: &str,
    security: &[(&str, &str)],
) {
    let topic = create_topic_with(brokers, &support::unique("t"), 1, security).await;
    let handle = Host::builder()
        .settings(
            settings
                .with("Brokers", brokers)
                .with("Topic", topic.clone()),
        )
        .host_config(host_config)
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start();
    handle
        .call(function, format!("via {function}"))
        .await
        .unwrap();
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let read = consume_with(brokers, &topic, 1, security).await;
    assert_eq!(read[0].value, format!("via {function}"));
}

#[tokio::test]
async fn on_tansu_scram_sha_256_and_512_authenticate_and_a_wrong_password_is_a_clear_failure() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_SCRAM_BROKERS") else {
        return;
    };
    support::logs(); // capture from here on
    for (bits, mechanism) in [("256", "SCRAM-SHA-256"), ("512", "SCRAM-SHA-512")] {
        let user = service(&format!("BINDINGS_KAFKA_SCRAM{bits}_USER"));
        let password = service(&format!("BINDINGS_KAFKA_SCRAM{bits}_PASSWORD"));
        let security = [
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanism", mechanism),
            ("sasl.username", user.as_str()),
            ("sasl.password", password.as_str()),
        ];
        let settings = Settings::new()
            .with("KafkaUser", user.clone())
            .with("KafkaPassword", password.clone());
        if bits == "256" {
            round_trip::<scram256>("scram256", settings, &brokers, &security).await;
        } else {
            round_trip::<scram512>("scram512", settings, &brokers, &security).await;
        }
    }
    // A wrong password: the invocation fails, and the log says why.
    let user = service("BINDINGS_KAFKA_SCRAM512_USER");
    let wrong = "not-the-password";
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", brokers.clone())
                .with("Topic", support::unique("t"))
                .with("KafkaUser", user)
                .with("KafkaPassword", wrong),
        )
        .function::<scram512>()
        .build()
        .await
        .unwrap()
        .start();
    let err = failure(handle.call("scram512", "refused").await);
    assert!(err.to_string().contains("were not delivered"), "{err}");
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let text = support::log_text();
    assert!(
        text.contains("SASL SCRAM authentication failed"),
        "the log names the cause"
    );
    assert!(!text.contains(wrong), "no password in any log line");
}

#[tokio::test]
async fn on_tansu_mutual_tls_with_an_encrypted_key_works_and_an_unknown_ca_fails_clearly() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_TLS_BROKERS") else {
        return;
    };
    support::logs(); // capture from here on
    let (ca, cert, key, key_password) = (
        service("BINDINGS_KAFKA_TLS_CA"),
        service("BINDINGS_KAFKA_TLS_CLIENT_CERT"),
        service("BINDINGS_KAFKA_TLS_CLIENT_KEY"),
        service("BINDINGS_KAFKA_TLS_CLIENT_KEY_PASSWORD"),
    );
    let security = [
        ("security.protocol", "ssl"),
        ("ssl.ca.location", ca.as_str()),
        ("ssl.certificate.location", cert.as_str()),
        ("ssl.key.location", key.as_str()),
        ("ssl.key.password", key_password.as_str()),
    ];
    let settings = Settings::new()
        .with("CaFile", ca.clone())
        .with("CertFile", cert.clone())
        .with("KeyFile", key.clone())
        .with("KeyPassword", key_password.clone());
    round_trip::<mutual_tls>("mutual_tls", settings, &brokers, &security).await;
    // The same with the certificates inline (PEM text in settings instead of file paths).
    let read = |path: &str| std::fs::read_to_string(path).expect("a PEM file");
    let settings = Settings::new()
        .with("CaPem", read(&ca))
        .with("CertPem", read(&cert))
        .with("KeyPem", read(&key))
        .with("KeyPassword", key_password.clone());
    round_trip::<pem_tls>("pem_tls", settings, &brokers, &security).await;
    // Verification is on by default: without the CA, the broker's certificate is refused.
    let handle = host::<tls_without_ca>(&brokers, &support::unique("t")).await;
    let err = failure(handle.call("tls_without_ca", "refused").await);
    assert!(err.to_string().contains("were not delivered"), "{err}");
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let text = support::log_text();
    assert!(
        text.contains("certificate verify failed"),
        "the log names the cause"
    );
    assert!(
        !text.contains(&key_password),
        "no key password in any log line"
    );
}

#[tokio::test]
async fn on_tansu_sasl_ssl_works() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_SASL_SSL_BROKERS") else {
        return;
    };
    let credentials = support::kafka::SaslSsl::recorded();
    let (ca, user, password) = (&credentials.ca, &credentials.user, &credentials.password);
    let security = credentials.client();
    let settings = Settings::new()
        .with("KafkaUser", user.clone())
        .with("KafkaPassword", password.clone())
        .with("CaFile", ca.clone());
    round_trip::<sasl_ssl>("sasl_ssl", settings, &brokers, &security).await;
}

// ---- The seed's credential forms, verbatim: setting names, bare or as `%Name%`. ----

/// The seed's C# Confluent sample: `Username = "ConfluentCloudUserName"`, `Password =
/// "ConfluentCloudPassword"`, `Protocol = BrokerProtocol.SaslSsl`, `AuthenticationMode = Plain`.
#[manual_trigger]
#[kafka_output(
    topic = "topic",
    broker_list = "BrokerList",
    username = "ConfluentCloudUserName",
    password = "ConfluentCloudPassword",
    protocol = "SaslSsl",
    authentication_mode = "Plain"
)]
async fn confluent_csharp(text: String) -> String {
    text
}

/// The seed's Java sample: `username = "%ConfluentCloudUsername%"`, `password =
/// "ConfluentCloudPassword"`, `authenticationMode = PLAIN`, `protocol = SASLSSL`.
#[manual_trigger]
#[kafka_output(
    topic = "topic",
    broker_list = "BrokerList",
    username = "%ConfluentCloudUsername%",
    password = "ConfluentCloudPassword",
    authentication_mode = "PLAIN",
    protocol = "SASLSSL"
)]
async fn confluent_java(text: String) -> String {
    text
}

#[tokio::test]
async fn the_seeds_credential_forms_resolve_at_build_and_a_missing_setting_is_named_with_a_suggestion()
 {
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("BrokerList", "127.0.0.1:1")
                .with("ConfluentCloudUserName", "api-key-1")
                .with("ConfluentCloudPassword", "api-secret-1"),
        )
        .function::<confluent_csharp>()
        .function::<confluent_java>()
        .build()
        .await
        .expect("both forms name existing settings")
        .start();
    let producers = handle
        .resources()
        .get::<bindings::kafka::Producers>()
        .unwrap();
    let configurations = producers.configurations();
    // Both forms resolve to the same credentials, hence one producer.
    assert_eq!(configurations.len(), 1, "{configurations:?}");
    let options = &configurations[0];
    assert_eq!(options.username.as_deref(), Some("api-key-1"));
    assert_eq!(options.password.as_deref(), Some("api-secret-1"));
    assert_eq!(options.protocol, bindings::Protocol::SaslSsl);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();

    // A misspelt setting: a build problem naming the option and the setting, with a suggestion,
    // never a value; the credential is not used as written.
    let err = Host::builder()
        .settings(
            Settings::new()
                .with("BrokerList", "127.0.0.1:1")
                .with("ConfluentCloudUserName", "api-key-1")
                .with("ConfluentCloudPasword", "api-secret-1"),
        )
        .function::<confluent_csharp>()
        .function::<confluent_java>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    for function in ["confluent_csharp", "confluent_java"] {
        assert!(
            err.contains(&format!(
                "function `{function}`, #[kafka_output]: `password` names app setting \
                 `ConfluentCloudPassword`, which is not set (did you mean `ConfluentCloudPasword`?)"
            )),
            "{err}"
        );
    }
    assert!(
        !err.contains("api-secret-1") && !err.contains("api-key-1"),
        "{err}"
    );
    assert!(
        !err.contains("needs `username` and `password`"),
        "one problem per mistake: {err}"
    );
}

#[manual_trigger]
#[kafka_output(topic = "t", broker_list = "BrokerLsit")]
async fn misspelt_brokers(text: String) -> String {
    text
}

#[tokio::test]
async fn a_broker_list_that_names_no_setting_must_be_a_host_port_list() {
    let err = Host::builder()
        .settings(Settings::new().with("BrokerList", "127.0.0.1:1"))
        .function::<misspelt_brokers>()
        .build()
        .await
        .expect_err("\"BrokerLsit\" is neither a setting nor brokers")
        .to_string();
    assert!(
        err.contains(
            "function `misspelt_brokers`, #[kafka_output]: `broker_list` = \"BrokerLsit\" names no app \
             setting or connection string (did you mean `BrokerList`?), and it is not a \
             host:port[,host:port…] list either"
        ),
        "{err}"
    );
    // Written as brokers, the same name would be used as it is.
    let handle = Host::builder()
        .settings(Settings::new().with("BrokerLsit", "127.0.0.1:1"))
        .function::<misspelt_brokers>()
        .build()
        .await
        .expect("a setting of that name is used")
        .start();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[manual_trigger]
#[kafka_output(
    topic = "t",
    broker_list = "Brokers",
    ssl_certificate_pem = "CertPem",
    ssl_key_pem = "KeyPem",
    ssl_key_password = "KeyPassword"
)]
async fn plaintext_with_pems(text: String) -> String {
    text
}

#[tokio::test]
async fn tls_options_that_plaintext_would_drop_are_build_problems() {
    let err = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", "127.0.0.1:1")
                .with(
                    "CertPem",
                    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                )
                .with(
                    "KeyPem",
                    "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
                )
                .with("KeyPassword", "key-secret"),
        )
        .function::<plaintext_with_pems>()
        .build()
        .await
        .expect_err("librdkafka would ignore them under plaintext")
        .to_string();
    assert!(
        err.contains(
            "`ssl_key_password`, `ssl_certificate_pem`, `ssl_key_pem` set, but protocol plaintext does not \
             use TLS, so librdkafka would ignore them"
        ),
        "{err}"
    );
    assert!(
        !err.contains("key-secret") && !err.contains("MIIE"),
        "{err}"
    );
}

/// The C# sample's credential forms against the SCRAM broker behind TLS (Tansu has no PLAIN).
#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    username = "ConfluentCloudUserName",
    password = "ConfluentCloudPassword",
    protocol = "SaslSsl",
    authentication_mode = "ScramSha512",
    ssl_ca_location = "%CaFile%",
    message_timeout_ms = 3000
)]
async fn seed_csharp_scram(text: String) -> String {
    text
}

/// The Java sample's mix against the same broker.
#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    username = "%ConfluentCloudUsername%",
    password = "ConfluentCloudPassword",
    protocol = "SASLSSL",
    authentication_mode = "SCRAM-SHA-512",
    ssl_ca_location = "%CaFile%",
    message_timeout_ms = 3000
)]
async fn seed_java_scram(text: String) -> String {
    text
}

#[tokio::test]
async fn on_tansu_the_seeds_credential_forms_authenticate_over_sasl_ssl() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_SASL_SSL_BROKERS") else {
        return;
    };
    let credentials = support::kafka::SaslSsl::recorded();
    let (ca, user, password) = (&credentials.ca, &credentials.user, &credentials.password);
    assert_eq!(
        service("BINDINGS_KAFKA_SASL_SSL_MECHANISM"),
        "SCRAM-SHA-512",
        "the functions above are written for this mechanism"
    );
    let security = credentials.client();
    // The seed's table: "the app setting named ConfluentCloudUsername contains the API access key".
    let settings = || {
        Settings::new()
            .with("ConfluentCloudUsername", user.clone())
            .with("ConfluentCloudPassword", password.clone())
            .with("CaFile", ca.clone())
    };
    round_trip::<seed_csharp_scram>("seed_csharp_scram", settings(), &brokers, &security).await;
    round_trip::<seed_java_scram>("seed_java_scram", settings(), &brokers, &security).await;
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "Ssl",
    ssl_ca_location = "certs/ca.pem",
    ssl_certificate_location = "certs/client.pem",
    ssl_key_location = "certs/client.key",
    ssl_key_password = "KeyPassword",
    message_timeout_ms = 3000
)]
async fn relative_tls(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "Ssl",
    ssl_ca_location = "%CaFile%",
    ssl_certificate_and_key_pem = "CertificateAndKey",
    ssl_key_password = "KeyPassword",
    message_timeout_ms = 3000
)]
async fn combined_pem(text: String) -> String {
    text
}

#[tokio::test]
async fn on_tansu_relative_ssl_paths_are_read_from_the_app_root_and_one_pem_can_hold_certificate_and_key()
 {
    let Some(brokers) = support::require("BINDINGS_KAFKA_TLS_BROKERS") else {
        return;
    };
    let (ca, cert, key, key_password) = (
        service("BINDINGS_KAFKA_TLS_CA"),
        service("BINDINGS_KAFKA_TLS_CLIENT_CERT"),
        service("BINDINGS_KAFKA_TLS_CLIENT_KEY"),
        service("BINDINGS_KAFKA_TLS_CLIENT_KEY_PASSWORD"),
    );
    let security = [
        ("security.protocol", "ssl"),
        ("ssl.ca.location", ca.as_str()),
        ("ssl.certificate.location", cert.as_str()),
        ("ssl.key.location", key.as_str()),
        ("ssl.key.password", key_password.as_str()),
    ];
    // An app root elsewhere than the current directory: host.json and the certificates below it.
    let root = std::env::temp_dir().join(support::unique("app-root"));
    std::fs::create_dir_all(root.join("certs")).unwrap();
    for (from, to) in [(&ca, "ca.pem"), (&cert, "client.pem"), (&key, "client.key")] {
        std::fs::copy(from, root.join("certs").join(to)).unwrap();
    }
    std::fs::write(root.join("host.json"), r#"{ "version": "2.0" }"#).unwrap();
    let host_config = HostConfig::from_file(root.join("host.json")).unwrap();
    let settings = Settings::new().with("KeyPassword", key_password.clone());
    round_trip_in::<relative_tls>("relative_tls", settings, host_config, &brokers, &security).await;
    // Without that app root the same relative paths name nothing: a build problem naming the path.
    let err = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", brokers.clone())
                .with("Topic", "t")
                .with("KeyPassword", key_password.clone()),
        )
        .function::<relative_tls>()
        .build()
        .await
        .expect_err("certs/ca.pem is not below the current directory")
        .to_string();
    let looked_for = std::env::current_dir().unwrap().join("certs/ca.pem");
    assert!(
        err.contains("`ssl_ca_location` = \"certs/ca.pem\" names no app setting")
            && err.contains(&looked_for.display().to_string()),
        "{err}"
    );
    std::fs::remove_dir_all(&root).unwrap();

    // The extension's SslCertificateandKeyPEM: certificate and (encrypted) key in one setting.
    let read = |path: &str| std::fs::read_to_string(path).expect("a PEM file");
    let settings = Settings::new()
        .with("CaFile", ca.clone())
        .with(
            "CertificateAndKey",
            format!("{}\n{}", read(&key), read(&cert)),
        )
        .with("KeyPassword", key_password.clone());
    round_trip::<combined_pem>("combined_pem", settings, &brokers, &security).await;
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    avro_schema = "%OrderSchema%",
    schema_registry_url = "%RegistryUrl%",
    schema_registry_username = "registry-user",
    schema_registry_password = "%RegistryPassword%"
)]
async fn registered_orders(id: String) -> Avro<AvroOrder> {
    Avro(AvroOrder { id, total: 1 })
}

/// A stand-in schema registry: answers every registration with id 42 and records the requests.
async fn fake_registry() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            loop {
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&request).into_owned());
            let body = r#"{"id":42}"#;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.schemaregistry.v1+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (url, requests)
}

#[tokio::test]
async fn with_a_schema_registry_the_schema_is_registered_once_and_its_id_is_used() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let (registry, requests) = fake_registry().await;
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", cluster.bootstrap_servers())
                .with("Topic", topic.clone())
                .with("OrderSchema", ORDER_SCHEMA)
                .with("RegistryUrl", registry)
                .with("RegistryPassword", "registry-secret"),
        )
        .function::<registered_orders>()
        .build()
        .await
        .unwrap()
        .start();
    handle.call("registered_orders", "o-1").await.unwrap();
    handle.call("registered_orders", "o-2").await.unwrap();
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "registered once: {requests:#?}");
    let request = &requests[0];
    assert!(
        request.starts_with(&format!("POST /subjects/{topic}-value/versions HTTP/1.1")),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: basic "),
        "{request}"
    );
    assert!(
        request.contains(r#"\"name\":\"Order\""#),
        "the schema is in the body: {request}"
    );
    let bytes = first_value(&cluster.bootstrap_servers(), &topic).await;
    assert_eq!(&bytes[..5], &[0, 0, 0, 0, 42], "the registry's id");
}

/// A schema registry over HTTPS, with the `kafka-tls` service's server certificate (signed by its
/// throwaway CA): Python's standard library, answering every registration with id 7. Its URL.
fn https_registry(ca: &str) -> (support::process::Running, String) {
    let tls = std::path::Path::new(ca)
        .parent()
        .expect("the CA lives in target/services/tls");
    let script = r#"
import http.server, ssl, sys
class Registry(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"id":7}'
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Registry)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
    let running = support::process::Running::spawn(
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(tls.join("server.pem"))
            .arg(tls.join("server.key")),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let port = running
        .next_line(deadline)
        .unwrap_or_else(|| panic!("the HTTPS registry did not start:\n{}", running.output()));
    (running, format!("https://127.0.0.1:{port}"))
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    avro_schema = "%OrderSchema%",
    schema_registry_url = "%RegistryUrl%",
    https_ca_location = "%RegistryCa%"
)]
async fn https_registered(id: String) -> Avro<AvroOrder> {
    Avro(AvroOrder { id, total: 1 })
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    avro_schema = "%OrderSchema%",
    schema_registry_url = "%RegistryUrl%"
)]
async fn https_registered_untrusted(id: String) -> Avro<AvroOrder> {
    Avro(AvroOrder { id, total: 1 })
}

#[tokio::test]
async fn an_https_schema_registry_is_trusted_through_https_ca_location() {
    let Some(ca) = support::require("BINDINGS_KAFKA_TLS_CA") else {
        return;
    };
    let (_registry, url) = https_registry(&ca);
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let settings = Settings::new()
        .with("Brokers", cluster.bootstrap_servers())
        .with("Topic", topic.clone())
        .with("OrderSchema", ORDER_SCHEMA)
        .with("RegistryUrl", url)
        .with("RegistryCa", ca);
    let handle = Host::builder()
        .settings(settings)
        .function::<https_registered>()
        .function::<https_registered_untrusted>()
        .build()
        .await
        .unwrap()
        .start();
    handle.call("https_registered", "o-1").await.unwrap();
    let bytes = first_value(&cluster.bootstrap_servers(), &topic).await;
    assert_eq!(&bytes[..5], &[0, 0, 0, 0, 7], "the HTTPS registry's id");
    // Without the CA, the registry's certificate is not trusted.
    let err = failure(handle.call("https_registered_untrusted", "o-2").await).to_string();
    assert!(
        err.contains("schema registry https://127.0.0.1:") && err.contains("certificate"),
        "{err}"
    );
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
}

const KEY_SCHEMA: &str =
    r#"{"type":"record","name":"OrderKey","fields":[{"name":"region","type":"string"}]}"#;

#[derive(serde::Serialize)]
struct OrderKey {
    region: String,
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    avro_key_schema = "%KeySchema%",
    schema_registry_url = "%RegistryUrl%"
)]
async fn keyed_orders(region: String) -> Result<KafkaEvent<String>, FunctionError> {
    KafkaEvent::new(format!("order in {region}")).avro_key(&OrderKey { region })
}

#[tokio::test]
async fn avro_keys_are_registered_under_the_key_subject_and_decode_back() {
    let topic = support::unique("t");
    let cluster = mock(&topic, 1);
    let (registry, requests) = fake_registry().await;
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", cluster.bootstrap_servers())
                .with("Topic", topic.clone())
                .with("KeySchema", KEY_SCHEMA)
                .with("RegistryUrl", registry),
        )
        .function::<keyed_orders>()
        .build()
        .await
        .unwrap()
        .start();
    handle.call("keyed_orders", "eu").await.unwrap();
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with(&format!("POST /subjects/{topic}-key/versions")),
        "{}",
        requests[0]
    );
    let read = consume(&cluster.bootstrap_servers(), &topic, 1)
        .await
        .remove(0);
    assert_eq!(read.value, "order in eu");
    let key = read.key.expect("a key");
    assert_eq!(&key[..5], &[0, 0, 0, 0, 42]);
    let schema = apache_avro::Schema::parse_str(KEY_SCHEMA).unwrap();
    let decoded = apache_avro::from_avro_datum(&schema, &mut &key[5..], None).unwrap();
    assert_eq!(
        decoded,
        apache_avro::types::Value::Record(vec![(
            "region".into(),
            apache_avro::types::Value::String("eu".into())
        )])
    );
}
