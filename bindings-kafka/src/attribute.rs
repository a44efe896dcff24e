//! `#[kafka_output(...)]` as a value: its options, and binding it at start-up into a
//! [`KafkaOutput`].

use std::sync::Arc;

use bindings_core::{BindContext, OutputAttribute, Template};

use crate::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};

use crate::deliver::KafkaOutput;
use crate::literals;
use crate::merge::How;
use crate::producer::Producers;
use crate::serialize::AvroEncoder;

macro_rules! setters {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty ),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.$name = Some(value.into());
                self
            }
        )*
    };
}

/// `#[kafka_output(...)]` as a value. The macro builds it; it can be built by hand too.
///
/// String options may hold `%Setting%` references. A value that names an app setting (or connection
/// string) as a whole is that setting's value; one that names none must be a valid literal of its
/// option (a `host:port` list for `broker_list`, an existing file for the `*_location` options, PEM
/// text, a URL), else `build()` fails naming the option and the setting, with a "did you mean".
/// The credentials — `username`, `password`, `ssl_key_password`, `ssl_key_pem`,
/// `ssl_certificate_and_key_pem`, `schema_registry_password` — name the app
/// setting that holds them, bare (`"ConfluentCloudPassword"`, as the seed's C# samples write it) or as
/// `"%ConfluentCloudPassword%"`; they are never taken literally. The one literal is Event Hubs'
/// `username("$ConnectionString")`. `Debug` shows which credentials are set, not their text.
///
/// ```
/// use bindings_kafka::KafkaOutputAttribute;
///
/// let output = KafkaOutputAttribute::new("orders", "BrokerList")
///     .key("{id}")
///     .enable_idempotence(true)
///     .username("ConfluentCloudUserName")
///     .password("%ConfluentCloudPassword%");
/// let debug = format!("{output:?}");
/// assert!(debug.contains("\"orders\"") && !debug.contains("ConfluentCloud"));
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct KafkaOutputAttribute {
    pub(crate) topic: String,
    pub(crate) broker_list: String,
    pub(crate) key: Option<String>,
    pub(crate) avro_schema: Option<String>,
    pub(crate) avro_key_schema: Option<String>,
    pub(crate) schema_registry_url: Option<String>,
    pub(crate) schema_registry_username: Option<String>,
    pub(crate) schema_registry_password: Option<String>,
    pub(crate) max_message_bytes: Option<u32>,
    pub(crate) batch_size: Option<u32>,
    pub(crate) enable_idempotence: Option<bool>,
    pub(crate) message_timeout_ms: Option<u32>,
    pub(crate) request_timeout_ms: Option<u32>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) linger_ms: Option<u32>,
    pub(crate) compression: Option<Compression>,
    pub(crate) acks: Option<Acks>,
    pub(crate) partitioner: Option<Partitioner>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) authentication_mode: Option<AuthenticationMode>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) ssl_ca_location: Option<String>,
    pub(crate) ssl_certificate_location: Option<String>,
    pub(crate) ssl_key_location: Option<String>,
    pub(crate) ssl_key_password: Option<String>,
    pub(crate) ssl_ca_pem: Option<String>,
    pub(crate) ssl_certificate_pem: Option<String>,
    pub(crate) ssl_key_pem: Option<String>,
    pub(crate) ssl_certificate_and_key_pem: Option<String>,
    pub(crate) https_ca_location: Option<String>,
    pub(crate) https_ca_pem: Option<String>,
    pub(crate) metadata_max_age_ms: Option<u32>,
    pub(crate) socket_keepalive_enable: Option<bool>,
    pub(crate) librdkafka_debug: Option<String>,
}

impl std::fmt::Debug for KafkaOutputAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let credentials: Vec<&str> = [
            ("username", &self.username),
            ("password", &self.password),
            ("ssl_key_password", &self.ssl_key_password),
            ("ssl_key_pem", &self.ssl_key_pem),
            (
                "ssl_certificate_and_key_pem",
                &self.ssl_certificate_and_key_pem,
            ),
            ("schema_registry_password", &self.schema_registry_password),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|_| name))
        .collect();
        f.debug_struct("KafkaOutputAttribute")
            .field("topic", &self.topic)
            .field("broker_list", &self.broker_list)
            .field("key", &self.key)
            .field("protocol", &self.protocol)
            .field("authentication_mode", &self.authentication_mode)
            .field("credentials_set", &credentials)
            .finish_non_exhaustive()
    }
}

