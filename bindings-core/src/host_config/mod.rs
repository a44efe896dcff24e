//! host.json: the host's configuration file (`"version": "2.0"`), with the `extensions.queues`,
//! `extensions.kafka` and `extensions.http` sections as typed options.

mod http;
mod kafka;
mod queues;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

pub use bindings_spec::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};
pub use http::HttpOptions;
pub use kafka::KafkaOptions;
pub use queues::{MessageEncoding, QueuesOptions};

use bindings_spec::{OptionSpec, Refusal, did_you_mean, parse_timespan, queue};

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

fn list(problems: &[ConfigProblem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// The host's configuration (host.json).
///
/// ```
/// use std::time::Duration;
/// use bindings_core::HostConfig;
///
/// let config = HostConfig::from_json_str(r#"{
///     "version": "2.0",
///     "extensions": { "queues": { "batchSize": 8, "maxPollingInterval": "00:00:02" } }
/// }"#).unwrap();
/// assert_eq!(config.queues.batch_size, 8);
/// assert_eq!(config.queues.effective_new_batch_threshold(), 4);
/// assert_eq!(config.queues.max_polling_interval, Some(Duration::from_secs(2)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostConfig {
    /// `extensions.queues`.
    pub queues: QueuesOptions,
    /// `extensions.kafka`.
    pub kafka: KafkaOptions,
    /// `extensions.http`.
    pub http: HttpOptions,
    /// Keys that were not understood or are ignored, each with its path and (for typos) a suggestion.
    /// The host logs them at start-up.
    pub warnings: Vec<String>,
    /// The directory of the host.json this was read from (absolute); `None` if it was not read from
    /// a file. See [`HostConfig::app_root`].
    pub directory: Option<PathBuf>,
}

const TOP_LEVEL_KEYS: &[&str] = &["version", "extensions"];
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
const EXTENSIONS: &[&str] = &["queues", "kafka", "http"];
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
        let mut reader = Reader::default();
        let config = reader.host(&root);
        if reader.problems.is_empty() {
            Ok(config)
        } else {
            Err(HostConfigError::Invalid {
                path: path.to_owned(),
                problems: reader.problems,
            })
        }
    }
}

/// Walks the JSON, collecting every problem and warning instead of stopping at the first.
#[derive(Default)]
struct Reader {
    problems: Vec<ConfigProblem>,
    warnings: Vec<String>,
}

/// An object's entries by lower-cased key (host.json keys are case-insensitive).
struct Object<'a> {
    path: String,
    /// Lower-cased key -> (key as written, value).
    entries: BTreeMap<String, (&'a str, &'a Value)>,
}

impl Object<'_> {
    fn take(&mut self, key: &str) -> Option<(String, &Value)> {
        self.entries
            .remove(&key.to_ascii_lowercase())
            .map(|(_, v)| (format!("{}.{key}", self.path), v))
    }
}

