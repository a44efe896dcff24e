//! Azurite, Microsoft's Azure Storage emulator (queue service only), installed with npm from
//! the versions pinned in `xtask/package.json` + `package-lock.json`.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::services::launch::{self, Spec};
use crate::services::state::Entry;
use crate::util::cmd;
use crate::util::net;
use crate::util::paths;
use crate::util::process::{self, Log};
use anyhow::{Error, Result};

/// The emulator's fixed account.
pub(crate) const ACCOUNT: &str = "devstoreaccount1";
/// The emulator's well-known (public) account key.
pub(crate) const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// How long Azurite may take to answer after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// `xtask/node_modules/.bin/azurite-queue`.
fn program() -> PathBuf {
    paths::xtask_dir()
        .join("node_modules")
        .join(".bin")
        .join("azurite-queue")
}

/// Install Azurite if needed and start it on a free port, as the service `name`.
pub(crate) fn start(name: &str) -> Result<Entry> {
    let program = prepare()?;
    let log = process::log_path(name);
    let launched = launch::on_free_ports(name, 1, |ports| {
        launch::launch(
            &mut command(&program, ports[0]),
            &Spec {
                name,
                label: "Azurite (Azure Queue storage emulator)",
                log: (&log, Log::Fresh),
                addr: net::loopback(ports[0]),
                probe: &probe,
                ready_timeout: READY_TIMEOUT,
            },
        )
    })?;
    Ok(Entry {
        name: name.to_owned(),
        pid: launched.pid,
        addr: launched.addr,
        behind: Vec::new(),
        vars: vars(&program, launched.addr),
    })
}

/// Make sure Azurite is installed (`npm ci` in `xtask/` when it is not) and return its program.
fn prepare() -> Result<PathBuf> {
    let program = program();
    if program.exists() {
        return Ok(program);
    }
    eprintln!(
        "azurite: installing the pinned Azurite with `npm ci` in {} (~30 s)",
        paths::xtask_dir().display()
    );
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(paths::xtask_dir());
    cmd::run(&mut npm).map_err(|err| {
        Error::msg(format!(
            "azurite: installing with npm failed: {err:#}\n  \
             (needs Node.js and npm on PATH, e.g. `apt-get install nodejs npm`, and the npm registry)"
        ))
    })?;
    if program.exists() {
        Ok(program)
    } else {
        Err(Error::msg(format!(
            "azurite: `npm ci` succeeded but {} is missing; check xtask/package.json",
            program.display()
        )))
    }
}

/// The command that runs Azurite's queue service on `port`, in memory.
fn command(program: &Path, port: u16) -> Command {
    let mut cmd = Command::new(program);
    cmd.args([
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--silent",
        "--skipApiVersionCheck",
        "--queueHost",
        "127.0.0.1",
        "--queuePort",
        &port.to_string(),
    ]);
    cmd
}

/// Whether Azurite answers HTTP at `addr` (any status: an unsigned request gets 403).
pub(crate) fn probe(addr: SocketAddr) -> bool {
    let Some(mut stream) = net::connect(addr) else {
        return false;
    };
    let request =
        format!("GET /{ACCOUNT}?comp=list HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0_u8; 8];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// The variable naming the Azurite program, for tests that run an Azurite of their own (the
/// fault matrix restarts one).
pub(crate) const BIN_VAR: &str = "BINDINGS_AZURITE_BIN";

/// The variables the tests read.
fn vars(program: &Path, addr: SocketAddr) -> Vec<(String, String)> {
    let endpoint = format!("http://{addr}/{ACCOUNT}");
    vec![
        (
            "BINDINGS_AZURITE_CONNECTION_STRING".to_owned(),
            format!(
                "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};QueueEndpoint={endpoint};"
            ),
        ),
        ("BINDINGS_AZURITE_QUEUE_ENDPOINT".to_owned(), endpoint),
        (BIN_VAR.to_owned(), program.display().to_string()),
    ]
}
