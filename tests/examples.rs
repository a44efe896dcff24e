//! The examples, run as the processes people run: `quickstart` and `storage_account` need no
//! service and exit by themselves; `queue_to_kafka` runs against Azurite and Tansu (from
//! `cargo xtask services up`) and stops on SIGTERM.
//!
//! `cargo test` builds the examples before it runs the integration tests; they are found next to
//! this test's executable (`target/<profile>/examples/`).

mod support;

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::queue::{AzureQueueService, QueueService, ServiceErrorKind, StorageAccount};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Headers as _, Message as _};

/// Upper bound for an example that exits by itself.
const EXIT_WITHIN: Duration = Duration::from_secs(60);
/// Upper bound for each wait on the services.
const WAIT: Duration = Duration::from_secs(60);

/// The built example `name`: `target/<profile>/examples/<name>`, beside `target/<profile>/deps/`
/// where this test runs from.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "example binary {} is missing: run `cargo build --examples` (plain `cargo test` builds them)",
        path.display()
    );
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(edited)) = (modified(&path), modified(&source)) {
        assert!(
            built >= edited,
            "example binary {} is older than {}: run `cargo build --examples`",
            path.display(),
            source.display()
        );
    }
    path
}

/// A running example: its stdout lines as they come, stderr collected; killed if dropped while
/// still running (a failing test leaves no process behind).
struct Running {
    child: Child,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let (tx, lines) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("piped stdout");
        let seen = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                seen.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("piped stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buffer) {
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Self {
            child,
            lines,
            stdout,
            stderr,
        }
    }

    /// Everything printed so far, for failure messages.
    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    /// The next stdout line, waiting at most until `deadline`.
    fn next_line(&self, deadline: Instant) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.lines.recv_timeout(left).ok()
    }

    /// Waits for the process to exit, at most `limit`; then all of its stdout.
    fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .expect("the example can be waited for")
            {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the example did not exit within {limit:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The readers finish once the pipes close; wait for them, briefly.
        let drained = Instant::now() + Duration::from_secs(5);
        while self.next_line(drained).is_some() {}
        (status, self.stdout.lock().unwrap().join("\n"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

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

/// A fresh topic on `brokers` (Tansu creates none by itself).
async fn create_topic(brokers: &str) -> String {
    let topic = support::unique("q2k");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let created = tokio::time::timeout(
        WAIT,
        admin.create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(WAIT)),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("creating topic {topic}: no answer within {WAIT:?}"))
    .expect("CreateTopics answered");
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    topic
}

/// A record as read back: key, value, headers.
type Record = (String, String, Vec<(String, String)>);

/// Reads `count` records of `topic` from the start.
async fn consume(brokers: &str, topic: &str, count: usize) -> Vec<Record> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", support::unique("g"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let text =
        |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
    let mut records = Vec::new();
    while records.len() < count {
        let message = tokio::time::timeout(WAIT, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {records:?} of {count} records within {WAIT:?}"))
            .expect("a record");
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), text(h.value)))
                    .collect()
            })
            .unwrap_or_default();
        records.push((text(message.key()), text(message.payload()), headers));
    }
    records
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
    let topic = create_topic(&brokers).await;

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
    let mut records = consume(&brokers, &topic, 2).await;
    records.sort_by(|a, b| a.1.cmp(&b.1));
    let values: Vec<&str> = records.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(values, ["a", "b"], "{records:?}");
    for (key, _, headers) in &records {
        assert!(
            processed.contains(key),
            "key {key} is not one of {processed:?}"
        );
        assert_eq!(
            headers,
            &[("dequeue-count".to_owned(), "1".to_owned())],
            "{records:?}"
        );
    }

    // `fail` after two attempts and `poison` at once, in the poison queue as they were sent.
    let poisoned = wait_for_messages(&service, &format!("{queue}-poison"), 2).await;
    assert_eq!(poisoned, ["fail", "poison"], "\n{}", running.output());

    // SIGTERM: drain and exit 0.
    let pid = running.child.id().to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success(), "kill -TERM {pid} failed");
    let (status, stdout) = running.wait(Duration::from_secs(30));
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
