//! Service processes of a test's own (an Azurite, a Tansu broker on a free port, with data that
//! survives a restart), for tests that stop and restart a service without disturbing the shared
//! ones.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::process::signal;

/// Upper bound for a service to start listening or to exit.
const WAIT: Duration = Duration::from_secs(60);

/// A free loopback port (free when asked; nothing holds it afterwards).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A service process of the test's own, restarted with the same command; killed when dropped.
pub(crate) struct Service {
    command: Command,
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    what: &'static str,
}

impl Service {
    /// Starts `command` (output to `log`) and waits until it listens on `addr`.
    pub(crate) async fn start(
        mut command: Command,
        log: &Path,
        addr: SocketAddr,
        what: &'static str,
    ) -> Self {
        let child = Self::spawn(&mut command, log, what);
        super::listening(&addr.to_string(), what, WAIT).await;
        Self {
            command,
            child,
            addr,
            log: log.to_owned(),
            what,
        }
    }

    fn spawn(command: &mut Command, log: &Path, what: &str) -> Child {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|err| panic!("opening {}: {err}", log.display()));
        command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("the log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|err| panic!("starting {what}: {err}"))
    }

    /// Stops it: `SIGKILL` if `kill`, else `SIGTERM` (a clean stop); waits for the process to end.
    pub(crate) async fn stop(&mut self, kill: bool) {
        if kill {
            self.child.kill().expect("SIGKILL the service");
        } else {
            signal(self.child.id(), "-TERM");
        }
        let what = format!("{} to exit", self.what);
        let child = &mut self.child;
        super::until_async(WAIT, &what, || {
            std::future::ready(matches!(child.try_wait(), Ok(Some(_))))
        })
        .await;
    }

    /// Starts the same command again (same port, same data) and waits until it listens.
    pub(crate) async fn restart(&mut self) {
        self.child = Self::spawn(&mut self.command, &self.log, self.what);
        super::listening(&self.addr.to_string(), self.what, WAIT).await;
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of this test's own under the target directory.
pub(crate) fn scratch(prefix: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(super::unique(prefix));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A Tansu broker of this test's own, keeping its data in a `SQLite` file so it survives a kill.
pub(crate) async fn tansu(program: &str, dir: &Path) -> (Service, String) {
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let mut command = Command::new(program);
    command
        .arg("broker")
        .args(["--listener-url", &url, "--advertised-listener-url", &url])
        // An absolute path needs four slashes in Tansu 0.6.0's SQLite URL.
        .args([
            "--storage-engine",
            &format!("sqlite:///{}", dir.join("tansu.db").display()),
        ]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let service = Service::start(command, &dir.join("tansu.log"), addr, "Tansu").await;
    (service, format!("127.0.0.1:{port}"))
}

/// The Azurite program (`BINDINGS_AZURITE_BIN`), for an Azurite of the test's own.
pub(crate) fn azurite_program() -> Option<String> {
    const VAR: &str = "BINDINGS_AZURITE_BIN";
    let running = super::service("BINDINGS_AZURITE_CONNECTION_STRING").is_some();
    assert!(
        super::service(VAR).is_some() || !running || super::skip_allowed(),
        "{VAR} is not recorded: the running Azurite was started by an older xtask, and `services up` \
         reuses it as it is; run `cargo xtask services down`, then `cargo xtask services up`"
    );
    super::require(VAR)
}

/// An Azurite queue service of this test's own, keeping its data in `dir` so it survives a
/// restart; its connection string is the shared Azurite's with this one's port.
pub(crate) async fn own_azurite(program: &str, shared: &str, dir: &Path) -> (Service, String) {
    let port = free_port();
    let mut command = Command::new(program);
    command
        .args(["--location", &dir.display().to_string()])
        .args(["--disableTelemetry", "--silent", "--skipApiVersionCheck"])
        .args(["--queueHost", "127.0.0.1", "--queuePort", &port.to_string()]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let service = Service::start(command, &dir.join("azurite.log"), addr, "Azurite").await;
    let endpoint = shared
        .split(';')
        .find_map(|part| part.strip_prefix("QueueEndpoint="))
        .expect("the shared connection string names its QueueEndpoint");
    let authority = endpoint
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("an endpoint URL with an authority");
    let connection = shared.replace(authority, &format!("127.0.0.1:{port}"));
    (service, connection)
}
