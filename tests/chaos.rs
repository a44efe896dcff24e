//! The fault matrix: queue -> function -> Kafka (and, in one row each, queue -> queue and
//! Kafka -> function -> Kafka) moving N messages while a fault happens. Each scenario counts what was sent, what reached the output (distinct
//! bodies, and duplicates), what sits in the poison queue (bodies checked intact) and what was lost,
//! and fails unless nothing was lost and the input queue is empty.
//!
//! N is `BINDINGS_CHAOS_MESSAGES` (default [`DEFAULT_MESSAGES`], the short form `cargo xtask test`
//! runs); `cargo xtask chaos` runs the same scenarios with a larger N and sets
//! `BINDINGS_CHAOS_REPORT` to a directory where each scenario writes its row of the matrix.
//!
//! Faults that stop a service use an instance of their own on a free port (a Tansu broker on a
//! `SQLite` file, an Azurite with a `--location`), so no other test sees them; librdkafka's mock
//! cluster gives the slow and failing broker in-process. Host processes are the `queue_to_kafka`
//! example, killed and signalled like in production.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::HostHandle;
use bindings::extend::FunctionDef;
use bindings::prelude::*;
use bindings::queue::{
    AzureQueueService, MemoryQueueService, QueueCounts, QueueFunctions, QueueService,
    QueueServices, ServiceErrorKind, StorageAccount,
};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use support::process::{Running, example, signal};
use support::services::{Service, azurite_program, own_azurite, scratch, tansu};

/// Messages per scenario unless `BINDINGS_CHAOS_MESSAGES` says otherwise.
const DEFAULT_MESSAGES: usize = 40;
/// How many messages each scenario moves.
const MESSAGES_VAR: &str = "BINDINGS_CHAOS_MESSAGES";
/// A directory for the rows of the matrix (`cargo xtask chaos` sets it).
const REPORT_VAR: &str = "BINDINGS_CHAOS_REPORT";
/// How long a stopped broker or storage service stays down: the fault itself, not a wait for
/// anything.
const OUTAGE: Duration = Duration::from_secs(3);
/// How long `slow_forward` works on each message: longer than its receive visibility
/// ([`SLOW_HOST_JSON`]: 2 s), so only the renewal keeps another receive from getting it.
const SLOW: Duration = Duration::from_secs(3);
/// Upper bound for a service, a host or a signal to answer.
const WAIT: Duration = Duration::from_secs(60);
/// Bodies starting with this fail every time (the poison storm).
const FAIL_PREFIX: &str = "fail-";

/// Forwards each message's text to the topic; a text starting with [`FAIL_PREFIX`] fails.
#[queue_trigger("%InputQueue%")]
#[kafka_output(
    topic = "%OutputTopic%",
    broker_list = "BrokerList",
    enable_idempotence = true
)]
async fn forward(text: String) -> Result<KafkaEvent<String>, FunctionError> {
    if text.starts_with(FAIL_PREFIX) {
        return Err(FunctionError::retry(format!("`{text}` always fails")));
    }
    Ok(KafkaEvent::new(text))
}

/// [`forward`], taking [`SLOW`] over each message.
#[queue_trigger("%InputQueue%")]
#[kafka_output(
    topic = "%OutputTopic%",
    broker_list = "BrokerList",
    enable_idempotence = true
)]
async fn slow_forward(text: String) -> KafkaEvent<String> {
    // Simulated work, longer than the receive visibility.
    tokio::time::sleep(SLOW).await;
    KafkaEvent::new(text)
}

/// Quick polling and retries; broker faults may fail a message several times before it goes
/// through (each failed produce request fails every record in it), so it is poisoned only after
/// many attempts.
const BROKER_FAULT_HOST_JSON: &str = r#"{
  "version": "2.0",
  "extensions": {
    "queues": { "batchSize": 8, "maxPollingInterval": "00:00:00.200", "visibilityTimeout": "00:00:00",
                "maxDequeueCount": 20 }
  }
}"#;

/// [`BROKER_FAULT_HOST_JSON`] with deliveries that give up after 1 s, so an outage fails
/// invocations instead of holding them.
const SHORT_DELIVERY_HOST_JSON: &str = r#"{
  "version": "2.0",
  "extensions": {
    "queues": { "batchSize": 8, "maxPollingInterval": "00:00:00.200", "visibilityTimeout": "00:00:00",
                "maxDequeueCount": 20 },
    "kafka": { "messageTimeoutMs": 1000 }
  }
}"#;

/// Quick polling; storage and host faults.
const HOST_JSON: &str = r#"{
  "version": "2.0",
  "extensions": {
    "queues": { "batchSize": 8, "maxPollingInterval": "00:00:00.200", "visibilityTimeout": "00:00:00",
                "maxDequeueCount": 5, "receiveVisibilityTimeout": "00:00:02" }
  }
}"#;

