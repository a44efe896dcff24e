//! App settings: the process environment over `local.settings.json`, with `%Name%` references,
//! connection lookup and settings sections, as the Functions host resolves them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use bindings_spec::{did_you_mean, named_setting};

/// The app setting that names the environment (`Development`, `Staging`, `Production`, …).
pub const ENVIRONMENT_SETTING: &str = "AZURE_FUNCTIONS_ENVIRONMENT";
/// The file the Functions tools keep local app settings in.
pub const LOCAL_SETTINGS_FILE: &str = "local.settings.json";

/// Why settings could not be loaded or a reference could not be resolved.
///
/// No variant carries a setting's value: values may be secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A `%Name%` reference names a setting that is not set.
    #[error(
        "`{option}` refers to app setting `{name}`, which is not set{}; set `{name}` in the environment \
         or in the \"Values\" of local.settings.json",
        hint(suggestion)
    )]
    UnknownSetting {
        /// The option whose value holds the reference.
        option: String,
        /// The setting it names.
        name: String,
        /// The name of an existing setting close to `name`, if there is one.
        suggestion: Option<String>,
    },
    /// A value that names no app setting and is not a valid literal for its option either
    /// ([`Settings::resolve_or_literal`]).
    #[error("{}", not_a_setting(option, text, *expanded, expected, suggestion.as_deref()))]
    NotASettingOrLiteral {
        /// The option.
        option: String,
        /// The option's text as written (an attribute or host.json value, never a resolved setting).
        text: String,
        /// Whether `%Name%` references in `text` were replaced before the lookup (then the value
        /// looked up is not shown: it comes from settings).
        expanded: bool,
        /// What a literal of this option must be (`a host:port[,host:port…] list`).
        expected: String,
        /// The name of an existing setting close to `text`, if there is one.
        suggestion: Option<String>,
    },
    /// A credential names an app setting that is not set ([`Settings::resolve_secret`]).
    #[error(
        "`{option}` names app setting `{name}`, which is not set{}; a credential is read from its app \
         setting, never used as written: set `{name}` in the environment or in the \"Values\" of \
         local.settings.json",
        hint(suggestion)
    )]
    MissingSecret {
        /// The credential option.
        option: String,
        /// The setting it names.
        name: String,
        /// The name of an existing setting close to `name`, if there is one.
        suggestion: Option<String>,
    },
    /// A credential's value cannot be the name of an app setting ([`Settings::resolve_secret`]).
    /// The value is not shown: it may be the secret itself.
    #[error(
        "`{option}` must name the app setting that holds it, as `Name` or `%Name%` (ASCII letters, digits, \
         `_`, `-`, `.`, `:`); a credential is never written in code or host.json"
    )]
    NotASettingName {
        /// The credential option.
        option: String,
    },
    /// A `%` without its closing `%`.
    #[error(
        "`{option}` has an unclosed `%` in \"{text}\"; write `%SettingName%` to refer to an app setting"
    )]
    UnclosedReference {
        /// The option whose value is malformed.
        option: String,
        /// The option's text (an attribute value, never a resolved setting).
        text: String,
    },
    /// `%%`: a reference with no name.
    #[error("`{option}` has an empty `%%` reference in \"{text}\"; write `%SettingName%`")]
    EmptyReference {
        /// The option whose value is malformed.
        option: String,
        /// The option's text.
        text: String,
    },
    /// A connection named by an option was found nowhere.
    #[error(
        "`{option}`: connection `{name}` is not set; looked for {tried} (in ConnectionStrings, then Values) \
         and for a section `{name}__*`{}",
        hint(suggestion)
    )]
    MissingConnection {
        /// The option naming the connection.
        option: String,
        /// The connection name as written.
        name: String,
        /// Every key looked up, in order, joined for display.
        tried: String,
        /// The name of an existing setting close to one of the keys tried, if there is one.
        suggestion: Option<String>,
    },
    /// `local.settings.json` could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadLocalFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `local.settings.json` is not valid JSON or has the wrong shape.
    #[error("{}: {reason}", path.display())]
    InvalidLocalFile {
        /// The file.
        path: PathBuf,
        /// What is wrong (names the key, never a value).
        reason: String,
    },
    /// `local.settings.json` holds encrypted values.
    #[error(
        "{}: \"IsEncrypted\" is true; encrypted local settings can only be read by the Functions Core Tools \
         on the machine that encrypted them. Run `func settings decrypt` or set \"IsEncrypted\": false",
        path.display()
    )]
    EncryptedLocalFile {
        /// The file.
        path: PathBuf,
    },
}

