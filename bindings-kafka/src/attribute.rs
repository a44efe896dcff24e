//! `#[kafka_output(...)]` as a value: its options, and binding it at start-up into a
//! [`KafkaOutput`].

use std::collections::BTreeMap;

use bindings_core::{BindContext, OutputAttribute, Template};
use bindings_spec::kafka;

use crate::metrics::OutputTelemetry;
use crate::{
    Acks, AuthenticationMode, Compression, KafkaOptions, Partitioner, ProducerOptions, Protocol,
};

use crate::deliver::KafkaOutput;
use crate::literals;
use crate::merge::{How, client_options};
use crate::producer::Producers;
use crate::serialize::AvroEncoder;
use crate::value::{Raw, Set, setters};

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
    /// The options set, by name.
    pub(crate) options: Set,
}

impl std::fmt::Debug for KafkaOutputAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = || {
            kafka::OPTIONS
                .iter()
                .filter_map(|option| Some((option, self.options.get(option.rust)?)))
        };
        let options: BTreeMap<&str, String> = set()
            .filter(|(option, _)| !option.credential)
            .map(|(option, raw)| (option.rust, raw.property(option)))
            .collect();
        let credentials: Vec<&str> = set()
            .filter(|(option, _)| option.credential)
            .map(|(option, _)| option.rust)
            .collect();
        f.debug_struct("KafkaOutputAttribute")
            .field("topic", &self.topic)
            .field("broker_list", &self.broker_list)
            .field("options", &options)
            .field("credentials_set", &credentials)
            .finish()
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

    /// A text option's value, if set.
    fn text(&self, name: &str) -> Option<&str> {
        text(&self.options, name)
    }

    setters! {
        key: &str,
        avro_schema: &str,
        avro_key_schema: &str,
        schema_registry_url: &str,
        schema_registry_username: &str,
        schema_registry_password: &str,
        max_message_bytes: u32,
        batch_size: u32,
        enable_idempotence: bool,
        message_timeout_ms: u32,
        request_timeout_ms: u32,
        max_retries: u32,
        linger_ms: u32,
        compression: Compression,
        acks: Acks,
        partitioner: Partitioner,
        protocol: Protocol,
        authentication_mode: AuthenticationMode,
        username: &str,
        password: &str,
        ssl_ca_location: &str,
        ssl_certificate_location: &str,
        ssl_key_location: &str,
        ssl_key_password: &str,
        ssl_ca_pem: &str,
        ssl_certificate_pem: &str,
        ssl_key_pem: &str,
        ssl_certificate_and_key_pem: &str,
        https_ca_location: &str,
        https_ca_pem: &str,
        metadata_max_age_ms: u32,
        socket_keepalive_enable: bool,
        librdkafka_debug: &str,
    }
}

impl OutputAttribute for KafkaOutputAttribute {
    type Output = KafkaOutput;
    const NAME: &'static str = "kafka_output";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<KafkaOutput> {
        let topic = template(cx, "topic", &self.topic);
        let key = self.text("key").map(|k| template(cx, "key", k));
        let brokers =
            cx.resolve_or_literal("broker_list", &self.broker_list, literals::broker_list);
        // Resolve every option even when the brokers are wrong, so `build()` reports all problems.
        let host = cx.host_config().extension::<KafkaOptions>();
        let options = client_options(
            cx,
            ProducerOptions::new(brokers.clone().unwrap_or_default()),
            &self.options,
            &host,
        );
        let (topic, _, options) = (topic?, brokers?, options?);
        let key = key.map_or(Some(None), |k| k.map(Some))?;
        let registry = schema_registry(cx, &self.options);
        let avro_schema = self
            .text("avro_schema")
            .map(|raw| parse_schema(cx, "avro_schema", raw));
        let avro_key_schema = self
            .text("avro_key_schema")
            .map(|raw| parse_schema(cx, "avro_key_schema", raw));
        let (registry, avro_schema, avro_key_schema) = (
            registry?,
            avro_schema.map_or(Some(None), |s| s.map(Some))?,
            avro_key_schema.map_or(Some(None), |s| s.map(Some))?,
        );
        let shared = Producers::bound(cx, &options)?;
        let fixed = topic.is_static().then(|| topic.to_string());
        let telemetry = OutputTelemetry::bind(cx, fixed.as_deref());
        Some(KafkaOutput::new(
            topic,
            key,
            shared,
            options.max_message_bytes,
            AvroEncoder::new(avro_schema, avro_key_schema, registry),
            telemetry,
        ))
    }
}

