//! stunnel, a TLS proxy: Tansu 0.6.0 does not serve TLS itself (its `--cert`/`--key` are not
//! wired up), so stunnel accepts TLS in front of a plain broker. Debian package `stunnel4`,
//! installed with `apt-get` when missing.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::services::tansu;
use crate::services::tls::{self, Material};
use crate::util::apt::Program;
use crate::util::net;
use crate::util::paths;
use anyhow::{Context as _, Result};

/// The stunnel program.
pub(crate) const STUNNEL: Program = Program {
    user: "stunnel",
    names: &["stunnel4", "stunnel"],
    package: "stunnel4",
    override_var: "BINDINGS_STUNNEL_BIN",
};

/// How long stunnel may take to accept TLS after it starts.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether clients must show a certificate signed by the CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// Mutual TLS: `CAfile` + `verifyChain` + `requireCert` (not `verifyPeer`: that pins one
    /// certificate).
    Required,
    /// Server authentication only.
    None,
}

/// One stunnel in front of one broker.
#[derive(Debug)]
pub(crate) struct Front<'a> {
    /// The service's name (names the config file and the section).
    pub(crate) name: &'a str,
    /// TLS is accepted on `127.0.0.1:<accept>`.
    pub(crate) accept: u16,
    /// And forwarded in plain to `127.0.0.1:<connect>`.
    pub(crate) connect: u16,
    /// The certificates.
    pub(crate) material: &'a Material,
    /// Whether clients need a certificate.
    pub(crate) client_auth: ClientAuth,
}

impl Front<'_> {
    /// The config file: `target/services/<name>.stunnel@127.0.0.1:<accept>`. Its name ends in
    /// the accepted address so that `services down` recognises the process by its command line
    /// (see `process::is_service`).
    fn config_path(&self) -> PathBuf {
        paths::services_dir().join(format!("{}.stunnel@127.0.0.1:{}", self.name, self.accept))
    }

    fn config(&self) -> String {
        let material = self.material;
        let mut text = format!(
            "; Written by `cargo xtask services up`.\n\
             foreground = yes\n\
             pid =\n\
             debug = notice\n\
             [{name}]\n\
             accept = 127.0.0.1:{accept}\n\
             connect = 127.0.0.1:{connect}\n\
             cert = {cert}\n\
             key = {key}\n",
            name = self.name,
            accept = self.accept,
            connect = self.connect,
            cert = material.server_cert.display(),
            key = material.server_key.display(),
        );
        if self.client_auth == ClientAuth::Required {
            text.push_str(&format!(
                "CAfile = {}\nverifyChain = yes\nrequireCert = yes\n",
                material.ca.display()
            ));
        }
        text
    }

    /// Write the config file (removing this service's older ones) and return the command that
    /// runs stunnel with it, in the foreground.
    pub(crate) fn command(&self, program: &Path) -> Result<Command> {
        remove_configs(self.name);
        let path = self.config_path();
        fs::write(&path, self.config()).with_context(|| format!("writing {}", path.display()))?;
        let mut cmd = Command::new(program);
        cmd.arg(path);
        Ok(cmd)
    }
}

/// Remove the config files of the service `name`.
pub(crate) fn remove_configs(name: &str) {
    let prefix = format!("{name}.stunnel@");
    if let Ok(dir) = fs::read_dir(paths::services_dir()) {
        for file in dir.flatten() {
            if file.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(file.path());
            }
        }
    }
}

/// Whether a TLS handshake with `addr` succeeds (verifying the server's certificate against
/// the CA and for IP 127.0.0.1, showing the client certificate when `client_auth` asks for it)
/// and the broker behind it answers `ApiVersions` through the tunnel. Uses `openssl s_client`.
pub(crate) fn probe(addr: SocketAddr, client_auth: ClientAuth) -> bool {
    let Some(openssl) = tls::OPENSSL.find() else {
        return false;
    };
    let material = Material::at_default();
    let mut cmd = Command::new(openssl);
    cmd.args(["s_client", "-quiet", "-verify_return_error"])
        .args(["-connect", &addr.to_string()])
        .args(["-verify_ip", &addr.ip().to_string()])
        .arg("-CAfile")
        .arg(&material.ca);
    if client_auth == ClientAuth::Required {
        cmd.arg("-cert")
            .arg(&material.client_cert)
            .arg("-key")
            .arg(&material.client_key)
            .arg("-pass")
            .arg(format!(
                "file:{}",
                material.client_key_password_file.display()
            ));
    }
    let Ok(mut child) = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    // s_client sends what it reads from stdin once the handshake is done, and (with -quiet)
    // keeps going after stdin ends.
    let sent = child
        .stdin
        .take()
        .is_some_and(|mut stdin| stdin.write_all(&tansu::api_versions_request()).is_ok());
    let answered = match child.stdout.take() {
        Some(mut stdout) if sent => {
            let (tx, rx) = mpsc::channel();
            thread::spawn(move || {
                let mut head = [0_u8; tansu::RESPONSE_HEAD];
                let ok = stdout.read_exact(&mut head).is_ok() && tansu::answers(&head);
                let _ = tx.send(ok);
            });
            rx.recv_timeout(net::PROBE_TIMEOUT).unwrap_or(false)
        }
        _ => false,
    };
    let _ = child.kill();
    let _ = child.wait();
    answered
}
