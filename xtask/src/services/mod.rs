//! `cargo xtask services up|down|status`: the test services as a whole.

pub(crate) mod azurite;
pub(crate) mod kafka_scram;
pub(crate) mod kafka_tls;
pub(crate) mod launch;
pub(crate) mod state;
pub(crate) mod stunnel;
pub(crate) mod tansu;
pub(crate) mod tls;

use std::time::Instant;

use crate::util::paths;
use crate::util::process::{self, Stopped};
use crate::util::timing;
use anyhow::Result;
use kafka_tls::Flavour;
use state::{Entry, State};

/// A test service `xtask` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// Azurite's queue service.
    Azurite,
    /// A Tansu Kafka broker: plain TCP, no authentication.
    Kafka,
    /// A Tansu broker requiring SASL SCRAM (SHA-256 and SHA-512 users), plain TCP.
    KafkaScram,
    /// A Tansu broker behind stunnel: mutual TLS.
    KafkaTls,
    /// A Tansu broker requiring SASL SCRAM behind stunnel: SASL over TLS.
    KafkaSaslSsl,
}

impl Service {
    /// Every service, in start order.
    pub(crate) const ALL: [Self; 5] = [
        Self::Azurite,
        Self::Kafka,
        Self::KafkaScram,
        Self::KafkaTls,
        Self::KafkaSaslSsl,
    ];

    /// The name used on the command line, in the state file and for the log.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Azurite => "azurite",
            Self::Kafka => "kafka",
            Self::KafkaScram => "kafka-scram",
            Self::KafkaTls => "kafka-tls",
            Self::KafkaSaslSsl => "kafka-sasl-ssl",
        }
    }

    /// The service named on the command line (`tansu` is an alias of `kafka`).
    pub(crate) fn from_arg(arg: &str) -> Option<Self> {
        match arg {
            "tansu" => Some(Self::Kafka),
            _ => Self::ALL.into_iter().find(|service| service.name() == arg),
        }
    }

    /// Whether it uses the TLS material of [`tls`].
    fn uses_tls(self) -> bool {
        matches!(self, Self::KafkaTls | Self::KafkaSaslSsl)
    }

    /// Install or build what the service needs, start it on free ports and wait until it
    /// answers.
    fn start(self) -> Result<Entry> {
        let name = self.name();
        match self {
            Self::Azurite => azurite::start(name),
            Self::Kafka => tansu::start_plain(name),
            Self::KafkaScram => kafka_scram::start(name),
            Self::KafkaTls => kafka_tls::start(name, Flavour::MutualTls),
            Self::KafkaSaslSsl => kafka_tls::start(name, Flavour::SaslSsl),
        }
    }

    /// Whether the recorded service answers (all its processes, where it has several).
    fn answers(self, entry: &Entry) -> bool {
        match self {
            Self::Azurite => azurite::probe(entry.addr),
            Self::Kafka | Self::KafkaScram => tansu::probe(entry.addr),
            Self::KafkaTls => kafka_tls::answers(entry, Flavour::MutualTls),
            Self::KafkaSaslSsl => kafka_tls::answers(entry, Flavour::SaslSsl),
        }
    }
}

/// Remove the files a stopped (or failed) service `name` leaves behind: its storage, its
/// stunnel config. (Not its logs.)
fn remove_leftovers(name: &str) {
    kafka_scram::remove_db(name);
    stunnel::remove_configs(name);
}

/// Whether every process of the recorded `entry` is still running.
fn running(entry: &Entry) -> bool {
    process::is_service(entry.pid, entry.addr.port())
        && entry
            .behind
            .iter()
            .all(|process| process::is_service(process.pid, process.addr.port()))
}

/// Whether the recorded `entry` is still running and answering.
fn healthy(service: Service, entry: &Entry) -> bool {
    running(entry) && service.answers(entry)
}

/// Stop every process of `entry`: the one clients talk to first, then those behind it; note
/// the outcome in each one's log and print it.
fn stop(entry: &Entry) {
    let how = |stopped: Stopped| match stopped {
        Stopped::NotRunning => "was not running",
        Stopped::Terminated => "stopped",
        Stopped::Killed => "killed (did not stop on SIGTERM)",
    };
    let front = how(process::stop(entry.pid, entry.addr.port()));
    process::note(&process::log_path(&entry.name), front);
    println!("{}: pid {} {front}", entry.name, entry.pid);
    for behind in &entry.behind {
        let outcome = how(process::stop(behind.pid, behind.addr.port()));
        process::note(
            &process::behind_log_path(&entry.name, &behind.role),
            outcome,
        );
        println!(
            "{}: {} pid {} {outcome}",
            entry.name, behind.role, behind.pid
        );
    }
}