/// Text option `name` of `options`, if set.
pub(crate) fn text<'a>(options: &'a Set, name: &str) -> Option<&'a str> {
    match options.get(kafka::option(name).rust) {
        Some(Raw::Text(text)) => Some(text),
        _ => None,
    }
}

/// The schema registry client the `schema_registry_*` and `https_ca_*` options of `options`
/// describe, if `schema_registry_url` is set (`Some(None)`: none); `None` after recording a
/// problem. The output's and the trigger's alike.
pub(crate) fn schema_registry(
    cx: &mut BindContext<'_>,
    options: &Set,
) -> Option<Option<crate::registry::Registry>> {
    let text = |name: &str| text(options, name);
    let Some(url) = text("schema_registry_url") else {
        if text("schema_registry_username").is_some() || text("schema_registry_password").is_some()
        {
            cx.problem(
                    "`schema_registry_username`/`schema_registry_password` are set but \
                     `schema_registry_url` is not, so they would be ignored; set the registry's URL",
                );
            return None;
        }
        if text("https_ca_location").is_some() || text("https_ca_pem").is_some() {
            cx.problem(
                    "`https_ca_location`/`https_ca_pem` are set but `schema_registry_url` is not, so they \
                     would be ignored (they are the CA of the schema registry's HTTPS certificate)",
                );
            return None;
        }
        return Some(None);
    };
    let url = cx.resolve_or_literal("schema_registry_url", url, literals::http_url);
    let user =
        text("schema_registry_username").and_then(|u| cx.resolve("schema_registry_username", u));
    let password =
        text("schema_registry_password").map(|p| cx.resolve_secret("schema_registry_password", p));
    let password = match password {
        None => None,
        Some(resolved) => Some(resolved?),
    };
    let ca = match (text("https_ca_location"), text("https_ca_pem")) {
        (Some(_), Some(_)) => {
            cx.problem("set `https_ca_location` or `https_ca_pem`, not both");
            return None;
        }
        (Some(location), None) => {
            let path = How::of(kafka::option("https_ca_location")).resolve(
                cx,
                "https_ca_location",
                location,
            )?;
            match std::fs::read(&path) {
                Ok(pem) => Some(pem),
                Err(e) => {
                    cx.problem(format!("`https_ca_location`: cannot read {path}: {e}"));
                    return None;
                }
            }
        }
        (None, Some(pem)) => Some(
            How::of(kafka::option("https_ca_pem"))
                .resolve(cx, "https_ca_pem", pem)?
                .into_bytes(),
        ),
        (None, None) => None,
    };
    crate::registry::Registry::new(&url?, user, password, ca.as_deref())
        .map(Some)
        .map_err(|e| cx.problem(e.chain()))
        .ok()
}

/// An Avro schema option (JSON text or `%Setting%`), or `None` after recording the problem.
pub(crate) fn parse_schema(
    cx: &mut BindContext<'_>,
    option: &str,
    raw: &str,
) -> Option<apache_avro::Schema> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_but_the_brokers_has_a_builder_method() {
        let mut expected: Vec<&str> = kafka::OPTIONS
            .iter()
            .filter(|option| !option.required())
            .map(|option| option.rust)
            .collect();
        let mut setters = KafkaOutputAttribute::SETTERS.to_vec();
        expected.sort_unstable();
        setters.sort_unstable();
        assert_eq!(setters, expected);
    }
}
