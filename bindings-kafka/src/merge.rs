//! One output's producer options merged: the attribute, then host.json's `extensions.kafka`, then
//! the defaults; `%Setting%` references resolved and the combinations checked.

use bindings_core::BindContext;

use crate::attribute::KafkaOutputAttribute;
use crate::literals;
use crate::options::defaults;
use crate::{Acks, AuthenticationMode, KafkaOptions, ProducerOptions, Protocol};

impl KafkaOutputAttribute {
    /// The resolved producer options: this attribute, then host.json, then the defaults.
    pub(crate) fn producer_options(
        &self,
        cx: &mut BindContext<'_>,
        brokers: String,
    ) -> Option<ProducerOptions> {
        let host = cx.host_config().extension::<KafkaOptions>();
        let mut o = ProducerOptions::new(brokers);
        o.max_message_bytes = self
            .max_message_bytes
            .or(host.max_message_bytes)
            .unwrap_or(defaults::MAX_MESSAGE_BYTES);
        o.batch_size = self
            .batch_size
            .or(host.batch_size)
            .unwrap_or(defaults::BATCH_SIZE);
        o.enable_idempotence = self
            .enable_idempotence
            .or(host.enable_idempotence)
            .unwrap_or(false);
        o.message_timeout_ms = self
            .message_timeout_ms
            .or(host.message_timeout_ms)
            .unwrap_or(defaults::MESSAGE_TIMEOUT_MS);
        o.request_timeout_ms = self
            .request_timeout_ms
            .or(host.request_timeout_ms)
            .unwrap_or(defaults::REQUEST_TIMEOUT_MS);
        o.max_retries = self
            .max_retries
            .or(host.max_retries)
            .unwrap_or(defaults::MAX_RETRIES);
        o.linger_ms = self
            .linger_ms
            .or(host.linger_ms)
            .unwrap_or(defaults::LINGER_MS);
        o.compression = self.compression.or(host.compression);
        o.acks = self.acks.or(host.acks);
        o.partitioner = self.partitioner.or(host.partitioner);
        o.protocol = self
            .protocol
            .or(host.protocol)
            .unwrap_or(Protocol::Plaintext);
        o.authentication_mode = self
            .authentication_mode
            .or(host.authentication_mode)
            .unwrap_or(AuthenticationMode::Plain);
        o.metadata_max_age_ms = self.metadata_max_age_ms.or(host.metadata_max_age_ms);
        o.socket_keepalive_enable = self
            .socket_keepalive_enable
            .or(host.socket_keepalive_enable);
        let mut text = |option: &str, own: &Option<String>, host: Option<String>, how: How| {
            let value = own.clone().or(host)?;
            how.resolve(cx, option, &value)
        };
        o.username = text(
            "username",
            &self.username,
            host.username.clone(),
            How::Username,
        );
        o.password = text(
            "password",
            &self.password,
            host.password.clone(),
            How::Secret,
        );
        o.ssl_ca_location = text(
            "ssl_ca_location",
            &self.ssl_ca_location,
            host.ssl_ca_location.clone(),
            How::Path { ca: true },
        );
        o.ssl_certificate_location = text(
            "ssl_certificate_location",
            &self.ssl_certificate_location,
            host.ssl_certificate_location.clone(),
            How::Path { ca: false },
        );
        o.ssl_key_location = text(
            "ssl_key_location",
            &self.ssl_key_location,
            host.ssl_key_location.clone(),
            How::Path { ca: false },
        );
        o.ssl_key_password = text(
            "ssl_key_password",
            &self.ssl_key_password,
            host.ssl_key_password.clone(),
            How::Secret,
        );
        let pem = How::Literal(literals::pem);
        o.ssl_ca_pem = text("ssl_ca_pem", &self.ssl_ca_pem, None, pem);
        o.ssl_certificate_pem = text("ssl_certificate_pem", &self.ssl_certificate_pem, None, pem);
        o.ssl_key_pem = text("ssl_key_pem", &self.ssl_key_pem, None, How::Secret);
        let certificate_and_key = text(
            "ssl_certificate_and_key_pem",
            &self.ssl_certificate_and_key_pem,
            None,
            How::Secret,
        );
        o.debug = text(
            "librdkafka_debug",
            &self.librdkafka_debug,
            host.librdkafka_debug.clone(),
            How::Any,
        );
        if let Some(both) = certificate_and_key {
            split_certificate_and_key(cx, &both, &mut o);
        }
        let credentials_given = (self.username.is_some() || host.username.is_some())
            && (self.password.is_some() || host.password.is_some());
        check(cx, &o, credentials_given).then_some(o)
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
    /// A credential: the app setting it names, never a literal.
    Secret,
    /// A credential, or Event Hubs' literal `$ConnectionString`.
    Username,
}

impl How {
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
            Self::Username if text == literals::EVENT_HUBS_USERNAME => Some(text.to_owned()),
            Self::Secret | Self::Username => cx.resolve_secret(option, text),
        }
    }
}

