//! One Kafka option's value whatever its kind ([`Raw`]), and the structs whose fields are options
//! ([`option_fields!`]): read and written by their declaration in `bindings_spec::kafka`, so the
//! host.json reader, the layering and the librdkafka mapping loop over the table instead of naming
//! each option.

use std::collections::BTreeMap;
use std::fmt;

use bindings_spec::{Kind, OptionSpec, kafka};

use crate::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};

/// An option's value, as its kind holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Raw {
    /// A [`Kind::Count`].
    Count(u32),
    /// A [`Kind::Bool`].
    Flag(bool),
    /// A [`Kind::Text`] or [`Kind::Credential`].
    Text(String),
    /// A [`Kind::Choice`]: the index of its value.
    Choice(usize),
}

impl Raw {
    /// The value as librdkafka takes it (a choice's librdkafka name).
    pub(crate) fn property(&self, option: &OptionSpec) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Flag(b) => b.to_string(),
            Self::Text(text) => text.clone(),
            Self::Choice(index) => option.choices()[*index].to_owned(),
        }
    }

    /// Whether this is a value of `option`'s kind.
    pub(crate) fn fits(&self, option: &OptionSpec) -> bool {
        matches!(
            (self, option.kind),
            (Self::Count(_), Kind::Count { .. })
                | (Self::Flag(_), Kind::Bool { .. })
                | (Self::Text(_), Kind::Text { .. } | Kind::Credential { .. })
                | (Self::Choice(_), Kind::Choice { .. })
        )
    }

    /// The default `option` declares, unless it is computed (or it has none).
    pub(crate) fn default_of(option: &OptionSpec) -> Option<Self> {
        match option.kind {
            Kind::Count { .. } => option.default_count().map(Self::Count),
            Kind::Bool { .. } => option.default_bool().map(Self::Flag),
            Kind::Choice { .. } => option.default_choice().map(Self::Choice),
            _ => None,
        }
    }
}

