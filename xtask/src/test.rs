//! `cargo xtask test`: services up, the workspace's tests against them, services down.

use std::time::Instant;

use crate::services::state::State;
use crate::services::{self, Guard, Service};
use crate::util::cmd;
use crate::util::interrupt;
use crate::util::tally::Tally;
use crate::util::timing;
use anyhow::Result;

/// Run the tests with the services up; `extra` goes to `cargo test` as is. Returns the tests'
/// exit code. The services this run started are stopped whatever happens.
pub(crate) fn run(extra: &[String]) -> Result<u8> {
    let mut guard = Guard::default();

    let began = Instant::now();
    services::up(&Service::ALL, &mut guard.started)?;
    println!("services up: {}", timing::human(began.elapsed()));

    let state = State::load()?;
    let mut test = cmd::cargo();
    test.args(["test", "--workspace", "--all-features"])
        .args(extra)
        .envs(state.vars());
    let began = Instant::now();
    let mut tally = Tally::default();
    let status = cmd::status_observed(&mut test, &mut |line| tally.observe(line));
    println!("tests: {}", timing::human(began.elapsed()));

    let began = Instant::now();
    let stopped = guard.down();
    println!("services down: {}", timing::human(began.elapsed()));

    let status = status?;
    stopped?;
    if interrupt::interrupted() {
        eprintln!("test: interrupted");
        return Ok(130);
    }
    if !status.success() {
        eprintln!("test: `cargo test` failed ({})", cmd::describe(status));
    }
    // One closing line for the whole run: cargo's own last line is often a crate with no doctests.
    println!("{}", tally.summary());
    Ok(if status.success() {
        0
    } else {
        cmd::exit_code(status)
    })
}
