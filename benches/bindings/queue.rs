//! Queue trigger throughput: messages/s drained by `#[queue_trigger]` running a no-op function
//! (default and tuned batch/threshold) vs a hand-written loop on the same client (receive 32,
//! decode and process them concurrently, delete each) — on Azurite, and on the in-memory queue
//! to show the listener's own overhead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::extend::FunctionDef;
use bindings::prelude::*;
use bindings::queue::{
    AzureQueueService, MAX_MESSAGES_PER_RECEIVE, MemoryQueueService, QueueFunctions, QueueService,
    QueueServices, StorageAccount,
};
use futures_util::StreamExt as _;
use futures_util::future::join_all;

use crate::measure::{Better, Plan, Record, Report, rate, rotate};
use crate::{BenchResult, support};

/// The throughput target: ours / baseline.
const TARGET: f64 = 0.9;
/// How long received messages stay invisible, on both sides. Shorter than the trigger's default
/// (10 minutes) so that a receive whose answer is lost (the client retries it, and the messages the
/// first attempt took stay invisible) delays a measurement by seconds, not minutes.
const VISIBILITY: Duration = Duration::from_secs(30);
/// The longest a drain may take before the benchmark gives up.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);
/// Sends in flight while filling a queue.
const FILL_CONCURRENCY: usize = 32;
/// The trigger's options as host.json `extensions.queues` entries: `batch` = the tuned ones
/// (full receives, and the next one as soon as a batch is in flight), else the defaults; both
/// with the receive visibility of [`VISIBILITY`].
pub(crate) fn host_config(tuned: bool) -> BenchResult<HostConfig> {
    let batch = if tuned {
        r#""batchSize":32,"newBatchThreshold":32,"#
    } else {
        ""
    };
    let visibility = bindings::format_timespan(VISIBILITY);
    Ok(HostConfig::from_json_str(&format!(
        r#"{{"version":"2.0","extensions":{{"queues":{{{batch}"receiveVisibilityTimeout":"{visibility}"}}}}}}"#
    ))?)
}

/// Does nothing with each message: what is measured is the trigger around it.
#[queue_trigger("%Queue%")]
async fn drain(body: Bytes) {
    std::hint::black_box(body);
}

/// The Azurite service of the test services.
pub(crate) fn azurite() -> BenchResult<Arc<dyn QueueService>> {
    let connection = crate::measure::service("BINDINGS_AZURITE_CONNECTION_STRING")?;
    let account = StorageAccount::from_connection_string(&connection)
        .map_err(|err| format!("BINDINGS_AZURITE_CONNECTION_STRING: {err}"))?;
    Ok(Arc::new(AzureQueueService::new(account)))
}

/// The host resource that makes connection `Storage` (the default) use `service`.
pub(crate) fn storage(service: Arc<dyn QueueService>) -> Arc<QueueServices> {
    let services = QueueServices::new();
    services.insert("Storage", service);
    Arc::new(services)
}

pub(crate) async fn run(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    compare(plan, report, "Azurite", azurite()?, plan.azurite_messages).await?;
    let memory: Arc<dyn QueueService> = Arc::new(MemoryQueueService::new());
    compare(
        plan,
        report,
        "in-memory queue",
        memory,
        plan.memory_messages,
    )
    .await
}

async fn compare(
    plan: &Plan,
    report: &mut Report,
    backend: &str,
    service: Arc<dyn QueueService>,
    messages: usize,
) -> BenchResult<()> {
    let queue = support::unique("bench-queue");
    service.create_queue(&queue).await?;
    let (default, tuned) = (host_config(false)?, host_config(true)?);
    let label = format!("{backend}, {messages} messages");
    let names = ["baseline", "ours (default)", "ours (tuned)"];
    let samples = rotate(&label, plan.reps, &names, "msg/s", async |which| {
        fill(&*service, &queue, messages).await?;
        let took = match which {
            0 => hand_loop(&*service, &queue, messages).await?,
            1 => trigger(&service, &queue, messages, default.clone()).await?,
            _ => trigger(&service, &queue, messages, tuned.clone()).await?,
        };
        let left = service.approximate_count(&queue).await?;
        if left != 0 {
            return Err(
                format!("queue `{queue}` still holds {left} message(s) after draining").into(),
            );
        }
        Ok(rate(messages, took))
    })
    .await?;
    let [baseline, default, tuned]: [Vec<f64>; 3] = samples.try_into().expect("three contenders");
    for (variant, ours) in [
        (
            "default options (batchSize 16, newBatchThreshold 8)",
            default,
        ),
        ("tuned (batchSize 32, newBatchThreshold 32)", tuned),
    ] {
        report.record(&Record {
            group: "queue",
            scenario: format!("Queue trigger throughput: {backend}, {variant}"),
            unit: "msg/s",
            better: Better::Higher,
            ours,
            baseline: Some(baseline.clone()),
            target: Some(TARGET),
            note: format!(
                "{messages} messages per measurement; baseline: receive 32, decode + process concurrently, delete"
            ),
        })?;
    }
    Ok(())
}

