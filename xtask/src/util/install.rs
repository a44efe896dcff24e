//! Tools built from crates.io once per machine into the cache outside the repository
//! (`<cache>/<crate>-<version>/bin/`), with `cargo install --locked`.

use std::fs;
use std::path::PathBuf;

use crate::util::cmd;
use crate::util::interrupt;
use crate::util::paths;
use anyhow::{Error, Result};

/// A pinned crate whose binary a command needs.
pub(crate) struct Tool<'a> {
    /// The crate (and its binary's name).
    pub(crate) name: &'a str,
    /// The pinned version.
    pub(crate) version: &'a str,
    /// Cargo features to build it with.
    pub(crate) features: &'a [&'a str],
    /// The prefix of messages (`kafka`, `fuzz`).
    pub(crate) label: &'a str,
    /// How long the first build takes, for the message shown while it runs.
    pub(crate) build_time: &'a str,
    /// What else to do when it cannot be built (another binary to use, say).
    pub(crate) instead: &'a str,
}

impl Tool<'_> {
    /// The tool's binary from the cache, built there first if missing. The build directory is
    /// kept until the build succeeds, so an interrupted build resumes.
    pub(crate) fn cached(&self) -> Result<PathBuf> {
        let Self {
            name,
            version,
            label,
            ..
        } = self;
        let root = paths::cache_dir()?.join(format!("{name}-{version}"));
        let bin = root.join("bin").join(name);
        if bin.is_file() {
            return Ok(bin);
        }
        let target = root.join("build");
        fs::create_dir_all(&root)
            .map_err(|err| Error::msg(format!("creating {}: {err:#}", root.display())))?;
        eprintln!(
            "{label}: building {name} {version} into {} (first time on this machine, {})",
            root.display(),
            self.build_time
        );
        let mut install = cmd::cargo();
        install
            .args(["install", name, "--version", version, "--locked"])
            .arg("--root")
            .arg(&root)
            .arg("--target-dir")
            .arg(&target)
            // Outside the workspace, so its `.cargo/config.toml` does not apply.
            .current_dir(&root);
        if !self.features.is_empty() {
            install.args(["--features", &self.features.join(",")]);
        }
        cmd::run(&mut install).map_err(|err| {
            if interrupt::interrupted() {
                Error::msg(format!(
                    "{label}: building {name} was interrupted; the next run resumes it from {}",
                    target.display()
                ))
            } else {
                Error::msg(format!(
                    "{label}: building {name} failed: {err:#}\n  (needs crates.io; {})",
                    self.instead
                ))
            }
        })?;
        // The build directory is large and no longer needed.
        let _ = fs::remove_dir_all(&target);
        if bin.is_file() {
            Ok(bin)
        } else {
            Err(Error::msg(format!(
                "{label}: `cargo install {name}` succeeded but {} is missing",
                bin.display()
            )))
        }
    }
}