/// A receive visibility shorter than [`SLOW`].
const SLOW_HOST_JSON: &str = r#"{
  "version": "2.0",
  "extensions": {
    "queues": { "maxPollingInterval": "00:00:00.200", "receiveVisibilityTimeout": "00:00:02" }
  }
}"#;

/// Every message fails: two attempts each, then the poison queue.
const POISON_HOST_JSON: &str = r#"{
  "version": "2.0",
  "extensions": {
    "queues": { "maxPollingInterval": "00:00:00.200", "visibilityTimeout": "00:00:00",
                "maxDequeueCount": 2 }
  }
}"#;

/// The number of messages per scenario.
fn messages() -> usize {
    match std::env::var(MESSAGES_VAR) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            panic!("{MESSAGES_VAR}={text:?} is not a number of messages; set it to e.g. 1000")
        }),
        Err(_) => DEFAULT_MESSAGES,
    }
}

/// How long draining N messages may take, faults included (the slow function needs about
/// 200 ms per message on 2 cores: 3 s each, 24 at a time, plus the storage calls).
fn drain_limit(n: usize) -> Duration {
    Duration::from_secs(120) + Duration::from_millis(300) * u32::try_from(n).unwrap_or(u32::MAX)
}

/// One row of the matrix.
#[derive(Debug)]
struct Row {
    sent: usize,
    delivered: usize,
    duplicates: usize,
    poisoned: usize,
    lost: usize,
}

/// One scenario: its place and name in the matrix, and the fault in words.
struct Scenario {
    order: u8,
    name: &'static str,
    fault: &'static str,
}

impl Scenario {
    /// Prints the row and, under `cargo xtask chaos`, writes it to
    /// `$BINDINGS_CHAOS_REPORT/<order>-<name>.tsv` (tab-separated: name, fault, sent, delivered,
    /// duplicates, poisoned, lost, seconds).
    fn report(&self, row: &Row, elapsed: Duration) {
        let line = format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.1}",
            self.name,
            self.fault,
            row.sent,
            row.delivered,
            row.duplicates,
            row.poisoned,
            row.lost,
            elapsed.as_secs_f64()
        );
        eprintln!("chaos: {line}");
        if let Some(dir) = std::env::var_os(REPORT_VAR) {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).expect("the report directory can be created");
            let file = dir.join(format!("{:02}-{}.tsv", self.order, self.name));
            std::fs::write(&file, format!("{line}\n"))
                .unwrap_or_else(|err| panic!("writing {}: {err}", file.display()));
        }
    }
}

/// A queue with N messages in it and a topic for them: the pipeline's two ends.
struct Pipeline {
    queues: Arc<dyn QueueService>,
    queue: String,
    brokers: String,
    topic: String,
    bodies: Vec<String>,
    started: Instant,
}

impl Pipeline {
    /// Creates a fresh queue on `queues`, for `n` distinct bodies each starting with `prefix`
    /// (sent by [`Pipeline::send`]).
    async fn new(
        queues: Arc<dyn QueueService>,
        brokers: &str,
        topic: String,
        prefix: &str,
        n: usize,
    ) -> Self {
        let queue = support::unique("chaos");
        queues.create_queue(&queue).await.expect("create the queue");
        Self {
            queues,
            queue,
            brokers: brokers.to_owned(),
            topic,
            bodies: (0..n).map(|i| format!("{prefix}{i:06}")).collect(),
            started: Instant::now(),
        }
    }

    /// Sends the bodies `range` (base64, the default `messageEncoding`).
    async fn send(&self, range: std::ops::Range<usize>) {
        for body in &self.bodies[range] {
            self.queues
                .send(&self.queue, &BASE64.encode(body))
                .await
                .expect("send a message");
        }
    }

    /// A third of the messages: sent before the fault, the rest during it.
    fn third(&self) -> usize {
        (self.bodies.len() / 3).max(1)
    }

    /// Sends the first third.
    async fn send_first_third(&self) {
        self.send(0..self.third()).await;
    }

    /// Sends the other two thirds.
    async fn send_rest(&self) {
        self.send(self.third()..self.bodies.len()).await;
    }

    /// Sends everything.
    async fn send_all(&self) {
        self.send(0..self.bodies.len()).await;
    }

    /// The app settings of a host on this pipeline.
    fn settings(&self) -> Settings {
        Settings::new()
            .with("InputQueue", self.queue.clone())
            .with("OutputTopic", self.topic.clone())
            .with("BrokerList", self.brokers.clone())
    }