impl KafkaOutputAttribute {
    /// Sends to `topic` (may use `%Setting%` and `{bindingData}`) on the brokers named by
    /// `broker_list` (a setting name, `%Setting%`, or a literal `host:port` list).
    pub fn new(topic: impl Into<String>, broker_list: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            broker_list: broker_list.into(),
            ..Self::default()
        }
    }

    setters! {
        /// The key of every record that does not set its own (may use `{bindingData}`).
        key: &str,
        /// An Avro schema (JSON, or `%Setting%`): `Avro<T>` values are encoded with it in Confluent's
        /// wire format (schema id 1 without a registry).
        avro_schema: &str,
        /// An Avro schema for keys set with `KafkaEvent::avro_key` (registered under `<topic>-key`).
        avro_key_schema: &str,
        /// A Confluent-compatible schema registry: `avro_schema` is registered under `<topic>-value`
        /// and its id is written into each record.
        schema_registry_url: &str,
        /// The registry's user (basic auth).
        schema_registry_username: &str,
        /// The registry's password (basic auth): the app setting holding it.
        schema_registry_password: &str,
        /// `message.max.bytes`, 1000 to 1 000 000 000. Default 1 000 000.
        max_message_bytes: u32,
        /// `batch.num.messages`. Default 10 000.
        batch_size: u32,
        /// `enable.idempotence`. Default false.
        enable_idempotence: bool,
        /// `message.timeout.ms` (0 = infinite): how long an invocation waits for delivery. Default 300 000.
        message_timeout_ms: u32,
        /// `request.timeout.ms`. Default 5000.
        request_timeout_ms: u32,
        /// `message.send.max.retries`. Default 2.
        max_retries: u32,
        /// `linger.ms`. Default 5.
        linger_ms: u32,
        /// `compression.type`. Default none.
        compression: Compression,
        /// `acks`. Default all.
        acks: Acks,
        /// `partitioner`. Default `consistent_random`.
        partitioner: Partitioner,
        /// `security.protocol`. Default plaintext.
        protocol: Protocol,
        /// `sasl.mechanism`. Default PLAIN.
        authentication_mode: AuthenticationMode,
        /// `sasl.username`: the app setting holding it (`Name` or `%Name%`), or Event Hubs'
        /// `$ConnectionString`.
        username: &str,
        /// `sasl.password`: the app setting holding it (`Name` or `%Name%`).
        password: &str,
        /// `ssl.ca.location`.
        ssl_ca_location: &str,
        /// `ssl.certificate.location`.
        ssl_certificate_location: &str,
        /// `ssl.key.location`.
        ssl_key_location: &str,
        /// `ssl.key.password`: the app setting holding it.
        ssl_key_password: &str,
        /// `ssl.ca.pem`.
        ssl_ca_pem: &str,
        /// `ssl.certificate.pem`.
        ssl_certificate_pem: &str,
        /// `ssl.key.pem`: the app setting holding it.
        ssl_key_pem: &str,
        /// The client certificate (with its chain) and its private key in one PEM, split into
        /// `ssl.certificate.pem` and `ssl.key.pem` (the extension's `SslCertificateandKeyPEM`): the app
        /// setting holding it.
        ssl_certificate_and_key_pem: &str,
        /// A PEM file with the CA certificate(s) that sign the schema registry's HTTPS certificate
        /// (trusted besides the built-in roots). The extension's `HttpsCaLocation`.
        https_ca_location: &str,
        /// The same as PEM text (the extension's `HttpsCaPem`).
        https_ca_pem: &str,
        /// `metadata.max.age.ms`.
        metadata_max_age_ms: u32,
        /// `socket.keepalive.enable`.
        socket_keepalive_enable: bool,
        /// librdkafka `debug` contexts.
        librdkafka_debug: &str,
    }
}

impl OutputAttribute for KafkaOutputAttribute {
    type Output = KafkaOutput;
    const NAME: &'static str = "kafka_output";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<KafkaOutput> {
        let topic = template(cx, "topic", &self.topic);
        let key = self.key.as_ref().map(|k| template(cx, "key", k));
        let brokers =
            cx.resolve_or_literal("broker_list", &self.broker_list, literals::broker_list);
        // Resolve every option even when the brokers are wrong, so `build()` reports all problems.
        let options = self.producer_options(cx, brokers.clone().unwrap_or_default());
        let (topic, _, options) = (topic?, brokers?, options?);
        let key = key.map_or(Some(None), |k| k.map(Some))?;
        let registry = self.registry(cx);
        let avro_schema = self
            .avro_schema
            .as_ref()
            .map(|raw| parse_schema(cx, "avro_schema", raw));
        let avro_key_schema = self
            .avro_key_schema
            .as_ref()
            .map(|raw| parse_schema(cx, "avro_key_schema", raw));
        let (registry, avro_schema, avro_key_schema) = (
            registry?,
            avro_schema.map_or(Some(None), |s| s.map(Some))?,
            avro_key_schema.map_or(Some(None), |s| s.map(Some))?,
        );
        let producers = cx.resource::<Producers>();
        let shared = producers
            .get_or_create(&options)
            .map_err(|err| {
                let err = err.to_string();
                cx.problem(format!(
                    "cannot create a Kafka producer for brokers `{}`: {err}{}",
                    options.brokers,
                    creation_hint(&err)
                ));
            })
            .ok()?;
        if producers.claim_flush_registration() {
            let producers = Arc::clone(&producers);
            cx.on_shutdown(
                "flushing Kafka producers",
                Box::new(move |left| Box::pin(async move { producers.flush(left).await })),
            );
        }
        Some(KafkaOutput::new(
            topic,
            key,
            shared,
            options.max_message_bytes,
            AvroEncoder::new(avro_schema, avro_key_schema, registry),
        ))
    }
}

