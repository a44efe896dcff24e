//! One option of a binding, declared once: [`OptionSpec`].

use std::fmt;
use std::time::Duration;

use crate::timespan::format_timespan;

/// One option as the attribute, host.json, the runtime checks and the docs all know it.
///
/// ```
/// use bindings_spec::queue;
///
/// assert_eq!(queue::BATCH_SIZE.rust, "batch_size");
/// assert_eq!(queue::BATCH_SIZE.json, Some("batchSize"));
/// assert!(queue::BATCH_SIZE.check_count(33).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The attribute option, builder method and field name (`batch_size`).
    pub rust: &'static str,
    /// The key in the binding's host.json section (`batchSize`); `None` for an attribute-only option.
    pub json: Option<&'static str>,
    /// What values it takes, and its default.
    pub kind: Kind,
    /// One line on what it does, for the docs.
    pub doc: &'static str,
    /// The librdkafka property it sets, where it has one.
    pub librdkafka: Option<&'static str>,
    /// Whether its value names the app setting of a secret (never printed).
    pub credential: bool,
}

/// The values an option takes, and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A whole number in `min..=max`, counted in `unit`.
    Count {
        /// The smallest allowed value.
        min: u32,
        /// The largest allowed value (`u32::MAX`: no limit but the type's).
        max: u32,
        /// What is counted (`messages`, `attempts`).
        unit: &'static str,
        /// The default.
        default: DefaultValue<u32>,
    },
    /// A duration, written as a .NET `TimeSpan` (`"00:00:30"`), in `min..=max`.
    TimeSpan {
        /// The shortest allowed value.
        min: Duration,
        /// The longest allowed value (`Duration::MAX`: no limit).
        max: Duration,
        /// The default.
        default: DefaultValue<Duration>,
    },
    /// One of a closed set of values, parsed case-insensitively.
    Choice {
        /// The Rust enum the values parse into (named under `::bindings::__private` by the macro).
        rust_type: &'static str,
        /// The values as host.json and the attribute write them.
        values: &'static [&'static str],
        /// The enum's variants, in the order of `values`.
        variants: &'static [&'static str],
        /// Per value, its accepted spellings, compared lower-cased without inner `_` and `-`
        /// (`sasl_ssl`, `SaslSsl`); empty: each value is accepted as written, in any case.
        spellings: &'static [&'static [&'static str]],
        /// Values refused on purpose, in the same comparison, each with why.
        refused: &'static [(&'static str, &'static str)],
        /// The index in `values` of the default.
        default: usize,
    },
    /// `true` or `false`.
    Bool {
        /// The default.
        default: DefaultValue<bool>,
    },
    /// Text, which may hold `%Setting%` references; `shape` says what a literal must be.
    Text {
        /// What the text is.
        shape: Shape,
    },
    /// The name of the app setting holding a secret (`Name` or `%Name%`), never the secret itself.
    Credential {
        /// The one value taken as written (Event Hubs' `$ConnectionString` username), if any.
        literal: Option<&'static str>,
    },
}

/// What a [`Kind::Text`] option's literal value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// Anything.
    Any,
    /// A template that may use `{bindingData}`.
    Template,
    /// A `host:port[,host:port…]` list; the option is required.
    BrokerList,
    /// An existing file.
    Path,
    /// An existing file or directory of CA certificates, or `probe`.
    CaPath,
    /// PEM text.
    Pem,
    /// An `http(s)://` URL.
    Url,
    /// JSON text.
    Json,
}

impl Shape {
    /// What a literal must be, in words.
    const fn allowed(self) -> &'static str {
        match self {
            Self::Any => "text",
            Self::Template => "text; may use `{bindingData}`",
            Self::BrokerList => "`host:port[,host:port…]`",
            Self::Path => "a file",
            Self::CaPath => "a file, a directory or `probe`",
            Self::Pem => "PEM text",
            Self::Url => "an `http(s)://` URL",
            Self::Json => "JSON",
        }
    }
}

/// An option's default: a value, or a rule computed from other options (described in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue<T> {
    /// This value.
    Value(T),
    /// Computed at start-up as described.
    Computed(&'static str),
}

impl<T: Copy> DefaultValue<T> {
    /// The value, or `None` for a computed default.
    pub const fn value(self) -> Option<T> {
        match self {
            Self::Value(value) => Some(value),
            Self::Computed(_) => None,
        }
    }
}

/// Why a value is refused, saying what is allowed; it shows as `is out of range; use 1 to 32`. The
/// caller puts the option and the value as written before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong: `is out of range`, `is too short`, `is too long`.
    pub problem: &'static str,
    /// What is allowed: `1 to 32`, `at least 00:00:01`.
    pub allowed: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; use {}", self.problem, self.allowed)
    }
}

