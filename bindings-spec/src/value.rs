//! Option values by their declaration, for binding crates: one option's value whatever its kind
//! ([`Raw`]), and structs whose fields are options ([`option_fields!`](crate::option_fields)), read
//! and written by the option's declaration in a `bindings_spec` table. With them a binding's
//! host.json reader, its attribute > host.json > default layering, its `build()` checks and its
//! builder methods loop over the table instead of naming each option.
//!
//! ```
//! use std::time::Duration;
//! use bindings_spec::value::{Fields as _, Raw};
//!
//! mod table {
//!     use std::time::Duration;
//!     use bindings_spec::{DefaultValue, Kind, OptionSpec};
//!
//!     pub const OPTIONS: &[OptionSpec] = &[
//!         OptionSpec {
//!             rust: "retries",
//!             json: Some("retries"),
//!             kind: Kind::Count { min: 1, max: 10, unit: "attempts", default: DefaultValue::Value(3) },
//!             doc: "attempts before giving up",
//!             librdkafka: None,
//!             credential: false,
//!         },
//!         OptionSpec {
//!             rust: "delay",
//!             json: Some("delay"),
//!             kind: Kind::TimeSpan {
//!                 min: Duration::ZERO,
//!                 max: Duration::from_secs(60),
//!                 default: DefaultValue::Computed("none"),
//!             },
//!             doc: "the wait between attempts",
//!             librdkafka: None,
//!             credential: false,
//!         },
//!     ];
//!     pub const fn option(rust: &str) -> &'static OptionSpec {
//!         bindings_spec::find(OPTIONS, rust)
//!     }
//! }
//!
//! bindings_spec::option_fields! {
//!     lookup = table::option;
//!     /// Two options.
//!     #[derive(Clone)]
//!     pub struct Retry {
//!         pub retries: u32,
//!         pub delay: Option<Duration>,
//!     }
//! }
//!
//! let mut retry = Retry::initial();
//! assert_eq!((retry.retries, retry.delay), (3, None)); // the declared default, unset
//! assert!(retry.put(table::option("delay"), &Raw::Span(Duration::from_secs(5))));
//! assert_eq!(retry.delay, Some(Duration::from_secs(5)));
//! assert_eq!(format!("{retry:?}"), "Retry { retries: 3, delay: Some(5s) }");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::{Kind, OptionSpec, Refusal, format_timespan};

/// An option's value, as its kind holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Raw {
    /// A [`Kind::Count`].
    Count(u32),
    /// A [`Kind::TimeSpan`].
    Span(Duration),
    /// A [`Kind::Bool`].
    Flag(bool),
    /// A [`Kind::Text`] or [`Kind::Credential`].
    Text(String),
    /// A [`Kind::Choice`]: the index of its value.
    Choice(usize),
}

impl Raw {
    /// The value as text: a choice's declared name, a duration as a `TimeSpan` (`00:00:30`); this is
    /// also how librdkafka takes it.
    pub fn property(&self, option: &OptionSpec) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Span(duration) => format_timespan(*duration),
            Self::Flag(b) => b.to_string(),
            Self::Text(text) => text.clone(),
            Self::Choice(index) => option.choices()[*index].to_owned(),
        }
    }

    /// Whether this is a value of `option`'s kind.
    pub fn fits(&self, option: &OptionSpec) -> bool {
        matches!(
            (self, option.kind),
            (Self::Count(_), Kind::Count { .. })
                | (Self::Span(_), Kind::TimeSpan { .. })
                | (Self::Flag(_), Kind::Bool { .. })
                | (Self::Text(_), Kind::Text { .. } | Kind::Credential { .. })
                | (Self::Choice(_), Kind::Choice { .. })
        )
    }

    /// The default `option` declares, unless it is computed (or it has none).
    pub fn default_of(option: &OptionSpec) -> Option<Self> {
        match option.kind {
            Kind::Count { .. } => option.default_count().map(Self::Count),
            Kind::TimeSpan { .. } => option.default_duration().map(Self::Span),
            Kind::Bool { .. } => option.default_bool().map(Self::Flag),
            Kind::Choice { .. } => option.default_choice().map(Self::Choice),
            _ => None,
        }
    }

    /// Checks a count or a duration against `option`'s range (other kinds are valid by their type).
    /// The error reads "`batch_size` = 64 is out of range; use 1 to 32".
    pub fn check(&self, option: &OptionSpec) -> Result<(), String> {
        let refused: Option<Refusal> = match self {
            Self::Count(n) => option.check_count(u64::from(*n)).err(),
            Self::Span(duration) => option.check_duration(*duration).err(),
            _ => None,
        };
        match refused {
            Some(refusal) => Err(format!(
                "`{}` = {} {refusal}",
                option.rust,
                self.property(option)
            )),
            None => Ok(()),
        }
    }
}

/// What a builder method takes: a [`Plain`] value, or text.
pub trait IntoRaw {
    /// The value as a [`Raw`].
    fn into_raw(self) -> Raw;
}

