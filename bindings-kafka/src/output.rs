//! `#[kafka_output(...)]`: the attribute's options, binding them at start-up, and delivering a
//! function's records with every delivery awaited.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bindings_core::{
    Acks, AuthenticationMode, BindContext, BindingData, Compression, FunctionError, Output,
    OutputAttribute, Partitioner, Protocol, Template,
};
use futures_util::future::{BoxFuture, join_all};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message as _, OwnedHeaders};
use rdkafka::producer::FutureRecord;

use crate::literals;
use crate::options::defaults;
use crate::producer::{Producer, Producers};
use crate::{KafkaRecord, ProducerOptions};

/// How long a full local queue may delay an enqueue before the invocation fails.
const QUEUE_FULL_PATIENCE: Duration = Duration::from_secs(5);

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
    topic: String,
    broker_list: String,
    key: Option<String>,
    avro_schema: Option<String>,
    avro_key_schema: Option<String>,
    schema_registry_url: Option<String>,
    schema_registry_username: Option<String>,
    schema_registry_password: Option<String>,
    max_message_bytes: Option<u32>,
    batch_size: Option<u32>,
    enable_idempotence: Option<bool>,
    message_timeout_ms: Option<u32>,
    request_timeout_ms: Option<u32>,
    max_retries: Option<u32>,
    linger_ms: Option<u32>,
    compression: Option<Compression>,
    acks: Option<Acks>,
    partitioner: Option<Partitioner>,
    protocol: Option<Protocol>,
    authentication_mode: Option<AuthenticationMode>,
    username: Option<String>,
    password: Option<String>,
    ssl_ca_location: Option<String>,
    ssl_certificate_location: Option<String>,
    ssl_key_location: Option<String>,
    ssl_key_password: Option<String>,
    ssl_ca_pem: Option<String>,
    ssl_certificate_pem: Option<String>,
    ssl_key_pem: Option<String>,
    ssl_certificate_and_key_pem: Option<String>,
    https_ca_location: Option<String>,
    https_ca_pem: Option<String>,
    metadata_max_age_ms: Option<u32>,
    socket_keepalive_enable: Option<bool>,
    librdkafka_debug: Option<String>,
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

    /// The resolved producer options: this attribute, then host.json, then the defaults.
    fn producer_options(
        &self,
        cx: &mut BindContext<'_>,
        brokers: String,
    ) -> Option<ProducerOptions> {
        let host = cx.host_config().kafka.clone();
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
enum How {
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
    fn resolve(self, cx: &mut BindContext<'_>, option: &str, text: &str) -> Option<String> {
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
        Some(KafkaOutput {
            topic,
            key,
            producer: shared.producer,
            pending: shared.pending,
            max_message_bytes: options.max_message_bytes,
            avro_schema,
            avro_key_schema,
            registry,
        })
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

/// A bound Kafka output: its topic and key templates and its (shared) producer.
pub struct KafkaOutput {
    topic: Template,
    key: Option<Template>,
    producer: Arc<Producer>,
    /// Messages of this producer sent and not yet settled (shared by its outputs).
    pending: Arc<AtomicUsize>,
    max_message_bytes: u32,
    avro_schema: Option<apache_avro::Schema>,
    avro_key_schema: Option<apache_avro::Schema>,
    registry: Option<crate::registry::Registry>,
}

impl std::fmt::Debug for KafkaOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaOutput")
            .field("topic", &self.topic.to_string())
            .finish_non_exhaustive()
    }
}

impl Output for KafkaOutput {
    type Item = KafkaRecord;

    fn deliver<'a>(
        &'a self,
        items: Vec<KafkaRecord>,
        data: &'a BindingData,
    ) -> BoxFuture<'a, Result<(), FunctionError>> {
        Box::pin(async move {
            let topic = self
                .topic
                .render(data)
                .map_err(|e| FunctionError::retry(format!("Kafka output: {e}")).into_poison())?;
            let default_key = match &self.key {
                Some(key) => Some(key.render(data).map_err(|e| {
                    FunctionError::retry(format!("Kafka output: {e}")).into_poison()
                })?),
                None => None,
            };
            let items = self.encode(items, &topic).await?;
            let mut pending = Vec::with_capacity(items.len());
            let mut enqueue_error = None;
            for item in &items {
                match self.enqueue(&topic, default_key.as_deref(), item).await {
                    Ok(delivery) => pending.push(delivery),
                    Err(err) => {
                        enqueue_error = Some(err);
                        break;
                    }
                }
            }
            // Settle what was sent before reporting anything, so nothing is left unaccounted for.
            self.pending.fetch_add(pending.len(), Ordering::SeqCst);
            let sent = pending.len();
            let results = join_all(pending).await;
            self.pending.fetch_sub(sent, Ordering::SeqCst);
            if let Some(err) = enqueue_error {
                return Err(err);
            }
            let mut failures = Vec::new();
            for result in results {
                match result {
                    Ok(Ok(_)) => {}
                    Ok(Err((err, message))) => {
                        failures.push(format!("partition {}: {err}", message.partition()));
                    }
                    Err(_) => failures
                        .push("the producer was shut down before the delivery report".to_owned()),
                }
            }
            if failures.is_empty() {
                Ok(())
            } else {
                Err(FunctionError::retry(format!(
                    "Kafka: {} of {} message(s) to topic `{topic}` were not delivered: {}",
                    failures.len(),
                    items.len(),
                    failures.join("; ")
                )))
            }
        })
    }
}