impl std::error::Error for Refusal {}

impl OptionSpec {
    /// `n` if it is a whole number this option allows.
    ///
    /// # Panics
    /// If the option is not a [`Kind::Count`] (a bug in the caller, which knows the table).
    pub fn check_count(&self, n: u64) -> Result<u32, Refusal> {
        let Kind::Count { min, max, .. } = self.kind else {
            panic!("`{}` is not a count", self.rust);
        };
        match u32::try_from(n) {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(Refusal {
                problem: "is out of range",
                allowed: self.allowed(),
            }),
        }
    }

    /// `d` if it is a duration this option allows.
    ///
    /// # Panics
    /// If the option is not a [`Kind::TimeSpan`] (a bug in the caller, which knows the table).
    pub fn check_duration(&self, d: Duration) -> Result<Duration, Refusal> {
        let Kind::TimeSpan { min, max, .. } = self.kind else {
            panic!("`{}` is not a duration", self.rust);
        };
        if d < min {
            Err(Refusal {
                problem: "is too short",
                allowed: format!("at least {}", format_timespan(min)),
            })
        } else if d > max {
            Err(Refusal {
                problem: "is too long",
                allowed: format!("at most {}", format_timespan(max)),
            })
        } else {
            Ok(d)
        }
    }

    /// The index in `values` of a [`Kind::Choice`] value (any case); `None` for another value or
    /// another kind.
    pub fn choice(&self, text: &str) -> Option<usize> {
        match self.kind {
            Kind::Choice {
                values,
                spellings: [],
                ..
            } => values.iter().position(|v| v.eq_ignore_ascii_case(text)),
            Kind::Choice { spellings, .. } => {
                let key = spelling(text);
                spellings.iter().position(|s| s.contains(&key.as_str()))
            }
            _ => None,
        }
    }

    /// Why a [`Kind::Choice`] refuses `text` on purpose, if it does.
    pub fn refused(&self, text: &str) -> Option<&'static str> {
        let Kind::Choice { refused, .. } = self.kind else {
            return None;
        };
        let key = spelling(text);
        refused
            .iter()
            .find(|(value, _)| *value == key)
            .map(|(_, why)| *why)
    }

    /// Whether a [`Kind::Choice`] accepts loose spellings (any case, `_` and `-` optional).
    pub const fn loose_spelling(&self) -> bool {
        matches!(self.kind, Kind::Choice { spellings, .. } if !spellings.is_empty())
    }

    /// A [`Kind::Choice`]'s values (empty for another kind).
    pub const fn choices(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Choice { values, .. } => values,
            _ => &[],
        }
    }

    /// A [`Kind::Count`]'s default, unless computed.
    pub fn default_count(&self) -> Option<u32> {
        match self.kind {
            Kind::Count { default, .. } => default.value(),
            _ => None,
        }
    }

    /// A [`Kind::TimeSpan`]'s default, unless computed.
    pub fn default_duration(&self) -> Option<Duration> {
        match self.kind {
            Kind::TimeSpan { default, .. } => default.value(),
            _ => None,
        }
    }

    /// A [`Kind::Bool`]'s default, unless computed.
    pub fn default_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool { default } => default.value(),
            _ => None,
        }
    }

    /// Whether a [`Kind::Text`] option must be set (it has no default).
    pub const fn required(&self) -> bool {
        matches!(
            self.kind,
            Kind::Text {
                shape: Shape::BrokerList
            }
        )
    }

    /// The index in `values` of a [`Kind::Choice`]'s default.
    pub fn default_choice(&self) -> Option<usize> {
        match self.kind {
            Kind::Choice { default, .. } => Some(default),
            _ => None,
        }
    }

    /// The allowed values in words: `1 to 32`, `at least 1`, `00:00:01 to 7.00:00:00`, `base64 or none`.
    pub fn allowed(&self) -> String {
        match self.kind {
            Kind::Count { min, max, .. } if max == u32::MAX => format!("at least {min}"),
            Kind::Count { min, max, .. } => format!("{min} to {max}"),
            Kind::TimeSpan { min, max, .. } if max == Duration::MAX => {
                format!("at least {}", format_timespan(min))
            }
            Kind::TimeSpan { min, max, .. } => {
                format!("{} to {}", format_timespan(min), format_timespan(max))
            }
            Kind::Choice { values, .. } => match values.split_last() {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            },
            Kind::Bool { .. } => "true or false".to_owned(),
            Kind::Text { shape } => shape.allowed().to_owned(),
            Kind::Credential { literal: None } => "an app setting's name".to_owned(),
            Kind::Credential {
                literal: Some(literal),
            } => format!("an app setting's name, or `{literal}`"),
        }
    }

    /// The default in words, as the docs show it: `16`, `00:10:00`, `base64`, or the rule.
    pub fn default_text(&self) -> String {
        match self.kind {
            Kind::Count { default, .. } => match default {
                DefaultValue::Value(n) => n.to_string(),
                DefaultValue::Computed(rule) => rule.to_owned(),
            },
            Kind::TimeSpan { default, .. } => match default {
                DefaultValue::Value(d) => format_timespan(d),
                DefaultValue::Computed(rule) => rule.to_owned(),
            },
            Kind::Choice {
                values, default, ..
            } => values[default].to_owned(),
            Kind::Bool { default } => match default {
                DefaultValue::Value(b) => b.to_string(),
                DefaultValue::Computed(rule) => rule.to_owned(),
            },
            Kind::Text { .. } if self.required() => "required".to_owned(),
            Kind::Text { .. } | Kind::Credential { .. } => "none".to_owned(),
        }
    }

    /// An option without a host.json key, librdkafka property or credential flag (set them with
    /// [`in_host_json`](Self::in_host_json) and [`librdkafka`](Self::with_librdkafka)); a
    /// [`Kind::Credential`] is a credential.
    pub const fn new(rust: &'static str, kind: Kind, doc: &'static str) -> Self {
        Self {
            rust,
            json: None,
            kind,
            doc,
            librdkafka: None,
            credential: matches!(kind, Kind::Credential { .. }),
        }
    }

    /// This option with host.json key `json`.
    pub const fn in_host_json(mut self, json: &'static str) -> Self {
        self.json = Some(json);
        self
    }

    /// This option with librdkafka property `key`.
    pub const fn with_librdkafka(mut self, key: &'static str) -> Self {
        self.librdkafka = Some(key);
        self
    }
}

