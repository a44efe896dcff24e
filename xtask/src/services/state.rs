//! The state file `target/services/services.env`: what `services up` started, for the tests
//! (which read the variables) and for `services down` / `status` (which read the sections).
//!
//! Format, one item per line:
//! - `KEY=VALUE`: a variable for the tests; the value is everything after the first `=`,
//!   unquoted (connection strings contain `;` and `=`).
//! - `#@service NAME pid=PID addr=HOST:PORT`: opens the section of one service; the variables
//!   that follow belong to it. PID is the process clients talk to (for a TLS service: stunnel).
//! - `#@behind ROLE pid=PID addr=HOST:PORT`: another process of the service in the section,
//!   behind the first one (for a TLS service: the broker stunnel forwards to). `services down`
//!   stops the first process, then these.
//! - other lines starting with `#`, and blank lines: comments.

use std::fmt::Write as _;
use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::util::paths;
use anyhow::{Context as _, Error, Result};

/// Marks the line that opens a service's section.
const SECTION: &str = "#@service ";
/// Marks the line of a process behind the section's first one.
const BEHIND: &str = "#@behind ";

/// A process of a service other than the one clients talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Process {
    /// What it is (`broker`).
    pub(crate) role: String,
    /// The pid that leads its process group.
    pub(crate) pid: u32,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
}

/// One running service as recorded by `services up`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The service's name (`azurite`, `kafka`).
    pub(crate) name: String,
    /// The pid of the process clients talk to; it leads its process group.
    pub(crate) pid: u32,
    /// Where that process listens.
    pub(crate) addr: SocketAddr,
    /// The service's other processes, in start order (empty for most services).
    pub(crate) behind: Vec<Process>,
    /// The variables it provides to the tests, in order.
    pub(crate) vars: Vec<(String, String)>,
}

/// The recorded services, sorted by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct State {
    entries: Vec<Entry>,
}

impl State {
    /// `<workspace>/target/services/services.env`.
    pub(crate) fn path() -> PathBuf {
        paths::services_dir().join("services.env")
    }

    /// Read the state file; an absent file is an empty state.
    pub(crate) fn load() -> Result<Self> {
        let path = Self::path();
        match fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).map_err(|err| {
                Error::msg(format!(
                    "{}: {err:#} (delete the file if it is stale)",
                    path.display()
                ))
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(Error::msg(format!("reading {}: {err:#}", path.display()))),
        }
    }

    /// Write the state file atomically, or remove it when no service is recorded.
    pub(crate) fn save(&self) -> Result<()> {
        let path = Self::path();
        if self.entries.is_empty() {
            return match fs::remove_file(&path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::msg(format!("removing {}: {err:#}", path.display())))
                }
                _ => Ok(()),
            };
        }
        let dir = paths::services_dir();
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = path.with_extension("env.tmp");
        fs::write(&tmp, self.render()).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("renaming {} into place", tmp.display()))
    }

    /// The recorded services.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The service called `name`, if recorded.
    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.name == name)
    }

    /// Record `entry`, replacing an entry of the same name.
    pub(crate) fn insert(&mut self, entry: Entry) {
        self.remove(&entry.name);
        self.entries.push(entry);
        self.entries.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Forget the service called `name`.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Entry> {
        let index = self.entries.iter().position(|entry| entry.name == name)?;
        Some(self.entries.remove(index))
    }

    /// Every variable of every service.
    pub(crate) fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .flat_map(|entry| entry.vars.iter())
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    fn render(&self) -> String {
        let mut text = String::from(
            "# Test services started by `cargo xtask services up`; `cargo xtask services down` stops them.\n\
             # Read by tests/support/mod.rs. KEY=VALUE, value unquoted (everything after the first `=`).\n",
        );
        for entry in &self.entries {
            let _ = writeln!(
                text,
                "{SECTION}{} pid={} addr={}",
                entry.name, entry.pid, entry.addr
            );
            for process in &entry.behind {
                let _ = writeln!(
                    text,
                    "{BEHIND}{} pid={} addr={}",
                    process.role, process.pid, process.addr
                );
            }
            for (key, value) in &entry.vars {
                let _ = writeln!(text, "{key}={value}");
            }
        }
        text
    }

    fn parse(text: &str) -> Result<Self, String> {
        let mut state = Self::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim_end();
            if let Some(section) = line.strip_prefix(SECTION) {
                let entry = parse_section(section)
                    .map_err(|err| format!("line {number}: {err:#}: `{line}`"))?;
                state.entries.push(entry);
            } else if let Some(behind) = line.strip_prefix(BEHIND) {
                let entry = state.entries.last_mut().ok_or_else(|| {
                    format!("line {number}: `{BEHIND}` before any `{SECTION}` line")
                })?;
                let (role, pid, addr) = parse_process(behind)
                    .map_err(|err| format!("line {number}: {err:#}: `{line}`"))?;
                entry.behind.push(Process { role, pid, addr });
            } else if line.is_empty() || line.starts_with('#') {
            } else if let Some((key, value)) = line.split_once('=') {
                let entry = state.entries.last_mut().ok_or_else(|| {
                    format!("line {number}: variable before any `{SECTION}` line")
                })?;
                entry.vars.push((key.trim().to_owned(), value.to_owned()));
            } else {
                return Err(format!("line {number}: expected KEY=VALUE: `{line}`"));
            }
        }
        state.entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(state)
    }
}

