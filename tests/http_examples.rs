//! The HTTP examples as processes: requests in, Kafka records out (consumed back from Tansu), and a
//! clean exit on SIGTERM.

use std::process::Command;
use std::time::Duration;

use support::kafka::{consume, create_topic};
use support::process::{Running, example};

mod support;

/// How long an example may take to listen, and to exit after SIGTERM.
const WAIT: Duration = Duration::from_secs(30);

/// An HTTP example serving on a free port, producing to `topic` on `brokers`.
struct App {
    running: Running,
    base: String,
}

impl App {
    async fn start(name: &str, brokers: &str, topic: &str) -> Self {
        let address = support::free_address();
        let running = Running::spawn(
            Command::new(example(name))
                .env("BrokerList", brokers)
                .env("OutputTopic", topic)
                .env("HttpListenAddress", &address)
                .current_dir(std::env::temp_dir()),
        );
        support::listening(&address, name, WAIT).await;
        Self {
            running,
            base: format!("http://{address}"),
        }
    }

    /// SIGTERM, then the exit status must be success within [`WAIT`].
    fn stop(mut self) {
        let (status, _) = self.running.terminate(WAIT);
        assert!(
            status.success(),
            "exit status {status} after SIGTERM\n{}",
            self.running.output()
        );
    }
}

async fn topic(brokers: &str) -> String {
    create_topic(brokers, &support::unique("t")).await
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
    let app = App::start("http_to_kafka", &brokers, &topic).await;
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
    let app = App::start("http_to_kafka_batch", &brokers, &topic).await;
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
    let app = App::start("http_to_kafka_headers", &brokers, &topic).await;
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
    let header = vec![("test".to_owned(), "rust".to_owned())];
    let read: Vec<(&str, Vec<(String, String)>)> = records
        .iter()
        .map(|r| (r.value.as_str(), r.header_texts()))
        .collect();
    assert_eq!(read, [("typed", header.clone()), ("json", header)]);
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
    let app = App::start("http_multiple_output", &brokers, &topic).await;
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
