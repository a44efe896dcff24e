//! `cargo xtask fuzz`: the fuzz targets of `fuzz/` (cargo-fuzz, libFuzzer), each for a while.
//!
//! cargo-fuzz is installed once per machine into the cache (pinned, like Tansu). It passes `-Z`
//! flags to rustc, so it runs with `RUSTC_BOOTSTRAP=1` on the stable toolchain, without a
//! sanitizer (the code under test forbids `unsafe`; libFuzzer's coverage guidance and Rust's
//! own checks — panics, overflow with debug assertions — find what matters).
//!
//! Each target starts from its checked-in seeds (`fuzz/seeds/<target>/`) and the corpus earlier
//! runs grew (`target/fuzz/corpus/<target>/`); its output goes to
//! `target/fuzz/logs/<target>.log`, a crashing input to `fuzz/artifacts/<target>/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::cmd;
use crate::util::install::Tool;
use crate::util::interrupt;
use crate::util::paths;
use anyhow::{Context as _, Error, Result};

/// The pinned cargo-fuzz release.
const VERSION: &str = "0.13.2";
/// Seconds per target when `--secs` is not given.
const DEFAULT_SECS: u64 = 60;
/// An input slower than this (seconds) is reported as a hang.
const INPUT_TIMEOUT_SECS: u64 = 10;

/// What `cargo xtask fuzz` was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Options {
    /// How long each target runs.
    secs: u64,
    /// The targets to run (empty: all of them).
    targets: Vec<String>,
}

impl Options {
    /// Reads `[--secs N] [TARGET ...]`.
    pub(crate) fn parse(args: &[&str]) -> Result<Self> {
        let mut options = Self {
            secs: DEFAULT_SECS,
            targets: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(&arg) = args.next() {
            if arg == "--secs" {
                let value = args
                    .next()
                    .ok_or_else(|| Error::msg("fuzz: `--secs` needs a number of seconds"))?;
                options.secs = value.parse().ok().filter(|secs| *secs > 0).ok_or_else(|| {
                    Error::msg(format!(
                        "fuzz: `--secs {value}`: give a whole number of seconds above 0"
                    ))
                })?;
            } else if arg.starts_with('-') {
                return Err(Error::msg(format!(
                    "fuzz: unknown option `{arg}`; usage: cargo xtask fuzz [--secs N] [TARGET ...]"
                )));
            } else {
                options.targets.push(arg.to_owned());
            }
        }
        Ok(options)
    }
}

/// What one target's run showed, from libFuzzer's output.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    /// Inputs executed.
    runs: Option<u64>,
    /// Coverage points (edges) reached.
    coverage: Option<u64>,
    /// Inputs in the corpus at the end.
    corpus: Option<u64>,
    /// The input that crashed (or hung), if one did.
    crash: Option<String>,
}

impl Stats {
    /// Reads libFuzzer's log: the last status line (`#4096 DONE cov: 523 ft: 1201 corp: 77/2k …`),
    /// `stat::number_of_executed_units`, and `Test unit written to <path>`.
    fn from_log(log: &str) -> Self {
        let mut stats = Self::default();
        for line in log.lines() {
            if let Some(rest) = line.strip_prefix('#')
                && line.contains(" cov: ")
            {
                let mut words = rest.split_whitespace();
                stats.runs = words.next().and_then(|runs| runs.parse().ok());
                stats.coverage = after(line, "cov:");
                stats.corpus = after(line, "corp:");
            } else if let Some(runs) = line.strip_prefix("stat::number_of_executed_units:") {
                stats.runs = runs.trim().parse().ok().or(stats.runs);
            } else if let Some((_, path)) = line.split_once("Test unit written to ") {
                stats.crash = Some(path.trim().to_owned());
            }
        }
        stats
    }
}

