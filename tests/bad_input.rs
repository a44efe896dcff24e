//! Bad input loses nothing and explains itself: each case's error names the thing (function,
//! queue, setting, file, field) and says what to do, and its message ends in `-poison` with its
//! body intact, stays in its queue, or never gets received because the build fails first.
//!
//! The cases the other suites already cover are listed in RELIABILITY.md ("Bad input") with
//! their tests; this file holds the rest.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bindings::HostHandle;
use bindings::prelude::*;
use bindings::queue::{
    AzureQueueService, MAX_MESSAGE_SIZE, MemoryQueueService, QueueCounts, QueueFunctions,
    QueueService, QueueServices, ServiceErrorKind, StorageAccount,
};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;

mod support;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The queue trigger's counts for `function`.
fn counts(handle: &HostHandle, function: &str) -> QueueCounts {
    handle
        .resources()
        .get::<QueueFunctions>()
        .expect("the host has queue functions")
        .get(function)
        .expect("the function is registered")
        .counts()
}

/// A host running `F` on a fresh in-memory queue holding `messages`; also returns the queue.
async fn on_memory<F: bindings::extend::FunctionDef>(
    messages: &[String],
    settings: Settings,
) -> (HostHandle, MemoryQueueService, String) {
    let queue = support::unique("bad");
    let memory = MemoryQueueService::new();
    memory.create_queue(&queue).await.unwrap();
    for message in messages {
        memory.send(&queue, message).await.unwrap();
    }
    let handle = Host::builder()
        .settings(settings.with("Queue", queue.clone()))
        .resource(Arc::new(
            QueueServices::new().with("Storage", memory.clone()),
        ))
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start();
    (handle, memory, queue)
}

#[queue_trigger("%Queue%", max_dequeue_count = 2)]
async fn text_only(text: String) -> Result<(), FunctionError> {
    Err(FunctionError::retry(format!(
        "never reached with bad UTF-8: {text}"
    )))
}

#[tokio::test(start_paused = true)]
async fn invalid_utf8_for_a_string_parameter_ends_in_poison_with_its_body_intact() {
    support::logs();
    let body = b64(&[0x66, 0x6f, 0xff, 0xfe, 0x6f]);
    let (handle, memory, queue) =
        on_memory::<text_only>(std::slice::from_ref(&body), Settings::new()).await;
    support::until(
        Duration::from_secs(60),
        "text_only poisoning the message",
        || counts(&handle, "text_only").poisoned == 1,
    )
    .await;
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        memory.peek_all(&format!("{queue}-poison")),
        [body],
        "the body is copied as stored"
    );
    assert!(memory.peek_all(&queue).is_empty());
    let log = support::log_text();
    let line = log
        .lines()
        .find(|line| line.contains(&queue) && line.contains("not UTF-8 text"))
        .unwrap_or_else(|| panic!("no line says why:\n{log}"));
    assert!(line.contains("function=text_only"), "{line}");
    assert!(
        line.contains("bind `Vec<u8>` or `Bytes` to receive raw bytes"),
        "{line}"
    );
}

#[queue_trigger("%Queue%", max_polling_interval = "00:00:01")]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers", message_timeout_ms = 5000)]
async fn relay(text: String) -> String {
    text
}

