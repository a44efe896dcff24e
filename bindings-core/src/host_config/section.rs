//! [`Section`]: one `extensions.<name>` object of host.json, read key by key by its provider.

use std::collections::BTreeMap;
use std::time::Duration;

use bindings_spec::{Kind, OptionSpec, Refusal, did_you_mean, parse_timespan};
use serde_json::{Map, Value};

use super::ConfigProblem;
use bindings_spec::value::{Fields, Raw};

/// One host.json object being read (`$.extensions.queues`): each typed reader takes a key
/// (case-insensitively, as the Functions host does), checks its value and records a problem at the
/// key's JSON path instead of stopping, so that every problem of the file is reported at once.
///
/// Keys that no reader took are warned about when the section is done: with a did-you-mean over
/// the keys the provider asked for, or as [ignored](Section::ignore) with the provider's reason.
///
/// ```
/// use bindings_core::{Extension, HostConfig, Section};
///
/// #[derive(Debug, Clone, Default)]
/// struct Greeter {
///     greeting: Option<String>,
///     repeat: Option<u32>,
/// }
///
/// impl Extension for Greeter {
///     const NAME: &'static str = "greeter";
///     fn read(section: &mut Section<'_>) -> Self {
///         Self {
///             greeting: section.string("greeting"),
///             repeat: section.u32("repeat", 1, 10),
///         }
///     }
/// }
/// bindings_core::register_extension!(Greeter);
///
/// let config = HostConfig::from_json_str(
///     r#"{ "version": "2.0", "extensions": { "greeter": { "Greeting": "hi", "repaet": 2 } } }"#,
/// )?;
/// assert_eq!(config.extension::<Greeter>().greeting.as_deref(), Some("hi"));
/// assert_eq!(
///     config.warnings,
///     ["$.extensions.greeter.repaet: unknown key, ignored; did you mean `repeat`?"]
/// );
///
/// let err = HostConfig::from_json_str(
///     r#"{ "version": "2.0", "extensions": { "greeter": { "repeat": 11 } } }"#,
/// )
/// .unwrap_err();
/// assert!(err.to_string().contains("$.extensions.greeter.repeat: 11 is out of range; must be 1 to 10"));
/// # Ok::<(), bindings_core::HostConfigError>(())
/// ```
#[derive(Debug)]
pub struct Section<'a> {
    path: String,
    /// Lower-cased key -> (key as written, value).
    entries: BTreeMap<String, (&'a str, &'a Value)>,
    /// The keys asked for, for the did-you-mean of the keys left over.
    known: Vec<&'static str>,
    /// Keys recognised but not used, with why.
    ignored: Vec<(&'static [&'static str], &'static str)>,
    problems: Vec<ConfigProblem>,
    warnings: Vec<String>,
}

impl<'a> Section<'a> {
    /// The object at `path`, or `None` (and a problem) if `value` is not an object.
    pub(super) fn new(path: String, value: &'a Value) -> Result<Self, ConfigProblem> {
        let Value::Object(map) = value else {
            return Err(ConfigProblem {
                message: format!("expected an object, found {}", kind(value)),
                path,
            });
        };
        Ok(Self {
            path,
            entries: lower_keys(map),
            known: Vec::new(),
            ignored: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        })
    }

    /// The section's JSON path (`$.extensions.queues`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw value of `key` and its JSON path, for shapes the typed readers do not cover.
    pub fn take(&mut self, key: &'static str) -> Option<(String, &'a Value)> {
        self.known.push(key);
        self.entries
            .remove(&key.to_ascii_lowercase())
            .map(|(_, v)| (format!("{}.{key}", self.path), v))
    }

