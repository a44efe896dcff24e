//! Shared helpers for the integration tests: the test services' addresses and unique names.
//!
//! The services come from `cargo xtask services up` (or `cargo xtask test`), which records their
//! variables in `target/services/services.env`. A variable is read from the environment first,
//! then from that file.
//!
//! A missing or unreachable service fails the test, with a message saying how to start it.
//! Outside CI, `BINDINGS_SKIP_SERVICE_TESTS=1` turns that into a skip (the test prints
//! `skipped: ...` and returns); under `CI=true` that variable is ignored and it always fails.

// Each test file uses the helpers it needs.
#![allow(dead_code)]

pub(crate) mod counting;
pub(crate) mod kafka;
pub(crate) mod process;
pub(crate) mod services;

use std::collections::HashMap;
use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Outside CI, `1` (or `true`) turns a missing service into a skipped test.
pub(crate) const SKIP_VAR: &str = "BINDINGS_SKIP_SERVICE_TESTS";

/// How long the reachability check waits for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What to do about a missing service.
const HOW_TO_START: &str = "run `cargo xtask services up` (or `cargo xtask test`)";

/// `<workspace>/target/services/services.env`, written by `cargo xtask services up`.
pub(crate) fn state_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("services")
        .join("services.env")
}

/// The variables of the state file (empty if there is none), read once.
fn state_vars() -> &'static HashMap<String, String> {
    static VARS: OnceLock<HashMap<String, String>> = OnceLock::new();
    VARS.get_or_init(|| {
        let Ok(text) = std::fs::read_to_string(state_file()) else {
            return HashMap::new();
        };
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.trim().to_owned(), value.to_owned()))
            .collect()
    })
}

/// The value of `var` from the environment, else from the state file; `None` if neither has
/// it (or it is empty).
pub(crate) fn service(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .or_else(|| state_vars().get(var).cloned())
        .filter(|value| !value.is_empty())
}

/// The value of `var` for a test that needs the service behind it, checked to be reachable
/// (every `host:port` it names accepts a TCP connection).
///
/// A missing or unreachable service panics with how to start it, except outside CI with
/// `BINDINGS_SKIP_SERVICE_TESTS=1`, where this prints `skipped: ...` and returns `None`:
///
/// ```ignore
/// let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else { return };
/// ```
#[track_caller]
pub(crate) fn require(var: &str) -> Option<String> {
    match check(var) {
        Ok(value) => Some(value),
        Err(problem) if skip_allowed() => {
            eprintln!("skipped: {problem} ({SKIP_VAR}=1)");
            None
        }
        Err(problem) => panic!("{problem}"),
    }
}

/// Whether missing services may skip tests: `BINDINGS_SKIP_SERVICE_TESTS=1`, and not in CI.
pub(crate) fn skip_allowed() -> bool {
    !flag("CI") && flag(SKIP_VAR)
}

/// Whether the environment variable `var` is set to something truthy.
fn flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|value| {
        let value = value.trim();
        !(value.is_empty() || value == "0" || value.eq_ignore_ascii_case("false"))
    })
}

/// The value of `var` if it is set and every address in it is reachable; else what is wrong.
fn check(var: &str) -> Result<String, String> {
    let Some(value) = service(var) else {
        return Err(format!(
            "service not running: {var} is not set; {HOW_TO_START}"
        ));
    };
    let from = if std::env::var(var).is_ok_and(|env| !env.is_empty()) {
        "from the environment".to_owned()
    } else {
        format!("from {}", state_file().display())
    };
    for addr in addresses(&value) {
        if let Err(err) = connect(&addr) {
            return Err(format!(
                "service not reachable: {var} ({from}) names {addr}, which refuses connections \
                 ({err}); {HOW_TO_START}"
            ));
        }
    }
    Ok(value)
}