#[tokio::test]
async fn a_malformed_json_string_kafka_event_is_poisoned_at_once_and_sends_nothing() {
    support::logs();
    let topic = support::unique("t");
    let cluster = MockCluster::new(1).expect("a mock cluster");
    cluster.create_topic(&topic, 1, 1).expect("a topic");
    let bad = r#"{"Offset":0,"Partition":"zero","Topic":"t","Timestamp":"2022-04-09T03:20:06.591Z","Value":"v","Headers":[]}"#;
    // Not the six-field form: sent as it is.
    let good = r#"{"Value":"fine","Key":"k"}"#;
    let (handle, memory, queue) = on_memory::<relay>(
        &[b64(bad.as_bytes()), b64(good.as_bytes())],
        Settings::new()
            .with("Brokers", cluster.bootstrap_servers())
            .with("Topic", topic.clone()),
    )
    .await;
    support::until(
        Duration::from_secs(30),
        "relay poisoning one and sending one",
        || {
            let counts = counts(&handle, "relay");
            counts.poisoned == 1 && counts.succeeded == 1
        },
    )
    .await;
    assert_eq!(
        counts(&handle, "relay").received,
        2,
        "poisoned at once, not retried"
    );
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    assert_eq!(
        memory.peek_all(&format!("{queue}-poison")),
        [b64(bad.as_bytes())]
    );
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .create()
        .expect("a consumer");
    let (low, high) = consumer
        .fetch_watermarks(&topic, 0, Duration::from_secs(10))
        .expect("watermarks");
    assert_eq!(high - low, 1, "only the good event was produced");
    let log = support::log_text();
    let line = log
        .lines()
        .find(|line| line.contains(&queue) && line.contains("JSON-string Kafka event"))
        .unwrap_or_else(|| panic!("no line says why:\n{log}"));
    assert!(
        line.contains("invalid \"Partition\": expected a whole number"),
        "{line}"
    );
}

#[queue_trigger("%Queue%", max_dequeue_count = 1, message_encoding = "none")]
async fn refuse_all(text: String) -> Result<(), FunctionError> {
    Err(FunctionError::retry(format!(
        "refused {} bytes",
        text.len()
    )))
}

#[tokio::test]
async fn on_azurite_a_64_kib_message_reaches_poison_intact_and_a_larger_one_is_refused_at_send() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let account = StorageAccount::from_connection_string(&connection).unwrap();
    let service = AzureQueueService::new(account);
    let queue = support::unique("big");
    service.create_queue(&queue).await.unwrap();

    let too_large = "x".repeat(MAX_MESSAGE_SIZE + 1);
    let err = service.send(&queue, &too_large).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::MessageTooLarge);
    let message = err.to_string();
    assert!(message.contains(&format!("queue `{queue}`")), "{message}");
    assert!(
        message.contains(&format!("{} bytes", MAX_MESSAGE_SIZE + 1)),
        "{message}"
    );
    assert!(message.contains("store the payload elsewhere"), "{message}");

    let largest: String = "0123456789abcdef".repeat(MAX_MESSAGE_SIZE / 16);
    assert_eq!(largest.len(), MAX_MESSAGE_SIZE);
    service
        .send(&queue, &largest)
        .await
        .expect("Azurite stores a 64 KiB message");
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Queue", queue.clone())
                .with("AzureWebJobsStorage", connection),
        )
        .function::<refuse_all>()
        .build()
        .await
        .expect("the host builds")
        .start();
    support::until(
        Duration::from_secs(60),
        "refuse_all poisoning the message",
        || counts(&handle, "refuse_all").poisoned == 1,
    )
    .await;
    handle.shutdown(Duration::from_secs(10)).await.unwrap();
    let poisoned = service
        .receive(&format!("{queue}-poison"), 1, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(poisoned.len(), 1);
    assert!(
        poisoned[0].text == largest,
        "the 64 KiB body reached the poison queue intact"
    );
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 0);
}

#[queue_trigger("%Queue%")]
async fn never_started(text: String) {
    drop(text);
}

#[tokio::test]
async fn a_broken_connection_string_fails_the_build_naming_the_function_connection_and_key() {
    let cases = [
        ("UseDevelopmentStorage=maybe", "`UseDevelopmentStorage`"),
        ("AccountName=acct;AccountKey=not*base64", "`AccountKey`"),
        ("AccountName=acct;Acountkey=abc", "unknown key `Acountkey`"),
        (
            "QueueEndpoint=ftp://host",
            "`QueueEndpoint` is not a usable URL",
        ),
        (
            "just text",
            "part 1 of the storage connection string is not `Key=Value`",
        ),
    ];
    for (connection, expected) in cases {
        let err = Host::builder()
            .settings(
                Settings::new()
                    .with("Queue", "orders")
                    .with("AzureWebJobsStorage", connection),
            )
            .function::<never_started>()
            .build()
            .await
            .expect_err("a broken connection string fails the build")
            .to_string();
        assert!(err.contains("function `never_started`"), "{err}");
        assert!(err.contains("connection `Storage`"), "{err}");
        assert!(err.contains(expected), "{connection}: {err}");
    }
}