    /// Records a problem at `path` (a JSON path from [`take`](Self::take) or [`path`](Self::path)).
    pub fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Records a warning, to be logged at start-up.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// The object at `key`, read with `read`; `None` when absent or not an object (a problem).
    pub fn section<T>(
        &mut self,
        key: &'static str,
        read: impl FnOnce(&mut Section<'a>) -> T,
    ) -> Option<T> {
        let (path, value) = self.take(key)?;
        match Section::new(path, value) {
            Ok(mut inner) => {
                let out = read(&mut inner);
                let (problems, warnings) = inner.finish();
                self.problems.extend(problems);
                self.warnings.extend(warnings);
                Some(out)
            }
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }

    /// Keys Azure knows in this section but this library does not use: each present one is
    /// warned about as `<path>: <why>; ignored` instead of as unknown.
    pub fn ignore(&mut self, keys: &'static [&'static str], why: &'static str) {
        self.ignored.push((keys, why));
    }

    /// The option's value, read by its declared kind (a count, a `TimeSpan`, a choice, a bool or
    /// text), if the section has its host.json key and the value is valid.
    pub fn value(&mut self, option: &OptionSpec) -> Option<Raw> {
        match option.kind {
            Kind::Count { .. } => self.count(option).map(Raw::Count),
            Kind::TimeSpan { .. } => self.timespan(option).map(Raw::Span),
            Kind::Bool { .. } => self.bool(option.json?).map(Raw::Flag),
            Kind::Choice { .. } => self.declared_choice(option).map(Raw::Choice),
            _ => self.string(option.json?).map(Raw::Text),
        }
    }

    /// Reads every option of `options` that has a host.json key into `out` (see [`Section::value`]).
    pub fn read_into(&mut self, options: &[OptionSpec], out: &mut impl Fields) {
        for option in options.iter().filter(|option| option.json.is_some()) {
            if let Some(raw) = self.value(option) {
                let known = out.put(option, &raw);
                debug_assert!(known, "`{}` has a host.json key but no field", option.rust);
            }
        }
    }

    /// A whole-number option, checked against its declaration.
    pub fn count(&mut self, option: &OptionSpec) -> Option<u32> {
        let (path, v) = self.take(option.json?)?;
        let checked = match v.as_u64() {
            Some(n) => option.check_count(n),
            None if v.is_number() => option.check_count(u64::MAX),
            None => {
                let message = format!(
                    "expected a whole number, {}, found {}",
                    option.allowed(),
                    show(v)
                );
                self.problem(&path, message);
                return None;
            }
        };
        checked
            .map_err(|refusal| self.refused(&path, &show(v), &refusal))
            .ok()
    }

    /// A `TimeSpan` option (`"00:00:30"`), checked against its declaration.
    pub fn timespan(&mut self, option: &OptionSpec) -> Option<Duration> {
        let (path, v) = self.take(option.json?)?;
        let Some(text) = v.as_str() else {
            let message = format!(
                "expected a TimeSpan string such as \"00:00:30\", found {}",
                show(v)
            );
            self.problem(&path, message);
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

    /// A [`Kind::Choice`](bindings_spec::Kind::Choice) option (a string, or a number written as
    /// one), as the index of its value; a value it refuses on purpose is a problem saying why.
    pub fn declared_choice(&mut self, option: &OptionSpec) -> Option<usize> {
        let (path, v) = self.take(option.json?)?;
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        if let Some(why) = option.refused(&text) {
            self.problem(&path, why);
            return None;
        }
        let index = option.choice(&text);
        if index.is_none() {
            let message = format!(
                "{} is not a valid value; use one of: {}",
                show(v),
                option.choices().join(", ")
            );
            self.problem(&path, message);
        }
        index
    }

    /// One of `valid` (a string, or a number written as one), parsed by `parse`.
    pub fn choice<T>(
        &mut self,
        key: &'static str,
        valid: &[&str],
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let (path, v) = self.take(key)?;
        let parsed = match v {
            Value::String(s) => parse(s),
            Value::Number(n) => parse(&n.to_string()),
            _ => None,
        };
        if parsed.is_none() {
            let message = format!(
                "{} is not a valid value; use one of: {}",
                show(v),
                valid.join(", ")
            );
            self.problem(&path, message);
        }
        parsed
    }

    /// A whole number in `min..=max`.
    pub fn u32(&mut self, key: &'static str, min: u32, max: u32) -> Option<u32> {
        let (path, v) = self.take(key)?;
        match v.as_u64() {
            Some(n) if n >= u64::from(min) && n <= u64::from(max) => u32::try_from(n).ok(),
            _ if v.is_number() => {
                let message = format!("{} is out of range; must be {min} to {max}", show(v));
                self.problem(&path, message);
                None
            }
            _ => {
                let message = format!(
                    "expected a whole number from {min} to {max}, found {}",
                    show(v)
                );
                self.problem(&path, message);
                None
            }
        }
    }

    /// A positive whole number.
    pub fn positive(&mut self, key: &'static str) -> Option<u64> {
        let (path, v) = self.take(key)?;
        match v.as_u64() {
            Some(n) if n > 0 => Some(n),
            _ => {
                let message = format!("expected a positive whole number, found {}", show(v));
                self.problem(&path, message);
                None
            }
        }
    }

    /// A limit where `-1` means unbounded: `Some(None)` for `-1`, `Some(Some(n))` for a positive
    /// number, `None` when absent or invalid.
    pub fn limit(&mut self, key: &'static str) -> Option<Option<u32>> {
        let (path, v) = self.take(key)?;
        match v.as_i64() {
            Some(-1) => Some(None),
            Some(n) if n >= 1 => u32::try_from(n).ok().map(Some),
            _ => {
                let message = format!(
                    "expected -1 (unbounded) or a positive number, found {}",
                    show(v)
                );
                self.problem(&path, message);
                None
            }
        }
    }

    /// `true` or `false`.
    pub fn bool(&mut self, key: &'static str) -> Option<bool> {
        let (path, v) = self.take(key)?;
        if let Some(b) = v.as_bool() {
            return Some(b);
        }
        self.problem(&path, format!("expected true or false, found {}", show(v)));
        None
    }

    /// A string.
    pub fn string(&mut self, key: &'static str) -> Option<String> {
        let (path, v) = self.take(key)?;
        if let Some(s) = v.as_str() {
            return Some(s.to_owned());
        }
        self.problem(&path, format!("expected a string, found {}", kind(v)));
        None
    }

    /// An object of string values (`{"X-Frame-Options": "DENY"}`), keys as written; each
    /// non-string value is a problem at its own path.
    pub fn string_map(&mut self, key: &'static str) -> Option<BTreeMap<String, String>> {
        let (path, v) = self.take(key)?;
        let Some(map) = v.as_object() else {
            self.problem(
                &path,
                format!("expected an object of strings, found {}", kind(v)),
            );
            return None;
        };
        let mut out = BTreeMap::new();
        for (name, value) in map {
            match value.as_str() {
                Some(s) => {
                    out.insert(name.clone(), s.to_owned());
                }
                None => self.problem(
                    &format!("{path}.{name}"),
                    format!("expected a string, found {}", kind(value)),
                ),
            }
        }
        Some(out)
    }

    /// A value its declaration refuses: `64 is out of range; must be 1 to 32`.
    fn refused(&mut self, path: &str, shown: &str, refusal: &Refusal) {
        self.problem(
            path,
            format!("{shown} {}; must be {}", refusal.problem, refusal.allowed),
        );
    }

    /// Warns about the keys no reader took; gives the problems and the warnings.
    pub(super) fn finish(mut self) -> (Vec<ConfigProblem>, Vec<String>) {
        let ignored: Vec<&str> = self
            .ignored
            .iter()
            .flat_map(|(keys, _)| keys.iter().copied())
            .collect();
        for (key, _) in self.entries.values() {
            let path = format!("{}.{key}", self.path);
            let reason = self.ignored.iter().find_map(|(keys, why)| {
                keys.iter()
                    .find(|k| k.eq_ignore_ascii_case(key))
                    .map(|name| (name, why))
            });
            let warning = if let Some((name, why)) = reason {
                format!("{}.{name}: {why}; ignored", self.path)
            } else if let Some(near) = did_you_mean(key, self.known.iter().chain(&ignored).copied())
            {
                format!("{path}: unknown key, ignored; did you mean `{near}`?")
            } else {
                let mut known = self.known.clone();
                known.dedup();
                format!(
                    "{path}: unknown key, ignored (known keys: {})",
                    known.join(", ")
                )
            };
            self.warnings.push(warning);
        }
        (self.problems, self.warnings)
    }
}

fn lower_keys(map: &Map<String, Value>) -> BTreeMap<String, (&str, &Value)> {
    map.iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (k.as_str(), v)))
        .collect()
}

/// What a JSON value is, for messages (`an array`).
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a config value for messages (host.json holds no secrets' values, only
/// the names of the settings that hold them).
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
