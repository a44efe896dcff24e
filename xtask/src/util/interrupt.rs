//! Ctrl-C and SIGTERM: note them instead of dying, so that `cargo xtask test` can still stop the
//! services it started.
//!
//! A terminal's Ctrl-C reaches the whole foreground process group: the running `cargo test` gets
//! it too and ends, its wait returns, and the normal clean-up runs. A SIGTERM sent to `xtask`
//! alone is passed on to the running child. A second interrupt exits at once (services stay up;
//! `cargo xtask services down` stops them).

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Set by the first interrupt.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Pid of the child `xtask` is waiting for (0: none).
static CHILD: AtomicU32 = AtomicU32::new(0);
/// Serialises the handler with `set_child` (the handler runs on its own thread).
static LOCK: Mutex<()> = Mutex::new(());

/// Install the handler (once, at start-up). Failure to install only loses the clean-up on Ctrl-C.
pub(crate) fn install() {
    let result = ctrlc::set_handler(|| {
        let _lock = LOCK.lock();
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!(
                "xtask: interrupted again: exiting now; `cargo xtask services down` stops what is left"
            );
            std::process::exit(130);
        }
        eprintln!("xtask: interrupted: finishing the current step's clean-up (again to force)");
        let pid = CHILD.load(Ordering::SeqCst);
        if pid != 0 {
            // Best effort; the child may already be gone.
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    });
    if let Err(err) = result {
        eprintln!(
            "xtask: warning: cannot handle Ctrl-C ({err:#}); an interrupted run may leave services up"
        );
    }
}

/// Whether an interrupt has arrived.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Record the child being waited for (`None` when the wait is over).
pub(crate) fn set_child(pid: Option<u32>) {
    let _lock = LOCK.lock();
    CHILD.store(pid.unwrap_or(0), Ordering::SeqCst);
}