/// A file under `target/bad-input/` holding `text`, for the loaders that read from disk.
fn file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bad-input")
        .join(support::unique("f"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Each provider crate registers its host.json section; one read of the file checks all of them,
/// and reports every problem at once.
#[test]
fn every_binding_s_section_is_read_and_every_problem_reported_at_once() {
    let err = HostConfig::from_json_str(
        r#"{ "version": "2.0", "extensions": {
            "queues": { "batchSize": 64, "messageEncoding": "utf8" },
            "kafka": { "protocol": "tls" },
            "http": { "maxConcurrentRequests": 0 } } }"#,
    )
    .expect_err("invalid values are refused")
    .to_string();
    for expected in [
        "host.json has 4 invalid value(s):",
        "$.extensions.queues.batchSize: 64 is out of range; must be 1 to 32",
        "$.extensions.queues.messageEncoding: \"utf8\" is not a valid value; use one of: base64, none",
        "$.extensions.kafka.protocol: \"tls\" is not a valid value; use one of: plaintext, ssl, sasl_plaintext, sasl_ssl",
        "$.extensions.http.maxConcurrentRequests: expected -1 (unbounded) or a positive number, found 0",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in {err}");
    }
    let config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "extensions": {
            "queues": { "batchSize": 8 }, "kafka": { "lingerMs": 9 }, "http": { "routePrefix": "v2" } } }"#,
    )
    .expect("valid host.json");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.extension::<bindings::QueuesOptions>().batch_size, 8);
    assert_eq!(
        config.extension::<bindings::KafkaOptions>().linger_ms,
        Some(9)
    );
    assert_eq!(
        config.extension::<bindings::HttpOptions>().route_prefix,
        "v2"
    );
}

#[test]
fn broken_host_json_files_name_the_file_the_place_and_the_fix() {
    let cases = [
        (
            r#"{"version": "2.0", "extensions": {"#,
            "not valid JSON: EOF while parsing",
        ),
        ("[1, 2]", "$: expected an object, found an array"),
        (
            r#"{"version": "2.0", "extensions": {"queues": {"batchSize": 100}}}"#,
            "$.extensions.queues.batchSize",
        ),
        (
            r#"{"version": "2.0", "extensions": {"queues": {"visibilityTimeout": "ten seconds"}}}"#,
            "write `hh:mm:ss`",
        ),
        (r#"{"version": "1.0"}"#, "must be \"2.0\""),
    ];
    for (text, expected) in cases {
        let path = file("host.json", text);
        let err = HostConfig::from_file(&path)
            .expect_err("a broken host.json is refused")
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(expected), "{text}: {err}");
    }
    let missing = file("host.json", "{}").with_file_name("absent.json");
    let err = HostConfig::from_file(&missing).unwrap_err().to_string();
    assert!(
        err.contains("cannot read") && err.contains("absent.json"),
        "{err}"
    );
}

#[test]
fn broken_local_settings_files_name_the_file_the_key_and_the_fix() {
    let cases = [
        (r#"{"Values": {"#, "not valid JSON"),
        (r#""text""#, "the file must hold a JSON object"),
        (
            r#"{"IsEncrypted": true, "Values": {}}"#,
            "func settings decrypt",
        ),
        (
            r#"{"IsEncrypted": "no"}"#,
            "\"IsEncrypted\" must be true or false",
        ),
        (
            r#"{"Values": []}"#,
            "\"Values\" must be an object of names to strings",
        ),
        (
            r#"{"Values": {"Nested": {"a": 1}}}"#,
            "\"Values\".\"Nested\" must be a string",
        ),
        (
            r#"{"ConnectionStrings": {"Storage": null}}"#,
            "\"ConnectionStrings\".\"Storage\" must be a string",
        ),
    ];
    for (text, expected) in cases {
        let path = file("local.settings.json", text);
        let err = Settings::from_local_file(&path)
            .expect_err("a broken local.settings.json is refused")
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(expected), "{text}: {err}");
    }
}