/// ` (did you mean `X`?)`, or nothing.
fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or_else(String::new, |near| format!(" (did you mean `{near}`?)"))
}

fn not_a_setting(
    option: &str,
    text: &str,
    expanded: bool,
    expected: &str,
    suggestion: Option<&str>,
) -> String {
    if expanded {
        format!(
            "`{option}` = \"{text}\": with its `%references%` replaced, the value names no app setting or \
             connection string, and it is not {expected} either"
        )
    } else {
        format!(
            "`{option}` = \"{text}\" names no app setting or connection string{}, and it is not {expected} \
             either; set app setting `{text}` in the environment or in the \"Values\" of local.settings.json, \
             or write {expected}",
            hint(&suggestion.map(str::to_owned))
        )
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingSource {
    /// The process environment.
    Environment,
    /// A `local.settings.json` file.
    LocalFile(PathBuf),
    /// Set in code ([`Settings::with`]).
    Code,
}

#[derive(Clone)]
struct Entry {
    name: String,
    value: String,
    source: SettingSource,
}

/// A connection as found in settings.
#[derive(Clone, PartialEq, Eq)]
pub enum Connection {
    /// A connection string (the value of a setting).
    String(String),
    /// An identity-based connection: the keys of a settings section (`X__serviceUri`, `X__credential`, …),
    /// lower-cased, with their values.
    Section(BTreeMap<String, String>),
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(_) => f.write_str("Connection::String(***)"),
            Self::Section(keys) => f
                .debug_tuple("Connection::Section")
                .field(&keys.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// The app settings of a host.
///
/// Names are case-insensitive, and `__` in a name means `:` (so the environment variable
/// `MyConn__serviceUri` is the setting `MyConn:serviceUri`). Sources, highest first: values set in code,
/// the process environment, then `local.settings.json`.
///
/// `Debug` prints names and sources only: values may be secrets.
///
/// ```
/// use bindings_core::Settings;
///
/// let settings = Settings::new()
///     .with("BrokerList", "broker:9092")
///     .with("Region", "eu");
/// assert_eq!(settings.resolve("topic", "%Region%-orders").unwrap(), "eu-orders");
/// assert_eq!(settings.resolve("broker_list", "BrokerList").unwrap(), "broker:9092");
/// assert_eq!(settings.resolve("broker_list", "%BrokerList%").unwrap(), "broker:9092");
/// assert_eq!(settings.resolve("broker_list", "localhost:9092").unwrap(), "localhost:9092");
/// ```
#[derive(Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, Entry>,
    connection_strings: BTreeMap<String, Entry>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |map: &BTreeMap<String, Entry>| {
            map.values().map(|e| e.name.clone()).collect::<Vec<_>>()
        };
        f.debug_struct("Settings")
            .field("values", &names(&self.values))
            .field("connection_strings", &names(&self.connection_strings))
            .finish_non_exhaustive()
    }
}

const CONNECTION_STRINGS_PREFIX: &str = "connectionstrings:";

fn normalize(name: &str) -> String {
    name.replace("__", ":").to_ascii_lowercase()
}

impl Settings {
    /// No settings at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process environment. `ConnectionStrings__X` variables are connection strings named `X`.
    pub fn from_env() -> Self {
        let mut settings = Self::new();
        for (name, value) in std::env::vars_os() {
            if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string()) {
                settings.insert(name, value, &SettingSource::Environment);
            }
        }
        settings
    }

    /// The process environment over `local.settings.json` in the current directory, if that file exists
    /// — what the Functions host does when it runs locally.
    pub fn from_env_and_local_file() -> Result<Self, SettingsError> {
        let path = Path::new(LOCAL_SETTINGS_FILE);
        if path.exists() {
            Self::from_env_and_file(path)
        } else {
            Ok(Self::from_env())
        }
    }

    /// The process environment over the given `local.settings.json` (which must exist).
    pub fn from_env_and_file(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        let mut settings = Self::from_local_file(path)?;
        settings.merge(Self::from_env());
        Ok(settings)
    }

    /// Only the given `local.settings.json`: its `"Values"` and `"ConnectionStrings"`.
    pub fn from_local_file(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| SettingsError::ReadLocalFile {
                path: path.to_owned(),
                source,
            })?;
        Self::from_local_json(path, &text)
    }

    /// For fuzzing only, not part of the API (it may change without notice): what
    /// [`Settings::from_local_file`] makes of a `local.settings.json` holding `text`.
    #[doc(hidden)]
    pub fn from_local_json_for_fuzzing(text: &str) -> Result<Self, SettingsError> {
        Self::from_local_json(Path::new(LOCAL_SETTINGS_FILE), text)
    }

    fn from_local_json(path: &Path, text: &str) -> Result<Self, SettingsError> {
        let invalid = |reason: String| SettingsError::InvalidLocalFile {
            path: path.to_owned(),
            reason,
        };
        let root: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
        let root = root
            .as_object()
            .ok_or_else(|| invalid("the file must hold a JSON object".into()))?;
        match root.get("IsEncrypted") {
            None | Some(serde_json::Value::Bool(false)) => {}
            Some(serde_json::Value::Bool(true)) => {
                return Err(SettingsError::EncryptedLocalFile {
                    path: path.to_owned(),
                });
            }
            Some(_) => return Err(invalid("\"IsEncrypted\" must be true or false".into())),
        }
        let source = SettingSource::LocalFile(path.to_owned());
        let mut settings = Self::new();
        for (section, prefix) in [("Values", ""), ("ConnectionStrings", "ConnectionStrings:")] {
            let Some(entries) = root.get(section) else {
                continue;
            };
            let entries = entries.as_object().ok_or_else(|| {
                invalid(format!(
                    "\"{section}\" must be an object of names to strings"
                ))
            })?;
            for (name, value) in entries {
                let value = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(invalid(format!(
                            "\"{section}\".\"{name}\" must be a string (objects, arrays and null are not settings)"
                        )));
                    }
                };
                settings.insert(format!("{prefix}{name}"), value, &source);
            }
        }
        Ok(settings)
    }

    /// Sets a value in code; it wins over every other source. `ConnectionStrings:X` sets connection string `X`.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name.into(), value.into(), &SettingSource::Code);
        self
    }

    /// Takes setting `name` from the process environment, if it is set there (and wins over what is
    /// set so far): for embedded hosts that set the rest in code.
    ///
    /// ```
    /// use bindings_core::Settings;
    ///
    /// let settings = Settings::new().with_env("AdminListenAddress");
    /// assert_eq!(
    ///     settings.get("AdminListenAddress").is_some(),
    ///     std::env::var("AdminListenAddress").is_ok()
    /// );
    /// ```
    #[must_use]
    pub fn with_env(mut self, name: &str) -> Self {
        if let Ok(value) = std::env::var(name) {
            self.insert(name.to_owned(), value, &SettingSource::Environment);
        }
        self
    }

    /// Adds every setting of `other`, which wins on a clash.
    pub fn merge(&mut self, other: Settings) {
        self.values.extend(other.values);
        self.connection_strings.extend(other.connection_strings);
    }

    fn insert(&mut self, name: String, value: String, source: &SettingSource) {
        let key = normalize(&name);
        let entry = Entry {
            name,
            value,
            source: source.clone(),
        };
        match key.strip_prefix(CONNECTION_STRINGS_PREFIX) {
            Some(conn) if !conn.is_empty() => {
                self.connection_strings.insert(conn.to_owned(), entry)
            }
            _ => self.values.insert(key, entry),
        };
    }

    /// The value of app setting `name` (case-insensitive; `__` and `:` alike).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&normalize(name)).map(|e| e.value.as_str())
    }

    /// The connection string named `name` (from `"ConnectionStrings"` or `ConnectionStrings__name`).
    pub fn connection_string(&self, name: &str) -> Option<&str> {
        self.connection_strings
            .get(&normalize(name))
            .map(|e| e.value.as_str())
    }

    /// Where setting `name` came from, if it is set.
    pub fn source(&self, name: &str) -> Option<&SettingSource> {
        self.values.get(&normalize(name)).map(|e| &e.source)
    }

    /// The value of `AZURE_FUNCTIONS_ENVIRONMENT`, if set.
    pub fn environment(&self) -> Option<&str> {
        self.get(ENVIRONMENT_SETTING)
    }

    /// Whether `AZURE_FUNCTIONS_ENVIRONMENT` is `Development` (any case).
    pub fn is_development(&self) -> bool {
        self.environment()
            .is_some_and(|e| e.eq_ignore_ascii_case("development"))
    }

    /// Replaces each `%Name%` in `text` with app setting `Name`.
    ///
    /// `option` names the attribute option for the error: an unknown setting or an unclosed `%` is an error
    /// naming both.
    pub fn expand(&self, option: &str, text: &str) -> Result<String, SettingsError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('%') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after
                .find('%')
                .ok_or_else(|| SettingsError::UnclosedReference {
                    option: option.to_owned(),
                    text: text.to_owned(),
                })?;
            let name = &after[..end];
            if name.is_empty() {
                return Err(SettingsError::EmptyReference {
                    option: option.to_owned(),
                    text: text.to_owned(),
                });
            }
            let value = self
                .get(name)
                .ok_or_else(|| SettingsError::UnknownSetting {
                    option: option.to_owned(),
                    name: name.to_owned(),
                    suggestion: self.suggest(name).map(str::to_owned),
                })?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// [`expand`](Self::expand), then: if the whole result names an app setting or a connection string,
    /// that value; otherwise the result as it is. So `"BrokerList"`, `"%BrokerList%"` and a literal
    /// `"host:9092"` all resolve — and so does a misspelt setting name, as itself. Use it only for
    /// options every text is a valid value of; otherwise [`resolve_or_literal`](Self::resolve_or_literal).
    pub fn resolve(&self, option: &str, text: &str) -> Result<String, SettingsError> {
        self.resolve_or_literal(option, text, |_| Ok(()))
    }

    /// Resolves an option whose value is an app setting's name or a literal of the option's own kind.
    ///
    /// Each `%Name%` is replaced first (an unknown name is an error). Then, if the whole result names
    /// an app setting or a connection string, that setting's value is used. Otherwise the result is a
    /// literal, used only if `literal` accepts it; `literal` returns `Err` with what a literal of this
    /// option must be (`"a host:port[,host:port…] list"`, never a value), and the error names the option
    /// and the setting it would have named, with a "did you mean" over the settings that exist.
    ///
    /// The same rule serves every option that names a setting or holds a literal: `broker_list` (a
    /// `host:port` list), a queue trigger's `connection` (a connection string), file paths, URLs.
    ///
    /// ```
    /// use bindings_core::Settings;
    ///
    /// fn host_port_list(text: &str) -> Result<(), String> {
    ///     let valid = text.split(',').all(|item| {
    ///         item.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
    ///     });
    ///     if valid { Ok(()) } else { Err("a host:port[,host:port…] list".to_owned()) }
    /// }
    ///
    /// let settings = Settings::new().with("BrokerList", "broker:9092");
    /// // A setting's name, a reference, or a valid literal:
    /// assert_eq!(settings.resolve_or_literal("broker_list", "BrokerList", host_port_list).unwrap(), "broker:9092");
    /// assert_eq!(settings.resolve_or_literal("broker_list", "%BrokerList%", host_port_list).unwrap(), "broker:9092");
    /// assert_eq!(settings.resolve_or_literal("broker_list", "a:9092,b:9092", host_port_list).unwrap(), "a:9092,b:9092");
    /// // A misspelt setting name is neither a setting nor a literal:
    /// let err = settings.resolve_or_literal("broker_list", "BrokerLsit", host_port_list).unwrap_err();
    /// assert!(err.to_string().contains("did you mean `BrokerList`?"), "{err}");
    /// ```
    pub fn resolve_or_literal(
        &self,
        option: &str,
        text: &str,
        literal: impl FnOnce(&str) -> Result<(), String>,
    ) -> Result<String, SettingsError> {
        let expanded = self.expand(option, text)?;
        if let Some(value) = self
            .get(&expanded)
            .or_else(|| self.connection_string(&expanded))
        {
            return Ok(value.to_owned());
        }
        match literal(&expanded) {
            Ok(()) => Ok(expanded),
            Err(expected) => {
                let from_settings = expanded != text;
                Err(SettingsError::NotASettingOrLiteral {
                    option: option.to_owned(),
                    text: text.to_owned(),
                    expanded: from_settings,
                    expected,
                    suggestion: if from_settings {
                        None
                    } else {
                        self.suggest(text).map(str::to_owned)
                    },
                })
            }
        }
    }

    /// Resolves a credential (a password, a key, a secret): `Name` or `%Name%` names the app setting
    /// (or connection string) that holds it, which must be set. A credential is never taken literally,
    /// and errors never show the text when it cannot be a setting's name (it may be the secret itself).
    /// Unlike [`resolve`](Self::resolve), the setting's value is not looked up again as a name.
    ///
    /// ```
    /// use bindings_core::Settings;
    ///
    /// let settings = Settings::new().with("ConfluentCloudPassword", "s3cret");
    /// // As the seed's C# samples write it, and as its function.json samples do:
    /// assert_eq!(settings.resolve_secret("password", "ConfluentCloudPassword").unwrap(), "s3cret");
    /// assert_eq!(settings.resolve_secret("password", "%ConfluentCloudPassword%").unwrap(), "s3cret");
    /// // A setting that is not set is an error, with a suggestion; a literal never passes:
    /// let err = settings.resolve_secret("password", "ConfluentCloudPasword").unwrap_err();
    /// assert!(err.to_string().contains("did you mean `ConfluentCloudPassword`?"), "{err}");
    /// let err = settings.resolve_secret("password", "hunter 2").unwrap_err();
    /// assert!(!err.to_string().contains("hunter"), "{err}");
    /// ```
    pub fn resolve_secret(&self, option: &str, text: &str) -> Result<String, SettingsError> {
        let name = named_setting(text).ok_or_else(|| SettingsError::NotASettingName {
            option: option.to_owned(),
        })?;
        self.get(name)
            .or_else(|| self.connection_string(name))
            .map(str::to_owned)
            .ok_or_else(|| SettingsError::MissingSecret {
                option: option.to_owned(),
                name: name.to_owned(),
                suggestion: self.suggest(name).map(str::to_owned),
            })
    }

    /// The name of the app setting or connection string closest to `name`, if one is close enough to
    /// be a likely typo: the "did you mean" of errors about a setting that is not set (names are
    /// case-insensitive, so `name` itself, in any case, would have been found).
    ///
    /// ```
    /// use bindings_core::Settings;
    ///
    /// let settings = Settings::new().with("BrokerList", "b:9092").with("ConnectionStrings:Storage", "…");
    /// assert_eq!(settings.suggest("BrokerLsit"), Some("BrokerList"));
    /// assert_eq!(settings.suggest("Storag"), Some("Storage"));
    /// assert_eq!(settings.suggest("Unrelated"), None);
    /// ```
    pub fn suggest(&self, name: &str) -> Option<&str> {
        let connection_strings = self.connection_strings.values().map(|entry| {
            // `ConnectionStrings:X` or `ConnectionStrings__X`, as it was set: suggest `X`.
            let name = entry.name.as_str();
            name.split_once("__")
                .or_else(|| name.split_once(':'))
                .map_or(name, |(_, rest)| rest)
        });
        let names = self
            .values
            .values()
            .map(|entry| entry.name.as_str())
            .chain(connection_strings);
        did_you_mean(name, names)
    }

    /// Every key of section `name` (`name__key` / `name:key`), lower-cased, with its value.
    pub fn section(&self, name: &str) -> BTreeMap<String, String> {
        let prefix = format!("{}:", normalize(name));
        self.values
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(key, entry)| (key[prefix.len()..].to_owned(), entry.value.clone()))
            .collect()
    }

    /// Looks up connection `name` the way the Functions host does.
    ///
    /// `AzureWebJobs<name>` first, then `<name>`; each as a connection string, then as an app setting.
    /// If none is set, a settings section `<name>__*` (`AzureWebJobs<name>__*` first) is an
    /// identity-based connection. Otherwise an error naming every key tried.
    pub fn connection(&self, option: &str, name: &str) -> Result<Connection, SettingsError> {
        let prefixed = format!("AzureWebJobs{name}");
        let candidates: Vec<&str> = if name.to_ascii_lowercase().starts_with("azurewebjobs") {
            vec![name]
        } else {
            vec![&prefixed, name]
        };
        for candidate in &candidates {
            if let Some(value) = self
                .connection_string(candidate)
                .or_else(|| self.get(candidate))
            {
                return Ok(Connection::String(value.to_owned()));
            }
        }
        for candidate in &candidates {
            let section = self.section(candidate);
            if !section.is_empty() {
                return Ok(Connection::Section(section));
            }
        }
        Err(SettingsError::MissingConnection {
            option: option.to_owned(),
            name: name.to_owned(),
            suggestion: candidates
                .iter()
                .find_map(|candidate| self.suggest(candidate))
                .map(str::to_owned),
            tried: candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", then "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(json: &str) -> Result<Settings, SettingsError> {
        Settings::from_local_json(Path::new("local.settings.json"), json)
    }

    #[test]
    fn names_are_case_insensitive_and_double_underscore_is_a_colon() {
        let s = Settings::new()
            .with("BrokerList", "a:9092")
            .with("Conn__serviceUri", "https://x");
        assert_eq!(s.get("brokerlist"), Some("a:9092"));
        assert_eq!(s.get("BROKERLIST"), Some("a:9092"));
        assert_eq!(s.get("Conn:ServiceUri"), Some("https://x"));
        assert_eq!(s.get("conn__serviceuri"), Some("https://x"));
        assert_eq!(s.get("missing"), None);
    }

    #[test]
    fn expands_references_anywhere_in_a_string() {
        let s = Settings::new().with("Region", "eu").with("Env", "prod");
        assert_eq!(
            s.expand("topic", "%Region%-orders-%Env%").unwrap(),
            "eu-orders-prod"
        );
        assert_eq!(s.expand("topic", "plain").unwrap(), "plain");
        assert_eq!(s.expand("topic", "%region%").unwrap(), "eu");
    }

    #[test]
    fn unknown_and_unclosed_references_name_the_option_and_the_setting() {
        let s = Settings::new();
        let err = s.expand("topic", "%Nope%-x").unwrap_err().to_string();
        assert!(err.contains("`topic`") && err.contains("`Nope`"), "{err}");
        let err = s.expand("topic", "orders-%Region").unwrap_err().to_string();
        assert!(err.contains("`topic`") && err.contains("unclosed"), "{err}");
        let err = s.expand("queue", "%%").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn a_whole_value_naming_a_setting_uses_that_settings_value() {
        let s = Settings::new()
            .with("BrokerList", "b:9092")
            .with("Indirect", "BrokerList")
            .with("ConnectionStrings:Kafka", "k:9092");
        assert_eq!(s.resolve("broker_list", "BrokerList").unwrap(), "b:9092");
        assert_eq!(s.resolve("broker_list", "%BrokerList%").unwrap(), "b:9092");
        assert_eq!(s.resolve("broker_list", "Kafka").unwrap(), "k:9092");
        // One level only: the value of `Indirect` is not looked up again.
        assert_eq!(s.resolve("broker_list", "Indirect").unwrap(), "BrokerList");
        assert_eq!(s.resolve("broker_list", "host:9092").unwrap(), "host:9092");
    }

    fn host_port(text: &str) -> Result<(), String> {
        if text.contains(':') {
            Ok(())
        } else {
            Err("a host:port list".to_owned())
        }
    }

    #[test]
    fn a_value_naming_no_setting_must_be_a_valid_literal() {
        let s = Settings::new()
            .with("BrokerList", "b:9092")
            .with("Host", "kafka-1")
            .with("ConnectionStrings:Kafka", "k:9092");
        let resolve = |text| s.resolve_or_literal("broker_list", text, host_port);
        assert_eq!(resolve("BrokerList").unwrap(), "b:9092");
        assert_eq!(resolve("brokerlist").unwrap(), "b:9092");
        assert_eq!(resolve("%BrokerList%").unwrap(), "b:9092");
        assert_eq!(resolve("Kafka").unwrap(), "k:9092");
        assert_eq!(resolve("%Host%:9092").unwrap(), "kafka-1:9092");
        assert_eq!(resolve("literal:9092").unwrap(), "literal:9092");
        let err = resolve("BrokerLsit").unwrap_err();
        assert!(matches!(err, SettingsError::NotASettingOrLiteral { .. }));
        assert_eq!(
            err.to_string(),
            "`broker_list` = \"BrokerLsit\" names no app setting or connection string (did you mean \
             `BrokerList`?), and it is not a host:port list either; set app setting `BrokerLsit` in the \
             environment or in the \"Values\" of local.settings.json, or write a host:port list"
        );
        // A value made from references is not shown (it comes from settings).
        let err = resolve("%Host%").unwrap_err().to_string();
        assert!(
            err.contains("`broker_list` = \"%Host%\": with its `%references%` replaced"),
            "{err}"
        );
        assert!(!err.contains("kafka-1"), "{err}");
        let err = resolve("%BrokerLsit%").unwrap_err().to_string();
        assert!(
            err.contains(
                "refers to app setting `BrokerLsit`, which is not set (did you mean `BrokerList`?)"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_credential_is_a_setting_that_exists_never_a_literal() {
        let s = Settings::new()
            .with("ConfluentCloudUserName", "api-key")
            .with("ConfluentCloudPassword", "api-secret")
            .with("Indirect", "ConfluentCloudPassword")
            .with(
                "ConnectionStrings:EventHub",
                "Endpoint=sb://x/;SharedAccessKey=k",
            );
        // The seed's forms: bare (C#) and `%Name%` (function.json, Java), in any case.
        assert_eq!(
            s.resolve_secret("username", "ConfluentCloudUserName")
                .unwrap(),
            "api-key"
        );
        assert_eq!(
            s.resolve_secret("username", "%ConfluentCloudUsername%")
                .unwrap(),
            "api-key"
        );
        assert_eq!(
            s.resolve_secret("password", "ConfluentCloudPassword")
                .unwrap(),
            "api-secret"
        );
        assert_eq!(
            s.resolve_secret("password", "EventHub").unwrap(),
            "Endpoint=sb://x/;SharedAccessKey=k"
        );
        // One level only: a value is never taken as another setting's name.
        assert_eq!(
            s.resolve_secret("password", "Indirect").unwrap(),
            "ConfluentCloudPassword"
        );
        let err = s
            .resolve_secret("password", "ConfluentCloudPasword")
            .unwrap_err();
        assert!(matches!(err, SettingsError::MissingSecret { .. }));
        assert_eq!(
            err.to_string(),
            "`password` names app setting `ConfluentCloudPasword`, which is not set (did you mean \
             `ConfluentCloudPassword`?); a credential is read from its app setting, never used as written: \
             set `ConfluentCloudPasword` in the environment or in the \"Values\" of local.settings.json"
        );
        for literal in ["hunter 2", "a;b=c", "pre%ConfluentCloudPassword%", "%%", ""] {
            let err = s.resolve_secret("password", literal).unwrap_err();
            assert!(
                matches!(err, SettingsError::NotASettingName { .. }),
                "{literal:?}"
            );
            let shown = err.to_string();
            assert!(
                shown.starts_with("`password` must name the app setting"),
                "{shown}"
            );
            assert!(literal.is_empty() || !shown.contains(literal), "{shown}");
        }
        // Values are never suggested or shown.
        let err = s
            .resolve_secret("password", "api-secre")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("api-secret"), "{err}");
    }

    #[test]
    fn suggestions_come_from_setting_and_connection_string_names() {
        let s = Settings::new()
            .with("BrokerList", "b:9092")
            .with("ConnectionStrings__Storage", "UseDevelopmentStorage=true");
        assert_eq!(s.suggest("BrokerLst"), Some("BrokerList"));
        assert_eq!(s.suggest("Storag"), Some("Storage"));
        assert_eq!(s.suggest("Elsewhere"), None);
        let err = s
            .connection("connection", "Storge")
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("(did you mean `Storage`?)"), "{err}");
    }

    #[test]
    fn connections_try_the_azurewebjobs_prefix_first_then_connection_strings_then_values() {
        let s = Settings::new()
            .with("Storage", "plain-value")
            .with("AzureWebJobsStorage", "prefixed-value");
        assert_eq!(
            s.connection("connection", "Storage").unwrap(),
            Connection::String("prefixed-value".into())
        );

        let s = Settings::new()
            .with("Storage", "plain-value")
            .with("ConnectionStrings:Storage", "conn-string");
        assert_eq!(
            s.connection("connection", "Storage").unwrap(),
            Connection::String("conn-string".into())
        );

        let s = Settings::new().with("MyStorage", "v");
        assert_eq!(
            s.connection("connection", "MyStorage").unwrap(),
            Connection::String("v".into())
        );

        let s = Settings::new().with("AzureWebJobsStorage", "v");
        assert_eq!(
            s.connection("connection", "AzureWebJobsStorage").unwrap(),
            Connection::String("v".into())
        );
    }

    #[test]
    fn a_section_is_an_identity_based_connection() {
        let s = Settings::new()
            .with(
                "MyConn__queueServiceUri",
                "https://acct.queue.core.windows.net",
            )
            .with("MyConn:credential", "managedidentity")
            .with("MyConnOther", "not part of the section");
        let Connection::Section(keys) = s.connection("connection", "MyConn").unwrap() else {
            panic!("expected a section");
        };
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys["queueserviceuri"],
            "https://acct.queue.core.windows.net"
        );
        assert_eq!(keys["credential"], "managedidentity");
    }

    #[test]
    fn a_missing_connection_names_every_key_tried() {
        let err = Settings::new()
            .connection("connection", "Storage")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`AzureWebJobsStorage`, then `Storage`"),
            "{err}"
        );
        assert!(err.contains("`connection`"), "{err}");
    }

    #[test]
    fn local_file_reads_values_and_connection_strings() {
        let s = local(
            r#"{ "IsEncrypted": false,
                 "Values": { "AzureWebJobsStorage": "UseDevelopmentStorage=true", "Port": 7071, "Flag": true },
                 "ConnectionStrings": { "Sql": "Server=x" } }"#,
        )
        .unwrap();
        assert_eq!(
            s.get("AzureWebJobsStorage"),
            Some("UseDevelopmentStorage=true")
        );
        assert_eq!(s.get("Port"), Some("7071"));
        assert_eq!(s.get("Flag"), Some("true"));
        assert_eq!(s.connection_string("sql"), Some("Server=x"));
        assert!(matches!(
            s.source("Port"),
            Some(SettingSource::LocalFile(_))
        ));
    }

    #[test]
    fn encrypted_or_malformed_local_files_are_clear_errors() {
        let err = local(r#"{ "IsEncrypted": true, "Values": {} }"#).unwrap_err();
        assert!(matches!(err, SettingsError::EncryptedLocalFile { .. }));
        assert!(err.to_string().contains("IsEncrypted"));
        let err = local("{ not json").unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
        let err = local(r#"{ "Values": { "Secretish": { "nested": "s3cret" } } }"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"Values\".\"Secretish\" must be a string"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
        let err = local(r#"{ "Values": [] }"#).unwrap_err().to_string();
        assert!(err.contains("\"Values\" must be an object"), "{err}");
    }

    #[test]
    fn environment_wins_over_the_local_file_and_code_wins_over_both() {
        let mut s = local(r#"{ "Values": { "A": "file", "B": "file" } }"#).unwrap();
        s.merge(Settings::new().with("a", "env"));
        assert_eq!(s.get("A"), Some("env"));
        assert_eq!(s.get("B"), Some("file"));
        let s = s.with("B", "code");
        assert_eq!(s.get("B"), Some("code"));
    }

    #[test]
    fn a_local_file_on_disk_is_read_and_the_real_environment_wins() {
        let path = std::env::temp_dir().join(format!(
            "bindings-local-settings-{}.json",
            std::process::id()
        ));
        std::fs::write(
            &path,
            r#"{ "Values": { "PATH": "from-file", "OnlyInFile": "x" } }"#,
        )
        .unwrap();
        let s = Settings::from_env_and_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(s.get("PATH").map(str::to_owned), std::env::var("PATH").ok());
        assert_eq!(s.get("OnlyInFile"), Some("x"));
        let err = Settings::from_env_and_file(&path).unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read") && err.contains("bindings-local-settings"),
            "{err}"
        );
    }

    #[test]
    fn from_env_reads_process_variables() {
        // PATH is set in every test environment; this checks the reading, not a particular value.
        let s = Settings::from_env();
        assert_eq!(s.get("path").map(str::to_owned), std::env::var("PATH").ok());
        assert_eq!(s.source("PATH"), Some(&SettingSource::Environment));
    }

    #[test]
    fn development_comes_from_azure_functions_environment() {
        assert!(!Settings::new().is_development());
        assert!(
            Settings::new()
                .with(ENVIRONMENT_SETTING, "Development")
                .is_development()
        );
        assert!(
            Settings::new()
                .with(ENVIRONMENT_SETTING, "development")
                .is_development()
        );
        assert!(
            !Settings::new()
                .with(ENVIRONMENT_SETTING, "Production")
                .is_development()
        );
    }

    #[test]
    fn debug_never_prints_values() {
        let s = Settings::new()
            .with("Password", "hunter2")
            .with("ConnectionStrings:Db", "AccountKey=abc");
        let debug = format!("{s:?}");
        assert!(
            debug.contains("Password") && debug.contains("Db"),
            "{debug}"
        );
        assert!(
            !debug.contains("hunter2") && !debug.contains("abc"),
            "{debug}"
        );
        let conn = Settings::new()
            .with("X", "AccountKey=abc")
            .connection("c", "X")
            .unwrap();
        assert!(!format!("{conn:?}").contains("abc"));
    }
}