impl Reader {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn object<'a>(&mut self, path: String, value: &'a Value) -> Option<Object<'a>> {
        if let Value::Object(map) = value {
            Some(Object {
                path,
                entries: lower_keys(map),
            })
        } else {
            self.problem(&path, format!("expected an object, found {}", kind(value)));
            None
        }
    }

    /// Warns about keys left over after the known ones were taken.
    fn leftovers(
        &mut self,
        object: &Object<'_>,
        known: &[&str],
        ignored: &[&str],
        ignored_why: &str,
    ) {
        for (key, _) in object.entries.values() {
            let path = format!("{}.{key}", object.path);
            if let Some(name) = ignored.iter().find(|k| k.eq_ignore_ascii_case(key)) {
                self.warnings
                    .push(format!("{}.{name}: {ignored_why}; ignored", object.path));
            } else if let Some(near) = did_you_mean(key, known.iter().chain(ignored).copied()) {
                self.warnings.push(format!(
                    "{path}: unknown key, ignored; did you mean `{near}`?"
                ));
            } else {
                self.warnings.push(format!(
                    "{path}: unknown key, ignored (known keys: {})",
                    known.join(", ")
                ));
            }
        }
    }

    fn host(&mut self, root: &Value) -> HostConfig {
        let mut config = HostConfig::default();
        let Some(mut top) = self.object("$".to_owned(), root) else {
            return config;
        };
        match top.take("version") {
            None => self
                .warnings
                .push("$.version: missing; host.json should say \"version\": \"2.0\"".to_owned()),
            Some((_, Value::String(v))) if v == "2.0" => {}
            Some((path, _)) => self.problem(
                &path,
                "must be \"2.0\" (the only host.json schema this library reads)",
            ),
        }
        if let Some((path, value)) = top.take("extensions")
            && let Some(mut extensions) = self.object(path, value)
        {
            if let Some((path, value)) = extensions.take("queues") {
                self.queues(path, value, &mut config.queues);
            }
            if let Some((path, value)) = extensions.take("kafka") {
                self.kafka(path, value, &mut config.kafka);
            }
            if let Some((path, value)) = extensions.take("http") {
                self.http(path, value, &mut config.http);
            }
            self.leftovers(
                &extensions,
                EXTENSIONS,
                OTHER_EXTENSIONS,
                "not a binding this library provides",
            );
        }
        self.leftovers(
            &top,
            TOP_LEVEL_KEYS,
            HOST_ONLY_KEYS,
            "a Functions host setting this library does not use",
        );
        config.warnings = std::mem::take(&mut self.warnings);
        config
    }

    fn queues(&mut self, path: String, value: &Value, out: &mut QueuesOptions) {
        let Some(mut o) = self.object(path, value) else {
            return;
        };
        if let Some(v) = self.count(&mut o, &queue::BATCH_SIZE) {
            out.batch_size = v;
        }
        out.new_batch_threshold = self
            .count(&mut o, &queue::NEW_BATCH_THRESHOLD)
            .or(out.new_batch_threshold);
        out.max_polling_interval = self
            .timespan(&mut o, &queue::MAX_POLLING_INTERVAL)
            .or(out.max_polling_interval);
        if let Some(v) = self.timespan(&mut o, &queue::VISIBILITY_TIMEOUT) {
            out.visibility_timeout = v;
        }
        if let Some(v) = self.count(&mut o, &queue::MAX_DEQUEUE_COUNT) {
            out.max_dequeue_count = v;
        }
        if let Some(v) = self.choice(
            &mut o,
            queue::MESSAGE_ENCODING.json,
            MessageEncoding::VALID,
            MessageEncoding::parse,
        ) {
            out.message_encoding = v;
        }
        if let Some(v) = self.timespan(&mut o, &queue::RECEIVE_VISIBILITY_TIMEOUT) {
            out.receive_visibility_timeout = v;
        }
        let known: Vec<&str> = queue::OPTIONS.iter().map(|option| option.json).collect();
        self.leftovers(&o, &known, &[], "");
    }

    fn kafka(&mut self, path: String, value: &Value, out: &mut KafkaOptions) {
        let Some(mut o) = self.object(path, value) else {
            return;
        };
        out.max_message_bytes = self.u32(&mut o, "maxMessageBytes", 1_000, 1_000_000_000);
        out.batch_size = self.u32(&mut o, "batchSize", 1, 1_000_000);
        out.enable_idempotence = self.bool(&mut o, "enableIdempotence");
        out.message_timeout_ms = self.u32(&mut o, "messageTimeoutMs", 0, i32::MAX as u32);
        out.request_timeout_ms = self.u32(&mut o, "requestTimeoutMs", 1, 900_000);
        out.max_retries = self.u32(&mut o, "maxRetries", 0, i32::MAX as u32);
        out.linger_ms = self.u32(&mut o, "lingerMs", 0, 900_000);
        out.compression = self.choice(
            &mut o,
            "compression",
            Compression::VALID,
            Compression::parse,
        );
        out.acks = self.choice(&mut o, "acks", Acks::VALID, Acks::parse);
        out.partitioner = self.choice(
            &mut o,
            "partitioner",
            Partitioner::VALID,
            Partitioner::parse,
        );
        out.protocol = self.choice(&mut o, "protocol", Protocol::VALID, Protocol::parse);
        let unsupported = o
            .entries
            .get("authenticationmode")
            .and_then(|(_, v)| v.as_str())
            .and_then(AuthenticationMode::unsupported);
        if let Some(why) = unsupported {
            if let Some((path, _)) = o.take("authenticationMode") {
                self.problem(&path, why);
            }
        } else {
            out.authentication_mode = self.choice(
                &mut o,
                "authenticationMode",
                AuthenticationMode::VALID,
                AuthenticationMode::parse,
            );
        }
        out.username = self.string(&mut o, "username");
        out.password = self.string(&mut o, "password");
        out.ssl_ca_location = self.string(&mut o, "sslCaLocation");
        out.ssl_certificate_location = self.string(&mut o, "sslCertificateLocation");
        out.ssl_key_location = self.string(&mut o, "sslKeyLocation");
        out.ssl_key_password = self.string(&mut o, "sslKeyPassword");
        out.metadata_max_age_ms = self.u32(&mut o, "metadataMaxAgeMs", 1, 86_400_000);
        out.socket_keepalive_enable = self.bool(&mut o, "socketKeepaliveEnable");
        out.librdkafka_debug = self.string(&mut o, "libkafkaDebug");
        self.leftovers(
            &o,
            &[
                "maxMessageBytes",
                "batchSize",
                "enableIdempotence",
                "messageTimeoutMs",
                "requestTimeoutMs",
                "maxRetries",
                "lingerMs",
                "compression",
                "acks",
                "partitioner",
                "protocol",
                "authenticationMode",
                "username",
                "password",
                "sslCaLocation",
                "sslCertificateLocation",
                "sslKeyLocation",
                "sslKeyPassword",
                "metadataMaxAgeMs",
                "socketKeepaliveEnable",
                "libkafkaDebug",
            ],
            &[
                "maxBatchSize",
                "subscriberIntervalInSeconds",
                "executorChannelCapacity",
                "channelFullRetryIntervalInMs",
                "fetchMaxBytes",
                "autoCommitIntervalMs",
            ],
            "a Kafka trigger option (this library has the Kafka output only)",
        );
    }

    fn http(&mut self, path: String, value: &Value, out: &mut HttpOptions) {
        let Some(mut o) = self.object(path, value) else {
            return;
        };
        if let Some(prefix) = self.string(&mut o, "routePrefix") {
            out.route_prefix = prefix.trim_matches('/').to_owned();
        }
        if let Some((path, v)) = o.take("maxRequestBodySize") {
            match v.as_u64() {
                Some(n) if n > 0 => out.max_request_body_size = n,
                _ => self.problem(
                    &path,
                    format!("expected a positive number of bytes, found {}", show(v)),
                ),
            }
        }
        out.max_concurrent_requests = self.limit(&mut o, "maxConcurrentRequests");
        out.max_outstanding_requests = self.limit(&mut o, "maxOutstandingRequests");
        if let Some((path, v)) = o.take("customHeaders") {
            match v.as_object() {
                Some(map) => {
                    for (name, value) in map {
                        match value.as_str() {
                            Some(s) => {
                                out.custom_headers.insert(name.clone(), s.to_owned());
                            }
                            None => self.problem(
                                &format!("{path}.{name}"),
                                "header values must be strings",
                            ),
                        }
                    }
                }
                None => self.problem(
                    &path,
                    format!(
                        "expected an object of header names to values, found {}",
                        kind(v)
                    ),
                ),
            }
        }
        self.leftovers(
            &o,
            &[
                "routePrefix",
                "maxRequestBodySize",
                "maxConcurrentRequests",
                "maxOutstandingRequests",
                "customHeaders",
            ],
            &["dynamicThrottlesEnabled", "hsts"],
            "a Functions host HTTP setting this library does not implement",
        );
    }

    fn u32(&mut self, o: &mut Object<'_>, key: &str, min: u32, max: u32) -> Option<u32> {
        let (path, v) = o.take(key)?;
        match v.as_u64() {
            Some(n) if n >= u64::from(min) && n <= u64::from(max) => u32::try_from(n).ok(),
            _ if v.is_number() => {
                self.problem(
                    &path,
                    format!("{} is out of range; must be {min} to {max}", show(v)),
                );
                None
            }
            _ => {
                self.problem(
                    &path,
                    format!(
                        "expected a whole number from {min} to {max}, found {}",
                        show(v)
                    ),
                );
                None
            }
        }
    }

    /// An optional limit where `-1` means unbounded.
    fn limit(&mut self, o: &mut Object<'_>, key: &str) -> Option<u32> {
        let (path, v) = o.take(key)?;
        match v.as_i64() {
            Some(-1) => None,
            Some(n) if n >= 1 => u32::try_from(n).ok(),
            _ => {
                self.problem(
                    &path,
                    format!(
                        "expected -1 (unbounded) or a positive number, found {}",
                        show(v)
                    ),
                );
                None
            }
        }
    }

    fn bool(&mut self, o: &mut Object<'_>, key: &str) -> Option<bool> {
        let (path, v) = o.take(key)?;
        if let Some(b) = v.as_bool() {
            return Some(b);
        }
        self.problem(&path, format!("expected true or false, found {}", show(v)));
        None
    }

    fn string(&mut self, o: &mut Object<'_>, key: &str) -> Option<String> {
        let (path, v) = o.take(key)?;
        if let Some(s) = v.as_str() {
            return Some(s.to_owned());
        }
        self.problem(&path, format!("expected a string, found {}", kind(v)));
        None
    }

    /// A whole-number option, checked against its declaration.
    fn count(&mut self, o: &mut Object<'_>, option: &OptionSpec) -> Option<u32> {
        let (path, v) = o.take(option.json)?;
        let checked = match v.as_u64() {
            Some(n) => option.check_count(n),
            None if v.is_number() => option.check_count(u64::MAX),
            None => {
                self.problem(
                    &path,
                    format!(
                        "expected a whole number, {}, found {}",
                        option.allowed(),
                        show(v)
                    ),
                );
                return None;
            }
        };
        checked
            .map_err(|refusal| self.refused(&path, &show(v), &refusal))
            .ok()
    }

    /// A value its declaration refuses: `64 is out of range; must be 1 to 32`.
    fn refused(&mut self, path: &str, shown: &str, refusal: &Refusal) {
        self.problem(
            path,
            format!("{shown} {}; must be {}", refusal.problem, refusal.allowed),
        );
    }

    /// A `TimeSpan` option, checked against its declaration.
    fn timespan(&mut self, o: &mut Object<'_>, option: &OptionSpec) -> Option<Duration> {
        let (path, v) = o.take(option.json)?;
        let Some(text) = v.as_str() else {
            self.problem(
                &path,
                format!(
                    "expected a TimeSpan string such as \"00:00:30\", found {}",
                    show(v)
                ),
            );
            return None;
        };
        match parse_timespan(text).map(|d| option.check_duration(d)) {
            Ok(Ok(d)) => Some(d),
            Ok(Err(refusal)) => {
                self.refused(&path, &format!("\"{text}\""), &refusal);
                None
            }
            Err(e) => {
                self.problem(&path, e.to_string());
                None
            }
        }
    }

    fn choice<T>(
        &mut self,
        o: &mut Object<'_>,
        key: &str,
        valid: &[&str],
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let (path, v) = o.take(key)?;
        let parsed = match v {
            Value::String(s) => parse(s),
            Value::Number(n) => parse(&n.to_string()),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(
                &path,
                format!(
                    "{} is not a valid value; use one of: {}",
                    show(v),
                    valid.join(", ")
                ),
            );
        }
        parsed
    }
}

fn lower_keys(map: &Map<String, Value>) -> BTreeMap<String, (&str, &Value)> {
    map.iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (k.as_str(), v)))
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a config value for messages (host.json holds no secrets' values, only references).
fn show(value: &Value) -> String {
    match value {
        Value::Array(_) | Value::Object(_) => kind(value).to_owned(),
        other => {
            let text = other.to_string();
            if text.chars().count() > 40 {
                format!("{}…", text.chars().take(40).collect::<String>())
            } else {
                text
            }
        }
    }
}

#[cfg(test)]
mod tests;
