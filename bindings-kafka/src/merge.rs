//! One binding's client options merged: the attribute, then host.json's `extensions.kafka`, then
//! the defaults; `%Setting%` references resolved and the combinations checked.

use bindings_core::BindContext;
use bindings_spec::{Kind, OptionSpec, Shape, kafka};

use bindings_spec::value::Plain as _;

use crate::config::ClientOptions;
use crate::literals;
use crate::value::{Fields, Raw, Set};
use crate::{Acks, KafkaOptions};

/// The resolved options of a client whose attribute set `own`, starting from `o` (the declared
/// defaults): each of its options from `own`, else host.json's `host`, else the default; text
/// resolved as its declaration says. `None` after recording the problems.
pub(crate) fn client_options<O: ClientOptions>(
    cx: &mut BindContext<'_>,
    mut o: O,
    own: &Set,
    host: &KafkaOptions,
) -> Option<O> {
    layer(cx, &mut o, O::TABLE, own, host);
    let layered = |option: &OptionSpec| own.get(option.rust).cloned().or_else(|| host.get(option));
    let both = kafka::option("ssl_certificate_and_key_pem");
    if let Some(Raw::Text(text)) = layered(both)
        && let Some(both) = How::of(both).resolve(cx, both.rust, &text)
    {
        split_certificate_and_key(cx, &both, &mut o);
    }
    let given = |name: &str| layered(kafka::option(name)).is_some();
    let credentials_given = given("username") && given("password");
    check(cx, &o, credentials_given).then_some(o)
}

/// Sets each of `o`'s fields that is an option of `table` from `own` (the attribute's), else from
/// host.json's `host`; fields neither sets keep their value. Text is resolved as its declaration
/// says; one that cannot be is recorded as a problem in `cx` and left unset.
pub(crate) fn layer<F: Fields>(
    cx: &mut BindContext<'_>,
    o: &mut F,
    table: &[OptionSpec],
    own: &Set,
    host: &KafkaOptions,
) {
    for option in table {
        if !F::NAMES.contains(&option.rust) {
            continue;
        }
        let raw = match own.get(option.rust).cloned().or_else(|| host.get(option)) {
            None => continue,
            Some(Raw::Text(text)) => match How::of(option).resolve(cx, option.rust, &text) {
                Some(value) => Raw::Text(value),
                None => continue,
            },
            Some(raw) => raw,
        };
        o.put(option, &raw);
    }
}

/// How an option's text becomes its value.
#[derive(Clone, Copy)]
pub(crate) enum How {
    /// A setting's name, `%Setting%`, or any literal.
    Any,
    /// A setting's name, `%Setting%`, or a literal the check accepts.
    Literal(fn(&str) -> Result<(), String>),
    /// A file path (a CA may also be a directory or `probe`), relative to the app root.
    Path { ca: bool },
    /// A credential: the app setting it names, never a literal but `literal` (Event Hubs'
    /// `$ConnectionString` username).
    Secret { literal: Option<&'static str> },
}

impl How {
    /// How `option`'s declaration says its text is read.
    pub(crate) fn of(option: &OptionSpec) -> Self {
        match option.kind {
            Kind::Credential { literal } => Self::Secret { literal },
            Kind::Text { shape } => match shape {
                Shape::Path => Self::Path { ca: false },
                Shape::CaPath => Self::Path { ca: true },
                Shape::Pem => Self::Literal(literals::pem),
                Shape::Url => Self::Literal(literals::http_url),
                Shape::Json => Self::Literal(literals::json),
                Shape::BrokerList => Self::Literal(literals::broker_list),
                _ => Self::Any,
            },
            _ => Self::Any,
        }
    }

