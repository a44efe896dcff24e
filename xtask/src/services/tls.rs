//! Throwaway TLS material for the TLS services, made with the `openssl` CLI under
//! `target/services/tls/`: a CA, a server certificate for `IP:127.0.0.1`, and a client
//! certificate whose private key is encrypted with a random password.
//!
//! Made by the first `services up` that needs it, shared by every TLS service, and removed by
//! `services down` once no TLS service is left, so the next `up` makes fresh material.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::apt::Program;
use crate::util::cmd;
use crate::util::paths;
use crate::util::random;
use anyhow::{Context as _, Error, Result};

/// The `openssl` command-line tool.
pub(crate) const OPENSSL: Program = Program {
    user: "tls",
    names: &["openssl"],
    package: "openssl",
    override_var: "BINDINGS_OPENSSL_BIN",
};

/// How long the certificates are valid.
const DAYS: &str = "30";
/// Material that expires within this many seconds is made anew.
const MIN_LEFT_SECS: &str = "86400";

/// Where the material lives; every path is absolute.
#[derive(Debug, Clone)]
pub(crate) struct Material {
    /// `target/services/tls`.
    pub(crate) dir: PathBuf,
    /// The CA certificate (PEM): what clients trust.
    pub(crate) ca: PathBuf,
    /// The server certificate (PEM), `subjectAltName=IP:127.0.0.1`, signed by the CA.
    pub(crate) server_cert: PathBuf,
    /// The server's private key (PEM, not encrypted: stunnel reads it unattended).
    pub(crate) server_key: PathBuf,
    /// The client certificate (PEM), signed by the CA.
    pub(crate) client_cert: PathBuf,
    /// The client's private key (PKCS#8 PEM, encrypted with [`Self::client_key_password`]).
    pub(crate) client_key: PathBuf,
    /// A file holding the client key's password (for `openssl -pass file:`).
    pub(crate) client_key_password_file: PathBuf,
}

impl Material {
    /// The fixed locations under `target/services/tls`.
    pub(crate) fn at_default() -> Self {
        Self::in_dir(paths::services_dir().join("tls"))
    }

    fn in_dir(dir: PathBuf) -> Self {
        Self {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            client_key_password_file: dir.join("client.key.password"),
            dir,
        }
    }

    /// The client key's password.
    pub(crate) fn client_key_password(&self) -> Result<String> {
        let path = &self.client_key_password_file;
        fs::read_to_string(path)
            .map(|text| text.trim().to_owned())
            .with_context(|| format!("reading {}", path.display()))
    }

    fn files(&self) -> [&Path; 6] {
        [
            &self.ca,
            &self.server_cert,
            &self.server_key,
            &self.client_cert,
            &self.client_key,
            &self.client_key_password_file,
        ]
    }
}

/// The material, made now unless complete and valid for at least another day.
pub(crate) fn ensure() -> Result<Material> {
    let openssl = OPENSSL.find_or_install()?;
    let material = Material::at_default();
    if usable(&openssl, &material) {
        return Ok(material);
    }
    let began = std::time::Instant::now();
    let building = Material::in_dir(
        paths::services_dir().join(format!("tls.building-{}", std::process::id())),
    );
    let _ = fs::remove_dir_all(&building.dir);
    generate(&openssl, &building)
        .map_err(|err| Error::msg(format!("tls: making the test certificates: {err:#}")))?;
    let _ = fs::remove_dir_all(&material.dir);
    fs::rename(&building.dir, &material.dir).with_context(|| {
        format!(
            "moving {} to {}",
            building.dir.display(),
            material.dir.display()
        )
    })?;
    eprintln!(
        "tls: made a throwaway CA, server and client certificates in {} ({})",
        paths::short(&material.dir),
        crate::util::timing::human(began.elapsed())
    );
    Ok(material)
}

/// Forget the material (the next [`ensure`] makes new).
pub(crate) fn remove() {
    let _ = fs::remove_dir_all(Material::at_default().dir);
}

