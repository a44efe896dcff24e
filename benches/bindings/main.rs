//! The benchmarks of `bindings`, each measured side by side with a hand-written baseline in the
//! same run (alternating, several repetitions). `cargo xtask bench` starts the services, runs this
//! and turns its results into `BENCHMARKS.md` and `docs/benchmarks.svg`.
//!
//! ```sh
//! cargo bench --bench bindings -- [--quick] [--out results.jsonl] [--only kafka,queue,...] [--list]
//! ```
//!
//! Needs Azurite and Tansu (`cargo xtask services up azurite kafka`; their addresses come from
//! `target/services/services.env`). Progress goes to stdout; each result is one JSON line,
//! appended to `--out` (or printed with a `result: ` prefix when there is no `--out`).
//!
//! Groups: `kafka` (output throughput), `kafka-trigger` (trigger throughput, and what key ordering
//! buys), `queue` (trigger throughput), `queue-output` (queue -> queue
//! forwarding throughput), `e2e` (queue -> Kafka latency and max rate), `idle` (storage requests of
//! an idle function), `footprint` (RSS and time to first poll of a host process), `scaling` (1, 2, 4
//! host processes on one queue), `fleet` (1, 2, 4 host processes forwarding one queue to one topic).
//!
//! `--list` prints the groups, one a line: `cargo xtask bench` runs each on fresh services.
//!
//! The multi-process groups re-run this binary as `<exe> host <queue>...` (see `process.rs`).

mod e2e;
mod idle;
mod kafka;
mod kafka_trigger;
mod measure;
mod process;
mod queue;
mod queue_output;
#[path = "../../tests/support/mod.rs"]
mod support;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::measure::{Plan, Report};

/// A benchmark's error: what failed, already phrased for the terminal.
pub(crate) type BenchError = Box<dyn std::error::Error + Send + Sync>;
/// A benchmark's result.
pub(crate) type BenchResult<T> = Result<T, BenchError>;

/// Every group, in run order.
const GROUPS: [&str; 10] = [
    "kafka",
    "kafka-trigger",
    "queue",
    "queue-output",
    "e2e",
    "idle",
    "footprint",
    "scaling",
    "fleet",
    "telemetry",
];

const USAGE: &str =
    "usage: cargo bench --bench bindings -- [--quick] [--out FILE] [--only GROUP,...]
groups: kafka, kafka-trigger, queue, queue-output, e2e, idle, footprint, scaling, fleet, telemetry";

/// The command line.
struct Options {
    quick: bool,
    list: bool,
    out: Option<PathBuf>,
    groups: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self {
            quick: false,
            list: false,
            out: None,
            groups: GROUPS.iter().map(|&group| group.to_owned()).collect(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // `cargo bench` passes `--bench` to every bench target.
                "--bench" => {}
                "--quick" => options.quick = true,
                "--list" => options.list = true,
                "--out" => {
                    let path = args.next().ok_or("--out needs a file name")?;
                    options.out = Some(PathBuf::from(path));
                }
                "--only" => {
                    let list = args.next().ok_or("--only needs a list of groups")?;
                    options.groups = list.split(',').map(str::to_owned).collect();
                    if let Some(unknown) = options
                        .groups
                        .iter()
                        .find(|group| !GROUPS.contains(&group.as_str()))
                    {
                        return Err(format!("unknown group `{unknown}`"));
                    }
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(options)
    }
}

fn main() -> ExitCode {
    // The library's warnings (a failed receive, a slow broker) explain odd figures.
    telemetry::subscriber();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(process::HOST_MODE) {
        return process::host_main(&args[1..]);
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("error: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.list {
        for group in GROUPS {
            println!("{group}");
        }
        return ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built");
    match runtime.block_on(run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: &Options) -> BenchResult<()> {
    let plan = if options.quick {
        Plan::QUICK
    } else {
        Plan::FULL
    };
    let mut report = Report::new(options.out.as_deref())?;
    for group in &options.groups {
        let started = Instant::now();
        println!("== {group} ==");
        match group.as_str() {
            "kafka" => kafka::run(&plan, &mut report).await,
            "kafka-trigger" => kafka_trigger::run(&plan, &mut report).await,
            "queue" => queue::run(&plan, &mut report).await,
            "queue-output" => queue_output::run(&plan, &mut report).await,
            "e2e" => e2e::run(&plan, &mut report).await,
            "idle" => idle::run(&plan, &mut report).await,
            "footprint" => process::footprint(&plan, &mut report).await,
            "scaling" => process::scaling(&plan, &mut report).await,
            "fleet" => process::fleet(&plan, &mut report).await,
            "telemetry" => telemetry::run(&plan, &mut report).await,
            other => unreachable!("checked by Options::parse: {other}"),
        }
        .map_err(|err| format!("benchmark group `{group}`: {err}"))?;
        report.timing(group, started.elapsed())?;
    }
    Ok(())
}