    pub(crate) fn resolve(
        self,
        cx: &mut BindContext<'_>,
        option: &str,
        text: &str,
    ) -> Option<String> {
        match self {
            Self::Any => cx.resolve(option, text),
            Self::Literal(check) => cx.resolve_or_literal(option, text, check),
            Self::Path { ca } => {
                let root = cx.app_root();
                let path = cx.resolve_or_literal(option, text, |path| {
                    literals::existing_path(&root, path, ca)
                })?;
                Some(literals::from_app_root(&root, &path, ca))
            }
            Self::Secret { literal } if literal == Some(text) => Some(text.to_owned()),
            Self::Secret { .. } => cx.resolve_secret(option, text),
        }
    }
}

/// `ssl_certificate_and_key_pem` into `ssl_certificate_pem` and `ssl_key_pem`, which it must not
/// be combined with.
fn split_certificate_and_key(cx: &mut BindContext<'_>, both: &str, o: &mut impl Fields) {
    let set = names_of_set(
        o,
        &[
            "ssl_certificate_pem",
            "ssl_key_pem",
            "ssl_certificate_location",
            "ssl_key_location",
        ],
    );
    if !set.is_empty() {
        cx.problem(format!(
            "`ssl_certificate_and_key_pem` holds the client certificate and key, so `{}` must not be set \
             too; set one or the other",
            set.join("`, `")
        ));
        return;
    }
    match literals::certificate_and_key(both) {
        Ok((certificate, key)) => {
            o.put(
                kafka::option("ssl_certificate_pem"),
                &Raw::Text(certificate),
            );
            o.put(kafka::option("ssl_key_pem"), &Raw::Text(key));
        }
        Err(missing) => cx.problem(format!(
            "`ssl_certificate_and_key_pem`: the app setting {missing}; it must hold the client's \
             certificate (with its chain) and its private key, in PEM"
        )),
    }
}

/// The names of those of `names` that are set in `o`.
fn names_of_set(o: &impl Fields, names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        .filter(|name| o.get(kafka::option(name)).is_some())
        .collect()
}

/// Combinations librdkafka would reject late, or in which options would be dropped silently.
/// `credentials_given` says whether `username` and `password` were written at all (one that was
/// written and not resolved is already a problem of its own).
fn check<O: ClientOptions>(cx: &mut BindContext<'_>, o: &O, credentials_given: bool) -> bool {
    let mut ok = true;
    let mut problem = |message: String| {
        cx.problem(message);
        ok = false;
    };
    for range in o.range_problems(O::TABLE) {
        problem(range);
    }
    if o.uses_sasl() && !credentials_given {
        problem(format!(
            "protocol {} with {} needs `username` and `password` (each the name of the app setting that \
             holds it)",
            o.protocol(),
            o.get(kafka::option("authentication_mode"))
                .map(|mode| mode.property(kafka::option("authentication_mode")))
                .unwrap_or_default()
        ));
    }
    if !o.uses_sasl() && !names_of_set(o, &["username", "password"]).is_empty() {
        problem(format!(
            "`username`/`password` are set but protocol {} does not use SASL; set protocol = \"SaslSsl\" (or \"SaslPlaintext\")",
            o.protocol()
        ));
    }
    let tls: Vec<&str> = O::TABLE
        .iter()
        .filter(|option| option.librdkafka.is_some_and(|key| key.starts_with("ssl.")))
        .filter(|option| o.get(option).is_some())
        .map(|option| option.rust)
        .collect();
    if !o.uses_tls() && !tls.is_empty() {
        problem(format!(
            "`{}` set, but protocol {} does not use TLS, so librdkafka would ignore them; set protocol = \
             \"Ssl\" or \"SaslSsl\", or remove them",
            tls.join("`, `"),
            o.protocol()
        ));
    }
    let acks = o.get(kafka::option("acks"));
    if o.get(kafka::option("enable_idempotence")) == Some(Raw::Flag(true))
        && matches!(
            acks.as_ref().and_then(Acks::from_raw),
            Some(Acks::None | Acks::Leader)
        )
    {
        problem("enable_idempotence requires acks = \"all\"".to_owned());
    }
    ok
}
