//! The fleet: 1, 2 and 4 `queue_to_kafka` processes on one storage queue and one topic, as N
//! replicas of a Deployment run. Each size checks that
//! - every replica reports the same queue-derived scale hint (`/scale`), not a share or a multiple;
//! - every message is forwarded once, even when one replica is sent SIGTERM mid-stream, and that
//!   replica drains and exits 0 inside the manifests' grace period;
//! - every replica's `/readyz` says not ready while the storage account is down, and ready again
//!   after it restarts.
//!
//! The storage account is an Azurite of this test's own (it is stopped and restarted); the broker
//! is the shared Tansu.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::queue::{AzureQueueService, QueueService, StorageAccount};
use support::process::{Running, example};

/// Upper bound for anything the test waits for.
const WAIT: Duration = Duration::from_secs(60);
/// The grace period of `deploy/` (`terminationGracePeriodSeconds`).
const GRACE: Duration = Duration::from_secs(45);
/// Messages each fleet forwards.
const MESSAGES: usize = 150;
/// Messages in the queue while the replicas' scale hints are compared.
const BACKLOG: u64 = 100;
/// What one replica holds (`batchSize + newBatchThreshold` of [`HOST_JSON`]).
const PER_REPLICA: u64 = 24;

const HOST_JSON: &str = r#"{
  "version": "2.0",
  "extensions": {
    "queues": { "batchSize": 16, "newBatchThreshold": 8, "maxPollingInterval": "00:00:00.200",
                "visibilityTimeout": "00:00:00", "maxDequeueCount": 5 }
  }
}"#;

/// One replica: the process and its admin address.
struct Replica {
    running: Running,
    admin: String,
}

fn app_dir() -> PathBuf {
    let dir = support::services::scratch("fleet-app");
    std::fs::write(dir.join("host.json"), HOST_JSON).expect("host.json");
    dir
}

/// Starts `count` replicas forwarding `queue` to `topic` on `brokers`.
fn start(
    count: usize,
    dir: &Path,
    connection: &str,
    queue: &str,
    topic: &str,
    brokers: &str,
) -> Vec<Replica> {
    (0..count)
        .map(|_| {
            let admin = support::free_address();
            let running = Running::spawn(
                Command::new(example("queue_to_kafka"))
                    .current_dir(dir)
                    .env("AzureWebJobsStorage", connection)
                    .env("BrokerList", brokers)
                    .env("InputQueue", queue)
                    .env("OutputTopic", topic)
                    .env("AdminListenAddress", &admin),
            );
            Replica { running, admin }
        })
        .collect()
}

async fn get(admin: &str, path: &str) -> Option<(u16, String)> {
    let response = reqwest::get(format!("http://{admin}{path}")).await.ok()?;
    Some((response.status().as_u16(), response.text().await.ok()?))
}

async fn fill(service: &AzureQueueService, queue: &str, bodies: impl Iterator<Item = String>) {
    service.create_queue(queue).await.expect("create the queue");
    for body in bodies {
        service
            .send(queue, &BASE64.encode(body))
            .await
            .expect("send");
    }
}

/// Every replica's hint for `forward`, once each answers.
async fn hints(replicas: &[Replica]) -> Vec<(u64, u64)> {
    let mut hints = Vec::new();
    for replica in replicas {
        support::until_async(WAIT, "a replica's /scale", || async {
            get(&replica.admin, "/scale")
                .await
                .is_some_and(|(status, _)| status == 200)
        })
        .await;
        let (_, body) = get(&replica.admin, "/scale")
            .await
            .expect("it answered just now");
        let scale: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let forward = &scale["functions"][0];
        assert_eq!(forward["name"], "forward", "{scale}");
        hints.push((
            forward["scale_hint"].as_u64().expect("a hint"),
            forward["input"]["queue_length"].as_u64().expect("a length"),
        ));
    }
    hints
}

