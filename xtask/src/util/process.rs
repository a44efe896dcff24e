//! Background service processes: start them so they outlive `xtask`, check them, stop them.
//!
//! Services run in their own process group (so a terminal's Ctrl-C aimed at a later command
//! does not reach them, and stopping the group also stops any helper processes they spawn),
//! with stdin closed and stdout + stderr appended to their log file.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::cmd;
use crate::util::paths;
use anyhow::{Context as _, Result};

/// How long a service gets to exit after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// What [`spawn`] does with an existing log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Log {
    /// Start it afresh.
    Fresh,
    /// Append (a second run of the same service, e.g. after a set-up run).
    Append,
}

/// Start `cmd` in the background, its output going to `log` (headed by the command line), in
/// its own process group, with `dir` as working directory.
pub(crate) fn spawn(cmd: &mut Command, log: &Path, mode: Log, dir: &Path) -> Result<Child> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = match mode {
        Log::Fresh => File::create(log),
        Log::Append => OpenOptions::new().create(true).append(true).open(log),
    }
    .with_context(|| format!("opening {}", log.display()))?;
    writeln!(out, "$ {}", cmd::display(cmd))
        .with_context(|| format!("writing {}", log.display()))?;
    let err = out
        .try_clone()
        .with_context(|| format!("opening {} twice", log.display()))?;
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    cmd.spawn()
        .with_context(|| format!("cannot start `{}`", cmd::display(cmd)))
}

/// Whether `pid` is a live (not zombie) process that is still the service listening on `port`.
///
/// With `/proc`, the process's command line must mention the port (so a recycled pid is not
/// mistaken for the service); without it, `kill -0` decides.
pub(crate) fn is_service(pid: u32, port: u16) -> bool {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if !Path::new("/proc/self").exists() {
        return Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    }
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // `pid (comm) S ...`: the state letter follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z' | 'X') | None) {
        return false;
    }
    let Ok(cmdline) = fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let port = port.to_string();
    let suffix = format!(":{port}");
    cmdline
        .split(|&byte| byte == 0)
        .map(String::from_utf8_lossy)
        .any(|arg| arg == port || arg.ends_with(&suffix))
}

/// How a stop went.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// The process was not running (any more).
    NotRunning,
    /// It exited after SIGTERM.
    Terminated,
    /// It needed SIGKILL.
    Killed,
}

/// Stop the service `pid` (listening on `port`) and its process group: SIGTERM, up to
/// [`TERM_GRACE`], then SIGKILL.
pub(crate) fn stop(pid: u32, port: u16) -> Stopped {
    if !is_service(pid, port) {
        return Stopped::NotRunning;
    }
    signal_group(pid, "TERM");
    if wait_gone(pid, port, TERM_GRACE) {
        return Stopped::Terminated;
    }
    signal_group(pid, "KILL");
    wait_gone(pid, port, Duration::from_secs(2));
    Stopped::Killed
}

/// `kill -SIG -- -pid`, falling back to the pid alone if it leads no group.
fn signal_group(pid: u32, signal: &str) {
    let sig = format!("-{signal}");
    let group = Command::new("kill")
        .args([sig.as_str(), "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !group {
        let _ = Command::new("kill")
            .args([sig.as_str(), &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

fn wait_gone(pid: u32, port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if !is_service(pid, port) {
            return true;
        }
        thread::sleep(Duration::from_millis(100));
    }
    !is_service(pid, port)
}

/// The last `lines` lines of `log`, indented for an error message.
pub(crate) fn log_tail(log: &Path, lines: usize) -> String {
    let Ok(text) = fs::read_to_string(log) else {
        return format!("    (cannot read {})", log.display());
    };
    let all: Vec<&str> = text.lines().collect();
    let tail = &all[all.len().saturating_sub(lines)..];
    if tail.is_empty() {
        return "    (the log is empty)".to_owned();
    }
    tail.iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Append `line` to a service's log (notes from `xtask` itself, e.g. why it was stopped).
pub(crate) fn note(log: &Path, line: &str) {
    if let Ok(mut file) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(file, "# xtask: {line}");
    }
}

/// `target/services/<name>.log`.
pub(crate) fn log_path(name: &str) -> std::path::PathBuf {
    paths::services_dir().join(format!("{name}.log"))
}

/// `target/services/<name>-<role>.log`: the log of a process behind a service's first one
/// (`kafka-tls-broker.log`).
pub(crate) fn behind_log_path(name: &str, role: &str) -> std::path::PathBuf {
    log_path(&format!("{name}-{role}"))
}