    /// An in-process host running `F` on this pipeline, with options from `host_json`.
    async fn host<F: FunctionDef>(&self, host_json: &str) -> HostHandle {
        let services = QueueServices::new();
        services.insert("Storage", Arc::clone(&self.queues));
        Host::builder()
            .settings(self.settings())
            .host_config(HostConfig::from_json_str(host_json).expect("valid host.json"))
            .resource(Arc::new(services))
            .function::<F>()
            .build()
            .await
            .expect("the host builds")
            .start()
    }

    /// Waits until the input queue is empty: every message deleted (after its record was
    /// delivered) or moved to the poison queue.
    async fn drained(&self) {
        let n = self.bodies.len();
        let queues = &self.queues;
        support::until_async(
            drain_limit(n),
            &format!("input queue {} empty", self.queue),
            || async move {
                queues
                    .approximate_count(&self.queue)
                    .await
                    .is_ok_and(|count| count == 0)
            },
        )
        .await;
    }

    /// Counts the topic and the poison queue against what was sent, reports the row and fails the
    /// test if anything was lost, altered, or left in the input queue.
    async fn tally(&self, scenario: &Scenario) -> Row {
        let left = self
            .queues
            .approximate_count(&self.queue)
            .await
            .expect("count the input queue");
        assert_eq!(
            left, 0,
            "{}: messages left in the input queue",
            scenario.name
        );
        let sent: HashSet<&str> = self.bodies.iter().map(String::as_str).collect();
        let records = read_topic(&self.brokers, &self.topic).await;
        let mut delivered: HashMap<&str, usize> = HashMap::new();
        for record in &records {
            let body = sent
                .get(record.as_str())
                .unwrap_or_else(|| panic!("{}: a record nobody sent: {record:?}", scenario.name));
            *delivered.entry(body).or_default() += 1;
        }
        let poison = self.poison_bodies().await;
        for body in &poison {
            assert!(
                sent.contains(body.as_str()),
                "{}: a poison message that is not a body sent (altered?): {body:?}",
                scenario.name
            );
        }
        let poisoned: HashSet<&str> = poison.iter().map(String::as_str).collect();
        let lost: Vec<&str> = self
            .bodies
            .iter()
            .map(String::as_str)
            .filter(|body| !delivered.contains_key(body) && !poisoned.contains(body))
            .collect();
        let row = Row {
            sent: self.bodies.len(),
            delivered: delivered.len(),
            duplicates: records.len() - delivered.len(),
            poisoned: poison.len(),
            lost: lost.len(),
        };
        scenario.report(&row, self.started.elapsed());
        assert!(
            lost.is_empty(),
            "{}: {} messages lost, e.g. {:?}: {row:?}",
            scenario.name,
            lost.len(),
            &lost[..lost.len().min(5)]
        );
        row
    }

    /// The decoded bodies in `<queue>-poison` (none if it was never created).
    async fn poison_bodies(&self) -> Vec<String> {
        let poison = format!("{}-poison", self.queue);
        let mut bodies = Vec::new();
        loop {
            let received = match self.queues.receive(&poison, 32, WAIT * 5).await {
                Ok(received) => received,
                Err(err) if err.kind == ServiceErrorKind::QueueNotFound => return bodies,
                Err(err) => panic!("receiving from {poison}: {err}"),
            };
            if received.is_empty() {
                return bodies;
            }
            for message in received {
                let bytes = BASE64
                    .decode(&message.text)
                    .unwrap_or_else(|err| panic!("{poison}: a body that is not base64 ({err})"));
                bodies.push(String::from_utf8(bytes).expect("poisoned bodies are UTF-8"));
            }
        }
    }
}

/// The value of the record [`read_topic`] appends to mark the end.
const END_MARK: &str = "chaos-end-of-test";

/// Every record value of `topic` (one partition), in order. Appends [`END_MARK`] (acknowledged by
/// the broker, so after every record acknowledged before) and reads up to it: the broker's end
/// offset would not do, Tansu 0.6.0 reports a stale one.
async fn read_topic(brokers: &str, topic: &str) -> Vec<String> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("a producer");
    producer
        .send(FutureRecord::<(), str>::to(topic).payload(END_MARK), WAIT)
        .await
        .unwrap_or_else(|(err, _)| panic!("marking the end of {topic} on {brokers}: {err}"));
    let mut records = support::kafka::consume_until(brokers, topic, &[], "the end mark", |read| {
        read.last().is_some_and(|record| record.value == END_MARK)
    })
    .await;
    records.pop();
    records.into_iter().map(|record| record.value).collect()
}

/// The counts of function `name` in `host`.
fn counts(host: &HostHandle, name: &str) -> QueueCounts {
    host.resources()
        .get::<QueueFunctions>()
        .and_then(|functions| functions.get(name))
        .unwrap_or_else(|| panic!("the host has no queue function `{name}`"))
        .counts()
}

