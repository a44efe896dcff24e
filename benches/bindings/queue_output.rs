//! Queue output throughput: messages/s forwarded from one Azurite queue to another by
//! `#[queue_trigger]` + `#[queue_output]` (a function returning its input) vs a hand-written loop on
//! the same client with the same delivery rule (receive 32; for each, concurrently: decode, encode,
//! send to the output queue, and only then delete the input).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::prelude::*;
use bindings::queue::{MAX_MESSAGES_PER_RECEIVE, QueueService};
use futures_util::future::join_all;

use crate::measure::{Better, Plan, Record, Report, rate, rotate};
use crate::queue::{azurite, fill, host_config, run_until_done};
use crate::{BenchResult, support};

/// The throughput target: ours / baseline.
const TARGET: f64 = 0.9;
/// How long received messages stay invisible in the baseline (the trigger's, from
/// [`host_config`], is the same).
const VISIBILITY: Duration = Duration::from_secs(30);
/// The longest a drain may take before the benchmark gives up.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

/// Forwards each message, as it is, to `Out`.
#[queue_trigger("%Queue%")]
#[queue_output("%Out%")]
async fn forward(body: Bytes) -> Bytes {
    body
}

pub(crate) async fn run(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    let service = azurite()?;
    let messages = plan.azurite_messages;
    let input = support::unique("bench-in");
    service.create_queue(&input).await?;
    let (default, tuned) = (host_config(false)?, host_config(true)?);
    let label = format!("Azurite -> Azurite, {messages} messages");
    let names = ["baseline", "ours (default)", "ours (tuned)"];
    let samples = rotate(&label, plan.reps, &names, "msg/s", async |which| {
        fill(&*service, &input, messages).await?;
        // A fresh output queue each time: the baseline's is created before it is timed, ours by the
        // output binding on first use (so ours pays that request).
        let output = support::unique("bench-out");
        let took = match which {
            0 => {
                service.create_queue(&output).await?;
                hand_loop(&*service, &input, &output, messages).await?
            }
            1 => trigger(&service, &input, &output, messages, default.clone()).await?,
            _ => trigger(&service, &input, &output, messages, tuned.clone()).await?,
        };
        for (queue, expected) in [(&input, 0), (&output, messages)] {
            let count = service.approximate_count(queue).await?;
            if count != expected as u64 {
                return Err(
                    format!("queue `{queue}` holds {count} message(s), not {expected}").into(),
                );
            }
        }
        // Untimed: empty the output queue, or Azurite keeps every measurement's messages and slows
        // down measurement after measurement (in a first run the baseline fell from 312 to 6 msg/s
        // by the second repetition).
        empty(&*service, &output).await?;
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
            group: "queue-output",
            scenario: format!("Queue -> queue forwarding: Azurite, {variant}"),
            unit: "msg/s",
            better: Better::Higher,
            ours,
            baseline: Some(baseline.clone()),
            target: Some(TARGET),
            note: format!(
                "{messages} messages per measurement; baseline: receive 32, decode + encode + send + \
                 delete each concurrently, same client"
            ),
        })?;
    }
    Ok(())
}

/// Receives and deletes every message of `queue`, 32 at a time, until it is empty.
async fn empty(service: &dyn QueueService, queue: &str) -> BenchResult<()> {
    let began = Instant::now();
    loop {
        if began.elapsed() > DRAIN_LIMIT {
            return Err(
                format!("queue `{queue}` could not be emptied within {DRAIN_LIMIT:?}").into(),
            );
        }
        let received = service
            .receive(queue, MAX_MESSAGES_PER_RECEIVE, VISIBILITY)
            .await?;
        if received.is_empty() && service.approximate_count(queue).await? == 0 {
            return Ok(());
        }
        let deleted = join_all(
            received
                .iter()
                .map(|message| service.delete(queue, &message.id, &message.pop_receipt)),
        )
        .await;
        for result in deleted {
            result?;
        }
    }
}

/// The hand-written loop: receive 32; for each concurrently decode, encode, send to `output` and
/// then delete from `input`; until `count` are forwarded. A failed send or delete leaves the
/// message to come back after [`VISIBILITY`], as the trigger does.
async fn hand_loop(
    service: &dyn QueueService,
    input: &str,
    output: &str,
    count: usize,
) -> BenchResult<Duration> {
    let began = Instant::now();
    let mut done = 0;
    while done < count {
        if began.elapsed() > DRAIN_LIMIT {
            return Err(format!(
                "queue `{input}`: {done} of {count} forwarded within {DRAIN_LIMIT:?}"
            )
            .into());
        }
        let received = match service
            .receive(input, MAX_MESSAGES_PER_RECEIVE, VISIBILITY)
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
            service
                .send(output, &BASE64.encode(body))
                .await
                .map_err(|err| err.to_string())?;
            service
                .delete(input, &message.id, &message.pop_receipt)
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

/// A host running [`forward`] from `input` to `output` with `config`, from start until it completed
/// `count` messages.
async fn trigger(
    service: &Arc<dyn QueueService>,
    input: &str,
    output: &str,
    count: usize,
    config: HostConfig,
) -> BenchResult<Duration> {
    let settings = Settings::new().with("Queue", input).with("Out", output);
    run_until_done::<forward>(service, settings, config, input, count).await
}
