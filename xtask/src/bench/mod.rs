//! `cargo xtask bench`: services up, the benchmarks (`benches/bindings`, a release build) against
//! them, services down, then `BENCHMARKS.md` and `docs/benchmarks.svg` from the results.

pub(crate) mod chart;
pub(crate) mod report;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::services::state::State;
use crate::services::{self, Guard, Service};
use crate::util::cmd;
use crate::util::interrupt;
use crate::util::paths;
use crate::util::timing;
use anyhow::{Context as _, Error, Result};
use report::Run;

/// The benchmarks' bench target in the root package.
const BENCH: &str = "bindings";
/// How every group runs it: quietly, with the `otel` feature (the telemetry group's tracing layer).
const QUIET_BENCH: [&str; 6] = ["bench", "--quiet", "--bench", BENCH, "--features", "otel"];

/// Run the benchmarks (`quick`: the short development run, whose report goes under
/// `target/bench/` so it never replaces the committed full-run figures) and write the report;
/// `report_only`: write the report from the results of an earlier run. Returns the exit code.
pub(crate) fn run((quick, report_only): (bool, bool)) -> Result<u8> {
    let command = if quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    };
    let out_dir = paths::workspace_root().join("target").join("bench");
    fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", paths::short(&out_dir)))?;
    let results = out_dir.join(if quick {
        "results-quick.jsonl"
    } else {
        "results.jsonl"
    });
    if !report_only {
        let code = measure(quick, &results)?;
        if code != 0 {
            return Ok(code);
        }
    }

    let root = paths::workspace_root();
    let (markdown, chart) = if quick {
        (
            out_dir.join("BENCHMARKS.md"),
            out_dir.join("benchmarks.svg"),
        )
    } else {
        (
            root.join("BENCHMARKS.md"),
            root.join("docs").join("benchmarks.svg"),
        )
    };
    let text = fs::read_to_string(&results)
        .with_context(|| format!("reading the results {}", paths::short(&results)))?;
    let parsed = report::parse(&text)?;
    let notes = fs::read_to_string(root.join("BENCHMARKS.md"))
        .map(|text| report::kept_notes(&text))
        .unwrap_or_default();
    let run = Run {
        machine: machine(),
        date: cmd::output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))?
            .trim()
            .to_owned(),
        command: command.to_owned(),
        chart: relative(&chart, markdown.parent().unwrap_or(root)),
        notes,
    };
    write(&chart, &chart::svg(&parsed))?;
    write(&markdown, &report::markdown(&parsed, &run))?;
    println!(
        "wrote {} and {}",
        paths::short(&markdown),
        paths::short(&chart)
    );
    Ok(0)
}

/// Builds the benchmarks and runs every group, each on fresh services; results go to `results`.
fn measure(quick: bool, results: &Path) -> Result<u8> {
    if results.exists() {
        fs::remove_file(results).with_context(|| format!("removing {}", paths::short(results)))?;
    }

    let began = Instant::now();
    let mut build = cmd::cargo();
    build.args(["bench", "--bench", BENCH, "--features", "otel", "--no-run"]);
    let built = cmd::status(&mut build)?;
    println!("build (release): {}", timing::human(began.elapsed()));
    if !built.success() {
        eprintln!("bench: the build failed ({})", cmd::describe(built));
        return Ok(cmd::exit_code(built));
    }
    let mut list = cmd::cargo();
    list.args(QUIET_BENCH).args(["--", "--list"]);
    let groups = cmd::output(&mut list)?;
    // Each group on fresh services: Azurite slows down for minutes after a heavy group (its
    // in-memory store cleans up behind it), which would make the next group measure that.
    for group in groups
        .lines()
        .map(str::trim)
        .filter(|group| !group.is_empty())
    {
        let code = run_group(group, quick, results)?;
        if code != 0 {
            eprintln!(
                "bench: group `{group}` failed (exit code {code}); results so far: {}",
                paths::short(results)
            );
            return Ok(code);
        }
    }
    Ok(0)
}

/// Services up, one group of benchmarks, services down (those this call started). Returns the
/// benchmark's exit code.
fn run_group(group: &str, quick: bool, results: &Path) -> Result<u8> {
    let mut guard = Guard::default();
    let began = Instant::now();
    services::up(&[Service::Azurite, Service::Kafka], &mut guard.started)?;
    println!("services up: {}", timing::human(began.elapsed()));
    let began = Instant::now();
    let mut bench = cmd::cargo();
    bench
        .args(QUIET_BENCH)
        .args(["--", "--only", group])
        .args(quick.then_some("--quick"))
        .arg("--out")
        .arg(results)
        .envs(State::load()?.vars());
    let status = cmd::status(&mut bench)?;
    println!("{group}: {}", timing::human(began.elapsed()));
    let stopped = guard.down();
    stopped?;
    if interrupt::interrupted() {
        eprintln!("bench: interrupted");
        return Ok(130);
    }
    Ok(if status.success() {
        0
    } else {
        cmd::exit_code(status)
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", paths::short(dir)))?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", paths::short(path)))
}

/// `path` relative to `base` (both inside the workspace), with `/` separators, for a link.
fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .map_or_else(|_| path.to_path_buf(), PathBuf::from)
        .to_string_lossy()
        .replace('\\', "/")
}

/// CPU model, cores, memory and kernel: `Intel Xeon ... (2 cores), 23 GiB, Linux 6.1.0`.
fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or_else(String::new, |kib| {
            format!(", {} GiB RAM", (kib + 512 * 1024) / (1024 * 1024))
        });
    let kernel = cmd::output(Command::new("uname").args(["-sr"]))
        .map(|text| format!(", {}", text.trim()))
        .unwrap_or_default();
    format!("{model} ({cores} cores){memory}{kernel}")
}

/// The arguments of `cargo xtask bench`: nothing, `--quick`, `--report` (write the report from
/// the last full run's results) or `--quick --report`; as (quick, report only).
pub(crate) fn parse_args(args: &[&str]) -> Result<(bool, bool)> {
    match args {
        [] => Ok((false, false)),
        ["--quick"] => Ok((true, false)),
        ["--report"] => Ok((false, true)),
        ["--quick", "--report"] | ["--report", "--quick"] => Ok((true, true)),
        other => Err(Error::msg(format!(
            "bench: unknown arguments `{}`; the options are --quick and --report",
            other.join(" ")
        ))),
    }
}
