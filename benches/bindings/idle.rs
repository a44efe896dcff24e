//! Idle cost: the storage requests of a function whose queue stays empty, counted by a decorator
//! around the Azurite client, with a short configured `maxPollingInterval` so the back-off reaches
//! it within the window; the default (1 minute) is extrapolated from the steady state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bindings::format_timespan;
use bindings::prelude::*;
use bindings::queue::QueueService;

use crate::measure::{Better, Plan, Record, Report};
use crate::support::counting::Counting;
use crate::{BenchResult, support};

/// The `maxPollingInterval` a host uses when none is configured (outside Development).
const DEFAULT_MAX_POLLING: Duration = Duration::from_secs(60);

/// Never runs: its queue stays empty.
#[queue_trigger("%Queue%")]
async fn idle_function(body: Bytes) {
    std::hint::black_box(body);
}

pub(crate) async fn run(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    let azurite = crate::queue::azurite()?;
    let queue = support::unique("bench-idle");
    azurite.create_queue(&queue).await?;
    let counting = Arc::new(Counting::new(azurite, None));
    let max = plan.idle_max_polling;
    let config = HostConfig::from_json_str(&format!(
        r#"{{"version":"2.0","extensions":{{"queues":{{"maxPollingInterval":"{}"}}}}}}"#,
        format_timespan(max)
    ))?;
    let host = Host::builder()
        .settings(Settings::new().with("Queue", &queue))
        .host_config(config)
        .resource(crate::queue::storage(
            Arc::clone(&counting) as Arc<dyn QueueService>
        ))
        .function::<idle_function>()
        .build()
        .await?
        .start();
    counting.polled(1).await;
    let began = Instant::now();
    println!(
        "  watching an idle function for {}s (maxPollingInterval {})",
        plan.idle_window.as_secs(),
        format_timespan(max)
    );
    // The measurement window itself: the requests made during it are what is counted.
    tokio::time::sleep(plan.idle_window).await;
    let end = Instant::now();
    host.shutdown(Duration::from_secs(10)).await?;
    let times: Vec<Instant> = counting
        .request_times()
        .into_iter()
        .filter(|time| *time <= end)
        .collect();
    let window = end - began;
    #[allow(clippy::cast_precision_loss)]
    let per_minute = times.len() as f64 * 60.0 / window.as_secs_f64();
    // The steady state starts at the first gap of (nearly) the maximum.
    let steady_start = times
        .windows(2)
        .find(|pair| pair[1] - pair[0] >= max.mul_f64(0.9))
        .map(|pair| pair[0])
        .ok_or_else(|| {
            format!(
                "the polling interval never reached {max:?} within {window:?} ({} requests)",
                times.len()
            )
        })?;
    let steady_requests = times.iter().filter(|time| **time > steady_start).count();
    let intervals = (end - steady_start).as_secs_f64() / max.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let per_interval = steady_requests as f64 / intervals;
    let reached = steady_start.saturating_duration_since(began);
    println!(
        "  {} requests in {:.0}s ({per_minute:.1}/min); steady after {:.1}s: {per_interval:.2} per interval",
        times.len(),
        window.as_secs_f64(),
        reached.as_secs_f64()
    );
    let configured = format_timespan(max);
    let figures = [
        (
            format!(
                "Idle storage requests per minute, maxPollingInterval {configured}, {}s window",
                window.as_secs()
            ),
            "req/min",
            per_minute,
            "all requests of one idle function, back-off ramp included".to_owned(),
        ),
        (
            format!(
                "Idle storage requests per polling interval (steady state), maxPollingInterval {configured}"
            ),
            "req/interval",
            per_interval,
            format!(
                "target <= 1; the back-off reached the maximum {:.1}s after the first poll",
                reached.as_secs_f64()
            ),
        ),
        (
            format!(
                "Idle storage requests per minute at the default maxPollingInterval {} (extrapolated)",
                format_timespan(DEFAULT_MAX_POLLING)
            ),
            "req/min",
            per_interval * 60.0 / DEFAULT_MAX_POLLING.as_secs_f64(),
            "steady-state requests per interval x intervals per minute".to_owned(),
        ),
    ];
    for (scenario, unit, value, note) in figures {
        report.record(&Record {
            group: "idle",
            scenario,
            unit,
            better: Better::Lower,
            ours: vec![value],
            baseline: None,
            target: None,
            note,
        })?;
    }
    Ok(())
}