fn connect(addr: &str) -> std::io::Result<()> {
    let mut last = std::io::Error::other("no address");
    for socket in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&socket, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// The `host:port` addresses a service variable names: a URL's authority, a connection
/// string's `...Endpoint=` URLs, or a comma-separated `host:port` list. Anything else (a path,
/// say) names none.
fn addresses(value: &str) -> Vec<String> {
    if value.contains(';') {
        return value
            .split(';')
            .filter_map(|part| part.split_once('='))
            .filter(|(key, _)| key.trim().to_ascii_lowercase().ends_with("endpoint"))
            .flat_map(|(_, url)| addresses(url))
            .collect();
    }
    value
        .split(',')
        .filter_map(|item| authority(item.trim()))
        .collect()
}

fn authority(item: &str) -> Option<String> {
    let Some((scheme, rest)) = item.split_once("://") else {
        return has_port(item).then(|| item.to_owned());
    };
    let host_port = rest.split(['/', '?']).next()?.rsplit('@').next()?;
    if has_port(host_port) {
        return Some(host_port.to_owned());
    }
    match scheme {
        "http" => Some(format!("{host_port}:80")),
        "https" => Some(format!("{host_port}:443")),
        _ => None,
    }
}

fn has_port(item: &str) -> bool {
    item.rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

/// `connection` (a storage connection string) with its `AccountKey` replaced by `key`.
pub(crate) fn with_account_key(connection: &str, key: &str) -> String {
    connection
        .split(';')
        .map(|part| {
            if part.starts_with("AccountKey=") {
                format!("AccountKey={key}")
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A name no other test (in this run or a concurrent one) uses: `prefix-pid-counter-time`.
/// Lower-case letters, digits and `-` only, so it is a valid queue and topic name when
/// `prefix` is (keep it short: queue names have at most 63 characters).
pub(crate) fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    // The low 40 bits of the clock: ~18 minutes of nanoseconds, plenty next to pid + counter.
    format!(
        "{prefix}-{}-{n}-{:x}",
        std::process::id(),
        nanos & 0xff_ffff_ffff
    )
}

/// A Python interpreter with `packages` (pinned `name==version` requirements) installed, for
/// cross-checks with clients nobody here wrote (Microsoft's `azure-storage-queue`, say).
///
/// The virtual environment is made once under `target/python/<hash of the packages>` with
/// `python3 -m venv` and `pip install` from the Python package index; concurrent test binaries each build in a
/// private directory and the first to finish moves it into place. Fails the test, with pip's
/// output, if it cannot be made.
pub(crate) fn python_with(packages: &[&str]) -> PathBuf {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    packages.hash(&mut hasher);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("python");
    let venv = root.join(format!("{:016x}", hasher.finish()));
    let python = venv.join("bin").join("python");
    if python.is_file() {
        return python;
    }
    std::fs::create_dir_all(&root).expect("target/python can be created");
    let building = root.join(format!("building-{}", unique("venv")));
    let run = |program: &Path, args: &[&str]| {
        let output = std::process::Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()));
        assert!(
            output.status.success(),
            "`{} {}` failed:\n{}{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(
        Path::new("python3"),
        &["-m", "venv", building.to_str().expect("a UTF-8 path")],
    );
    let mut args = vec![
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ];
    args.extend_from_slice(packages);
    run(&building.join("bin").join("python"), &args);
    // Another binary may have won the race; then its environment is used and this one removed.
    if std::fs::rename(&building, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    assert!(python.is_file(), "no interpreter at {}", python.display());
    python
}

/// Microsoft's Python SDK for Queue storage, pinned.
pub(crate) const AZURE_STORAGE_QUEUE: &str = "azure-storage-queue==12.18.1";

/// Sends or reads messages with Microsoft's Python SDK (`azure-storage-queue`), base64 policies on
/// (`TextBase64EncodePolicy` / `TextBase64DecodePolicy`; the SDK's own default is no encoding).
/// Arguments: connection string, queue, then `send` and the texts, or `receive` (prints each text).
const PYTHON_QUEUE_CLIENT: &str = r#"
import sys
from azure.storage.queue import QueueClient, TextBase64EncodePolicy, TextBase64DecodePolicy
connection, queue, mode, *texts = sys.argv[1:]
if mode == "send":
    client = QueueClient.from_connection_string(connection, queue, message_encode_policy=TextBase64EncodePolicy())
    for text in texts:
        client.send_message(text)
else:
    client = QueueClient.from_connection_string(connection, queue, message_decode_policy=TextBase64DecodePolicy())
    for message in client.receive_messages(messages_per_page=32, visibility_timeout=5):
        print(message.content)
"#;

/// Runs [`PYTHON_QUEUE_CLIENT`] with `args` in a venv holding [`AZURE_STORAGE_QUEUE`]; its stdout.
/// Fails the test, with the client's stderr, if it fails.
pub(crate) async fn python_queue_client(args: Vec<String>) -> String {
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python_with(&[AZURE_STORAGE_QUEUE]))
            .arg("-c")
            .arg(PYTHON_QUEUE_CLIENT)
            .args(args)
            .output()
    })
    .await
    .expect("the python client's thread")
    .expect("python runs");
    assert!(
        output.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the client prints UTF-8")
}

/// Everything this test binary logs, through one global `tracing` subscriber (a per-test
/// subscriber misses events whose callsites other test threads registered first). Tests find
/// their own lines by a unique name (a queue, topic or function).
pub(crate) fn logs() -> &'static std::sync::Mutex<Vec<u8>> {
    logs_up_to(tracing_subscriber::filter::LevelFilter::INFO)
}

/// [`logs`], capturing every level up to `level` (`TRACE`: everything, as the secrets test
/// wants). The first call in a test binary sets the level.
pub(crate) fn logs_up_to(
    level: tracing_subscriber::filter::LevelFilter,
) -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: OnceLock<&'static std::sync::Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer: &'static std::sync::Mutex<Vec<u8>> = Box::leak(Box::default());
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(level)
            .with_writer(move || Captured(buffer))
            .init();
        buffer
    })
}

/// The captured log text so far.
pub(crate) fn log_text() -> String {
    String::from_utf8_lossy(
        &logs()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned()
}

struct Captured(&'static std::sync::Mutex<Vec<u8>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Waits (on tokio's clock, so a paused clock moves) until `done` holds, checking every 50 ms;
/// fails the test, saying it waited for `what`, after `limit`.
pub(crate) async fn until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    until_async(limit, what, || std::future::ready(done())).await;
}

/// [`until`] for a condition that is checked asynchronously (a request to a service, say).
pub(crate) async fn until_async<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `address` (`host:port`) accepts TCP connections; fails the test, naming `what`
/// listens there, after `limit`.
pub(crate) async fn listening(address: &str, what: &str, limit: Duration) {
    until_async(limit, &format!("{what} listening on {address}"), || async {
        tokio::net::TcpStream::connect(address).await.is_ok()
    })
    .await;
}

/// A loopback address nothing listens on yet (`127.0.0.1:<free port>`).
pub(crate) fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").to_string()
}

/// Milliseconds since 1970, now (Kafka's timestamp unit).
pub(crate) fn now_millis() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("in range")
}
