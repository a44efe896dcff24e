//! Running commands in the foreground: echo them, wait for them, say clearly which one failed.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, ExitStatus, Stdio};

use crate::util::interrupt;
use crate::util::paths;
use anyhow::{Error, Result};

/// A `cargo` command run from the workspace root, using the `cargo` that runs `xtask`.
pub(crate) fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(paths::workspace_root());
    cmd
}

/// The command as a shell-like line (for messages; quotes arguments that need it).
pub(crate) fn display(cmd: &Command) -> String {
    let mut line = quote(cmd.get_program());
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Run `cmd` with inherited stdio and return how it ended (a non-zero exit is not an error
/// here). Errors only when it cannot be started or `xtask` was interrupted before it started.
pub(crate) fn status(cmd: &mut Command) -> Result<ExitStatus> {
    spawn_and_wait(cmd, None)
}

/// [`status`], also handing each line of the command's stdout to `observe` (the lines are still
/// printed as they come).
pub(crate) fn status_observed(
    cmd: &mut Command,
    observe: &mut dyn FnMut(&str),
) -> Result<ExitStatus> {
    spawn_and_wait(cmd.stdout(Stdio::piped()), Some(observe))
}

fn spawn_and_wait(cmd: &mut Command, observe: Option<&mut dyn FnMut(&str)>) -> Result<ExitStatus> {
    if interrupt::interrupted() {
        return Err(Error::msg(format!(
            "interrupted: not starting `{}`",
            display(cmd)
        )));
    }
    eprintln!("$ {}", display(cmd));
    let mut child = cmd
        .spawn()
        .map_err(|err| Error::msg(format!("cannot start `{}`: {err:#}", display(cmd))))?;
    interrupt::set_child(Some(child.id()));
    if let (Some(observe), Some(stdout)) = (observe, child.stdout.take()) {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            println!("{line}");
            observe(&line);
        }
    }
    let waited = child.wait();
    interrupt::set_child(None);
    waited.map_err(|err| Error::msg(format!("waiting for `{}`: {err:#}", display(cmd))))
}

/// Run `cmd` and fail unless it exits with 0.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let status = status(cmd)?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "`{}` failed ({})",
            display(cmd),
            describe(status)
        )))
    }
}

/// Run `cmd` quietly (stdin closed, output captured) and return its stdout; fails unless it
/// exits with 0, showing what it printed. For short helper commands (`openssl`, `tansu user`).
pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|err| Error::msg(format!("cannot start `{}`: {err:#}", display(cmd))))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    let printed = [
        stdout.trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end(),
    ]
    .iter()
    .filter(|text| !text.is_empty())
    .map(|text| format!("    {}", text.replace('\n', "\n    ")))
    .collect::<Vec<_>>()
    .join("\n");
    Err(Error::msg(format!(
        "`{}` failed ({}):\n{printed}",
        display(cmd),
        describe(out.status),
    )))
}

/// "exit code 101" / "killed by signal 9".
pub(crate) fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// The exit code to pass on for `status`: its own code, or 128 + signal like a shell.
pub(crate) fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let mut cmd = Command::new("cargo");
        cmd.args(["test", "--features", "a b", "it's", ""]);
        assert_eq!(display(&cmd), r"cargo test --features 'a b' 'it'\''s' ''");
    }
}
