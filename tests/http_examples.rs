//! The HTTP examples as processes: requests in, Kafka records out (consumed back from Tansu) or
//! queue messages out (read back from Azurite), and a clean exit on SIGTERM.

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

#[tokio::test]
async fn http_to_queue_enqueues_copies_and_delays_and_stops_on_sigterm() {
    use base64::Engine as _;
    use bindings::queue::{AzureQueueService, QueueService, StorageAccount};

    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let queue = support::unique("http-out");
    let address = support::free_address();
    let running = Running::spawn(
        Command::new(example("http_to_queue"))
            .env("AzureWebJobsStorage", &connection)
            .env("OutputQueue", &queue)
            .env("HttpListenAddress", &address)
            .current_dir(std::env::temp_dir()),
    );
    support::listening(&address, "http_to_queue", WAIT).await;
    let app = App {
        running,
        base: format!("http://{address}"),
    };
    let service =
        AzureQueueService::new(StorageAccount::from_connection_string(&connection).unwrap());
    let take = |max: u32| {
        let (service, queue) = (&service, &queue);
        async move {
            let received = service
                .receive(queue, max, Duration::from_secs(60))
                .await
                .unwrap();
            received
                .into_iter()
                .map(|m| {
                    let body = base64::engine::general_purpose::STANDARD
                        .decode(&m.text)
                        .unwrap();
                    String::from_utf8(body).unwrap()
                })
                .collect::<Vec<_>>()
        }
    };
    // `Ok` means the message is there already: the queue was created and the send accepted.
    assert_eq!(
        get(format!("{}/api/enqueue?message=hello", app.base)).await,
        (200, "Ok".to_owned())
    );
    assert_eq!(take(32).await, ["hello"]);
    assert_eq!(
        get(format!("{}/api/enqueue?message=copy&count=3", app.base)).await,
        (200, "Ok".to_owned())
    );
    assert_eq!(take(32).await, ["copy", "copy", "copy"]);
    assert_eq!(
        get(format!(
            "{}/api/enqueue?message=later&count=2&delay=3",
            app.base
        ))
        .await,
        (200, "Ok".to_owned())
    );
    // The earlier ones are still there (received, not deleted), and the delayed two.
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 1 + 3 + 2);
    assert!(
        take(32).await.is_empty(),
        "delayed messages are not visible yet"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut later = Vec::new();
    while later.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the delayed copies did not become visible within 20 s: {later:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        later.extend(take(32).await);
    }
    assert_eq!(later, ["later", "later"]);
    assert_eq!(get(format!("{}/api/enqueue", app.base)).await.0, 400);
    assert_eq!(
        get(format!("{}/api/enqueue?message=x&count=0", app.base))
            .await
            .0,
        400
    );
    app.stop();
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
    assert!(stdout.contains("GET /readyz -> ready"), "{stdout}");
    assert!(stdout.contains("stopped cleanly"), "{stdout}");
}