async fn fleet(
    count: usize,
    connection: &str,
    brokers: &str,
    azurite: &mut support::services::Service,
) {
    let service = AzureQueueService::new(
        StorageAccount::from_connection_string(connection).expect("a valid connection string"),
    );
    let dir = app_dir();

    // The same hint from every replica: a backlog none of them can move (their broker is down).
    let backlog = support::unique("fleet-backlog");
    fill(
        &service,
        &backlog,
        (0..BACKLOG).map(|n| format!("backlog-{n}")),
    )
    .await;
    let nowhere = support::free_address();
    let stuck = start(count, &dir, connection, &backlog, "unused", &nowhere);
    let expected = BACKLOG.div_ceil(PER_REPLICA);
    assert_eq!(
        hints(&stuck).await,
        vec![(expected, BACKLOG); count],
        "{count} replicas: each reports ceil({BACKLOG} / {PER_REPLICA}), not a share or a multiple"
    );
    drop(stuck);

    // Every message forwarded once; one replica stopped mid-stream drains and exits 0.
    let queue = support::unique("fleet");
    let topic = support::kafka::create_topic(brokers, &support::unique("fleet")).await;
    fill(&service, &queue, (0..MESSAGES).map(|n| format!("m-{n}"))).await;
    let started = Instant::now();
    let mut replicas = start(count, &dir, connection, &queue, &topic, brokers);
    if count > 1 {
        // Mid-stream: as soon as the first replica has forwarded a message of its own.
        replicas[0]
            .running
            .line_where(WAIT, "the first replica's first message", |line| {
                line.starts_with("processed ")
            });
        let signalled = Instant::now();
        let (status, _) = replicas[0].running.terminate(GRACE);
        assert!(
            status.success(),
            "SIGTERM: exit {status}\n{}",
            replicas[0].running.output()
        );
        assert!(signalled.elapsed() < GRACE);
        replicas.remove(0);
    }
    let records = support::kafka::consume_until(brokers, &topic, &[], "every message", |read| {
        let distinct: std::collections::HashSet<&str> =
            read.iter().map(|r| r.value.as_str()).collect();
        distinct.len() >= MESSAGES
    })
    .await;
    let elapsed = started.elapsed();
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for record in &records {
        *copies.entry(record.value.as_str()).or_default() += 1;
    }
    let duplicated: Vec<(&str, usize)> = copies.into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "{count} replicas: forwarded more than once: {duplicated:?}"
    );
    support::until_async(WAIT, "the input queue empty", || async {
        service
            .approximate_count(&queue)
            .await
            .is_ok_and(|n| n == 0)
    })
    .await;
    eprintln!("{count} replica(s): {MESSAGES} messages in {elapsed:?}");

    // Readiness follows the storage account, on every replica.
    let all = |status: u16| {
        let replicas = &replicas;
        async move {
            for replica in replicas {
                if get(&replica.admin, "/readyz").await.map(|(s, _)| s) != Some(status) {
                    return false;
                }
            }
            true
        }
    };
    support::until_async(WAIT, "every replica ready", || all(200)).await;
    azurite.stop(false).await;
    support::until_async(
        WAIT,
        "every replica not ready while Azurite is down",
        || all(503),
    )
    .await;
    azurite.restart().await;
    support::until_async(WAIT, "every replica ready again", || all(200)).await;
    for replica in &mut replicas {
        let (status, _) = replica.running.terminate(GRACE);
        assert!(
            status.success(),
            "SIGTERM: exit {status}\n{}",
            replica.running.output()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_two_and_four_replicas_share_a_queue_report_one_hint_and_follow_the_storage_account() {
    let Some(shared) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let Some(program) = support::services::azurite_program() else {
        return;
    };
    let dir = support::services::scratch("fleet-azurite");
    let (mut azurite, connection) = support::services::own_azurite(&program, &shared, &dir).await;
    for count in [1, 2, 4] {
        fleet(count, &connection, &brokers, &mut azurite).await;
    }
}