/// Whether every file is there and the certificates stay valid for a while.
fn usable(openssl: &Path, material: &Material) -> bool {
    material.files().iter().all(|file| file.is_file())
        && [&material.ca, &material.server_cert, &material.client_cert]
            .iter()
            .all(|cert| {
                cmd::output(
                    Command::new(openssl)
                        .args(["x509", "-noout", "-checkend", MIN_LEFT_SECS, "-in"])
                        .arg(cert),
                )
                .is_ok()
            })
}

/// Make the CA, the server and the client certificates in `material.dir`.
fn generate(openssl: &Path, material: &Material) -> Result<()> {
    let dir = &material.dir;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca_key = dir.join("ca.key");
    let openssl = || {
        let mut cmd = Command::new(openssl);
        cmd.current_dir(dir);
        cmd
    };

    // The CA: self-signed, allowed to sign certificates.
    cmd::output(
        openssl()
            .args(["req", "-x509", "-new", "-nodes", "-days", DAYS])
            .args(ec_key())
            .arg("-keyout")
            .arg(&ca_key)
            .arg("-out")
            .arg(&material.ca)
            .args(["-subj", "/CN=bindings test CA"])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
    )?;

    // The server: an unencrypted key, a certificate for the address clients dial.
    let server_csr = dir.join("server.csr");
    cmd::output(
        openssl()
            .args(["req", "-new", "-nodes"])
            .args(ec_key())
            .arg("-keyout")
            .arg(&material.server_key)
            .arg("-out")
            .arg(&server_csr)
            .args(["-subj", "/CN=127.0.0.1"]),
    )?;
    sign(
        &mut openssl(),
        &server_csr,
        &ca_key,
        material,
        &material.server_cert,
        "2",
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    )?;

    // The client: a key encrypted with a password (PKCS#8, AES-256), and its certificate.
    let password = random::hex(16)?;
    let password_file = &material.client_key_password_file;
    fs::write(password_file, format!("{password}\n"))
        .with_context(|| format!("writing {}", password_file.display()))?;
    let pass = format!("file:{}", password_file.display());
    cmd::output(
        openssl()
            .args(["genpkey", "-algorithm", "EC"])
            .args(["-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc"])
            .args(["-pass", &pass])
            .arg("-out")
            .arg(&material.client_key),
    )?;
    let client_csr = dir.join("client.csr");
    cmd::output(
        openssl()
            .args(["req", "-new", "-key"])
            .arg(&material.client_key)
            .args(["-passin", &pass])
            .arg("-out")
            .arg(&client_csr)
            .args(["-subj", "/CN=bindings test client"]),
    )?;
    sign(
        &mut openssl(),
        &client_csr,
        &ca_key,
        material,
        &material.client_cert,
        "3",
        "extendedKeyUsage=clientAuth\n",
    )?;

    for scratch in [server_csr, client_csr] {
        let _ = fs::remove_file(scratch);
    }
    Ok(())
}

/// `-newkey` arguments for a P-256 key (fast to make, accepted by OpenSSL 3 and librdkafka).
fn ec_key() -> [&'static str; 4] {
    ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
}

/// Sign `csr` with the CA into `cert`, as a leaf with the extensions `extensions` (lines of an
/// OpenSSL extension file).
fn sign(
    openssl: &mut Command,
    csr: &Path,
    ca_key: &Path,
    material: &Material,
    cert: &Path,
    serial: &str,
    extensions: &str,
) -> Result<()> {
    let ext_file = cert.with_extension("ext");
    let text =
        format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n{extensions}");
    fs::write(&ext_file, text).with_context(|| format!("writing {}", ext_file.display()))?;
    let signed = cmd::output(
        openssl
            .args(["x509", "-req", "-days", DAYS, "-set_serial", serial, "-in"])
            .arg(csr)
            .arg("-CA")
            .arg(&material.ca)
            .arg("-CAkey")
            .arg(ca_key)
            .arg("-extfile")
            .arg(&ext_file)
            .arg("-out")
            .arg(cert),
    );
    let _ = fs::remove_file(&ext_file);
    signed.map(drop)
}
