//! `cargo xtask chaos`: the fault matrix (`tests/chaos.rs`) with many messages per scenario, one
//! scenario at a time; prints the matrix and, when every scenario passed, writes it into
//! `RELIABILITY.md` between [`BEGIN`] and [`END`].

use std::fs;
use std::path::Path;
use std::time::Instant;

use crate::services::state::State;
use crate::services::{self, Guard, Service};
use crate::util::cmd;
use crate::util::interrupt;
use crate::util::paths;
use crate::util::timing;
use anyhow::{Error, Result};

/// Messages per scenario when `--messages` is not given.
pub(crate) const DEFAULT_MESSAGES: u64 = 1000;
/// The test reads its number of messages here.
const MESSAGES_VAR: &str = "BINDINGS_CHAOS_MESSAGES";
/// The test writes each scenario's row into this directory.
const REPORT_VAR: &str = "BINDINGS_CHAOS_REPORT";
/// Marks the start of the generated matrix in `RELIABILITY.md`.
const BEGIN: &str = "<!-- chaos:begin (written by `cargo xtask chaos`) -->";
/// Marks its end.
const END: &str = "<!-- chaos:end -->";

/// Runs the matrix with `messages` per scenario; returns the tests' exit code.
pub(crate) fn run(messages: u64) -> Result<u8> {
    let mut guard = Guard::default();
    services::up(&[Service::Azurite, Service::Kafka], &mut guard.started)?;
    let state = State::load()?;
    let report = paths::workspace_root().join("target").join("chaos");
    let _ = fs::remove_dir_all(&report);

    let began = Instant::now();
    // The host processes of the matrix are the `queue_to_kafka` example. `--workspace` as in
    // `cargo xtask test`, so both share their build.
    let mut build = cmd::cargo();
    build.args([
        "build",
        "--workspace",
        "--all-features",
        "--example",
        "queue_to_kafka",
    ]);
    let status = cmd::run(&mut build).and_then(|()| {
        let mut test = cmd::cargo();
        test.args([
            "test",
            "--workspace",
            "--all-features",
            "--test",
            "chaos",
            "--",
        ])
        .arg("--test-threads=1")
        .env(MESSAGES_VAR, messages.to_string())
        .env(REPORT_VAR, &report)
        .envs(state.vars());
        cmd::status(&mut test)
    });
    let elapsed = began.elapsed();
    let stopped = guard.down();
    let status = status?;
    stopped?;
    if interrupt::interrupted() {
        eprintln!("chaos: interrupted");
        return Ok(130);
    }

    let rows = rows(&report)?;
    let matrix = matrix(&rows);
    println!("\n{matrix}");
    println!(
        "chaos: {} scenarios in {}",
        rows.len(),
        timing::human(elapsed)
    );
    if !status.success() {
        eprintln!(
            "chaos: a scenario failed ({}); RELIABILITY.md is left as it was",
            cmd::describe(status)
        );
        return Ok(cmd::exit_code(status));
    }
    let section = format!(
        "Last full run: `cargo xtask chaos --messages {messages}` on {}, {}; {} for all \
         scenarios.\n\n{matrix}",
        today()?,
        machine()?,
        timing::human(elapsed)
    );
    let file = paths::workspace_root().join("RELIABILITY.md");
    write_between_markers(&file, &section)?;
    println!("chaos: wrote the matrix into {}", paths::short(&file));
    Ok(0)
}

/// The rows the scenarios wrote, in matrix order (their file names start with the order).
fn rows(dir: &Path) -> Result<Vec<Vec<String>>> {
    let mut files: Vec<_> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "tsv"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
        .iter()
        .map(|file| {
            let text = fs::read_to_string(file)
                .map_err(|err| Error::msg(format!("reading {}: {err:#}", file.display())))?;
            Ok(text.trim_end().split('\t').map(str::to_owned).collect())
        })
        .collect()
}

/// The matrix as a Markdown table.
fn matrix(rows: &[Vec<String>]) -> String {
    let mut out = String::from(
        "| scenario | fault | sent | delivered (distinct) | duplicates | poisoned | lost | seconds |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        out.push_str("| ");
        out.push_str(&row.join(" | "));
        out.push_str(" |\n");
    }
    out
}

/// Today's date (UTC), from `date`.
fn today() -> Result<String> {
    let mut date = std::process::Command::new("date");
    date.args(["-u", "+%Y-%m-%d"]);
    Ok(cmd::output(&mut date)?.trim().to_owned())
}

/// The machine in a few words: CPU model, cores, kernel.
fn machine() -> Result<String> {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mut uname = std::process::Command::new("uname");
    uname.arg("-sr");
    let kernel = cmd::output(&mut uname)?.trim().to_owned();
    Ok(format!("{cpu}, {cores} cores, {kernel}"))
}

/// Replaces what lies between [`BEGIN`] and [`END`] in `file` with `section`.
fn write_between_markers(file: &Path, section: &str) -> Result<()> {
    let text = fs::read_to_string(file)
        .map_err(|err| Error::msg(format!("reading {}: {err:#}", file.display())))?;
    let updated = replace_between(&text, section).ok_or_else(|| {
        Error::msg(format!(
            "{} has no `{BEGIN}` ... `{END}` markers; add them under \"## Fault matrix\"",
            file.display()
        ))
    })?;
    fs::write(file, updated)
        .map_err(|err| Error::msg(format!("writing {}: {err:#}", file.display())))
}

/// `text` with the part between the markers replaced; `None` without both markers in order.
fn replace_between(text: &str, section: &str) -> Option<String> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = start + text[start..].find(END)?;
    Some(format!("{}\n{section}{}", &text[..start], &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_between_the_markers() {
        let text = format!("# R\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n");
        let updated = replace_between(&text, "new table\n").unwrap();
        assert_eq!(
            updated,
            format!("# R\n\nbefore\n{BEGIN}\nnew table\n{END}\nafter\n")
        );
        assert_eq!(replace_between("no markers", "x"), None);
    }

    #[test]
    fn the_matrix_has_one_line_per_row() {
        let rows = vec![vec!["a".to_owned(), "b".to_owned()]];
        let table = matrix(&rows);
        assert!(table.ends_with("| a | b |\n"), "{table}");
        assert_eq!(table.lines().count(), 3);
    }
}
