//! System programs the services need (`stunnel`, `openssl`): found on `PATH`, else installed
//! from the Debian package that provides them with `apt-get`, saying so. Never skipped
//! silently: when neither works, the error says what to install.

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::util::cmd;
use anyhow::{Error, Result};

/// A program and the Debian package that provides it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Program {
    /// Who needs it, for messages (`kafka-tls`).
    pub(crate) user: &'static str,
    /// The names it may have on `PATH`, preferred first (`stunnel4`, `stunnel`).
    pub(crate) names: &'static [&'static str],
    /// The Debian package (`stunnel4`).
    pub(crate) package: &'static str,
    /// A variable naming the program to use instead (`BINDINGS_STUNNEL_BIN`).
    pub(crate) override_var: &'static str,
}

impl Program {
    /// The program's path: the override variable, else `PATH`, else install the package.
    pub(crate) fn find_or_install(self) -> Result<PathBuf> {
        if let Some(bin) = env::var_os(self.override_var).filter(|bin| !bin.is_empty()) {
            let bin = PathBuf::from(bin);
            return if bin.is_file() {
                Ok(bin)
            } else {
                Err(Error::msg(format!(
                    "{}: {}={} is not a file",
                    self.user,
                    self.override_var,
                    bin.display()
                )))
            };
        }
        if let Some(bin) = self.on_path() {
            return Ok(bin);
        }
        eprintln!(
            "{}: none of {} is on PATH; installing the Debian package `{}`",
            self.user,
            self.names.join(", "),
            self.package
        );
        let installed = install(self.package);
        match (installed, self.on_path()) {
            (Ok(()), Some(bin)) => Ok(bin),
            (Ok(()), None) => Err(Error::msg(format!(
                "{}: installed `{}` but found none of {} on PATH",
                self.user,
                self.package,
                self.names.join(", ")
            ))),
            (Err(err), _) => Err(Error::msg(format!(
                "{}: {} is required and could not be installed: {err:#}\n  \
                 Install it yourself (Debian/Ubuntu: `apt-get install {}`) or set {} to the program",
                self.user, self.names[0], self.package, self.override_var
            ))),
        }
    }

    /// The program's path without installing anything: the override variable, else `PATH`.
    pub(crate) fn find(self) -> Option<PathBuf> {
        match std::env::var_os(self.override_var).filter(|bin| !bin.is_empty()) {
            Some(bin) => Some(PathBuf::from(bin)),
            None => self.on_path(),
        }
    }

    fn on_path(self) -> Option<PathBuf> {
        self.names.iter().find_map(|name| which(name))
    }
}

/// The first executable file called `name` in `PATH`.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// `apt-get install -y <package>`, with `apt-get update` first when the package lists do not
/// know it yet; through `sudo -n` when not root.
fn install(package: &str) -> Result<()> {
    if which("apt-get").is_none() {
        return Err(Error::msg("there is no apt-get on this machine"));
    }
    let root = is_root();
    if !root && which("sudo").is_none() {
        return Err(Error::msg(
            "installing packages needs root, and there is no sudo",
        ));
    }
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null());
        cmd
    };
    let first = cmd::run(&mut apt(&[
        "install",
        "-y",
        "--no-install-recommends",
        package,
    ]));
    if first.is_ok() {
        return Ok(());
    }
    eprintln!("apt-get install failed; updating the package lists and trying again");
    cmd::run(&mut apt(&["update"]))?;
    cmd::run(&mut apt(&[
        "install",
        "-y",
        "--no-install-recommends",
        package,
    ]))
}

/// Whether `xtask` runs as root (`id -u` is 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}
