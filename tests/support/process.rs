//! The project's binaries (examples) run as child processes, for tests that treat them as the
//! processes people run.

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The built example `name`: `target/<profile>/examples/<name>`, beside `target/<profile>/deps/`
/// where this test runs from.
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "example binary {} is missing: run `cargo build --examples` (plain `cargo test` builds them)",
        path.display()
    );
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(edited)) = (modified(&path), modified(&source)) {
        assert!(
            built >= edited,
            "example binary {} is older than {}: run `cargo build --examples`",
            path.display(),
            source.display()
        );
    }
    path
}

/// A running example: its stdout lines as they come, stderr collected; killed if dropped while
/// still running (a failing test leaves no process behind).
pub(crate) struct Running {
    pub(crate) child: Child,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    pub(crate) stderr: Arc<Mutex<String>>,
}

impl Running {
    pub(crate) fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let (tx, lines) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("piped stdout");
        let seen = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                seen.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("piped stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buffer) {
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Self {
            child,
            lines,
            stdout,
            stderr,
        }
    }

    /// Everything printed so far, for failure messages.
    pub(crate) fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    /// The next stdout line, waiting at most until `deadline`.
    pub(crate) fn next_line(&self, deadline: Instant) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.lines.recv_timeout(left).ok()
    }

    /// Waits until its stderr (its log) contains `text`; fails the test, with everything printed so
    /// far, when it does not within `limit`.
    pub(crate) fn logged(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.stderr.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < deadline,
                "waiting for {text:?} in the log: not within {limit:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends it SIGTERM (what a service manager does to stop it), then [`wait`](Self::wait)s.
    pub(crate) fn terminate(&mut self, limit: Duration) -> (ExitStatus, String) {
        signal(self.child.id(), "-TERM");
        self.wait(limit)
    }

    /// The next stdout line that `wanted` accepts, skipping others; fails the test, saying it
    /// waited for `what`, with everything printed so far, when none comes within `limit`.
    pub(crate) fn line_where(
        &self,
        limit: Duration,
        what: &str,
        mut wanted: impl FnMut(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let line = self.next_line(deadline).unwrap_or_else(|| {
                panic!(
                    "waiting for {what}: not printed within {limit:?}\n{}",
                    self.output()
                )
            });
            if wanted(&line) {
                return line;
            }
        }
    }

    /// Waits for the process to exit, at most `limit`; then all of its stdout.
    pub(crate) fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .expect("the example can be waited for")
            {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the example did not exit within {limit:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The readers finish once the pipes close; wait for them, briefly.
        let drained = Instant::now() + Duration::from_secs(5);
        while self.next_line(drained).is_some() {}
        (status, self.stdout.lock().unwrap().join("\n"))
    }
}

/// Sends signal `flag` (`-TERM`, `-KILL`) to process `pid`.
pub(crate) fn signal(pid: u32, flag: &str) {
    let status = Command::new("kill")
        .args([flag, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {flag} {pid} failed");
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
