//! Starting one background process of a service and waiting until it answers, on free ports
//! picked now (retried when another process takes a port first).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::interrupt;
use crate::util::net;
use crate::util::paths;
use crate::util::process::{self, Log};
use crate::util::timing;
use anyhow::{Error, Result};

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(100);
/// Fresh ports tried when one picked is taken before the service binds it.
const PORT_ATTEMPTS: usize = 3;

/// What to start and how to tell it is ready.
pub(crate) struct Spec<'a> {
    /// The service's name, for messages (`kafka-tls`).
    pub(crate) name: &'a str,
    /// What the process is, for messages (`Tansu (Kafka broker)`).
    pub(crate) label: &'a str,
    /// Its log file, and whether to start it afresh.
    pub(crate) log: (&'a Path, Log),
    /// Where it will answer.
    pub(crate) addr: SocketAddr,
    /// Whether it answers (polled until it does).
    pub(crate) probe: &'a dyn Fn(SocketAddr) -> bool,
    /// How long it may take.
    pub(crate) ready_timeout: Duration,
}

impl std::fmt::Debug for Spec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// A process started in the background, answering on `addr`.
#[derive(Debug)]
pub(crate) struct Launched {
    /// Its pid (it leads its own process group).
    pub(crate) pid: u32,
    /// Where it answers.
    pub(crate) addr: SocketAddr,
    child: Child,
}

impl Launched {
    /// Stop it (SIGTERM, then SIGKILL) and reap it.
    pub(crate) fn stop(mut self) -> process::Stopped {
        let stopped = process::stop(self.pid, self.addr.port());
        let _ = self.child.try_wait();
        stopped
    }
}

/// Why a start failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A port was taken by someone else meanwhile: worth another try on other ports.
    PortTaken(Error),
    /// Anything else.
    Failed(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Self::Failed(err)
    }
}

/// Spawn `cmd` as described by `spec` and wait until it answers; on failure it is stopped and
/// the error quotes the end of its log.
pub(crate) fn launch(cmd: &mut Command, spec: &Spec<'_>) -> Result<Launched, Failure> {
    let Spec {
        name,
        label,
        log: (log, mode),
        addr,
        probe,
        ready_timeout,
    } = *spec;
    eprintln!("{name}: starting {label} on {addr}");
    let mut child = process::spawn(cmd, log, mode, &paths::services_dir())
        .map_err(|err| Error::msg(format!("{name}: {err:#}")))?;
    let pid = child.id();
    let deadline = Instant::now() + ready_timeout;
    let failure = loop {
        if probe(addr) {
            return Ok(Launched { pid, addr, child });
        }
        if let Ok(Some(status)) = child.try_wait() {
            break format!(
                "exited ({}) before it was ready",
                crate::util::cmd::describe(status)
            );
        }
        if interrupt::interrupted() {
            break "interrupted while waiting for it to be ready".to_owned();
        }
        if Instant::now() >= deadline {
            break format!(
                "did not answer on {addr} within {}",
                timing::human(ready_timeout)
            );
        }
        thread::sleep(POLL);
    };
    let _ = process::stop(pid, addr.port());
    let _ = child.try_wait();
    let tail = process::log_tail(log, 20);
    let error = Error::msg(format!(
        "{name}: {label} {failure}\n  command: {}\n  log: {}\n  last lines of the log:\n{tail}",
        crate::util::cmd::display(cmd),
        log.display(),
    ));
    let port_taken = tail.contains("EADDRINUSE")
        || tail.contains("Address already in use")
        || tail.contains("AddrInUse");
    Err(if port_taken {
        Failure::PortTaken(error)
    } else {
        Failure::Failed(error)
    })
}

/// Run `start` with `count` distinct free loopback ports, again with fresh ports (up to
/// [`PORT_ATTEMPTS`] times) when it reports one taken.
pub(crate) fn on_free_ports<T>(
    name: &str,
    count: usize,
    mut start: impl FnMut(&[u16]) -> Result<T, Failure>,
) -> Result<T> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ports = net::free_ports(count)?;
        match start(&ports) {
            Ok(started) => return Ok(started),
            Err(Failure::PortTaken(err))
                if attempt < PORT_ATTEMPTS && !interrupt::interrupted() =>
            {
                eprintln!("{name}: a port was taken meanwhile; trying others\n{err:#}");
            }
            Err(Failure::PortTaken(err) | Failure::Failed(err)) => return Err(err),
        }
    }
}
