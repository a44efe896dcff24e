//! Where things live: the workspace, the services' state and logs, the per-machine cache.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::{Error, Result};

/// The workspace root: the parent of the `xtask` crate.
pub(crate) fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask's manifest dir is inside the workspace")
}

/// The `xtask` crate's directory (holds `package.json` and `node_modules/`).
pub(crate) fn xtask_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `<workspace>/target/services`: state file, logs and the services' working directory.
pub(crate) fn services_dir() -> PathBuf {
    workspace_root().join("target").join("services")
}

/// The per-machine cache for tools built outside the repository:
/// `$XDG_CACHE_HOME/bindings`, else `$HOME/.cache/bindings`.
pub(crate) fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = env::var_os("XDG_CACHE_HOME").map(PathBuf::from)
        && dir.is_absolute()
    {
        return Ok(dir.join("bindings"));
    }
    match env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".cache").join("bindings")),
        _ => Err(Error::msg(
            "cannot find a cache directory: neither XDG_CACHE_HOME (absolute) nor HOME is set",
        )),
    }
}

/// `path` relative to the workspace root when it is inside it (for shorter messages).
pub(crate) fn short(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string()
}
