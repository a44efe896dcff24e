//! Helpers every command uses: running commands and processes, paths, ports, randomness, timing,
//! Ctrl-C handling, installs, and the test tally.

pub(crate) mod apt;
pub(crate) mod cmd;
pub(crate) mod install;
pub(crate) mod interrupt;
pub(crate) mod net;
pub(crate) mod paths;
pub(crate) mod process;
pub(crate) mod random;
pub(crate) mod tally;
pub(crate) mod timing;