/// Start `services` (reusing healthy ones from an earlier `up`), record them in the state file
/// as each becomes ready, and push the ones this call started onto `started`.
pub(crate) fn up(services: &[Service], started: &mut Vec<Service>) -> Result<()> {
    let mut state = State::load()?;
    for &service in services {
        let name = service.name();
        if let Some(entry) = state.get(name) {
            if healthy(service, entry) {
                println!("{name}: reusing pid {} at {}", entry.pid, entry.addr);
                continue;
            }
            let entry = state.remove(name).expect("just found");
            eprintln!(
                "{name}: the recorded pid {} at {} does not answer; starting a new one",
                entry.pid, entry.addr
            );
            stop(&entry);
            state.save()?;
        }
        let began = Instant::now();
        let entry = service.start()?;
        println!(
            "{name}: started pid {} at {} in {}",
            entry.pid,
            entry.addr,
            timing::human(began.elapsed())
        );
        state.insert(entry);
        started.push(service);
        state.save()?;
    }
    print_vars(&state, services);
    Ok(())
}

fn print_vars(state: &State, services: &[Service]) {
    for &service in services {
        if let Some(entry) = state.get(service.name()) {
            for (key, value) in &entry.vars {
                println!("  {key}={value}");
            }
        }
    }
    println!("state file: {}", State::path().display());
}

/// Stop the recorded services named in `names` (all when `None`) and forget them.
pub(crate) fn down(names: Option<&[Service]>) -> Result<()> {
    let mut state = match State::load() {
        Ok(state) => state,
        Err(err) => {
            eprintln!("warning: {err:#}; removing it");
            let _ = std::fs::remove_file(State::path());
            return Ok(());
        }
    };
    let recorded: Vec<Entry> = state.entries().to_vec();
    if recorded.is_empty() && names.is_none() {
        println!("no services recorded; nothing to stop");
    }
    for entry in recorded {
        if let Some(names) = names
            && !names.iter().any(|service| service.name() == entry.name)
        {
            continue;
        }
        stop(&entry);
        state.remove(&entry.name);
        state.save()?;
    }
    // Also what a failed start left behind.
    for service in names.unwrap_or(&Service::ALL) {
        if state.get(service.name()).is_none() {
            remove_leftovers(service.name());
        }
    }
    let tls_in_use = state
        .entries()
        .iter()
        .any(|entry| Service::from_arg(&entry.name).is_some_and(Service::uses_tls));
    if !tls_in_use {
        tls::remove();
    }
    state.save()
}

/// Print each recorded service, its address, pid and whether it answers. Returns whether
/// all of them do.
pub(crate) fn status() -> Result<bool> {
    let state = State::load()?;
    if state.entries().is_empty() {
        println!("no services recorded (run `cargo xtask services up`)");
        return Ok(true);
    }
    let mut all_up = true;
    for entry in state.entries() {
        let service = Service::from_arg(&entry.name);
        let running = running(entry);
        let answers = service.is_some_and(|service| service.answers(entry));
        let verdict = match (running, answers) {
            (true, true) => "up",
            (true, false) => "NOT ANSWERING",
            (false, true) => "answering, but a recorded pid is gone",
            (false, false) => "DOWN (a recorded pid is gone)",
        };
        all_up &= running && answers;
        println!(
            "{:<14} pid {:<7} {:<21} {verdict}",
            entry.name, entry.pid, entry.addr
        );
        for behind in &entry.behind {
            println!(
                "  behind it: {} pid {} at {}",
                behind.role, behind.pid, behind.addr
            );
        }
        for (key, value) in &entry.vars {
            println!("  {key}={value}");
        }
    }
    println!(
        "state file: {}, logs: {}/<name>.log",
        paths::short(&State::path()),
        paths::short(&paths::services_dir())
    );
    Ok(all_up)
}

/// Services started by this `xtask` run; stops them when dropped (on error or interrupt too).
#[derive(Debug, Default)]
pub(crate) struct Guard {
    /// What to stop.
    pub(crate) started: Vec<Service>,
}

impl Guard {
    /// Stop the started services now and report errors.
    pub(crate) fn down(mut self) -> Result<()> {
        let started = std::mem::take(&mut self.started);
        if started.is_empty() {
            println!("services: leaving the reused services running");
            return Ok(());
        }
        down(Some(&started))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.started.is_empty() {
            let started = std::mem::take(&mut self.started);
            if let Err(err) = down(Some(&started)) {
                eprintln!("warning: stopping services: {err:#}");
            }
        }
    }
}