impl<T: Plain> IntoRaw for T {
    fn into_raw(self) -> Raw {
        self.to_raw()
    }
}

impl IntoRaw for &str {
    fn into_raw(self) -> Raw {
        Raw::Text(self.to_owned())
    }
}

/// Options set by name (an attribute's): only those written are there.
pub type Set = BTreeMap<&'static str, Raw>;

/// A Rust type an option's value takes. A binding's choice enums get it from
/// [`plain_choices!`](crate::plain_choices).
pub trait Plain: Sized {
    /// The value as a [`Raw`].
    fn to_raw(&self) -> Raw;
    /// The value, if `raw` is of this type.
    fn from_raw(raw: &Raw) -> Option<Self>;
}

macro_rules! plain {
    ($($ty:ty => $variant:ident),*) => {$(
        impl Plain for $ty {
            fn to_raw(&self) -> Raw {
                Raw::$variant(self.clone())
            }
            fn from_raw(raw: &Raw) -> Option<Self> {
                match raw {
                    Raw::$variant(value) => Some(value.clone()),
                    _ => None,
                }
            }
        }
    )*};
}
plain!(u32 => Count, Duration => Span, bool => Flag, String => Text);

/// Implements [`Plain`] for enums that are an option's choices: each has `const ALL: [Self; N]`
/// in the order of its declaration's values.
#[macro_export]
macro_rules! plain_choices {
    ($($ty:ident),* $(,)?) => {$(
        impl $crate::value::Plain for $ty {
            fn to_raw(&self) -> $crate::value::Raw {
                $crate::value::Raw::Choice(
                    $ty::ALL.iter().position(|v| v == self).expect("ALL holds every value"),
                )
            }
            fn from_raw(raw: &$crate::value::Raw) -> Option<Self> {
                match raw {
                    $crate::value::Raw::Choice(index) => $ty::ALL.get(*index).copied(),
                    _ => None,
                }
            }
        }
    )*};
}

/// A field holding an option: `Option<T>` (unset unless written) or `T` (its declared default).
/// The `T` form is implemented for the plain types here and, by
/// [`required_slots!`](crate::required_slots), for a binding's choice enums.
pub trait Slot {
    /// The value, if set.
    fn get(&self) -> Option<Raw>;
    /// Sets the value (a `raw` of another kind is ignored: [`Raw::fits`] says which fit).
    fn put(&mut self, raw: &Raw);
    /// The value before anything is written: `None`, or the declared default.
    fn initial(option: &OptionSpec) -> Self;
}

impl<T: Plain> Slot for Option<T> {
    fn get(&self) -> Option<Raw> {
        self.as_ref().map(Plain::to_raw)
    }
    fn put(&mut self, raw: &Raw) {
        *self = T::from_raw(raw);
    }
    fn initial(_: &OptionSpec) -> Self {
        None
    }
}

/// Implements [`Slot`] for a [`Plain`] type whose field always holds a value: it starts at the
/// option's declared default (a panic names an option that declares none).
#[macro_export]
macro_rules! required_slots {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::value::Slot for $ty {
            fn get(&self) -> Option<$crate::value::Raw> {
                Some($crate::value::Plain::to_raw(self))
            }
            fn put(&mut self, raw: &$crate::value::Raw) {
                if let Some(value) = $crate::value::Plain::from_raw(raw) {
                    *self = value;
                }
            }
            fn initial(option: &$crate::OptionSpec) -> Self {
                $crate::value::Raw::default_of(option)
                    .as_ref()
                    .and_then($crate::value::Plain::from_raw)
                    .unwrap_or_else(|| panic!("`{}` declares no default", option.rust))
            }
        }
    )*};
}
required_slots!(u32, Duration, bool);

/// A struct whose fields are options (named as in their table).
pub trait Fields {
    /// The option fields' names.
    const NAMES: &'static [&'static str];
    /// `option`'s value, if this struct has it and it is set.
    fn get(&self, option: &OptionSpec) -> Option<Raw>;
    /// Sets `option`; `false` if this struct has no such field.
    fn put(&mut self, option: &OptionSpec, raw: &Raw) -> bool;

    /// Writes every option of `options` that `set` holds (an attribute's own values over
    /// host.json's).
    fn overlay(&mut self, options: &[OptionSpec], set: &Set) {
        for option in options {
            if let Some(raw) = set.get(option.rust) {
                self.put(option, raw);
            }
        }
    }

    /// The range problems of the counts and durations of `options` this struct holds (see
    /// [`Raw::check`]).
    fn range_problems(&self, options: &[OptionSpec]) -> Vec<String> {
        options
            .iter()
            .filter_map(|option| self.get(option)?.check(option).err())
            .collect()
    }
}

/// How `Debug` shows an option field: a credential as `***` when set.
pub struct Shown<'a, T>(pub &'a T, pub &'static OptionSpec);

impl<T: Slot + fmt::Debug> fmt::Debug for Shown<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.get() {
            Some(_) if self.1.credential => f.write_str("Some(\"***\")"),
            _ => self.0.fmt(f),
        }
    }
}

