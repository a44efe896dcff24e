//! Tansu, a Kafka-API broker written in Rust, built once per machine with `cargo install` into
//! the cache outside the repository (or any binary named by `BINDINGS_TANSU_BIN`).

use std::env;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cmd;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::net;
use crate::paths;

/// The pinned Tansu release.
pub(crate) const VERSION: &str = "0.6.0";
/// Overrides the cached build.
pub(crate) const BIN_VAR: &str = "BINDINGS_TANSU_BIN";
/// How long the broker may take to answer after it starts.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Find the Tansu binary: `BINDINGS_TANSU_BIN`, else the cached build, building it if missing.
pub(crate) fn prepare() -> Result<PathBuf> {
    if let Some(bin) = env::var_os(BIN_VAR).filter(|bin| !bin.is_empty()) {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(Error::new(format!(
                "kafka: {BIN_VAR}={} is not a file; unset it to use the cached build",
                bin.display()
            )))
        };
    }
    let root = paths::cache_dir()?.join(format!("tansu-{VERSION}"));
    let bin = root.join("bin").join("tansu");
    if bin.is_file() {
        return Ok(bin);
    }
    build(&root)?;
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error::new(format!(
            "kafka: `cargo install tansu` succeeded but {} is missing",
            bin.display()
        )))
    }
}

/// `cargo install tansu` into `root` (its `bin/tansu`), keeping the build directory until it
/// succeeds so an interrupted build resumes.
fn build(root: &Path) -> Result<()> {
    let target = root.join("build");
    fs::create_dir_all(root)
        .map_err(|err| Error::new(format!("creating {}: {err}", root.display())))?;
    eprintln!(
        "kafka: building Tansu {VERSION} into {} (first time on this machine, ~15 min on 2 cores)",
        root.display()
    );
    let program = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut install = Command::new(program);
    install
        .args(["install", "tansu", "--version", VERSION, "--locked"])
        .args(["--features", "dynostore,libsql"])
        .arg("--root")
        .arg(root)
        .arg("--target-dir")
        .arg(&target)
        // Outside the workspace, so its `.cargo/config.toml` does not apply.
        .current_dir(root);
    cmd::run(&mut install).map_err(|err| {
        if interrupt::interrupted() {
            Error::new(format!(
                "kafka: building Tansu was interrupted; the next `cargo xtask services up` \
                 resumes it from {}",
                target.display()
            ))
        } else {
            Error::new(format!(
                "kafka: building Tansu failed: {err}\n  \
                 (needs crates.io; set {BIN_VAR} to use an existing tansu binary instead)"
            ))
        }
    })?;
    // The build directory is large and no longer needed.
    let _ = fs::remove_dir_all(&target);
    Ok(())
}

/// The command that runs an in-memory broker listening on and advertising `127.0.0.1:<port>`.
pub(crate) fn command(program: &Path, port: u16) -> Command {
    let url = format!("tcp://127.0.0.1:{port}");
    let mut cmd = Command::new(program);
    cmd.arg("broker")
        .args(["--listener-url", &url])
        .args(["--advertised-listener-url", &url])
        .args(["--storage-engine", "memory://tansu/"])
        .arg("--silent")
        // Tansu also reads these from the environment; keep the user's out.
        .env_remove("SCHEMA_REGISTRY")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    cmd
}

/// Whether a Kafka broker answers at `addr`: an `ApiVersions` v0 request gets a response with
/// the same correlation id and no error.
pub(crate) fn probe(addr: SocketAddr) -> bool {
    const CORRELATION_ID: i32 = 0x7874_6b31;
    let Some(mut stream) = net::connect(addr) else {
        return false;
    };
    let client_id = b"xtask";
    let mut body = Vec::new();
    body.extend_from_slice(&18_i16.to_be_bytes()); // api_key: ApiVersions
    body.extend_from_slice(&0_i16.to_be_bytes()); // api_version
    body.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    body.extend_from_slice(&5_i16.to_be_bytes()); // client_id length
    body.extend_from_slice(client_id);
    let mut request = u32::try_from(body.len())
        .expect("a tiny request")
        .to_be_bytes()
        .to_vec();
    request.extend_from_slice(&body);
    if stream.write_all(&request).is_err() {
        return false;
    }
    // size (4) + correlation_id (4) + error_code (2)
    let mut head = [0_u8; 10];
    if stream.read_exact(&mut head).is_err() {
        return false;
    }
    let correlation = i32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    let error_code = i16::from_be_bytes([head[8], head[9]]);
    correlation == CORRELATION_ID && error_code == 0
}

/// The variables the tests read.
pub(crate) fn vars(program: &Path, addr: SocketAddr) -> Vec<(String, String)> {
    vec![
        ("BINDINGS_KAFKA_BROKERS".to_owned(), addr.to_string()),
        (BIN_VAR.to_owned(), program.display().to_string()),
    ]
}
