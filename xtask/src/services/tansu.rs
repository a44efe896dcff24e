//! Tansu, a Kafka-API broker written in Rust, built once per machine with `cargo install` into
//! the cache outside the repository (or any binary named by `BINDINGS_TANSU_BIN`).

use std::env;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::services::launch::{self, Spec};
use crate::services::state::Entry;
use crate::util::cmd;
use crate::util::install::Tool;
use crate::util::net;
use crate::util::process::{self, Log};
use anyhow::{Error, Result};

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
            Err(Error::msg(format!(
                "kafka: {BIN_VAR}={} is not a file; unset it to use the cached build",
                bin.display()
            )))
        };
    }
    Tool {
        name: "tansu",
        version: VERSION,
        features: &["dynostore", "libsql"],
        label: "kafka",
        build_time: "~15 min on 2 cores",
        instead: &format!("set {BIN_VAR} to use an existing tansu binary instead"),
    }
    .cached()
}

/// Where a broker keeps its data.
#[derive(Debug, Clone)]
pub(crate) enum Storage {
    /// In memory (`memory://tansu/`): gone when the broker stops.
    Memory,
    /// A database file (`sqlite://<file>`), which also holds the SCRAM users.
    Sqlite(PathBuf),
}

/// How to run one broker.
#[derive(Debug, Clone)]
pub(crate) struct Broker {
    /// It listens on `127.0.0.1:<port>`.
    pub(crate) port: u16,
    /// It tells clients (in metadata) to connect to `127.0.0.1:<advertised_port>`: its own port,
    /// or that of a TLS proxy in front of it.
    pub(crate) advertised_port: u16,
    /// Where it keeps its data.
    pub(crate) storage: Storage,
    /// Whether clients must authenticate (SASL SCRAM; users come from the storage).
    pub(crate) authentication: bool,
}

impl Broker {
    /// An in-memory broker without authentication, listening on and advertising `port`.
    pub(crate) fn plain(port: u16) -> Self {
        Self {
            port,
            advertised_port: port,
            storage: Storage::Memory,
            authentication: false,
        }
    }

    /// The command that runs this broker.
    pub(crate) fn command(&self, program: &Path) -> Command {
        let storage = match &self.storage {
            Storage::Memory => "memory://tansu/".to_owned(),
            // Tansu 0.6.0 drops the leading `/` of the URL's path and opens the rest relative
            // to its working directory (`sqlite:///tmp/x.db` opens `tmp/x.db`); four slashes
            // keep an absolute path absolute.
            Storage::Sqlite(file) => format!("sqlite:///{}", file.display()),
        };
        let mut cmd = Command::new(program);
        cmd.arg("broker")
            .args(["--listener-url", &format!("tcp://127.0.0.1:{}", self.port)])
            .args([
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.advertised_port),
            ])
            .args(["--storage-engine", &storage]);
        if self.authentication {
            cmd.arg("--authentication");
        }
        cmd.arg("--silent")
            // Tansu also reads these from the environment; keep the user's out.
            .env_remove("SCHEMA_REGISTRY")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("LISTENER_URL")
            .env_remove("ADVERTISED_LISTENER_URL")
            .env_remove("STORAGE_ENGINE")
            .env_remove("CLUSTER_ID");
        cmd
    }
}

/// A SASL SCRAM mechanism Tansu supports (it has no PLAIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl Mechanism {
    /// The name Kafka clients use (`sasl.mechanism`).
    pub(crate) fn kafka_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SCRAM-SHA-256",
            Self::Sha512 => "SCRAM-SHA-512",
        }
    }

    /// The value of `tansu user create --mechanism`.
    fn tansu_name(self) -> &'static str {
        match self {
            Self::Sha256 => "scram256",
            Self::Sha512 => "scram512",
        }
    }
}

/// `tansu user create <name> <password> --mechanism .. --broker tcp://<addr>`: stores the
/// user's SCRAM credentials through the (running, unauthenticated) broker at `addr`.
pub(crate) fn create_user(
    program: &Path,
    addr: SocketAddr,
    name: &str,
    password: &str,
    mechanism: Mechanism,
) -> Result<()> {
    let mut cmd = Command::new(program);
    cmd.args(["user", "create", name, password])
        .args(["--mechanism", mechanism.tansu_name()])
        .args(["--broker", &format!("tcp://{addr}")]);
    cmd::output(&mut cmd)
        .map(drop)
        .map_err(|err| Error::msg(format!("creating the SCRAM user {name}: {err:#}")))
}

/// The `ApiVersions` v0 request [`probe`] sends, framed (size first).
pub(crate) fn api_versions_request() -> Vec<u8> {
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
    request
}

/// How many bytes of the response [`answers`] looks at: size (4), correlation id (4),
/// error code (2).
pub(crate) const RESPONSE_HEAD: usize = 10;

/// Whether `head` starts a successful response to [`api_versions_request`].
pub(crate) fn answers(head: &[u8; RESPONSE_HEAD]) -> bool {
    let correlation = i32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    let error_code = i16::from_be_bytes([head[8], head[9]]);
    correlation == CORRELATION_ID && error_code == 0
}

/// The correlation id of the probe's request.
const CORRELATION_ID: i32 = 0x7874_6b31;

/// Whether a Kafka broker answers at `addr`: an `ApiVersions` v0 request gets a response with
/// the same correlation id and no error. (Brokers answer it before authentication too.)
pub(crate) fn probe(addr: SocketAddr) -> bool {
    let Some(mut stream) = net::connect(addr) else {
        return false;
    };
    if stream.write_all(&api_versions_request()).is_err() {
        return false;
    }
    let mut head = [0_u8; RESPONSE_HEAD];
    stream.read_exact(&mut head).is_ok() && answers(&head)
}

/// Start the plain `kafka` service: an in-memory broker without authentication or TLS.
pub(crate) fn start_plain(name: &str) -> Result<Entry> {
    let program = prepare()?;
    let log = process::log_path(name);
    let launched = launch::on_free_ports(name, 1, |ports| {
        launch::launch(
            &mut Broker::plain(ports[0]).command(&program),
            &Spec {
                name,
                label: "Tansu (Kafka broker)",
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
        vars: vec![
            (
                "BINDINGS_KAFKA_BROKERS".to_owned(),
                launched.addr.to_string(),
            ),
            (BIN_VAR.to_owned(), program.display().to_string()),
        ],
    })
}