/// `ssl_certificate_and_key_pem` into `ssl_certificate_pem` and `ssl_key_pem`, which it must not
/// be combined with.
fn split_certificate_and_key(cx: &mut BindContext<'_>, both: &str, o: &mut ProducerOptions) {
    let set = names_of_set(&[
        ("ssl_certificate_pem", o.ssl_certificate_pem.is_some()),
        ("ssl_key_pem", o.ssl_key_pem.is_some()),
        (
            "ssl_certificate_location",
            o.ssl_certificate_location.is_some(),
        ),
        ("ssl_key_location", o.ssl_key_location.is_some()),
    ]);
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
            o.ssl_certificate_pem = Some(certificate);
            o.ssl_key_pem = Some(key);
        }
        Err(missing) => cx.problem(format!(
            "`ssl_certificate_and_key_pem`: the app setting {missing}; it must hold the client's \
             certificate (with its chain) and its private key, in PEM"
        )),
    }
}

/// The names of the options that are set.
fn names_of_set(options: &[(&'static str, bool)]) -> Vec<&'static str> {
    options
        .iter()
        .filter_map(|(name, set)| set.then_some(*name))
        .collect()
}

/// Combinations librdkafka would reject late, or in which options would be dropped silently.
/// `credentials_given` says whether `username` and `password` were written at all (one that was
/// written and not resolved is already a problem of its own).
fn check(cx: &mut BindContext<'_>, o: &ProducerOptions, credentials_given: bool) -> bool {
    let mut ok = true;
    let mut problem = |message: String| {
        cx.problem(message);
        ok = false;
    };
    if !(1_000..=1_000_000_000).contains(&o.max_message_bytes) {
        problem(format!(
            "max_message_bytes {} is out of range; use 1000 to 1000000000",
            o.max_message_bytes
        ));
    }
    if o.uses_sasl() && !credentials_given {
        problem(format!(
            "protocol {} with {} needs `username` and `password` (each the name of the app setting that \
             holds it)",
            o.protocol, o.authentication_mode
        ));
    }
    if !o.uses_sasl() && (o.username.is_some() || o.password.is_some()) {
        problem(format!(
            "`username`/`password` are set but protocol {} does not use SASL; set protocol = \"SaslSsl\" (or \"SaslPlaintext\")",
            o.protocol
        ));
    }
    let tls = names_of_set(&[
        ("ssl_ca_location", o.ssl_ca_location.is_some()),
        (
            "ssl_certificate_location",
            o.ssl_certificate_location.is_some(),
        ),
        ("ssl_key_location", o.ssl_key_location.is_some()),
        ("ssl_key_password", o.ssl_key_password.is_some()),
        ("ssl_ca_pem", o.ssl_ca_pem.is_some()),
        ("ssl_certificate_pem", o.ssl_certificate_pem.is_some()),
        ("ssl_key_pem", o.ssl_key_pem.is_some()),
    ]);
    if !o.uses_tls() && !tls.is_empty() {
        problem(format!(
            "`{}` set, but protocol {} does not use TLS, so librdkafka would ignore them; set protocol = \
             \"Ssl\" or \"SaslSsl\", or remove them",
            tls.join("`, `"),
            o.protocol
        ));
    }
    if o.enable_idempotence && matches!(o.acks, Some(Acks::None | Acks::Leader)) {
        problem("enable_idempotence requires acks = \"all\"".to_owned());
    }
    ok
}