/// The number after `label` in `line` (up to a `/` or a space).
fn after(line: &str, label: &str) -> Option<u64> {
    let (_, rest) = line.split_once(label)?;
    rest.split_whitespace()
        .next()?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// Runs the targets; returns 0 when none crashed, 1 otherwise.
pub(crate) fn run(options: &Options) -> Result<u8> {
    let bin = prepare()?;
    let all = list(&bin)?;
    let targets = if options.targets.is_empty() {
        all
    } else {
        for target in &options.targets {
            if !all.contains(target) {
                return Err(Error::msg(format!(
                    "fuzz: unknown target `{target}`; the targets are: {}",
                    all.join(", ")
                )));
            }
        }
        options.targets.clone()
    };
    cmd::run(&mut fuzz_command(&bin, "build")).context("fuzz: building the targets")?;

    let logs = fuzz_dir_in_target().join("logs");
    fs::create_dir_all(&logs).with_context(|| format!("creating {}", paths::short(&logs)))?;
    let mut failed = Vec::new();
    println!(
        "{:<20} {:>12} {:>9} {:>8}  result",
        "target", "runs", "coverage", "corpus"
    );
    for target in &targets {
        let log = logs.join(format!("{target}.log"));
        let (stats, status) = run_target(&bin, target, options.secs, &log)?;
        let result = match (&stats.crash, status.success()) {
            (_, true) => "ok".to_owned(),
            (Some(input), false) => format!("CRASH: {input}"),
            (None, false) => format!(
                "FAILED ({}); see {}",
                cmd::describe(status),
                paths::short(&log)
            ),
        };
        let number = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        println!(
            "{target:<20} {:>12} {:>9} {:>8}  {result}",
            number(stats.runs),
            number(stats.coverage),
            number(stats.corpus)
        );
        if !status.success() {
            failed.push((target, stats.crash));
        }
        if interrupt::interrupted() {
            eprintln!("fuzz: interrupted");
            return Ok(130);
        }
    }
    for (target, crash) in &failed {
        eprintln!(
            "fuzz: `{target}` failed; its log: {}",
            paths::short(&logs.join(format!("{target}.log")))
        );
        if let Some(input) = crash {
            eprintln!(
                "  reproduce: RUSTC_BOOTSTRAP=1 {} fuzz run --fuzz-dir fuzz --sanitizer none \
                 --debug-assertions --target-dir {} {target} {input}\n  then add the input as a regression test \
                 beside the parser and fix it",
                bin.display(),
                paths::short(&build_dir())
            );
        }
    }
    Ok(u8::from(!failed.is_empty()))
}

/// Runs `target` for `secs` seconds, its output into `log`.
fn run_target(
    bin: &Path,
    target: &str,
    secs: u64,
    log: &Path,
) -> Result<(Stats, std::process::ExitStatus)> {
    let corpus = fuzz_dir_in_target().join("corpus").join(target);
    fs::create_dir_all(&corpus).with_context(|| format!("creating {}", paths::short(&corpus)))?;
    let seeds = paths::workspace_root()
        .join("fuzz")
        .join("seeds")
        .join(target);
    let file = fs::File::create(log).with_context(|| format!("creating {}", paths::short(log)))?;
    let file_err = file
        .try_clone()
        .with_context(|| format!("opening {}", paths::short(log)))?;
    let mut command = fuzz_command(bin, "run");
    command.arg(target).arg(&corpus);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        .stdout(file)
        .stderr(file_err);
    eprintln!("fuzz: {target} for {secs}s (log: {})", paths::short(log));
    let status = cmd::status(&mut command)?;
    let text = fs::read_to_string(log).with_context(|| format!("reading {}", paths::short(log)))?;
    Ok((Stats::from_log(&text), status))
}

/// The target names, as `cargo fuzz list` gives them.
fn list(bin: &Path) -> Result<Vec<String>> {
    let out = cmd::output(&mut fuzz_command(bin, "list"))?;
    let targets: Vec<String> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if targets.is_empty() {
        return Err(Error::msg(
            "fuzz: `cargo fuzz list` names no target in fuzz/",
        ));
    }
    Ok(targets)
}

/// `cargo fuzz <sub>` for the workspace's `fuzz/` crate, on any toolchain: optimised, with
/// overflow checks and debug assertions, without a sanitizer, building into
/// `target/fuzz/build`. (`list` takes none of those options.)
fn fuzz_command(bin: &Path, sub: &str) -> Command {
    let mut command = Command::new(bin);
    command
        .args(["fuzz", sub, "--fuzz-dir"])
        .arg(paths::workspace_root().join("fuzz"))
        .current_dir(paths::workspace_root())
        // cargo-fuzz passes `-Z` flags; this lets the stable toolchain take them.
        .env("RUSTC_BOOTSTRAP", "1");
    if sub != "list" {
        command
            .args(["--sanitizer", "none", "--debug-assertions", "--target-dir"])
            .arg(build_dir());
    }
    command
}

/// `target/fuzz`: the grown corpora and the logs.
fn fuzz_dir_in_target() -> PathBuf {
    paths::workspace_root().join("target").join("fuzz")
}

/// Where the fuzz targets are built.
fn build_dir() -> PathBuf {
    fuzz_dir_in_target().join("build")
}

/// The cargo-fuzz binary from the per-machine cache, installed there first if missing.
fn prepare() -> Result<PathBuf> {
    Tool {
        name: "cargo-fuzz",
        version: VERSION,
        features: &[],
        label: "fuzz",
        build_time: "~2 min",
        instead: "see cargo's output above",
    }
    .cached()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seconds_and_targets() {
        assert_eq!(
            Options::parse(&[]).unwrap(),
            Options {
                secs: DEFAULT_SECS,
                targets: vec![]
            }
        );
        assert_eq!(
            Options::parse(&["--secs", "30", "timespan", "template"]).unwrap(),
            Options {
                secs: 30,
                targets: vec!["timespan".to_owned(), "template".to_owned()]
            }
        );
        for bad in [
            &["--secs"][..],
            &["--secs", "0"],
            &["--secs", "x"],
            &["--jobs"],
        ] {
            let err = Options::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("fuzz: "), "{err:#}");
        }
    }

    #[test]
    fn reads_libfuzzer_output() {
        let log = "\
INFO: Seed: 1
#2\tINITED cov: 40 ft: 41 corp: 1/1b exec/s: 0 rss: 30Mb
#65536\tpulse  cov: 310 ft: 900 corp: 88/2101b lim: 652 exec/s: 21845 rss: 60Mb
#131072\tDONE   cov: 312 ft: 905 corp: 90/2200b lim: 1000 exec/s: 43690 rss: 61Mb
Done 131072 runs in 3 second(s)
stat::number_of_executed_units: 131073
stat::peak_rss_mb:              61
";
        assert_eq!(
            Stats::from_log(log),
            Stats {
                runs: Some(131_073),
                coverage: Some(312),
                corpus: Some(90),
                crash: None
            }
        );
        let crash = "#5\tNEW cov: 3 ft: 3 corp: 2/2b\nthread '<unnamed>' panicked\n\
                     artifact_prefix='fuzz/artifacts/t/'; Test unit written to fuzz/artifacts/t/crash-ab12\n";
        assert_eq!(
            Stats::from_log(crash).crash.as_deref(),
            Some("fuzz/artifacts/t/crash-ab12")
        );
    }
}