/// What a builder method takes: a [`Plain`] value, or text.
pub(crate) trait IntoRaw {
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
pub(crate) type Set = BTreeMap<&'static str, Raw>;

/// A Rust type an option's value takes.
pub(crate) trait Plain: Sized {
    fn to_raw(&self) -> Raw;
    fn from_raw(raw: &Raw) -> Option<Self>;
}

impl Plain for u32 {
    fn to_raw(&self) -> Raw {
        Raw::Count(*self)
    }
    fn from_raw(raw: &Raw) -> Option<Self> {
        match raw {
            Raw::Count(n) => Some(*n),
            _ => None,
        }
    }
}

impl Plain for bool {
    fn to_raw(&self) -> Raw {
        Raw::Flag(*self)
    }
    fn from_raw(raw: &Raw) -> Option<Self> {
        match raw {
            Raw::Flag(b) => Some(*b),
            _ => None,
        }
    }
}

impl Plain for String {
    fn to_raw(&self) -> Raw {
        Raw::Text(self.clone())
    }
    fn from_raw(raw: &Raw) -> Option<Self> {
        match raw {
            Raw::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

macro_rules! plain_choices {
    ($($ty:ident),*) => {$(
        impl Plain for $ty {
            fn to_raw(&self) -> Raw {
                Raw::Choice($ty::ALL.iter().position(|v| v == self).expect("ALL holds every value"))
            }
            fn from_raw(raw: &Raw) -> Option<Self> {
                match raw {
                    Raw::Choice(index) => $ty::ALL.get(*index).copied(),
                    _ => None,
                }
            }
        }
    )*};
}
plain_choices!(Acks, AuthenticationMode, Compression, Partitioner, Protocol);

/// A field holding an option: `Option<T>` (unset unless written) or `T` (its declared default).
pub(crate) trait Slot {
    fn get(&self) -> Option<Raw>;
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

macro_rules! required_slots {
    ($($ty:ty),*) => {$(
        impl Slot for $ty {
            fn get(&self) -> Option<Raw> {
                Some(self.to_raw())
            }
            fn put(&mut self, raw: &Raw) {
                if let Some(value) = Plain::from_raw(raw) {
                    *self = value;
                }
            }
            fn initial(option: &OptionSpec) -> Self {
                Raw::default_of(option)
                    .as_ref()
                    .and_then(Plain::from_raw)
                    .unwrap_or_else(|| panic!("`{}` declares no default", option.rust))
            }
        }
    )*};
}
required_slots!(u32, bool, Protocol, AuthenticationMode);

/// A struct whose fields are Kafka options (named as in `bindings_spec::kafka`).
pub(crate) trait Fields {
    /// The option fields' names.
    const NAMES: &'static [&'static str];
    /// `option`'s value, if this struct has it and it is set.
    fn get(&self, option: &OptionSpec) -> Option<Raw>;
    /// Sets `option`; `false` if this struct has no such field.
    fn put(&mut self, option: &OptionSpec, raw: &Raw) -> bool;
}

/// How `Debug` shows an option field: a credential as `***` when set.
pub(crate) struct Shown<'a, T>(pub(crate) &'a T, pub(crate) &'static str);

impl<T: Slot + fmt::Debug> fmt::Debug for Shown<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = kafka::OPTIONS
            .iter()
            .any(|option| option.rust == self.1 && option.credential);
        match self.0.get() {
            Some(_) if credential => f.write_str("Some(\"***\")"),
            _ => self.0.fmt(f),
        }
    }
}

/// Defines a struct whose fields are Kafka options, with [`Fields`] (by the fields' names), a
/// `Debug` that hides credentials and `initial` (every option unset or at its declared default).
/// Fields marked `own` are not options (`own brokers: String`); each option field is documented by
/// its declaration.
macro_rules! option_fields {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$own_meta:meta])* own $own:ident: $own_ty:ty,)*
            $(pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$own_meta])* pub $own: $own_ty,)*
            $(
                #[doc = concat!("`", stringify!($field), "`: see `bindings_spec::kafka` (README's Kafka table).")]
                pub $field: $ty,
            )*
        }

        impl $crate::value::Fields for $name {
            const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            fn get(&self, option: &::bindings_spec::OptionSpec) -> Option<$crate::value::Raw> {
                match option.rust {
                    $(stringify!($field) => $crate::value::Slot::get(&self.$field),)*
                    _ => None,
                }
            }

            fn put(&mut self, option: &::bindings_spec::OptionSpec, raw: &$crate::value::Raw) -> bool {
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
                    $(.field(stringify!($field), &$crate::value::Shown(&self.$field, stringify!($field))))*
                    .finish()
            }
        }

        impl $name {
            /// Every option unset, or at its declared default.
            fn initial($($own: $own_ty),*) -> Self {
                Self {
                    $($own,)*
                    $($field: $crate::value::Slot::initial(
                        const { ::bindings_spec::kafka::option(stringify!($field)) },
                    ),)*
                }
            }
        }
    };
}
pub(crate) use option_fields;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_raw() {
        assert_eq!(u32::from_raw(&5u32.to_raw()), Some(5));
        assert_eq!(bool::from_raw(&true.to_raw()), Some(true));
        assert_eq!(
            Partitioner::from_raw(&Partitioner::Murmur2Random.to_raw()),
            Some(Partitioner::Murmur2Random)
        );
        assert_eq!(u32::from_raw(&Raw::Flag(true)), None);
        let acks = kafka::option("acks");
        assert_eq!(Acks::None.to_raw().property(acks), "0");
    }

    #[test]
    fn required_fields_start_at_the_declared_default() {
        assert_eq!(<u32 as Slot>::initial(kafka::option("linger_ms")), 5);
        assert_eq!(
            <Protocol as Slot>::initial(kafka::option("protocol")),
            Protocol::Plaintext
        );
        assert_eq!(
            <Option<u32> as Slot>::initial(kafka::option("linger_ms")),
            None
        );
    }
}
