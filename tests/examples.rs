//! The examples, run as the processes people run: `quickstart` and `storage_account` need no
//! service and exit by themselves; `queue_trigger` runs against Azurite, `queue_to_kafka`
//! against Azurite and Tansu, `kafka_to_kafka` against Tansu (from `cargo xtask services up`);
//! they stop on SIGTERM.
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
    let admin = support::free_address();
    let mut running = Running::spawn(
        Command::new(example("queue_to_kafka"))
            .current_dir(&dir)
            .env("AzureWebJobsStorage", &connection)
            .env("BrokerList", &brokers)
            .env("InputQueue", &queue)
            .env("OutputTopic", &topic)
            .env("AdminListenAddress", &admin),
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

    // The admin endpoint (AdminListenAddress): the invocations by outcome, labelled by function.
    let get = |path: &'static str| {
        let url = format!("http://{admin}{path}");
        async move {
            let response = reqwest::get(url).await.expect("the admin endpoint answers");
            (
                response.status().as_u16(),
                response.text().await.expect("text"),
            )
        }
    };
    let outcome = |outcome: &str| {
        format!(
            "faas_invocations_total{{function=\"forward\",trigger=\"queue_trigger\",outcome=\"{outcome}\"}}"
        )
    };
    let expected = [
        format!("{} 2", outcome("succeeded")),
        format!("{} 1", outcome("retried")),
        format!("{} 2", outcome("poisoned")),
    ];
    support::until_async(WAIT, "every invocation counted in /metrics", || async {
        let (_, text) = get("/metrics").await;
        expected.iter().all(|line| text.lines().any(|l| l == line))
    })
    .await;
    assert_eq!(get("/healthz").await, (200, "alive\n".to_owned()));
    assert_eq!(get("/readyz").await, (200, "ready\n".to_owned()));
    let (status, scale) = get("/scale").await;
    assert_eq!(status, 200);
    let scale: serde_json::Value = serde_json::from_str(&scale).expect("JSON");
    assert_eq!(scale["functions"][0]["name"], "forward", "{scale}");
    assert_eq!(scale["functions"][0]["trigger"], "queue_trigger", "{scale}");
    assert_eq!(
        scale["functions"][0]["input"]["queue"],
        queue.as_str(),
        "{scale}"
    );
    assert_eq!(scale["scale_hint"], 0, "{scale}");

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

/// Starts `kafka_to_kafka` on `input` -> `output` in group `group`, from an app directory whose
/// host.json asks for quick commits.
fn start_kafka_to_kafka(
    dir: &Path,
    brokers: &str,
    input: &str,
    output: &str,
    group: &str,
) -> Running {
    Running::spawn(
        Command::new(example("kafka_to_kafka"))
            .current_dir(dir)
            .env("BrokerList", brokers)
            .env("InputTopic", input)
            .env("OutputTopic", output)
            .env("ConsumerGroup", group),
    )
}

/// An app directory for `kafka_to_kafka`: host.json only.
fn kafka_app_dir(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(support::unique(name));
    std::fs::create_dir_all(&dir).expect("a temporary app directory");
    std::fs::write(
        dir.join("host.json"),
        r#"{ "version": "2.0", "extensions": { "kafka": { "autoCommitIntervalMs": 100, "lingerMs": 1 } } }"#,
    )
    .expect("host.json");
    dir
}

