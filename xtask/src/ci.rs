//! `cargo xtask ci`: what CI checks, in order, stopping at the first failure.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::test;
use crate::util::cmd;
use crate::util::timing;
use anyhow::Result;

/// One check.
enum Step {
    /// A cargo command.
    Cargo(
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    ),
    /// `cargo xtask test`.
    Test,
}

/// `cargo check` of the facade's library with no default features.
const FACADE_WITHOUT_FEATURES: [&str; 5] =
    ["check", "-p", "bindings", "--lib", "--no-default-features"];

/// [`FACADE_WITHOUT_FEATURES`] with one feature on.
const fn facade_with(feature: &'static str) -> [&'static str; 7] {
    let [check, p, bindings, lib, none] = FACADE_WITHOUT_FEATURES;
    [check, p, bindings, lib, none, "--features", feature]
}

/// The steps, named as they are reported.
const STEPS: [(&str, Step); 10] = [
    ("fmt", Step::Cargo(&["fmt", "--all", "--", "--check"], &[])),
    // The fuzz targets are outside the workspace (cargo-fuzz builds them with its own flags).
    (
        "fmt fuzz",
        Step::Cargo(
            &["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"],
            &[],
        ),
    ),
    (
        "clippy",
        Step::Cargo(
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        ),
    ),
    // The facade with each feature alone and with none (the provider crates are the same builds
    // as for clippy, so these are quick).
    ("features none", Step::Cargo(&FACADE_WITHOUT_FEATURES, &[])),
    ("features queue", Step::Cargo(&facade_with("queue"), &[])),
    ("features kafka", Step::Cargo(&facade_with("kafka"), &[])),
    ("features http", Step::Cargo(&facade_with("http"), &[])),
    ("features otel", Step::Cargo(&facade_with("otel"), &[])),
    (
        "doc",
        Step::Cargo(
            &["doc", "--workspace", "--no-deps", "--all-features"],
            &[("RUSTDOCFLAGS", "-Dwarnings")],
        ),
    ),
    ("test", Step::Test),
];

/// Run every step (all but `test` when `with_tests` is false); the exit code is the first failing
/// step's (0 when all pass).
pub(crate) fn run(with_tests: bool) -> Result<u8> {
    let mut done: Vec<(&str, Duration)> = Vec::new();
    for (name, step) in &STEPS {
        if !with_tests && matches!(step, Step::Test) {
            continue;
        }
        println!("ci: step `{name}`");
        let began = Instant::now();
        let code = match step {
            Step::Cargo(args, envs) => {
                let mut command: Command = cmd::cargo();
                command.args(*args).envs(envs.iter().copied());
                let status = cmd::status(&mut command)?;
                if status.success() {
                    0
                } else {
                    cmd::exit_code(status)
                }
            }
            Step::Test => test::run(&[])?,
        };
        let took = began.elapsed();
        done.push((name, took));
        if code != 0 {
            summary(&done);
            eprintln!(
                "ci: step `{name}` failed after {} (exit code {code})",
                timing::human(took)
            );
            return Ok(code);
        }
        println!("ci: step `{name}` passed in {}", timing::human(took));
    }
    summary(&done);
    println!("ci: all steps passed");
    Ok(0)
}

fn summary(done: &[(&str, Duration)]) {
    for (name, took) in done {
        println!("  {name:<14} {}", timing::human(*took));
    }
}
