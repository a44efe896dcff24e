//! The TLS services: a Tansu broker behind stunnel, two processes per service.
//!
//! The broker listens in plain on port B and advertises port A; stunnel accepts TLS on A and
//! forwards to B. Clients bootstrap from A, and the metadata sends them back to A.
//!
//! - `kafka-tls`: an in-memory broker; mutual TLS (clients need the CA and a client
//!   certificate, whose key is encrypted).
//! - `kafka-sasl-ssl`: a broker requiring SASL SCRAM (see [`crate::services::kafka_scram`]); server TLS
//!   only (clients need the CA; no client certificate).

use std::net::SocketAddr;
use std::path::Path;

use crate::services::kafka_scram::{self, User};
use crate::services::launch::{self, Failure, Launched, Spec};
use crate::services::state::{Entry, Process};
use crate::services::stunnel::{self, ClientAuth, Front, STUNNEL};
use crate::services::tansu::{self, Broker, Mechanism};
use crate::services::tls::{self, Material};
use crate::util::net;
use crate::util::process::{self, Log};
use anyhow::Result;

/// The role of the broker process in the state file.
const BROKER_ROLE: &str = "broker";

/// Which TLS service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// `kafka-tls`: mutual TLS, no SASL.
    MutualTls,
    /// `kafka-sasl-ssl`: SASL SCRAM over server-authenticated TLS.
    SaslSsl,
}

impl Flavour {
    /// Whether stunnel asks clients for a certificate.
    pub(crate) fn client_auth(self) -> ClientAuth {
        match self {
            Self::MutualTls => ClientAuth::Required,
            Self::SaslSsl => ClientAuth::None,
        }
    }
}

/// Start the TLS service `name`: its broker, then stunnel in front of it.
pub(crate) fn start(name: &str, flavour: Flavour) -> Result<Entry> {
    let tansu_bin = tansu::prepare()?;
    let stunnel_bin = STUNNEL.find_or_install()?;
    let material = tls::ensure()?;
    let users = match flavour {
        Flavour::MutualTls => Vec::new(),
        Flavour::SaslSsl => vec![User::new("bindings-sasl-ssl", Mechanism::Sha512)?],
    };
    // stunnel logs to `<name>.log`, the broker to `<name>-broker.log`.
    let broker_log = process::behind_log_path(name, BROKER_ROLE);
    let (front, broker) = launch::on_free_ports(name, 2, |ports| {
        let (accept, connect) = (ports[0], ports[1]);
        let broker = match flavour {
            Flavour::MutualTls => launch::launch(
                &mut Broker {
                    advertised_port: accept,
                    ..Broker::plain(connect)
                }
                .command(&tansu_bin),
                &Spec {
                    name,
                    label: "Tansu (Kafka broker behind stunnel)",
                    log: (&broker_log, Log::Fresh),
                    addr: net::loopback(connect),
                    probe: &tansu::probe,
                    ready_timeout: tansu::READY_TIMEOUT,
                },
            )?,
            Flavour::SaslSsl => {
                kafka_scram::start_broker(&tansu_bin, name, &broker_log, (connect, accept), &users)?
            }
        };
        let front = Front {
            name,
            accept,
            connect,
            material: &material,
            client_auth: flavour.client_auth(),
        };
        match start_stunnel(&stunnel_bin, &front) {
            Ok(front) => Ok((front, broker)),
            Err(failure) => {
                broker.stop();
                Err(failure)
            }
        }
    })?;
    let vars = match flavour {
        Flavour::MutualTls => mutual_tls_vars(front.addr, &material)?,
        Flavour::SaslSsl => sasl_ssl_vars(front.addr, &material, &users[0]),
    };
    Ok(Entry {
        name: name.to_owned(),
        pid: front.pid,
        addr: front.addr,
        behind: vec![Process {
            role: BROKER_ROLE.to_owned(),
            pid: broker.pid,
            addr: broker.addr,
        }],
        vars,
    })
}

fn start_stunnel(program: &Path, front: &Front<'_>) -> Result<Launched, Failure> {
    let client_auth = front.client_auth;
    launch::launch(
        &mut front.command(program)?,
        &Spec {
            name: front.name,
            label: "stunnel (TLS in front of the broker)",
            log: (&process::log_path(front.name), Log::Fresh),
            addr: net::loopback(front.accept),
            probe: &|addr| stunnel::probe(addr, client_auth),
            ready_timeout: stunnel::READY_TIMEOUT,
        },
    )
}

/// Whether the service answers: a TLS handshake through stunnel reaches the broker, and the
/// broker answers on its own port too.
pub(crate) fn answers(entry: &Entry, flavour: Flavour) -> bool {
    stunnel::probe(entry.addr, flavour.client_auth())
        && entry
            .behind
            .iter()
            .all(|process| tansu::probe(process.addr))
}

fn mutual_tls_vars(addr: SocketAddr, material: &Material) -> Result<Vec<(String, String)>> {
    let path = |path: &Path| path.display().to_string();
    Ok(vec![
        ("BINDINGS_KAFKA_TLS_BROKERS".to_owned(), addr.to_string()),
        ("BINDINGS_KAFKA_TLS_CA".to_owned(), path(&material.ca)),
        (
            "BINDINGS_KAFKA_TLS_CLIENT_CERT".to_owned(),
            path(&material.client_cert),
        ),
        (
            "BINDINGS_KAFKA_TLS_CLIENT_KEY".to_owned(),
            path(&material.client_key),
        ),
        (
            "BINDINGS_KAFKA_TLS_CLIENT_KEY_PASSWORD".to_owned(),
            material.client_key_password()?,
        ),
    ])
}

fn sasl_ssl_vars(addr: SocketAddr, material: &Material, user: &User) -> Vec<(String, String)> {
    vec![
        (
            "BINDINGS_KAFKA_SASL_SSL_BROKERS".to_owned(),
            addr.to_string(),
        ),
        (
            "BINDINGS_KAFKA_SASL_SSL_CA".to_owned(),
            material.ca.display().to_string(),
        ),
        (
            "BINDINGS_KAFKA_SASL_SSL_MECHANISM".to_owned(),
            user.mechanism.kafka_name().to_owned(),
        ),
        (
            "BINDINGS_KAFKA_SASL_SSL_USER".to_owned(),
            user.name.to_owned(),
        ),
        (
            "BINDINGS_KAFKA_SASL_SSL_PASSWORD".to_owned(),
            user.password.clone(),
        ),
    ]
}