/// Defines a struct whose fields are options found by `lookup` (a table's
/// `const fn option(&str) -> &'static OptionSpec`), with [`Fields`] (by the fields' names), a
/// `Debug` that hides credentials and `initial` (every option unset or at its declared default).
/// Fields marked `own` are not options (`own /// docs\n brokers: String`); each option field is documented by
/// its declaration, and may add doc lines of its own. See the [module docs](crate::value).
#[macro_export]
macro_rules! option_fields {
    (
        lookup = $lookup:path;
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(own $(#[$own_meta:meta])* $own:ident: $own_ty:ty,)*
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$own_meta])* pub $own: $own_ty,)*
            $(
                #[doc = concat!("`", stringify!($field), "`: its default and range are declared in \
                                 `bindings_spec` (README's option tables).")]
                #[doc = ""]
                $(#[$field_meta])*
                pub $field: $ty,
            )*
        }

        impl $crate::value::Fields for $name {
            const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            fn get(&self, option: &$crate::OptionSpec) -> Option<$crate::value::Raw> {
                match option.rust {
                    $(stringify!($field) => $crate::value::Slot::get(&self.$field),)*
                    _ => None,
                }
            }

            fn put(&mut self, option: &$crate::OptionSpec, raw: &$crate::value::Raw) -> bool {
                match option.rust {
                    $(stringify!($field) => {
                        $crate::value::Slot::put(&mut self.$field, raw);
                        true
                    })*
                    _ => false,
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($own), &self.$own))*
                    $(.field(
                        stringify!($field),
                        &$crate::value::Shown(&self.$field, const { $lookup(stringify!($field)) }),
                    ))*
                    .finish()
            }
        }

        impl $name {
            /// Every option unset, or at its declared default.
            #[allow(dead_code)]
            fn initial($($own: $own_ty),*) -> Self {
                Self {
                    $($own,)*
                    $($field: $crate::value::Slot::initial(
                        const { $lookup(stringify!($field)) },
                    ),)*
                }
            }
        }
    };
}

/// Builder methods for options found by `lookup` (as for `option_fields!`), one per
/// `name: Type`, each writing its value into the builder's [`Set`] field `into`; and, under
/// `cfg(test)`, `const SETTERS` naming them.
#[macro_export]
macro_rules! option_setters {
    (lookup = $lookup:path; into = $into:ident; $($name:ident: $ty:ty),* $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($name), "`: its meaning, default and range are \
                             declared in `bindings_spec` (README's option tables).")]
            pub fn $name(mut self, value: $ty) -> Self {
                $crate::value::set(
                    &mut self.$into,
                    const { $lookup(stringify!($name)) },
                    $crate::value::IntoRaw::into_raw(value),
                );
                self
            }
        )*

        /// The options that have a builder method.
        #[cfg(test)]
        const SETTERS: &'static [&'static str] = &[$(stringify!($name)),*];
    };
}

/// Writes `option`'s value into `set` (what [`option_setters!`](crate::option_setters)' methods
/// call).
pub fn set(set: &mut Set, option: &'static OptionSpec, raw: Raw) {
    debug_assert!(raw.fits(option), "`{}` set with {raw:?}", option.rust);
    set.insert(option.rust, raw);
}

#[cfg(test)]
mod tests {
    use crate::queue;

    use super::*;

    #[test]
    fn values_round_trip_through_raw() {
        assert_eq!(u32::from_raw(&5u32.to_raw()), Some(5));
        assert_eq!(bool::from_raw(&true.to_raw()), Some(true));
        let second = Duration::from_secs(1);
        assert_eq!(Duration::from_raw(&second.to_raw()), Some(second));
        assert_eq!(u32::from_raw(&Raw::Flag(true)), None);
        assert_eq!(
            Raw::Span(Duration::from_secs(30)).property(&queue::VISIBILITY_TIMEOUT),
            "00:00:30"
        );
    }

    #[test]
    fn required_fields_start_at_the_declared_default_and_optional_ones_unset() {
        assert_eq!(<u32 as Slot>::initial(&queue::BATCH_SIZE), 16);
        assert_eq!(
            <Duration as Slot>::initial(&queue::RECEIVE_VISIBILITY_TIMEOUT),
            Duration::from_secs(600)
        );
        assert_eq!(<Option<u32> as Slot>::initial(&queue::BATCH_SIZE), None);
    }

    #[test]
    fn a_value_out_of_its_declared_range_is_named_with_the_range() {
        assert_eq!(Raw::Count(32).check(&queue::BATCH_SIZE), Ok(()));
        assert_eq!(
            Raw::Count(64).check(&queue::BATCH_SIZE),
            Err("`batch_size` = 64 is out of range; use 1 to 32".to_owned())
        );
        assert!(
            Raw::Span(Duration::from_millis(50))
                .check(&queue::MAX_POLLING_INTERVAL)
                .unwrap_err()
                .starts_with("`max_polling_interval` = 00:00:00.0500000 is too short")
        );
        assert_eq!(Raw::Choice(1).check(&queue::MESSAGE_ENCODING), Ok(()));
    }
}
