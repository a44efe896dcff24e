//! End-to-end: Azurite queue -> function -> Kafka (Tansu) at fixed offered rates. Latency runs
//! from the enqueue request to the Kafka acknowledgement (the trigger deletes a message only after
//! its output was acknowledged; see `counting.rs`); the max sustainable rate is the highest
//! offered rate whose every message completed within [`GRACE`] of the end of the offered window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::prelude::*;
use bindings::queue::QueueService;

use crate::measure::{Better, Plan, Record, Report, quantile};
use crate::support::counting::{Counting, LatencyProbe};
use crate::{BenchResult, support};

/// How long after the last send every message must be through for the rate to count as sustained.
const GRACE: Duration = Duration::from_secs(2);
/// The shortest tick of the sender (it sends several messages per tick at high rates).
const TICK: Duration = Duration::from_millis(10);
/// Size of each message body.
const BODY: usize = 100;

/// Forwards each message to Kafka as is.
#[queue_trigger("%Queue%")]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
async fn forward(body: Bytes) -> Bytes {
    body
}

/// What one offered rate gave.
struct Outcome {
    sent: usize,
    latencies_ms: Vec<f64>,
    sustained: bool,
}

pub(crate) async fn run(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    let azurite = crate::queue::azurite()?;
    let brokers = crate::measure::service("BINDINGS_KAFKA_BROKERS")?;
    let mut best = None;
    let mut failed_at = None;
    for &rate in plan.e2e_rates {
        let outcome = offer(&azurite, &brokers, rate, plan.e2e_window).await?;
        let p50 = quantile(&outcome.latencies_ms, 0.5).unwrap_or(f64::NAN);
        let p99 = quantile(&outcome.latencies_ms, 0.99).unwrap_or(f64::NAN);
        println!(
            "  {rate} msg/s offered: {} sent, {} through, p50 {p50:.1} ms, p99 {p99:.1} ms, {}",
            outcome.sent,
            outcome.latencies_ms.len(),
            if outcome.sustained {
                "sustained"
            } else {
                "NOT sustained"
            }
        );
        for (name, value) in [("p50", p50), ("p99", p99)] {
            report.record(&Record {
                group: "e2e",
                scenario: format!("End-to-end latency {name}, {rate} msg/s offered (Azurite -> Tansu)"),
                unit: "ms",
                better: Better::Lower,
                ours: vec![value],
                baseline: None,
                target: None,
                note: format!(
                    "enqueue request to Kafka ack; {} of {} messages through within {}s of the end of the offered window",
                    outcome.latencies_ms.len(),
                    outcome.sent,
                    GRACE.as_secs()
                ),
            })?;
        }
        if !outcome.sustained {
            failed_at = Some(rate);
            break;
        }
        best = Some(rate);
    }
    let tried: Vec<String> = plan.e2e_rates.iter().map(u32::to_string).collect();
    report.record(&Record {
        group: "e2e",
        scenario: "End-to-end max sustained rate (Azurite -> Tansu)".to_owned(),
        unit: "msg/s",
        better: Better::Higher,
        ours: vec![best.map_or(0.0, f64::from)],
        baseline: None,
        target: None,
        note: match failed_at {
            Some(rate) => format!(
                "offered {} msg/s for {}s each; {rate} msg/s was not sustained",
                tried.join(", "),
                plan.e2e_window.as_secs()
            ),
            None => format!(
                "offered {} msg/s for {}s each; all sustained (the limit is higher)",
                tried.join(", "),
                plan.e2e_window.as_secs()
            ),
        },
    })
}

/// Offers `rate` messages/s to a fresh queue for `window`, with a host forwarding them to a
/// fresh topic.
async fn offer(
    azurite: &Arc<dyn QueueService>,
    brokers: &str,
    rate: u32,
    window: Duration,
) -> BenchResult<Outcome> {
    let queue = support::unique("bench-e2e");
    azurite.create_queue(&queue).await?;
    let topic = crate::kafka::tansu_topic(brokers).await?;
    let probe = Arc::new(LatencyProbe::default());
    let counting = Arc::new(Counting::new(Arc::clone(azurite), Some(Arc::clone(&probe))));
    let host = Host::builder()
        .settings(
            Settings::new()
                .with("Queue", &queue)
                .with("Topic", &topic)
                .with("Brokers", brokers),
        )
        .resource(crate::queue::storage(
            Arc::clone(&counting) as Arc<dyn QueueService>
        ))
        .function::<forward>()
        .build()
        .await?
        .start();
    counting.polled(1).await;

    // Send `per_tick` messages every `period`, each send on its own task so a slow request does not
    // lower the offered rate.
    let period = TICK.max(Duration::from_secs(1) / rate);
    let per_tick = (f64::from(rate) * period.as_secs_f64()).round().max(1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let per_tick = per_tick as usize;
    let ticks = window.as_nanos() / period.as_nanos();
    let mut interval = tokio::time::interval(period);
    let mut sends = Vec::new();
    let mut sequence = 0usize;
    for _ in 0..ticks {
        interval.tick().await;
        for _ in 0..per_tick {
            let mut body = format!("{sequence:08}");
            body.extend(std::iter::repeat_n('x', BODY - body.len()));
            let text = BASE64.encode(body);
            sequence += 1;
            let (azurite, probe, queue) = (Arc::clone(azurite), Arc::clone(&probe), queue.clone());
            sends.push(tokio::spawn(async move {
                probe.sending(&text);
                azurite.send(&queue, &text).await
            }));
        }
    }
    let window_end = Instant::now();
    let mut sent = 0;
    let mut refused = 0;
    for send in sends {
        // Past the storage's capacity sends fail: that rate is not sustained.
        match send.await? {
            Ok(()) => sent += 1,
            Err(_) => refused += 1,
        }
    }
    if refused > 0 {
        eprintln!("  {rate} msg/s: {refused} enqueue request(s) failed");
    }
    // Completion is counted in-process: check it every few milliseconds until all are through
    // or the grace period after the offered window is over.
    while probe.completed() < sent && window_end.elapsed() < GRACE {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sustained = refused == 0 && probe.completed() >= sent;
    let latencies_ms = probe
        .take()
        .into_iter()
        .map(|latency| latency.as_secs_f64() * 1000.0)
        .collect();
    if let Err(err) = host.shutdown(Duration::from_secs(30)).await {
        // After an overload the host may not finish in time; the figures above stand.
        eprintln!("  {rate} msg/s: host shutdown: {err}");
    }
    Ok(Outcome {
        sent,
        latencies_ms,
        sustained,
    })
}
