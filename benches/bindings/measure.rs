//! How results are measured and reported: the run's sizes, alternating repetitions, JSON lines.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::BenchResult;

/// The sizes of one run: `--quick` for development, the full run for `BENCHMARKS.md`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Repetitions of every side-by-side comparison.
    pub(crate) reps: usize,
    /// How long each Kafka throughput measurement sends.
    pub(crate) kafka_window: Duration,
    /// Messages drained from Azurite per queue measurement.
    pub(crate) azurite_messages: usize,
    /// Messages drained from the in-memory queue per measurement.
    pub(crate) memory_messages: usize,
    /// Offered rates (messages/s) of the end-to-end run, tried in order until one is not sustained.
    pub(crate) e2e_rates: &'static [u32],
    /// How long each offered rate is kept up.
    pub(crate) e2e_window: Duration,
    /// The short `maxPollingInterval` of the idle measurement.
    pub(crate) idle_max_polling: Duration,
    /// How long the idle function is watched.
    pub(crate) idle_window: Duration,
    /// Repetitions of the footprint and scaling measurements.
    pub(crate) process_reps: usize,
    /// Messages drained per scaling measurement.
    pub(crate) scaling_messages: usize,
}

impl Plan {
    /// Under two minutes, for development.
    pub(crate) const QUICK: Self = Self {
        reps: 2,
        kafka_window: Duration::from_millis(600),
        azurite_messages: 400,
        memory_messages: 5_000,
        e2e_rates: &[50, 200],
        e2e_window: Duration::from_secs(3),
        idle_max_polling: Duration::from_secs(1),
        idle_window: Duration::from_secs(8),
        process_reps: 1,
        scaling_messages: 400,
    };

    /// The run whose figures go into `BENCHMARKS.md` (under twenty minutes).
    pub(crate) const FULL: Self = Self {
        reps: 5,
        kafka_window: Duration::from_secs(2),
        azurite_messages: 1_000,
        memory_messages: 40_000,
        e2e_rates: &[50, 100, 200, 400, 800, 1600],
        e2e_window: Duration::from_secs(10),
        idle_max_polling: Duration::from_secs(2),
        idle_window: Duration::from_secs(45),
        process_reps: 3,
        scaling_messages: 1_000,
    };
}

/// Which way is better for a figure.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Better {
    Higher,
    Lower,
}

/// One figure: our samples, the baseline's (when there is one, measured alternately in the same
/// run), and the ratio the project aims for.
#[derive(Debug)]
pub(crate) struct Record {
    /// `kafka`, `queue`, ...
    pub(crate) group: &'static str,
    /// What was measured, for the table.
    pub(crate) scenario: String,
    /// `msg/s`, `ms`, `MiB`, ...
    pub(crate) unit: &'static str,
    pub(crate) better: Better,
    pub(crate) ours: Vec<f64>,
    pub(crate) baseline: Option<Vec<f64>>,
    /// Minimum ours/baseline ratio aimed for.
    pub(crate) target: Option<f64>,
    /// What the baseline is, or how the figure was obtained.
    pub(crate) note: String,
}

/// Where the results go: JSON lines appended to a file, or printed.
pub(crate) struct Report {
    out: Option<File>,
}

impl Report {
    pub(crate) fn new(out: Option<&Path>) -> BenchResult<Self> {
        let out = match out {
            None => None,
            Some(path) => Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|err| format!("cannot open {}: {err}", path.display()))?,
            ),
        };
        Ok(Self { out })
    }

    fn line(&mut self, value: &serde_json::Value) -> BenchResult<()> {
        match &mut self.out {
            Some(file) => writeln!(file, "{value}")
                .map_err(|err| format!("cannot write a result line: {err}").into()),
            None => {
                println!("result: {value}");
                Ok(())
            }
        }
    }

    /// Records a figure.
    pub(crate) fn record(&mut self, record: &Record) -> BenchResult<()> {
        let value = serde_json::json!({
            "kind": "figure",
            "group": record.group,
            "scenario": record.scenario,
            "unit": record.unit,
            "better": match record.better { Better::Higher => "higher", Better::Lower => "lower" },
            "ours": record.ours,
            "baseline": record.baseline,
            "target": record.target,
            "note": record.note,
        });
        self.line(&value)
    }

    /// Records how long a group took.
    pub(crate) fn timing(&mut self, group: &str, took: Duration) -> BenchResult<()> {
        println!("{group}: {:.1}s", took.as_secs_f64());
        self.line(&serde_json::json!({
            "kind": "timing",
            "group": group,
            "seconds": took.as_secs_f64(),
        }))
    }
}

/// Runs every contender of a comparison `reps` times, rotating who goes first each repetition
/// (so drift and warm-up hit all of them alike), and prints each result. `run(i)` measures
/// contender `i` once. Returns the samples of each contender, in `names` order.
pub(crate) async fn rotate(
    label: &str,
    reps: usize,
    names: &[&str],
    unit: &str,
    mut run: impl AsyncFnMut(usize) -> BenchResult<f64>,
) -> BenchResult<Vec<Vec<f64>>> {
    let mut samples = vec![Vec::with_capacity(reps); names.len()];
    for rep in 0..reps {
        let mut line = format!("  {label} rep {}/{reps}:", rep + 1);
        let mut results = vec![0.0; names.len()];
        for step in 0..names.len() {
            let which = (rep + step) % names.len();
            results[which] = run(which)
                .await
                .map_err(|err| format!("{label}, {}: {err}", names[which]))?;
        }
        for (which, result) in results.into_iter().enumerate() {
            line.push_str(&format!(" {} {} {unit};", names[which], figure(result)));
            samples[which].push(result);
        }
        println!("{}", line.trim_end_matches(';'));
    }
    Ok(samples)
}

/// `12 345` style for large figures, 3 significant digits for small ones.
pub(crate) fn figure(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The `q`-quantile (0..=1) of `values` by nearest rank; `None` when empty.
pub(crate) fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Nearest rank: the smallest value with at least q of the values at or below it.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Messages per second for `count` messages in `took`.
pub(crate) fn rate(count: usize, took: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let count = count as f64;
    count / took.as_secs_f64()
}

/// A test service's variable (from the environment or `target/services/services.env`), or an
/// error saying how to start it.
pub(crate) fn service(var: &str) -> BenchResult<String> {
    crate::support::service(var).ok_or_else(|| {
        format!(
            "{var} is not set: start the services with `cargo xtask services up azurite kafka` \
             (or run `cargo xtask bench`, which starts them)"
        )
        .into()
    })
}
