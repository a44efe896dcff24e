//! Project automation for the `bindings` workspace, run as `cargo xtask <command>`.
//!
//! - `services up|down|status`: the real services the integration tests talk to (Azurite for
//!   Azure Queue storage; Tansu for Kafka: plain, with SASL SCRAM, behind TLS (stunnel), and
//!   SASL over TLS), on free loopback ports, recorded in `target/services/services.env` for the
//!   tests (see `tests/support/mod.rs`).
//! - `test`: the workspace's tests with those services up, stopping them afterwards.
//! - `lint`: formatting, clippy and docs, each with warnings as errors.
//! - `bench [--quick]`: the benchmarks (`benches/bindings`, release build) with Azurite and
//!   Tansu up, written to `BENCHMARKS.md` and `docs/benchmarks.svg`.
//! - `ci`: `lint`, then `test`, as CI runs them.
//! - `chaos`: the fault matrix with many messages per scenario; its figures go into
//!   `RELIABILITY.md`.
//! - `fuzz`: the fuzz targets of `fuzz/` (cargo-fuzz), each for a given time.

mod bench;
mod chaos;
mod ci;
mod fuzz;
mod services;
mod test;
mod util;

use std::process::ExitCode;

use crate::services::Service;
use anyhow::{Error, Result};

/// What `cargo xtask help` prints.
const USAGE: &str = "\
Usage: cargo xtask <command>

Commands:
  services up [NAME ...]           Start the test services (default: all) on free loopback ports,
                                   or reuse the running ones, and write their addresses to
                                   target/services/services.env (logs: target/services/<name>.log)
  services down                    Stop the services recorded there and remove the file
  services status                  Show each service's address and pid, and whether it answers
  test [-- <cargo test args>]      services up, `cargo test --workspace --all-features [args]`
                                   with the services' variables set, then stop the services
                                   this run started (also on failure or Ctrl-C)
  bench [--quick] [--report]       services up (azurite, kafka), the benchmarks in a release
                                   build (`cargo bench --bench bindings`), services down; writes
                                   BENCHMARKS.md and docs/benchmarks.svg (--quick: a short run,
                                   under 2 minutes, reported in target/bench/ instead;
                                   --report: only write the report from the last results)
  lint                             cargo fmt --check, clippy -D warnings, doc with -Dwarnings;
                                   stops at the first failing step
  ci                               `lint`, then `test`: what CI runs
  chaos [--messages N]             The fault matrix (tests/chaos.rs) with N messages per scenario
                                   (default 1000; `test` runs it with 40), one scenario at a
                                   time; prints the matrix and, if every scenario passed,
                                   writes it into RELIABILITY.md
  fuzz [--secs N] [TARGET ...]     Run each fuzz target of fuzz/ (default: all) for N seconds
                                   (default 60) with cargo-fuzz (installed into the cache if
                                   missing); prints runs, coverage and corpus per target and
                                   fails on a crash, naming the input that caused it
  help                             Print this text

Services:
  azurite          Azurite's queue service
  kafka            Tansu, plain (alias: tansu)
  kafka-scram      Tansu requiring SASL SCRAM-SHA-256/512 (random passwords, exported)
  kafka-tls        Tansu behind stunnel, mutual TLS (throwaway CA and certificates in
                   target/services/tls; the client key is encrypted)
  kafka-sasl-ssl   Tansu requiring SASL SCRAM-SHA-512, behind stunnel (server TLS)
  The TLS services need stunnel and openssl; when missing they are installed with
  `apt-get install` (Debian packages stunnel4, openssl).

Environment:
  BINDINGS_TANSU_BIN     the Tansu binary to run instead of the cached build
  BINDINGS_STUNNEL_BIN   the stunnel binary to run instead of stunnel4/stunnel on PATH
  BINDINGS_OPENSSL_BIN   the openssl binary to run instead of openssl on PATH
  XDG_CACHE_HOME         where Tansu is built once per machine (default ~/.cache; then
                         bindings/tansu-<version>/bin/tansu)
";

fn main() -> ExitCode {
    util::interrupt::install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Run the command `args` names; returns the process's exit code.
fn dispatch(args: &[String]) -> Result<u8> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["services", "up", names @ ..] => {
            let services = parse_services(names)?;
            services::up(&services, &mut Vec::new())?;
            Ok(0)
        }
        ["services", "down"] => {
            services::down(None)?;
            Ok(0)
        }
        ["services", "status"] => Ok(if services::status()? { 0 } else { 1 }),
        ["test", rest @ ..] => {
            let extra = match rest {
                ["--", extra @ ..] => extra,
                extra => extra,
            };
            let extra: Vec<String> = extra.iter().map(|&arg| arg.to_owned()).collect();
            test::run(&extra)
        }
        ["bench", rest @ ..] => bench::run(bench::parse_args(rest)?),
        ["chaos"] => chaos::run(chaos::DEFAULT_MESSAGES),
        ["chaos", "--messages", n] => match n.parse() {
            Ok(n) if n > 0 => chaos::run(n),
            _ => Err(Error::msg(format!(
                "chaos: `--messages {n}` is not a positive number of messages"
            ))),
        },
        ["ci"] => ci::run(true),
        ["lint"] => ci::run(false),
        ["fuzz", rest @ ..] => fuzz::run(&fuzz::Options::parse(rest)?),
        [] | ["help" | "-h" | "--help"] => {
            print!("{USAGE}");
            Ok(0)
        }
        _ => {
            eprint!("unknown command: `{}`\n\n{USAGE}", words.join(" "));
            Ok(2)
        }
    }
}

/// The services named on the command line (all of them when none is named).
fn parse_services(names: &[&str]) -> Result<Vec<Service>> {
    if names.is_empty() {
        return Ok(Service::ALL.to_vec());
    }
    let mut services = Vec::new();
    for name in names {
        let service = Service::from_arg(name).ok_or_else(|| {
            let names: Vec<&str> = Service::ALL.iter().map(|service| service.name()).collect();
            Error::msg(format!(
                "unknown service `{name}`; choose from: {}",
                names.join(", ")
            ))
        })?;
        if !services.contains(&service) {
            services.push(service);
        }
    }
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_names() {
        assert_eq!(parse_services(&[]).unwrap(), Service::ALL.to_vec());
        assert_eq!(
            parse_services(&["tansu", "kafka"]).unwrap(),
            vec![Service::Kafka]
        );
        assert!(
            parse_services(&["redis"])
                .unwrap_err()
                .to_string()
                .contains("azurite, kafka, kafka-scram, kafka-tls, kafka-sasl-ssl")
        );
        assert_eq!(
            parse_services(&["kafka-sasl-ssl"]).unwrap(),
            vec![Service::KafkaSaslSsl]
        );
    }
}
