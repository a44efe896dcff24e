//! The HTTP examples as processes: requests in, Kafka records out (consumed back from Tansu), and a
//! clean exit on SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};

mod support;

/// The built example `name` (cargo builds examples before integration tests).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("examples")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing; run `cargo build --examples`",
        path.display()
    );
    path
}

struct Running {
    child: Child,
    base: String,
}

impl Running {
    fn start(name: &str, brokers: &str, topic: &str) -> Self {
        let address = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().to_string()
        };
        let child = Command::new(example(name))
            .env("BrokerList", brokers)
            .env("OutputTopic", topic)
            .env("HttpListenAddress", &address)
            .env("RUST_LOG", "warn")
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the example starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "{name} never listened on {address}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            base: format!("http://{address}"),
        }
    }

    /// SIGTERM, then the exit status must be success within 30 s.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit status {status}");
    }
}

async fn topic(brokers: &str) -> String {
    let topic = support::unique("t");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    topic
}

/// A record as read back.
#[derive(Debug)]
struct Record {
    value: String,
    headers: Vec<(String, String)>,
    /// Milliseconds since 1970, as the broker stored it.
    timestamp: Option<i64>,
}

/// `count` records of `topic`.
async fn consume(brokers: &str, topic: &str, count: usize) -> Vec<Record> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", support::unique("g"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    while out.len() < count {
        let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("records in time")
            .unwrap();
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Record {
            value: String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
            headers,
            timestamp: m.timestamp().to_millis(),
        });
    }
    out
}

async fn get(url: String) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn http_to_kafka_sends_the_message_and_answers_ok() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = topic(&brokers).await;
    let app = Running::start("http_to_kafka", &brokers, &topic);
    assert_eq!(
        get(format!("{}/api/output?message=hello", app.base)).await,
        (200, "Ok".to_owned())
    );
    assert_eq!(get(format!("{}/api/output", app.base)).await.0, 400);
    app.stop();
    assert_eq!(consume(&brokers, &topic, 1).await[0].value, "hello");
}

#[tokio::test]
async fn http_to_kafka_batch_sends_one_and_two() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = topic(&brokers).await;
    let app = Running::start("http_to_kafka_batch", &brokers, &topic);
    assert_eq!(
        get(format!("{}/api/batch", app.base)).await,
        (200, "Ok".to_owned())
    );
    app.stop();
    let values: Vec<String> = consume(&brokers, &topic, 2)
        .await
        .into_iter()
        .map(|record| record.value)
        .collect();
    assert_eq!(values, ["one", "two"]);
}

#[tokio::test]
async fn http_to_kafka_headers_sends_the_header_both_ways() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = topic(&brokers).await;
    let app = Running::start("http_to_kafka_headers", &brokers, &topic);
    let before = support::now_millis();
    assert_eq!(
        get(format!("{}/api/event?message=typed", app.base)).await.0,
        200
    );
    assert_eq!(
        get(format!("{}/api/json_event?message=json", app.base))
            .await
            .0,
        200
    );
    let after = support::now_millis();
    app.stop();
    let records = consume(&brokers, &topic, 2).await;
    let header = [("test".to_owned(), "rust".to_owned())];
    let read: Vec<(&str, &[(String, String)])> = records
        .iter()
        .map(|r| (r.value.as_str(), r.headers.as_slice()))
        .collect();
    assert_eq!(read, [("typed", &header[..]), ("json", &header[..])]);
    // The seed: "offset, partition and timestamp are generated at runtime". The JSON-string
    // event's 2022 timestamp is not used: each record carries the time it was produced.
    for record in &records {
        let at = record.timestamp.expect("a timestamp");
        assert!(
            (before..=after).contains(&at),
            "{record:?} was not stamped at produce time ({before}..={after})"
        );
    }
}

#[tokio::test]
async fn http_multiple_output_answers_and_sends() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = topic(&brokers).await;
    let app = Running::start("http_multiple_output", &brokers, &topic);
    let response = reqwest::Client::new()
        .post(format!("{}/api/multiple", app.base))
        .body("three")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (response.status().as_u16(), response.text().await.unwrap()),
        (200, "sent 3 messages".to_owned())
    );
    app.stop();
    let values: Vec<String> = consume(&brokers, &topic, 3)
        .await
        .into_iter()
        .map(|record| record.value)
        .collect();
    assert_eq!(values, ["one", "two", "three"]);
}

#[test]
fn embed_in_axum_serves_both_and_stops() {
    let output = Command::new(example("embed_in_axum"))
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("GET /health -> up"), "{stdout}");
    assert!(
        stdout.contains("GET /api/greet?name=embedded -> hello, embedded"),
        "{stdout}"
    );
    assert!(stdout.contains("stopped cleanly"), "{stdout}");
}
