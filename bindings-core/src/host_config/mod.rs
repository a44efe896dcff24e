//! host.json: the host's configuration file (`"version": "2.0"`). Core reads the file and its
//! top level; each binding's `extensions.<name>` section is read by the [`Extension`] its provider
//! crate registers.

mod extension;
mod section;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

pub use extension::{Extension, ExtensionRegistration};
pub use section::Section;

use extension::Stored;

/// The file name the Functions host reads its configuration from.
pub const HOST_FILE: &str = "host.json";

/// One invalid value in host.json, at its JSON path (`$.extensions.queues.batchSize`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Where: a JSON path from the root `$`.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why host.json could not be used: every problem found, at once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{}: not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// Values that are out of range or of the wrong type.
    #[error("{} has {} invalid value(s):{}", path.display(), problems.len(), list(problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<ConfigProblem>,
    },
}

impl HostConfigError {
    /// The invalid values, each at its JSON path (`$.extensions.queues.batchSize: …`); empty when
    /// the file could not be read or parsed.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Self::Invalid { problems, .. } => problems.iter().map(ToString::to_string).collect(),
            Self::Read { .. } | Self::Json { .. } => Vec::new(),
        }
    }
}

fn list(problems: &[ConfigProblem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// The host's configuration (host.json): each binding's section as its provider read it, and
/// the warnings to log at start-up.
///
/// A binding's options come out by type with [`extension`](Self::extension); see [`Section`] for
/// how a provider declares and reads its section.
///
/// ```
/// use bindings_core::HostConfig;
///
/// let config = HostConfig::from_json_str(r#"{ "version": "2.0", "watchDirectories": [] }"#)?;
/// assert_eq!(
///     config.warnings,
///     ["$.watchDirectories: a Functions host setting this library does not use; ignored"]
/// );
/// # Ok::<(), bindings_core::HostConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct HostConfig {
    /// Each section read or set, by its `Extension::NAME`.
    extensions: BTreeMap<&'static str, Arc<dyn Stored>>,
    /// Keys that were not understood or are ignored, each with its path and (for typos) a suggestion.
    /// The host logs them at start-up.
    pub warnings: Vec<String>,
    /// The directory of the host.json this was read from (absolute); `None` if it was not read from
    /// a file. See [`HostConfig::app_root`].
    pub directory: Option<PathBuf>,
}

/// Functions host settings that exist in Azure but mean nothing to this library.
const HOST_ONLY_KEYS: &[&str] = &[
    "aggregator",
    "concurrency",
    "customHandler",
    "extensionBundle",
    "functions",
    "functionTimeout",
    "healthMonitor",
    "languageWorkers",
    "logging",
    "managedDependency",
    "retry",
    "singleton",
    "telemetryMode",
    "watchDirectories",
    "watchFiles",
];
/// Azure's other extensions' sections.
const OTHER_EXTENSIONS: &[&str] = &[
    "blobs",
    "cosmosDB",
    "durableTask",
    "eventGrid",
    "eventHubs",
    "rabbitMQ",
    "sendGrid",
    "serviceBus",
    "tables",
];

impl HostConfig {
    /// Reads host.json at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, HostConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| HostConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse(path, &text)?;
        config.directory = std::path::absolute(path)
            .ok()
            .and_then(|file| file.parent().map(Path::to_owned));
        Ok(config)
    }

    /// The app root, as the Functions host has it: the directory holding host.json. Relative file
    /// paths in options (`ssl_ca_location`, …) are read from here. It is [`directory`](Self::directory)
    /// when host.json was read from a file, else the current directory.
    ///
    /// ```
    /// use bindings_core::HostConfig;
    ///
    /// let config = HostConfig::default();
    /// assert_eq!(config.app_root(), std::env::current_dir().unwrap());
    /// ```
    pub fn app_root(&self) -> PathBuf {
        self.directory
            .clone()
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
    }

    /// The options of the binding that reads `extensions.<T::NAME>`: as host.json has them, as
    /// [`with_extension`](Self::with_extension) set them, or `T::default()`.
    pub fn extension<T: Extension>(&self) -> T {
        self.extensions
            .get(T::NAME)
            .and_then(|stored| stored.as_any().downcast_ref::<T>())
            .cloned()
            .unwrap_or_default()
    }

    /// Sets a binding's options, replacing what host.json had (for hosts configured in code).
    pub fn with_extension<T: Extension>(mut self, options: T) -> Self {
        self.extensions.insert(T::NAME, Arc::new(options));
        self
    }

    /// Reads host.json at `path` if the file exists; the defaults otherwise.
    pub fn from_file_or_default(path: impl AsRef<Path>) -> Result<Self, HostConfigError> {
        let path = path.as_ref();
        if path.exists() {
            Self::from_file(path)
        } else {
            Ok(Self::default())
        }
    }

    /// Parses host.json text (errors name the file as `host.json`).
    pub fn from_json_str(text: &str) -> Result<Self, HostConfigError> {
        Self::parse(Path::new(HOST_FILE), text)
    }

    fn parse(path: &Path, text: &str) -> Result<Self, HostConfigError> {
        let root: Value = serde_json::from_str(text).map_err(|source| HostConfigError::Json {
            path: path.to_owned(),
            source,
        })?;
        read_root(&root).map_err(|problems| HostConfigError::Invalid {
            path: path.to_owned(),
            problems,
        })
    }
}

/// Reads the top level, and each registered binding's section under `extensions`.
fn read_root(root: &Value) -> Result<HostConfig, Vec<ConfigProblem>> {
    let mut config = HostConfig::default();
    let mut top = Section::new("$".to_owned(), root).map_err(|problem| vec![problem])?;
    top.ignore(
        HOST_ONLY_KEYS,
        "a Functions host setting this library does not use",
    );
    match top.take("version") {
        None => top.warn("$.version: missing; host.json should say \"version\": \"2.0\""),
        Some((_, Value::String(v))) if v == "2.0" => {}
        Some((path, _)) => top.problem(
            &path,
            "must be \"2.0\" (the only host.json schema this library reads)",
        ),
    }
    top.section("extensions", |extensions| {
        extensions.ignore(OTHER_EXTENSIONS, "not a binding this library provides");
        for registration in inventory::iter::<ExtensionRegistration> {
            if let Some(stored) = extensions.section(registration.name, registration.read) {
                config.extensions.insert(registration.name, stored);
            }
        }
    });
    let (problems, warnings) = top.finish();
    config.warnings = warnings;
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests;