/// Waits until function `name` in `host` has completed the first third of the pipeline's
/// messages: the fault's moment.
async fn first_third_done(host: &HostHandle, name: &str, pipeline: &Pipeline) {
    let third = pipeline.third() as u64;
    support::until(
        WAIT,
        &format!("a third ({third}) of {name}'s messages done"),
        || counts(host, name).succeeded >= third,
    )
    .await;
}

/// The shared Azurite's connection string and Tansu's address (`None`: skipped, see
/// [`support::require`]).
fn shared_services() -> Option<(String, String)> {
    let connection = support::require("BINDINGS_AZURITE_CONNECTION_STRING")?;
    let brokers = support::require("BINDINGS_KAFKA_BROKERS")?;
    Some((connection, brokers))
}

/// A pipeline from a fresh queue on the storage account `connection` to a fresh topic on
/// `brokers`, for [`messages`] bodies starting with `prefix`.
async fn azure_pipeline(connection: &str, brokers: &str, prefix: &str) -> Pipeline {
    let queues = Arc::new(AzureQueueService::new(
        StorageAccount::from_connection_string(connection).expect("a valid connection string"),
    ));
    let topic = support::kafka::create_topic(brokers, &support::unique("chaos")).await;
    Pipeline::new(queues, brokers, topic, prefix, messages()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_killed_and_restarted() {
    let scenario = Scenario {
        order: 1,
        name: "broker-killed",
        fault: "Tansu SIGKILLed mid-stream, restarted 3 s later (SQLite storage)",
    };
    broker_outage(&scenario).await;
}

/// A Tansu of the test's own is `SIGKILLed` a third of the way through, the rest of the messages
/// are sent while it is down, and it restarts after [`OUTAGE`].
async fn broker_outage(scenario: &Scenario) {
    let Some(program) = support::require("BINDINGS_TANSU_BIN") else {
        return;
    };
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let dir = scratch("tansu");
    let (mut broker, brokers) = tansu(&program, &dir).await;
    let pipeline = azure_pipeline(&connection, &brokers, "m-").await;
    let outage = Outage {
        kill: true,
        send_while_down: true,
    };
    through_outage(
        scenario,
        &pipeline,
        BROKER_FAULT_HOST_JSON,
        &mut broker,
        outage,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// How [`through_outage`] stops a service.
struct Outage {
    /// SIGKILL (else SIGTERM, a clean stop).
    kill: bool,
    /// Send the last two thirds while the service is down (else just before it stops).
    send_while_down: bool,
}

/// The in-process `forward` host on `pipeline` while `service` has an outage: the first third of
/// the messages go through, then `service` stops for [`OUTAGE`] and starts again; then the
/// pipeline is drained and tallied.
async fn through_outage(
    scenario: &Scenario,
    pipeline: &Pipeline,
    host_json: &str,
    service: &mut Service,
    outage: Outage,
) {
    let host = pipeline.host::<forward>(host_json).await;
    pipeline.send_first_third().await;
    first_third_done(&host, "forward", pipeline).await;
    if !outage.send_while_down {
        pipeline.send_rest().await;
    }
    service.stop(outage.kill).await;
    if outage.send_while_down {
        pipeline.send_rest().await;
    }
    tokio::time::sleep(OUTAGE).await;
    service.restart().await;
    pipeline.drained().await;
    host.shutdown(WAIT).await.expect("the host stops cleanly");
    pipeline.tally(scenario).await;
}

/// A host on the in-memory queue and a one-broker mock cluster; `fault` is applied a third of the
/// way through and `heal` after [`OUTAGE`]. The row, and the function's counts.
async fn mock_scenario(
    scenario: &Scenario,
    host_json: &str,
    fault: impl FnOnce(&MockCluster<'static, rdkafka::producer::DefaultProducerContext>),
    heal: impl FnOnce(&MockCluster<'static, rdkafka::producer::DefaultProducerContext>),
) -> (Row, QueueCounts) {
    let cluster = MockCluster::new(1).expect("a mock cluster");
    let topic = support::unique("chaos");
    cluster.create_topic(&topic, 1, 1).expect("a topic");
    let n = messages();
    let pipeline = Pipeline::new(
        Arc::new(MemoryQueueService::new()),
        &cluster.bootstrap_servers(),
        topic,
        "m-",
        n,
    )
    .await;
    let host = pipeline.host::<forward>(host_json).await;
    pipeline.send_first_third().await;
    first_third_done(&host, "forward", &pipeline).await;
    fault(&cluster);
    pipeline.send_rest().await;
    tokio::time::sleep(OUTAGE).await;
    heal(&cluster);
    pipeline.drained().await;
    let done = counts(&host, "forward");
    host.shutdown(WAIT).await.expect("the host stops cleanly");
    (pipeline.tally(scenario).await, done)
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_broker_down_and_up() {
    let scenario = Scenario {
        order: 2,
        name: "broker-down",
        fault: "mock cluster: the broker down mid-stream for 3 s",
    };
    mock_scenario(
        &scenario,
        BROKER_FAULT_HOST_JSON,
        |cluster| cluster.broker_down(1).expect("broker down"),
        |cluster| cluster.broker_up(1).expect("broker up"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_broker_down_longer_than_delivery_timeout() {
    let scenario = Scenario {
        order: 3,
        name: "broker-down-timeouts",
        fault: "mock cluster: the broker down for 3 s, messageTimeoutMs 1000: deliveries fail, retried",
    };
    let (_, done) = mock_scenario(
        &scenario,
        SHORT_DELIVERY_HOST_JSON,
        |cluster| cluster.broker_down(1).expect("broker down"),
        |cluster| cluster.broker_up(1).expect("broker up"),
    )
    .await;
    assert!(
        done.failed > 0,
        "deliveries failed during the outage and their messages were retried: {done:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_broker_slow() {
    let scenario = Scenario {
        order: 4,
        name: "broker-slow",
        fault: "mock cluster: 500 ms round trip from mid-stream on",
    };
    mock_scenario(
        &scenario,
        BROKER_FAULT_HOST_JSON,
        |cluster| {
            cluster
                .broker_round_trip_time(1, Duration::from_millis(500))
                .expect("slow broker");
        },
        |_| {},
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_broker_errors() {
    let scenario = Scenario {
        order: 5,
        name: "broker-errors",
        fault: "mock cluster: 12 produce requests fail (transport, timeout, not enough replicas)",
    };
    let (_, done) = mock_scenario(
        &scenario,
        BROKER_FAULT_HOST_JSON,
        |cluster| {
            let errors: Vec<RDKafkaRespErr> = [
                RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            ]
            .into_iter()
            .cycle()
            .take(12)
            .collect();
            cluster.request_errors(RDKafkaApiKey::Produce, &errors);
        },
        |_| {},
    )
    .await;
    assert!(
        done.failed > 0,
        "the refused produce requests failed invocations, retried later: {done:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_restarted() {
    let scenario = Scenario {
        order: 6,
        name: "storage-restarted",
        fault: "Azurite stopped mid-stream, restarted 3 s later (--location)",
    };
    let Some(program) = azurite_program() else {
        return;
    };
    let Some((shared, brokers)) = shared_services() else {
        return;
    };
    let dir = scratch("azurite");
    let (mut storage, connection) = own_azurite(&program, &shared, &dir).await;
    let pipeline = azure_pipeline(&connection, &brokers, "m-").await;
    // The messages are sent before the stop: a stopped storage service takes none.
    let outage = Outage {
        kill: false,
        send_while_down: false,
    };
    through_outage(&scenario, &pipeline, HOST_JSON, &mut storage, outage).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// An app directory for `queue_to_kafka` with [`HOST_JSON`].
fn app_dir() -> PathBuf {
    let dir = scratch("app");
    std::fs::write(dir.join("host.json"), HOST_JSON).expect("host.json");
    dir
}

/// A `queue_to_kafka` process on `pipeline`, started in `dir`.
fn host_process(pipeline: &Pipeline, dir: &Path, connection: &str) -> Running {
    Running::spawn(
        Command::new(example("queue_to_kafka"))
            .current_dir(dir)
            .env("AzureWebJobsStorage", connection)
            .env("BrokerList", &pipeline.brokers)
            .env("InputQueue", &pipeline.queue)
            .env("OutputTopic", &pipeline.topic),
    )
}

/// Waits until `host` has printed `count` `processed` lines.
fn processed(host: &Running, count: usize) {
    let deadline = Instant::now() + WAIT;
    let mut seen = 0;
    while seen < count {
        let line = host.next_line(deadline).unwrap_or_else(|| {
            panic!(
                "{seen} of {count} messages processed within {WAIT:?}\n{}",
                host.output()
            )
        });
        if line.starts_with("processed ") {
            seen += 1;
        }
    }
}

/// SIGTERMs `host` and asserts it exits 0 (running invocations finished, producer flushed). It
/// waits for the host to be listening first: a signal during start-up, before the host handles
/// signals, ends the process the default way (the host has taken nothing yet, but it did not
/// drain either).
fn stop_cleanly(host: &mut Running) {
    host.logged("listening", WAIT);
    let (status, _) = host.terminate(WAIT);
    assert!(
        status.success(),
        "queue_to_kafka exited with {status} after SIGTERM\n{}",
        host.output()
    );
}

/// A `queue_to_kafka` process is stopped a third of the way through (`kill`: SIGKILL, else
/// SIGTERM), then another finishes the queue.
/// `None` if the services are missing (and skipping is allowed).
async fn host_stopped_mid_batch(scenario: &Scenario, kill: bool) -> Option<Row> {
    let (connection, brokers) = shared_services()?;
    let pipeline = azure_pipeline(&connection, &brokers, "m-").await;
    let dir = app_dir();
    let mut first = host_process(&pipeline, &dir, &connection);
    pipeline.send_first_third().await;
    tokio::task::block_in_place(|| processed(&first, pipeline.third()));
    pipeline.send_rest().await;
    if kill {
        signal(first.child.id(), "-KILL");
        let (status, _) = first.wait(WAIT);
        assert!(!status.success(), "SIGKILL ends the host");
    } else {
        tokio::task::block_in_place(|| stop_cleanly(&mut first));
    }
    let mut second = host_process(&pipeline, &dir, &connection);
    pipeline.drained().await;
    tokio::task::block_in_place(|| stop_cleanly(&mut second));
    let row = pipeline.tally(scenario).await;
    let _ = std::fs::remove_dir_all(&dir);
    Some(row)
}

#[tokio::test(flavor = "multi_thread")]
async fn host_killed_mid_batch() {
    let scenario = Scenario {
        order: 7,
        name: "host-killed",
        fault: "queue_to_kafka SIGKILLed mid-batch, restarted (receive visibility 2 s)",
    };
    let Some(row) = host_stopped_mid_batch(&scenario, true).await else {
        return;
    };
    // Only messages in flight at the kill can come twice: at most batchSize + newBatchThreshold.
    assert!(row.duplicates <= 8 + 4, "{row:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn host_terminated_mid_batch() {
    let scenario = Scenario {
        order: 8,
        name: "host-sigterm",
        fault: "queue_to_kafka SIGTERMed mid-batch (drains, exits 0), restarted",
    };
    let Some(row) = host_stopped_mid_batch(&scenario, false).await else {
        return;
    };
    assert_eq!(
        row.duplicates, 0,
        "a clean stop finishes and deletes what it started: {row:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn function_slower_than_visibility() {
    let scenario = Scenario {
        order: 9,
        name: "slow-function",
        fault: "each invocation 3 s, receive visibility 2 s (renewed every 1 s)",
    };
    let Some((connection, brokers)) = shared_services() else {
        return;
    };
    let pipeline = azure_pipeline(&connection, &brokers, "m-").await;
    pipeline.send_all().await;
    let n = pipeline.bodies.len();
    let host = pipeline.host::<slow_forward>(SLOW_HOST_JSON).await;
    pipeline.drained().await;
    let done = counts(&host, "slow_forward");
    host.shutdown(WAIT).await.expect("the host stops cleanly");
    let row = pipeline.tally(&scenario).await;
    assert_eq!(
        row.duplicates, 0,
        "renewal keeps each message single-processed: {row:?}"
    );
    assert_eq!(
        done.received, n as u64,
        "no message was received twice: {done:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_storm() {
    let scenario = Scenario {
        order: 10,
        name: "poison-storm",
        fault: "every message fails (maxDequeueCount 2)",
    };
    let Some((connection, brokers)) = shared_services() else {
        return;
    };
    let pipeline = azure_pipeline(&connection, &brokers, FAIL_PREFIX).await;
    pipeline.send_all().await;
    let n = pipeline.bodies.len();
    let host = pipeline.host::<forward>(POISON_HOST_JSON).await;
    pipeline.drained().await;
    let done = counts(&host, "forward");
    host.shutdown(WAIT).await.expect("the host stops cleanly");
    let row = pipeline.tally(&scenario).await;
    assert_eq!(
        (row.delivered, row.poisoned),
        (0, n),
        "every message ends in the poison queue, once, intact: {row:?}"
    );
    assert_eq!(done.failed, 2 * n as u64, "two attempts each: {done:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn three_hosts_compete() {
    let scenario = Scenario {
        order: 11,
        name: "three-hosts",
        fault: "three queue_to_kafka processes on one queue",
    };
    let Some((connection, brokers)) = shared_services() else {
        return;
    };
    let pipeline = azure_pipeline(&connection, &brokers, "m-").await;
    let dir = app_dir();
    pipeline.send_all().await;
    let mut hosts: Vec<Running> = (0..3)
        .map(|_| host_process(&pipeline, &dir, &connection))
        .collect();
    pipeline.drained().await;
    tokio::task::block_in_place(|| hosts.iter_mut().for_each(stop_cleanly));
    let row = pipeline.tally(&scenario).await;
    assert_eq!(
        row.duplicates, 0,
        "pop receipts keep competing hosts off each other's messages: {row:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Forwards each message of `InputQueue` to `OutputQueue` in the storage account `OutputStorage`.
#[queue_trigger("%InputQueue%")]
#[queue_output("%OutputQueue%", connection = "OutputStorage")]
async fn forward_to_queue(text: String) -> String {
    text
}

/// Every decoded body in `queue` of `service` (received with a long visibility, so each once).
async fn queue_bodies(service: &dyn QueueService, queue: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let received = match service.receive(queue, 32, WAIT * 5).await {
            Ok(received) => received,
            Err(err) if err.kind == ServiceErrorKind::QueueNotFound => return bodies,
            Err(err) => panic!("receiving from {queue}: {err}"),
        };
        if received.is_empty() {
            return bodies;
        }
        for message in received {
            let bytes = BASE64
                .decode(&message.text)
                .unwrap_or_else(|err| panic!("{queue}: a body that is not base64 ({err})"));
            bodies.push(String::from_utf8(bytes).expect("bodies are UTF-8"));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_output_storage_stopped() {
    let scenario = Scenario {
        order: 12,
        name: "queue-output-stopped",
        fault: "queue -> queue: the output's Azurite (a second account) stopped mid-stream, restarted after 3 s and a failed invocation (--location)",
    };
    let Some(program) = azurite_program() else {
        return;
    };
    let Some(shared) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let dir = scratch("azurite-out");
    let (mut storage, output_connection) = own_azurite(&program, &shared, &dir).await;
    let account = |connection: &str| {
        AzureQueueService::new(
            StorageAccount::from_connection_string(connection).expect("a valid connection string"),
        )
    };
    let (input_service, output_service) = (account(&shared), account(&output_connection));
    let (input, output) = (support::unique("chaos"), support::unique("chaos-out"));
    input_service.create_queue(&input).await.unwrap();
    let bodies: Vec<String> = (0..messages()).map(|i| format!("q-{i:06}")).collect();
    let started = Instant::now();
    let host = Host::builder()
        .settings(
            Settings::new()
                .with("AzureWebJobsStorage", &shared)
                .with("OutputStorage", &output_connection)
                .with("InputQueue", &input)
                .with("OutputQueue", &output),
        )
        .host_config(HostConfig::from_json_str(BROKER_FAULT_HOST_JSON).expect("valid host.json"))
        .function::<forward_to_queue>()
        .build()
        .await
        .expect("the host builds")
        .start();
    let third = (bodies.len() / 3).max(1);
    for body in &bodies[..third] {
        input_service
            .send(&input, &BASE64.encode(body))
            .await
            .unwrap();
    }
    support::until(WAIT, "a third of the messages forwarded", || {
        counts(&host, "forward_to_queue").succeeded >= third as u64
    })
    .await;
    storage.stop(false).await;
    // The rest arrive while the output account is down.
    for body in &bodies[third..] {
        input_service
            .send(&input, &BASE64.encode(body))
            .await
            .unwrap();
    }
    // Down for at least OUTAGE, and until an invocation has failed on it (a send spends up to
    // its retry budget before it fails).
    tokio::time::sleep(OUTAGE).await;
    support::until(
        WAIT,
        "an invocation failed while the output was down",
        || counts(&host, "forward_to_queue").failed > 0,
    )
    .await;
    let failed_while_down = counts(&host, "forward_to_queue").failed;
    let left_while_down = input_service.approximate_count(&input).await.unwrap();
    storage.restart().await;
    support::until_async(drain_limit(bodies.len()), "input queue empty", || async {
        input_service
            .approximate_count(&input)
            .await
            .is_ok_and(|count| count == 0)
    })
    .await;
    host.shutdown(WAIT).await.expect("the host stops cleanly");
    let sent: HashSet<&str> = bodies.iter().map(String::as_str).collect();
    let forwarded = queue_bodies(&output_service, &output).await;
    let mut delivered: HashMap<&str, usize> = HashMap::new();
    for body in &forwarded {
        let body = sent
            .get(body.as_str())
            .unwrap_or_else(|| panic!("a message nobody sent: {body:?}"));
        *delivered.entry(body).or_default() += 1;
    }
    let poison = queue_bodies(&input_service, &format!("{input}-poison")).await;
    let lost: Vec<&str> = bodies
        .iter()
        .map(String::as_str)
        .filter(|body| !delivered.contains_key(body) && !poison.iter().any(|p| p == body))
        .collect();
    let row = Row {
        sent: bodies.len(),
        delivered: delivered.len(),
        duplicates: forwarded.len() - delivered.len(),
        poisoned: poison.len(),
        lost: lost.len(),
    };
    scenario.report(&row, started.elapsed());
    assert!(lost.is_empty(), "{} messages lost: {row:?}", lost.len());
    assert!(
        left_while_down > 0 && failed_while_down > 0,
        "while the output was down its inputs stayed and invocations failed \
         (left {left_while_down}, failed {failed_while_down})"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records [`relay_records`] has handled (only the Kafka-trigger scenario uses it).
static RELAYED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Copies each record's value to the output topic. A failed delivery (the broker is down) fails the
/// invocation, which is retried every 200 ms until the broker is back: never dead-lettered in the
/// scenario's outage.
#[kafka_trigger(
    topic = "%InputTopic%",
    broker_list = "BrokerList",
    consumer_group = "%ConsumerGroup%",
    max_retry_count = 10000,
    delay_interval = "00:00:00.200"
)]
#[kafka_output(
    topic = "%OutputTopic%",
    broker_list = "BrokerList",
    enable_idempotence = true
)]
async fn relay_records(record: KafkaRecord) -> KafkaEvent<Bytes> {
    RELAYED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    KafkaEvent::new(record.value.unwrap_or_default())
}

/// Kafka -> function -> Kafka while the broker (librdkafka's mock cluster, holding both topics and
/// the group's offsets) is down for [`OUTAGE`] a third of the way through: every record reaches the
/// output, and the group commits them all. (On a Tansu of the test's own, `SQLite` storage, the
/// same fault with a SIGKILL crashes the broker's storage after its restart: see
/// RELIABILITY.md's broker-down-timeouts row.)
#[tokio::test(flavor = "multi_thread")]
async fn kafka_trigger_broker_down_and_up() {
    let scenario = Scenario {
        order: 13,
        name: "kafka-trigger-broker-down",
        fault: "Kafka trigger -> Kafka output; mock cluster: the broker down mid-stream for 3 s",
    };
    let cluster = MockCluster::new(1).expect("a mock cluster");
    let brokers = cluster.bootstrap_servers();
    let n = messages();
    let (input, output) = (support::unique("kt-in"), support::unique("kt-out"));
    cluster.create_topic(&input, 2, 1).expect("a topic");
    cluster.create_topic(&output, 1, 1).expect("a topic");
    let group = support::unique("kt-chaos");
    let bodies: Vec<String> = (0..n).map(|i| format!("r-{i:06}")).collect();
    let records: Vec<(i32, Option<&str>, &str)> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| (i32::try_from(i % 2).unwrap(), None, body.as_str()))
        .collect();
    let started = Instant::now();
    support::kafka::produce(&brokers, &input, &records).await;
    let host_config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "extensions": { "kafka": { "messageTimeoutMs": 1000, "autoCommitIntervalMs": 100 } } }"#,
    )
    .expect("host.json");
    let host = Host::builder()
        .settings(
            Settings::new()
                .with("BrokerList", brokers.clone())
                .with("InputTopic", input.clone())
                .with("OutputTopic", output.clone())
                .with("ConsumerGroup", group.clone()),
        )
        .host_config(host_config)
        .function::<relay_records>()
        .build()
        .await
        .expect("the host builds")
        .start();
    let third = (n / 3).max(1);
    support::until(WAIT, "a third of the records relayed", || {
        RELAYED.load(std::sync::atomic::Ordering::SeqCst) >= third
    })
    .await;
    cluster.broker_down(1).expect("broker down");
    tokio::time::sleep(OUTAGE).await;
    cluster.broker_up(1).expect("broker up");
    let per_partition = [n.div_ceil(2), n / 2].map(|c| Some(i64::try_from(c).unwrap()));
    support::until(drain_limit(n), "every record committed", || {
        support::kafka::try_committed(&brokers, &group, &input, 2).is_ok_and(|c| c == per_partition)
    })
    .await;
    host.shutdown(WAIT).await.expect("the host stops cleanly");

    let sent: HashSet<&str> = bodies.iter().map(String::as_str).collect();
    let relayed = read_topic(&brokers, &output).await;
    let mut delivered: HashMap<&str, usize> = HashMap::new();
    for value in &relayed {
        let body = sent
            .get(value.as_str())
            .unwrap_or_else(|| panic!("a record nobody sent: {value:?}"));
        *delivered.entry(body).or_default() += 1;
    }
    let row = Row {
        sent: n,
        delivered: delivered.len(),
        duplicates: relayed.len() - delivered.len(),
        poisoned: 0,
        lost: n - delivered.len(),
    };
    scenario.report(&row, started.elapsed());
    assert_eq!(row.lost, 0, "{row:?}");
}