/// `(partition, offset)` of a `processed partition=<p> offset=<o>` line.
fn processed_position(line: &str) -> Option<(i32, i64)> {
    let rest = line.strip_prefix("processed partition=")?;
    let (partition, offset) = rest.split_once(" offset=")?;
    Some((partition.parse().ok()?, offset.parse().ok()?))
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_to_kafka_forwards_dead_letters_commits_and_stops_on_sigterm() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let input =
        support::kafka::create_topic_with(&brokers, &support::unique("k2k-in"), 2, &[]).await;
    let output = support::kafka::create_topic(&brokers, &support::unique("k2k-out")).await;
    let group = support::unique("k2k");
    let dir = kafka_app_dir("k2k");
    support::kafka::produce(
        &brokers,
        &input,
        &[
            (0, Some("k-a"), "a"),
            (1, Some("k-b"), "b"),
            (0, Some("k-f"), "fail"),
            (1, None, "poison"),
            (0, Some("k-c"), "c"),
        ],
    )
    .await;
    let started = Instant::now();
    let mut running = start_kafka_to_kafka(&dir, &brokers, &input, &output, &group);

    // One `processed` line per good record, naming its position.
    let mut processed = Vec::new();
    while processed.len() < 3 {
        let line = running.line_where(WAIT, "3 `processed` lines", |l| l.starts_with("processed "));
        processed
            .push(processed_position(&line).unwrap_or_else(|| panic!("malformed line {line:?}")));
    }
    processed.sort_unstable();
    assert_eq!(
        processed,
        [(0, 0), (0, 2), (1, 0)],
        "a, c on partition 0 and b on 1"
    );

    // Their records: the same key and value, and the source position.
    let mut records = support::kafka::consume(&brokers, &output, 3).await;
    records.sort_by(|a, b| a.value.cmp(&b.value));
    let got: Vec<String> = records
        .iter()
        .map(|r| format!("{} {} {:?}", r.key_text(), r.value, r.header_texts()))
        .collect();
    assert_eq!(
        got,
        [
            r#"k-a a [("source-offset", "0:0")]"#,
            r#"k-b b [("source-offset", "1:0")]"#,
            r#"k-c c [("source-offset", "0:2")]"#,
        ]
    );

    // `fail` after its two retries and `poison` at once, intact, with the dead-letter headers.
    let mut dead = support::kafka::consume(&brokers, &format!("{input}-dlq"), 2).await;
    dead.sort_by(|a, b| a.value.cmp(&b.value));
    let summary: Vec<(String, String, String, String)> = dead
        .iter()
        .map(|r| {
            let headers = r.header_texts();
            let get = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
            };
            assert_eq!(get("dlq-function"), "relay");
            assert_eq!(get("dlq-source-topic"), input);
            (
                r.value.clone(),
                r.key_text(),
                format!(
                    "{}:{}",
                    get("dlq-source-partition"),
                    get("dlq-source-offset")
                ),
                get("dlq-attempts"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "fail".to_owned(),
                "k-f".to_owned(),
                "0:1".to_owned(),
                "3".to_owned()
            ),
            (
                "poison".to_owned(),
                String::new(),
                "1:1".to_owned(),
                "1".to_owned()
            ),
        ],
        "\n{}",
        running.output()
    );
    let error = dead[0].header_texts();
    assert!(
        error
            .iter()
            .any(|(k, v)| k == "dlq-error" && v.contains("the record says `fail`")),
        "{error:?}"
    );

    // SIGTERM: drain, commit, exit 0; everything read is committed.
    let (status, stdout) = running.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "kafka_to_kafka exited with {status} after SIGTERM\n{}",
        running.output()
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("processed "))
            .count(),
        3,
        "each good record once:\n{stdout}"
    );
    assert_eq!(
        support::kafka::committed(&brokers, &group, &input, 2),
        [Some(3), Some(2)],
        "every record's offset, the dead-lettered ones included, is committed"
    );
    eprintln!("kafka_to_kafka round trip in {:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGKILL mid-stream, then a restart in the same group: every record is processed at least once
/// (none skipped), and what was processed twice is bounded by what was in flight and uncommitted.
#[tokio::test(flavor = "multi_thread")]
async fn kafka_to_kafka_killed_mid_stream_skips_nothing_after_a_restart() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    const RECORDS: usize = 300;
    let input =
        support::kafka::create_topic_with(&brokers, &support::unique("k2k-kill"), 2, &[]).await;
    let output = support::kafka::create_topic(&brokers, &support::unique("k2k-kill-out")).await;
    let group = support::unique("k2k-kill");
    let dir = kafka_app_dir("k2k-kill");
    let values: Vec<String> = (0..RECORDS).map(|i| format!("v-{i}")).collect();
    let records: Vec<(i32, Option<&str>, &str)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i32::try_from(i % 2).unwrap(), None, v.as_str()))
        .collect();
    support::kafka::produce(&brokers, &input, &records).await;

    let mut seen: Vec<(i32, i64)> = Vec::new();
    let mut first = start_kafka_to_kafka(&dir, &brokers, &input, &output, &group);
    while seen.len() < RECORDS / 3 {
        let line = first.line_where(WAIT, "a third of the records", |l| {
            l.starts_with("processed ")
        });
        seen.extend(processed_position(&line));
    }
    support::process::signal(first.child.id(), "-KILL");
    let (status, stdout) = first.wait(Duration::from_secs(30));
    assert!(!status.success(), "killed");
    seen = stdout.lines().filter_map(processed_position).collect();
    let before_restart = seen.len();

    let mut second = start_kafka_to_kafka(&dir, &brokers, &input, &output, &group);
    let distinct =
        |seen: &[(i32, i64)]| seen.iter().collect::<std::collections::BTreeSet<_>>().len();
    while distinct(&seen) < RECORDS {
        let line = second.line_where(WAIT, "every record after the restart", |l| {
            l.starts_with("processed ")
        });
        seen.extend(processed_position(&line));
    }
    let (status, _) = second.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "the restarted host stops cleanly\n{}",
        second.output()
    );
    let duplicates = seen.len() - RECORDS;
    eprintln!(
        "killed after {before_restart} records; {duplicates} processed twice after the restart"
    );
    // At most what the first host had processed and not yet committed: everything it printed.
    assert!(
        duplicates <= before_restart,
        "{duplicates} duplicates of {before_restart}"
    );
    assert_eq!(
        support::kafka::committed(&brokers, &group, &input, 2),
        [Some(150), Some(150)],
        "all committed after the clean stop"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two `kafka_to_kafka` processes in one group on four partitions; one is stopped (SIGTERM)
/// mid-stream and the other takes its partitions over: every record is processed, and duplicates
/// are bounded by what the stopped one had in flight (a clean stop commits what completed).
#[tokio::test(flavor = "multi_thread")]
async fn kafka_to_kafka_two_hosts_in_one_group_share_and_take_over() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    const RECORDS: usize = 400;
    let input =
        support::kafka::create_topic_with(&brokers, &support::unique("k2k-two"), 4, &[]).await;
    let output = support::kafka::create_topic(&brokers, &support::unique("k2k-two-out")).await;
    let group = support::unique("k2k-two");
    let dir = kafka_app_dir("k2k-two");
    let values: Vec<String> = (0..RECORDS).map(|i| format!("v-{i}")).collect();
    let first_half: Vec<(i32, Option<&str>, &str)> = values[..RECORDS / 2]
        .iter()
        .enumerate()
        .map(|(i, v)| (i32::try_from(i % 4).unwrap(), None, v.as_str()))
        .collect();
    let mut one = start_kafka_to_kafka(&dir, &brokers, &input, &output, &group);
    let mut two = start_kafka_to_kafka(&dir, &brokers, &input, &output, &group);
    one.logged("partitions assigned", WAIT);
    two.logged("partitions assigned", WAIT);
    support::kafka::produce(&brokers, &input, &first_half).await;
    // Both got a share of the records: each has processed one before the first is stopped.
    let mut from_two = Vec::new();
    while from_two.is_empty() {
        let line = two.line_where(WAIT, "a record on the second host", |l| {
            l.starts_with("processed ")
        });
        from_two.extend(processed_position(&line));
    }
    one.line_where(WAIT, "a record on the first host", |l| {
        l.starts_with("processed ")
    });
    let (status, stdout_one) = one.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "the first host stops cleanly\n{}",
        one.output()
    );
    let mut seen: Vec<(i32, i64)> = stdout_one.lines().filter_map(processed_position).collect();
    assert!(
        !seen.is_empty(),
        "the first host had a share of the partitions"
    );
    let second_half: Vec<(i32, Option<&str>, &str)> = values[RECORDS / 2..]
        .iter()
        .enumerate()
        .map(|(i, v)| (i32::try_from(i % 4).unwrap(), None, v.as_str()))
        .collect();
    support::kafka::produce(&brokers, &input, &second_half).await;
    seen.extend(from_two);
    let distinct =
        |seen: &[(i32, i64)]| seen.iter().collect::<std::collections::BTreeSet<_>>().len();
    while distinct(&seen) < RECORDS {
        let line = two.line_where(WAIT, "every record on the remaining host", |l| {
            l.starts_with("processed ")
        });
        seen.extend(processed_position(&line));
    }
    let (status, _) = two.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "the second host stops cleanly\n{}",
        two.output()
    );
    let duplicates = seen.len() - RECORDS;
    eprintln!("two hosts: {duplicates} records processed twice");
    assert!(
        duplicates <= RECORDS / 4,
        "duplicates stay bounded: {duplicates}"
    );
    assert_eq!(
        support::kafka::committed(&brokers, &group, &input, 4),
        [Some(100); 4],
        "everything committed"
    );
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
