//! The examples, run as the processes people run: `quickstart` and `storage_account` need no
//! service and exit by themselves; `queue_trigger` runs against Azurite and `queue_to_kafka`
//! against Azurite and Tansu (from `cargo xtask services up`); both stop on SIGTERM.
//!
//! `cargo test` builds the examples before it runs the integration tests; they are found next to
//! this test's executable (`target/<profile>/examples/`).

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::queue::{AzureQueueService, QueueService, ServiceErrorKind, StorageAccount};
use support::process::{Running, example};

/// Upper bound for an example that exits by itself.
const EXIT_WITHIN: Duration = Duration::from_secs(60);
/// Upper bound for each wait on the services.
const WAIT: Duration = Duration::from_secs(60);

/// Runs example `name` to its end (at most [`EXIT_WITHIN`]); asserts it succeeded; its stdout.
fn run_to_end(name: &str) -> String {
    let started = Instant::now();
    let mut running = Running::spawn(&mut Command::new(example(name)));
    let (status, stdout) = running.wait(EXIT_WITHIN);
    assert!(
        status.success(),
        "example {name} exited with {status}\n{}",
        running.output()
    );
    eprintln!("example {name} ran in {:?}", started.elapsed());
    stdout
}

fn assert_contains(output: &str, expected: &[&str]) {
    for line in expected {
        assert!(output.contains(line), "no {line:?} in:\n{output}");
    }
}

#[test]
fn quickstart_runs_without_services_and_prints_its_summary() {
    let stdout = run_to_end("quickstart");
    assert_contains(
        &stdout,
        &[
            "enqueued 5 orders on `orders-in`",
            "processed: 7 deliveries of 5 messages (2 retries)",
            "succeeded: 3, failed attempts: 4, poisoned: 2",
            "delivered to Kafka topic `orders`: 3 records",
            r#"key=o-1 [dequeue-count=1] {"id":"o-1","total":120,"currency":"EUR"}"#,
            "key=o-2 [dequeue-count=1]",
            "key=o-5 [dequeue-count=1]",
            "poison queue `orders-in-poison`: 2 messages",
            r#"{"id":"o-3","total":-10,"currency":"EUR"}"#,
            r#"{"id":"o-4","total":75,"currency":"XYZ"}"#,
        ],
    );
}

#[test]
fn storage_account_shows_the_four_resolutions() {
    let stdout = run_to_end("storage_account");
    assert_contains(
        &stdout,
        &[
            "by_connection         -> TriggerAccount",
            "by_function_attribute -> FunctionAccount",
            "by_module_attribute   -> ModuleAccount",
            "by_default            -> AzureWebJobsStorage",
            "every account's message was read once",
        ],
    );
}