/// Puts `count` base64 messages on `queue` (not timed).
pub(crate) async fn fill(service: &dyn QueueService, queue: &str, count: usize) -> BenchResult<()> {
    let results: Vec<_> = futures_util::stream::iter(0..count)
        .map(|n| async move {
            let text = BASE64.encode(format!("message {n}"));
            service.send(queue, &text).await
        })
        .buffer_unordered(FILL_CONCURRENCY)
        .collect()
        .await;
    for result in results {
        result.map_err(|err| format!("filling queue `{queue}`: {err}"))?;
    }
    Ok(())
}

/// The hand-written optimal loop: receive 32, decode and process them concurrently, delete each;
/// until `count` are gone. Like the trigger, it carries on after a failed request (a message whose
/// delete failed comes back after [`VISIBILITY`] and is done again).
async fn hand_loop(service: &dyn QueueService, queue: &str, count: usize) -> BenchResult<Duration> {
    let began = Instant::now();
    let mut done = 0;
    while done < count {
        if began.elapsed() > DRAIN_LIMIT {
            return Err(format!(
                "queue `{queue}`: {done} of {count} drained within {DRAIN_LIMIT:?}"
            )
            .into());
        }
        let received = match service
            .receive(queue, MAX_MESSAGES_PER_RECEIVE, VISIBILITY)
            .await
        {
            Ok(received) => received,
            Err(err) => {
                eprintln!("  baseline: {err}; receiving again");
                continue;
            }
        };
        let handled = join_all(received.iter().map(|message| async move {
            let body = BASE64
                .decode(message.text.trim())
                .map_err(|err| format!("message {} is not base64: {err}", message.id))?;
            std::hint::black_box(Bytes::from(body));
            service
                .delete(queue, &message.id, &message.pop_receipt)
                .await
                .map_err(|err| err.to_string())
        }))
        .await;
        for result in handled {
            match result {
                Ok(()) => done += 1,
                Err(err) => eprintln!("  baseline: {err}"),
            }
        }
    }
    Ok(began.elapsed())
}

/// A host running the no-op [`drain`] on `queue` with `config`, from start until it completed
/// `count` messages.
pub(crate) async fn trigger(
    service: &Arc<dyn QueueService>,
    queue: &str,
    count: usize,
    config: HostConfig,
) -> BenchResult<Duration> {
    let settings = Settings::new().with("Queue", queue);
    run_until_done::<drain>(service, settings, config, queue, count).await
}

/// A host running queue-triggered `F` on `service` with `settings` and `config`, from start until
/// it completed `count` messages of `queue` (none may fail).
pub(crate) async fn run_until_done<F: FunctionDef>(
    service: &Arc<dyn QueueService>,
    settings: Settings,
    config: HostConfig,
    queue: &str,
    count: usize,
) -> BenchResult<Duration> {
    let name = F::describe().name().to_owned();
    let host = Host::builder()
        .settings(settings)
        .host_config(config)
        .resource(storage(Arc::clone(service)))
        .function::<F>()
        .build()
        .await?;
    let began = Instant::now();
    let host = host.start();
    let function = host
        .resources()
        .get::<QueueFunctions>()
        .and_then(|functions| functions.get(&name))
        .ok_or_else(|| format!("the host has no queue function `{name}`"))?;
    let target = count as u64;
    // The counters are in-process atomics: checking them every millisecond costs nothing next to
    // the storage requests being measured.
    while function.counts().succeeded < target {
        if began.elapsed() > DRAIN_LIMIT {
            return Err(format!(
                "queue `{queue}`: `{name}` did not complete {target} messages within {DRAIN_LIMIT:?}: {:?}",
                function.counts()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = began.elapsed();
    let counts = function.counts();
    if counts.failed != 0 || counts.succeeded != target {
        return Err(format!("expected {target} successes and no failures, got {counts:?}").into());
    }
    host.shutdown(Duration::from_secs(30)).await?;
    Ok(took)
}