/// `NAME pid=PID addr=HOST:PORT`.
fn parse_section(section: &str) -> Result<Entry, String> {
    let (name, pid, addr) = parse_process(section)?;
    Ok(Entry {
        name,
        pid,
        addr,
        behind: Vec::new(),
        vars: Vec::new(),
    })
}

/// `NAME pid=PID addr=HOST:PORT`, for a section or a process behind.
fn parse_process(line: &str) -> Result<(String, u32, SocketAddr), String> {
    let mut words = line.split_whitespace();
    let name = words.next().ok_or("missing name")?.to_owned();
    let (mut pid, mut addr) = (None, None);
    for word in words {
        match word.split_once('=') {
            Some(("pid", value)) => pid = Some(value.parse().map_err(|_| "bad pid")?),
            Some(("addr", value)) => addr = Some(value.parse().map_err(|_| "bad addr")?),
            _ => return Err(format!("unknown field `{word}`")),
        }
    }
    Ok((
        name,
        pid.ok_or("missing pid=")?,
        addr.ok_or("missing addr=")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, pid: u32, port: u16, vars: &[(&str, &str)]) -> Entry {
        Entry {
            name: name.to_owned(),
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            behind: Vec::new(),
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn round_trips_values_with_separators() {
        let mut state = State::default();
        state.insert(entry(
            "kafka",
            2,
            9092,
            &[("BINDINGS_KAFKA_BROKERS", "127.0.0.1:9092")],
        ));
        state.insert(entry(
            "azurite",
            1,
            10001,
            &[("CONN", "A=b;C=d==;QueueEndpoint=http://127.0.0.1:10001/x;")],
        ));
        let text = state.render();
        assert!(text.contains("CONN=A=b;C=d==;QueueEndpoint=http://127.0.0.1:10001/x;\n"));
        let parsed = State::parse(&text).unwrap();
        assert_eq!(parsed, state);
        assert_eq!(parsed.entries()[0].name, "azurite");
        assert_eq!(parsed.vars().count(), 2);
    }

    #[test]
    fn round_trips_processes_behind_the_front_one() {
        let mut tls = entry("kafka-tls", 10, 4001, &[("BROKERS", "127.0.0.1:4001")]);
        tls.behind.push(Process {
            role: "broker".to_owned(),
            pid: 11,
            addr: SocketAddr::from(([127, 0, 0, 1], 4002)),
        });
        let mut state = State::default();
        state.insert(tls);
        state.insert(entry("kafka", 1, 9092, &[]));
        let text = state.render();
        assert!(text.contains(
            "#@service kafka-tls pid=10 addr=127.0.0.1:4001\n\
             #@behind broker pid=11 addr=127.0.0.1:4002\n\
             BROKERS=127.0.0.1:4001\n"
        ));
        assert_eq!(State::parse(&text).unwrap(), state);
        assert!(
            State::parse("#@behind broker pid=1 addr=127.0.0.1:1\n")
                .unwrap_err()
                .contains("before any")
        );
    }

    #[test]
    fn insert_replaces_and_remove_forgets() {
        let mut state = State::default();
        state.insert(entry("kafka", 1, 1, &[]));
        state.insert(entry("kafka", 2, 2, &[]));
        assert_eq!(state.entries().len(), 1);
        assert_eq!(state.get("kafka").unwrap().pid, 2);
        assert!(state.remove("kafka").is_some());
        assert!(state.get("kafka").is_none());
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(State::parse("A=1\n").unwrap_err().contains("before any"));
        assert!(
            State::parse("#@service x pid=1\n")
                .unwrap_err()
                .contains("missing addr")
        );
        assert!(
            State::parse("#@service x pid=1 addr=127.0.0.1:1\nnonsense\n")
                .unwrap_err()
                .contains("expected KEY=VALUE")
        );
    }
}