/// The decoded texts of every message in `queue` once it holds `count` (received with a long
/// visibility, so each is seen once).
async fn wait_for_messages(service: &AzureQueueService, queue: &str, count: u64) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        match service.approximate_count(queue).await {
            Ok(n) if n >= count => break,
            Ok(_) => {}
            Err(err) if err.kind == ServiceErrorKind::QueueNotFound => {}
            Err(err) => panic!("counting {queue}: {err}"),
        }
        assert!(
            Instant::now() < deadline,
            "{queue} did not reach {count} messages within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let received = service
        .receive(queue, 32, Duration::from_secs(300))
        .await
        .expect("receive");
    let mut texts: Vec<String> = received
        .iter()
        .map(|m| {
            String::from_utf8(BASE64.decode(&m.text).expect("stored as base64")).expect("UTF-8")
        })
        .collect();
    texts.sort();
    texts
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_to_kafka_forwards_retries_poisons_and_stops_on_sigterm() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let service = AzureQueueService::new(
        StorageAccount::from_connection_string(&connection).expect("connection string"),
    );
    let queue = support::unique("q2k");
    service.create_queue(&queue).await.expect("create queue");
    let topic = support::kafka::create_topic(&brokers, &support::unique("q2k")).await;

    // A Functions app directory: host.json with quick retries, no local.settings.json.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(support::unique("q2k"));
    std::fs::create_dir_all(&dir).expect("a temporary app directory");
    std::fs::write(
        dir.join("host.json"),
        r#"{
  "version": "2.0",
  "extensions": {
    "queues": {
      "maxDequeueCount": 2,
      "maxPollingInterval": "00:00:00.200",
      "visibilityTimeout": "00:00:00"
    }
  }
}"#,
    )
    .expect("host.json");

    let started = Instant::now();
    let mut running = Running::spawn(
        Command::new(example("queue_to_kafka"))
            .current_dir(&dir)
            .env("AzureWebJobsStorage", &connection)
            .env("BrokerList", &brokers)
            .env("InputQueue", &queue)
            .env("OutputTopic", &topic),
    );
    for text in ["a", "b", "fail", "poison"] {
        service
            .send(&queue, &BASE64.encode(text))
            .await
            .expect("send");
    }

    // One `processed` line per good message.
    let deadline = Instant::now() + WAIT;
    let mut processed = Vec::new();
    while processed.len() < 2 {
        let Some(line) = running.next_line(deadline) else {
            panic!(
                "{} of 2 `processed` lines within {WAIT:?}\n{}",
                processed.len(),
                running.output()
            );
        };
        if let Some(rest) = line.strip_prefix("processed id=") {
            let (id, count) = rest
                .split_once(" dequeue_count=")
                .unwrap_or_else(|| panic!("malformed line {line:?}"));
            assert_eq!(count, "1", "{line}");
            processed.push(id.to_owned());
        }
    }

    // Their records, keyed by the message id, with the attempt number.
    let mut records = support::kafka::consume(&brokers, &topic, 2).await;
    records.sort_by(|a, b| a.value.cmp(&b.value));
    let values: Vec<&str> = records.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(values, ["a", "b"], "{records:?}");
    for record in &records {
        let key = record.key_text();
        assert!(
            processed.contains(&key),
            "key {key} is not one of {processed:?}"
        );
        assert_eq!(
            record.header_texts(),
            [("dequeue-count".to_owned(), "1".to_owned())],
            "{records:?}"
        );
    }

    // `fail` after two attempts and `poison` at once, in the poison queue as they were sent.
    let poisoned = wait_for_messages(&service, &format!("{queue}-poison"), 2).await;
    assert_eq!(poisoned, ["fail", "poison"], "\n{}", running.output());

    // SIGTERM: drain and exit 0.
    let (status, stdout) = running.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "queue_to_kafka exited with {status} after SIGTERM\n{}",
        running.output()
    );
    let lines = stdout
        .lines()
        .filter(|l| l.starts_with("processed "))
        .count();
    assert_eq!(lines, 2, "only the good messages are processed:\n{stdout}");
    let stderr = running.stderr.lock().unwrap().clone();
    assert!(
        stderr.contains("failed on its last attempt (2 of 2)"),
        "`fail` was tried host.json's maxDequeueCount (2) times:\n{stderr}"
    );
    assert_eq!(
        service.approximate_count(&queue).await.expect("count"),
        0,
        "the input queue is empty"
    );
    eprintln!("queue_to_kafka round trip in {:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The seed's queue-trigger sample, `examples/queue_trigger.rs`, as people run it: from `examples/`
/// (its host.json and local.settings.json), the connection in `StorageConnectionAppSetting`. The
/// message comes from Microsoft's Python SDK, base64-encoded as the seed asks of the calling
/// service ("Functions expect a base64 encoded string"), so the example keeps the default encoding.
#[tokio::test(flavor = "multi_thread")]
async fn queue_trigger_logs_a_message_sent_with_microsofts_python_sdk() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    // The sample's queue name is fixed; the text is unique, so this run finds its own line.
    let queue = "myqueue-items";
    let service = AzureQueueService::new(
        StorageAccount::from_connection_string(&connection).expect("connection string"),
    );
    service.create_queue(queue).await.expect("create queue");
    let text = format!("hello from python {}", support::unique("py"));
    support::python_queue_client(vec![
        connection.clone(),
        queue.to_owned(),
        "send".to_owned(),
        text.clone(),
    ])
    .await;

    let mut running = Running::spawn(
        Command::new(example("queue_trigger"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
            .env("StorageConnectionAppSetting", &connection),
    );
    let expected = format!("Rust function processed: {text}");
    running.line_where(WAIT, &format!("{expected:?}"), |line| {
        line.contains(&expected)
    });
    // Deleted once processed (the log line comes first).
    let deadline = Instant::now() + WAIT;
    while service.approximate_count(queue).await.expect("count") > 0 {
        assert!(
            Instant::now() < deadline,
            "{queue} still holds messages after {WAIT:?}\n{}",
            running.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = running.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "queue_trigger exited with {status} after SIGTERM\n{}",
        running.output()
    );
}