impl KafkaOutputAttribute {
    /// The schema registry client, if `schema_registry_url` is set (`Some(None)`: none); `None` after
    /// recording a problem.
    fn registry(&self, cx: &mut BindContext<'_>) -> Option<Option<crate::registry::Registry>> {
        let Some(url) = &self.schema_registry_url else {
            if self.schema_registry_username.is_some() || self.schema_registry_password.is_some() {
                cx.problem(
                    "`schema_registry_username`/`schema_registry_password` are set but \
                     `schema_registry_url` is not, so they would be ignored; set the registry's URL",
                );
                return None;
            }
            if self.https_ca_location.is_some() || self.https_ca_pem.is_some() {
                cx.problem(
                    "`https_ca_location`/`https_ca_pem` are set but `schema_registry_url` is not, so they \
                     would be ignored (they are the CA of the schema registry's HTTPS certificate)",
                );
                return None;
            }
            return Some(None);
        };
        let url = cx.resolve_or_literal("schema_registry_url", url, literals::http_url);
        let user = self
            .schema_registry_username
            .as_ref()
            .and_then(|u| cx.resolve("schema_registry_username", u));
        let password = self
            .schema_registry_password
            .as_ref()
            .map(|p| cx.resolve_secret("schema_registry_password", p));
        let password = match password {
            None => None,
            Some(resolved) => Some(resolved?),
        };
        let ca = match (&self.https_ca_location, &self.https_ca_pem) {
            (Some(_), Some(_)) => {
                cx.problem("set `https_ca_location` or `https_ca_pem`, not both");
                return None;
            }
            (Some(location), None) => {
                let path = How::Path { ca: false }.resolve(cx, "https_ca_location", location)?;
                match std::fs::read(&path) {
                    Ok(pem) => Some(pem),
                    Err(e) => {
                        cx.problem(format!("`https_ca_location`: cannot read {path}: {e}"));
                        return None;
                    }
                }
            }
            (None, Some(pem)) => Some(
                How::Literal(literals::pem)
                    .resolve(cx, "https_ca_pem", pem)?
                    .into_bytes(),
            ),
            (None, None) => None,
        };
        crate::registry::Registry::new(&url?, user, password, ca.as_deref())
            .map(Some)
            .map_err(|e| cx.problem(e))
            .ok()
    }
}

/// An Avro schema option (JSON text or `%Setting%`), or `None` after recording the problem.
fn parse_schema(cx: &mut BindContext<'_>, option: &str, raw: &str) -> Option<apache_avro::Schema> {
    let text = cx.resolve_or_literal(option, raw, literals::json)?;
    apache_avro::Schema::parse_str(&text)
        .map_err(|e| cx.problem(format!("`{option}` is not a valid Avro schema: {e}")))
        .ok()
}

fn template(cx: &mut BindContext<'_>, option: &str, raw: &str) -> Option<Template> {
    let expanded = cx.expand(option, raw)?;
    Template::parse(&expanded)
        .map_err(|e| cx.problem(format!("`{option}`: {e}")))
        .ok()
}

/// What to check when librdkafka refuses to create a producer, from the property it names.
fn creation_hint(error: &str) -> &'static str {
    if error.contains("ssl.key") {
        "; check `ssl_key_location` (or `ssl_key_pem`) and `ssl_key_password`: the key must be \
         PEM, match the certificate, and open with that password"
    } else if error.contains("ssl.certificate") {
        "; check `ssl_certificate_location` (or `ssl_certificate_pem`): a PEM certificate"
    } else if error.contains("ssl.ca") {
        "; check `ssl_ca_location` (or `ssl_ca_pem`): the PEM certificate of the CA that signed \
         the brokers' certificates"
    } else {
        "; check the output's options and host.json's extensions.kafka"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_producer_says_which_options_to_check() {
        for (error, option) in [
            (
                "Client creation error: ssl.key.location failed: error:0A080009:SSL routines::PEM lib",
                "`ssl_key_password`",
            ),
            (
                "ssl.certificate.location failed",
                "`ssl_certificate_location`",
            ),
            ("ssl.ca.location failed", "`ssl_ca_location`"),
            ("No such configuration property", "extensions.kafka"),
        ] {
            assert!(creation_hint(error).contains(option), "{error}");
        }
    }
}