/// A [`Kind::Count`] with a default value.
pub const fn count(min: u32, max: u32, unit: &'static str, default: u32) -> Kind {
    Kind::Count {
        min,
        max,
        unit,
        default: DefaultValue::Value(default),
    }
}

/// The option of `options` named `rust` (a `const` lookup: a wrong name fails the build).
///
/// # Panics
/// If no option has that name.
pub const fn find(options: &'static [OptionSpec], rust: &str) -> &'static OptionSpec {
    let mut i = 0;
    while i < options.len() {
        if same(options[i].rust, rust) {
            return &options[i];
        }
        i += 1;
    }
    panic!("no option of that name in the table");
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `text` lower-cased without inner `_` and `-`: the spelling loose choices are compared in.
pub(crate) fn spelling(text: &str) -> String {
    text.char_indices()
        .filter(|&(i, c)| i == 0 || (c != '_' && c != '-'))
        .map(|(_, c)| c.to_ascii_lowercase())
        .collect()
}

/// The Markdown table of a binding's options, as README.md shows it (a test keeps the two equal):
/// the host.json key (`—` for attribute-only options), the attribute option, default, allowed
/// values, the librdkafka property when any option has one, and the doc line.
///
/// ```
/// let table = bindings_spec::markdown_table("queues", bindings_spec::queue::OPTIONS);
/// assert!(table.contains("| `batchSize` | `batch_size` | 16 | 1 to 32 messages |"));
/// ```
pub fn markdown_table(section: &str, options: &[OptionSpec]) -> String {
    let librdkafka = options.iter().any(|o| o.librdkafka.is_some());
    let (head, rule) = if librdkafka {
        (" librdkafka |", "---|")
    } else {
        ("", "")
    };
    let mut table = format!(
        "| `extensions.{section}` | attribute | default | allowed |{head} |\n|---|---|---|---|{rule}---|\n"
    );
    for option in options {
        let unit = match option.kind {
            Kind::Count { unit, .. } if !unit.is_empty() => format!(" {unit}"),
            _ => String::new(),
        };
        let json = option
            .json
            .map_or_else(|| "—".to_owned(), |j| format!("`{j}`"));
        let key = match (librdkafka, option.librdkafka) {
            (false, _) => String::new(),
            (true, Some(key)) => format!(" `{key}` |"),
            (true, None) => " — |".to_owned(),
        };
        table.push_str(&format!(
            "| {json} | `{}` | {} | {}{unit} |{key} {} |\n",
            option.rust,
            option.default_text(),
            option.allowed(),
            option.doc
        ));
    }
    table
}
