//! Brokers that require SASL SCRAM, and the `kafka-scram` service (one such broker in plain TCP).
//!
//! Tansu keeps SCRAM users in its storage, so these brokers use an sqlite file
//! (`target/services/<name>.db`, made anew at each start). Users are created through the
//! broker, which must not require authentication for that: a set-up run without
//! `--authentication` creates them, stops, and the broker is started again with it.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;

use crate::services::launch::{self, Failure, Launched, Spec};
use crate::services::state::Entry;
use crate::services::tansu::{self, Broker, Mechanism, Storage};
use crate::util::net;
use crate::util::paths;
use crate::util::process::{self, Log};
use crate::util::random;
use anyhow::Result;

/// A SCRAM user made for the tests, with a random password.
#[derive(Clone)]
pub(crate) struct User {
    /// The user name.
    pub(crate) name: &'static str,
    /// The password (test-only, fresh per start).
    pub(crate) password: String,
    /// The mechanism its credentials are stored for.
    pub(crate) mechanism: Mechanism,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"***")
            .field("mechanism", &self.mechanism)
            .finish()
    }
}

impl User {
    /// `name` with a fresh random password.
    pub(crate) fn new(name: &'static str, mechanism: Mechanism) -> Result<Self> {
        Ok(Self {
            name,
            password: random::hex(16)?,
            mechanism,
        })
    }
}

/// `target/services/<name>.db`: the storage (sqlite) of the service `name`'s broker.
fn db_path(name: &str) -> std::path::PathBuf {
    paths::services_dir().join(format!("{name}.db"))
}

/// Remove the storage of the service `name` (the database and its `-wal`/`-shm` files).
pub(crate) fn remove_db(name: &str) {
    let db = db_path(name);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = db.clone().into_os_string();
        file.push(suffix);
        let _ = fs::remove_file(file);
    }
}

/// Start a broker for the service `name` listening on `port` and advertising
/// `advertised_port`, that requires SCRAM and knows `users` (and only them), logging to `log`.
pub(crate) fn start_broker(
    program: &Path,
    name: &str,
    log: &Path,
    (port, advertised_port): (u16, u16),
    users: &[User],
) -> Result<Launched, Failure> {
    remove_db(name);
    let mut broker = Broker {
        port,
        advertised_port,
        storage: Storage::Sqlite(db_path(name)),
        authentication: false,
    };
    let addr = net::loopback(port);
    let setup = launch::launch(
        &mut broker.command(program),
        &Spec {
            name,
            label: "Tansu (set-up run without authentication, to create the SCRAM users)",
            log: (log, Log::Fresh),
            addr,
            probe: &tansu::probe,
            ready_timeout: tansu::READY_TIMEOUT,
        },
    )?;
    for user in users {
        if let Err(err) =
            tansu::create_user(program, addr, user.name, &user.password, user.mechanism)
        {
            setup.stop();
            return Err(Failure::Failed(err.context(name.to_owned())));
        }
    }
    let created: Vec<String> = users
        .iter()
        .map(|user| format!("{} ({})", user.name, user.mechanism.kafka_name()))
        .collect();
    process::note(
        log,
        &format!(
            "created the users {}; restarting with --authentication",
            created.join(", ")
        ),
    );
    setup.stop();
    broker.authentication = true;
    launch::launch(
        &mut broker.command(program),
        &Spec {
            name,
            label: "Tansu (Kafka broker, SASL SCRAM required)",
            log: (log, Log::Append),
            addr,
            probe: &tansu::probe,
            ready_timeout: tansu::READY_TIMEOUT,
        },
    )
}

/// Start `kafka-scram`: a broker on a free port requiring SCRAM, with one SCRAM-SHA-256 and
/// one SCRAM-SHA-512 user.
pub(crate) fn start(name: &str) -> Result<Entry> {
    let program = tansu::prepare()?;
    let users = [
        User::new("bindings-scram256", Mechanism::Sha256)?,
        User::new("bindings-scram512", Mechanism::Sha512)?,
    ];
    let log = process::log_path(name);
    let broker = launch::on_free_ports(name, 1, |ports| {
        start_broker(&program, name, &log, (ports[0], ports[0]), &users)
    })?;
    Ok(Entry {
        name: name.to_owned(),
        pid: broker.pid,
        addr: broker.addr,
        behind: Vec::new(),
        vars: vars(broker.addr, &users),
    })
}

/// `BINDINGS_KAFKA_SCRAM_BROKERS` and, per user, `BINDINGS_KAFKA_SCRAM{256,512}_{USER,PASSWORD}`.
fn vars(addr: SocketAddr, users: &[User]) -> Vec<(String, String)> {
    let mut vars = vec![("BINDINGS_KAFKA_SCRAM_BROKERS".to_owned(), addr.to_string())];
    for user in users {
        let prefix = match user.mechanism {
            Mechanism::Sha256 => "BINDINGS_KAFKA_SCRAM256",
            Mechanism::Sha512 => "BINDINGS_KAFKA_SCRAM512",
        };
        vars.push((format!("{prefix}_USER"), user.name.to_owned()));
        vars.push((format!("{prefix}_PASSWORD"), user.password.clone()));
    }
    vars
}
