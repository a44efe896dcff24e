//! `cargo xtask services up|down|status`: the test services as a whole.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crate::azurite;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::net;
use crate::paths;
use crate::process::{self, Stopped};
use crate::state::{Entry, State};
use crate::tansu;
use crate::timing;

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(100);
/// Fresh ports tried when the one picked is taken before the service binds it.
const PORT_ATTEMPTS: usize = 3;

/// A test service `xtask` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// Azurite's queue service.
    Azurite,
    /// A Tansu Kafka broker.
    Kafka,
}

impl Service {
    /// Every service, in start order.
    pub(crate) const ALL: [Self; 2] = [Self::Azurite, Self::Kafka];

    /// The name used on the command line, in the state file and for the log.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Azurite => "azurite",
            Self::Kafka => "kafka",
        }
    }

    /// The service named on the command line (`tansu` is an alias of `kafka`).
    pub(crate) fn from_arg(arg: &str) -> Option<Self> {
        match arg {
            "azurite" => Some(Self::Azurite),
            "kafka" | "tansu" => Some(Self::Kafka),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Azurite => "Azurite (Azure Queue storage emulator)",
            Self::Kafka => "Tansu (Kafka broker)",
        }
    }

    /// Install or build what the service needs; returns the program to run.
    fn prepare(self) -> Result<PathBuf> {
        match self {
            Self::Azurite => azurite::prepare(),
            Self::Kafka => tansu::prepare(),
        }
    }

    fn command(self, program: &Path, port: u16) -> Command {
        match self {
            Self::Azurite => azurite::command(program, port),
            Self::Kafka => tansu::command(program, port),
        }
    }

    fn probe(self, addr: SocketAddr) -> bool {
        match self {
            Self::Azurite => azurite::probe(addr),
            Self::Kafka => tansu::probe(addr),
        }
    }

    fn ready_timeout(self) -> Duration {
        match self {
            Self::Azurite => azurite::READY_TIMEOUT,
            Self::Kafka => tansu::READY_TIMEOUT,
        }
    }

    fn vars(self, program: &Path, addr: SocketAddr) -> Vec<(String, String)> {
        match self {
            Self::Azurite => azurite::vars(addr),
            Self::Kafka => tansu::vars(program, addr),
        }
    }
}

/// Whether the recorded `entry` is still running and answering.
fn healthy(service: Service, entry: &Entry) -> bool {
    process::is_service(entry.pid, entry.addr.port()) && service.probe(entry.addr)
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
            let _ = process::stop(entry.pid, entry.addr.port());
            state.save()?;
        }
        let began = Instant::now();
        let program = service.prepare()?;
        let entry = start(service, &program)?;
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

/// Spawn `service` on a free port and wait until it answers.
fn start(service: Service, program: &Path) -> Result<Entry> {
    let name = service.name();
    let log = process::log_path(name);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = net::free_port()?;
        let addr = net::loopback(port);
        let mut cmd = service.command(program, port);
        eprintln!("{name}: starting {} on {addr}", service.label());
        let mut child = process::spawn(&mut cmd, &log, &paths::services_dir())
            .map_err(|err| Error::new(format!("{name}: {err}")))?;
        let pid = child.id();
        let deadline = Instant::now() + service.ready_timeout();
        let failure = loop {
            if service.probe(addr) {
                return Ok(Entry {
                    name: name.to_owned(),
                    pid,
                    addr,
                    vars: service.vars(program, addr),
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                break format!(
                    "exited ({}) before it was ready",
                    crate::cmd::describe(status)
                );
            }
            if interrupt::interrupted() {
                break "interrupted while waiting for it to be ready".to_owned();
            }
            if Instant::now() >= deadline {
                break format!(
                    "did not answer on {addr} within {}",
                    timing::human(service.ready_timeout())
                );
            }
            thread::sleep(POLL);
        };
        let _ = process::stop(pid, port);
        let _ = child.try_wait();
        let tail = process::log_tail(&log, 20);
        let port_taken = tail.contains("EADDRINUSE") || tail.contains("Address already in use");
        if port_taken && attempt < PORT_ATTEMPTS && !interrupt::interrupted() {
            eprintln!("{name}: port {port} was taken meanwhile; trying another");
            continue;
        }
        return Err(Error::new(format!(
            "{name}: {} {failure}\n  command: {}\n  log: {}\n  last lines of the log:\n{tail}",
            service.label(),
            crate::cmd::display(&cmd),
            log.display(),
        )));
    }
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
            eprintln!("warning: {err}; removing it");
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
        let outcome = process::stop(entry.pid, entry.addr.port());
        let how = match outcome {
            Stopped::NotRunning => "was not running",
            Stopped::Terminated => "stopped",
            Stopped::Killed => "killed (did not stop on SIGTERM)",
        };
        process::note(&process::log_path(&entry.name), how);
        println!("{}: pid {} {how}", entry.name, entry.pid);
        state.remove(&entry.name);
        state.save()?;
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
        let running = process::is_service(entry.pid, entry.addr.port());
        let answers = service.is_some_and(|service| service.probe(entry.addr));
        let verdict = match (running, answers) {
            (true, true) => "up",
            (true, false) => "NOT ANSWERING",
            (false, true) => "answering, but the recorded pid is gone",
            (false, false) => "DOWN (pid gone)",
        };
        all_up &= running && answers;
        println!(
            "{:<8} pid {:<7} {:<21} {verdict}",
            entry.name, entry.pid, entry.addr
        );
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
                eprintln!("warning: stopping services: {err}");
            }
        }
    }
}