impl KafkaOutput {
    /// Encodes Avro values and keys with the output's schemas (before anything is sent, so a bad
    /// value fails the invocation without a partial send).
    async fn encode(
        &self,
        mut items: Vec<KafkaRecord>,
        topic: &str,
    ) -> Result<Vec<KafkaRecord>, FunctionError> {
        for item in &mut items {
            if let Some(value) = item.avro.take() {
                item.value = Some(
                    self.avro(topic, "value", self.avro_schema.as_ref(), value)
                        .await?,
                );
            }
            if let Some(key) = item.avro_key.take() {
                item.key = Some(
                    self.avro(topic, "key", self.avro_key_schema.as_ref(), key)
                        .await?,
                );
            }
        }
        Ok(items)
    }

    /// One Avro value in Confluent's wire format; `part` is `value` or `key` (the registry subject's
    /// suffix).
    async fn avro(
        &self,
        topic: &str,
        part: &str,
        schema: Option<&apache_avro::Schema>,
        value: apache_avro::types::Value,
    ) -> Result<Vec<u8>, FunctionError> {
        let option = if part == "key" {
            "avro_key_schema"
        } else {
            "avro_schema"
        };
        let Some(schema) = schema else {
            return Err(FunctionError::poison(format!(
                "Kafka: an Avro {part} for topic `{topic}`, but the output has no `{option}`"
            )));
        };
        let schema_id = match &self.registry {
            None => crate::DEFAULT_SCHEMA_ID,
            Some(registry) => registry
                .id(&format!("{topic}-{part}"), &schema.canonical_form())
                .await
                .map_err(|e| FunctionError::retry(format!("Kafka: topic `{topic}`: {e}")))?,
        };
        crate::serialize::confluent_avro(schema, schema_id, value)
            .map_err(|e| FunctionError::poison(format!("Kafka: topic `{topic}`, Avro {part}: {e}")))
    }

    /// Puts one record on the producer's queue, waiting briefly while the queue is full.
    async fn enqueue(
        &self,
        topic: &str,
        default_key: Option<&str>,
        item: &KafkaRecord,
    ) -> Result<rdkafka::producer::DeliveryFuture, FunctionError> {
        let waited = std::time::Instant::now();
        loop {
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
            if let Some(value) = &item.value {
                record = record.payload(value.as_slice());
            }
            match (&item.key, default_key) {
                (Some(key), _) => record = record.key(key.as_slice()),
                (None, Some(key)) => record = record.key(key.as_bytes()),
                (None, None) => {}
            }
            if !item.headers.is_empty() {
                let headers =
                    item.headers
                        .iter()
                        .fold(OwnedHeaders::new(), |headers, (name, value)| {
                            headers.insert(Header {
                                key: name,
                                value: value.as_deref(),
                            })
                        });
                record = record.headers(headers);
            }
            if let Some(partition) = item.partition {
                record = record.partition(partition);
            }
            if let Some(timestamp) = item.timestamp {
                record = record.timestamp(timestamp);
            }
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                    if waited.elapsed() < QUEUE_FULL_PATIENCE =>
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((err, _)) => return Err(self.local_error(topic, item, &err)),
            }
        }
    }

    fn local_error(&self, topic: &str, item: &KafkaRecord, err: &KafkaError) -> FunctionError {
        let size = item.key.as_ref().map_or(0, Vec::len)
            + item.value.as_ref().map_or(0, Vec::len)
            + item
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
                .sum::<usize>();
        match err {
            KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge) => {
                FunctionError::poison(format!(
                    "Kafka: a message to topic `{topic}` is too large: {size} bytes of key, value and headers (plus \
                 overhead) exceed max_message_bytes = {}; raise max_message_bytes (and the broker's and topic's \
                 limits) or send smaller messages",
                    self.max_message_bytes
                ))
            }
            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => {
                FunctionError::retry(format!(
                    "Kafka: the producer's local queue for topic `{topic}` stayed full for {QUEUE_FULL_PATIENCE:?}; \
                 the brokers are slower than the functions produce"
                ))
            }
            other => {
                FunctionError::retry(format!("Kafka: cannot send to topic `{topic}`: {other}"))
            }
        }
    }
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
