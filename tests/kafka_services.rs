//! Proves that the secured Kafka services `cargo xtask services up` starts are real, with
//! librdkafka as the client: SASL SCRAM-SHA-256 and -512 (`kafka-scram`), mutual TLS through
//! stunnel (`kafka-tls`) and SASL SCRAM over TLS (`kafka-sasl-ssl`) each create a topic,
//! produce a record and consume it back; wrong credentials fail with a clear error.
//!
//! librdkafka reports connection and authentication failures in its logs and error events,
//! not as the result of a call (a produce just times out), so the negative tests record both
//! with [`Recorder`], wait for the expected text, and also check that the produce fails. (The
//! text comes first as a warning log, e.g. `SASL authentication error: SASL SCRAM
//! authentication failed: broker responded with invalid-proof`.)

mod support;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

/// Upper bound for every wait on a service.
const WAIT: Duration = Duration::from_secs(30);
/// How long a produce that cannot succeed may try (`message.timeout.ms`).
const DOOMED_PRODUCE_MS: &str = "2000";

/// Client settings, as `(key, value)` pairs.
type Settings = Vec<(&'static str, String)>;

/// Collects a client's error events and warning logs, in order, for the negative tests.
#[derive(Clone)]
struct Recorder {
    events: mpsc::UnboundedSender<String>,
}

impl Recorder {
    fn new() -> (Self, mpsc::UnboundedReceiver<String>) {
        let (events, received) = mpsc::unbounded_channel();
        (Self { events }, received)
    }
}

impl ClientContext for Recorder {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        use RDKafkaLogLevel::{Alert, Critical, Emerg, Error, Warning};
        if matches!(level, Emerg | Alert | Critical | Error | Warning) {
            let _ = self.events.send(format!("log {fac}: {log_message}"));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let _ = self.events.send(format!("error {error}: {reason}"));
    }
}

fn config(settings: &Settings) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in settings {
        config.set(*key, value);
    }
    config
}

/// `settings` plus `more`.
fn with(settings: &Settings, more: &[(&'static str, &str)]) -> Settings {
    let mut all = settings.clone();
    all.extend(more.iter().map(|(key, value)| (*key, (*value).to_owned())));
    all
}

/// Settings for SASL SCRAM with `mechanism` (`SCRAM-SHA-256`/`-512`) over `protocol`.
fn sasl(protocol: &str, brokers: &str, mechanism: &str, user: &str, password: &str) -> Settings {
    vec![
        ("bootstrap.servers", brokers.to_owned()),
        ("security.protocol", protocol.to_owned()),
        ("sasl.mechanism", mechanism.to_owned()),
        ("sasl.username", user.to_owned()),
        ("sasl.password", password.to_owned()),
    ]
}

/// Create a fresh topic, produce one record to it and consume it back, all with `settings`
/// (which say where the broker is and how to connect and authenticate).
async fn round_trip(settings: &Settings) {
    let topic = support::unique("t");

    // Tansu does not auto-create topics: CreateTopics, authenticated like everything else.
    let admin: AdminClient<_> = config(settings).create().expect("admin client");
    let new_topic = NewTopic::new(&topic, 1, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(WAIT));
    let created = timeout(WAIT, admin.create_topics([&new_topic], &options))
        .await
        .unwrap_or_else(|_| panic!("creating {topic}: no answer within {WAIT:?}"))
        .unwrap_or_else(|err| panic!("creating {topic}: {err}"));
    for result in created {
        result.unwrap_or_else(|(name, err)| panic!("creating topic {name}: {err}"));
    }

    let producer: FutureProducer = config(&with(settings, &[("message.timeout.ms", "30000")]))
        .create()
        .expect("producer");
    let record = FutureRecord::to(&topic).key("key-1").payload("value-1");
    let Ok(delivered) = timeout(WAIT, producer.send(record, Timeout::After(WAIT))).await else {
        panic!("producing to {topic}: no delivery report within {WAIT:?}");
    };
    let delivery =
        delivered.unwrap_or_else(|(err, _message)| panic!("producing to {topic}: {err}"));

    let group = support::unique("g");
    let consumer: StreamConsumer = config(&with(
        settings,
        &[
            ("group.id", &group),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "false"),
        ],
    ))
    .create()
    .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let message = timeout(WAIT, consumer.recv())
        .await
        .unwrap_or_else(|_| panic!("no record from {topic} within {WAIT:?}"))
        .unwrap_or_else(|err| panic!("consuming from {topic}: {err}"));
    assert_eq!(message.key(), Some(&b"key-1"[..]));
    assert_eq!(message.payload(), Some(&b"value-1"[..]));
    assert_eq!(
        (message.partition(), message.offset()),
        (delivery.partition, delivery.offset)
    );
}

/// With `settings`, producing must fail, and the client must report an error containing
/// `expected` (printed, with what else it reported, for the test's output).
async fn fails_with(settings: &Settings, expected: &str) {
    let (recorder, mut events) = Recorder::new();
    let producer: FutureProducer<Recorder> = config(&with(
        settings,
        &[
            ("message.timeout.ms", DOOMED_PRODUCE_MS),
            ("socket.timeout.ms", DOOMED_PRODUCE_MS),
            ("reconnect.backoff.max.ms", "1000"),
        ],
    ))
    .create_with_context(recorder)
    .expect("producer");
    let topic = support::unique("t");
    let send = producer.send(
        FutureRecord::to(&topic).key("k").payload("v"),
        Timeout::After(WAIT),
    );
    let (seen, sent) = tokio::join!(expect_event(&mut events, expected), timeout(WAIT, send));
    let mut seen = seen.unwrap_or_else(|seen| {
        panic!("no client error containing {expected:?} within {WAIT:?}; saw: {seen:#?}")
    });
    // The produce fails too (it cannot connect, so the message times out).
    match sent {
        Err(_) => panic!("the doomed produce did not end within {WAIT:?}"),
        Ok(Ok(delivery)) => {
            panic!("the produce succeeded ({delivery:?}) although the client reported: {seen:#?}")
        }
        Ok(Err((err, _message))) => seen.push(format!("produce: {err}")),
    }
    eprintln!("as expected, the client reported: {seen:#?}");
}

/// The events up to the first containing `expected` (`Err` with those seen if none does
/// within [`WAIT`]).
async fn expect_event(
    events: &mut mpsc::UnboundedReceiver<String>,
    expected: &str,
) -> Result<Vec<String>, Vec<String>> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) => {
                let found = event.contains(expected);
                seen.push(event);
                if found {
                    return Ok(seen);
                }
            }
            Ok(None) | Err(_) => return Err(seen),
        }
    }
}

// --- SASL SCRAM (kafka-scram) -------------------------------------------------------------

/// The `kafka-scram` broker and the user for `bits` (256 or 512): `(brokers, user, password)`.
fn scram_service(bits: u16) -> Option<(String, String, String)> {
    let brokers = support::require("BINDINGS_KAFKA_SCRAM_BROKERS")?;
    let user = support::require(&format!("BINDINGS_KAFKA_SCRAM{bits}_USER"))?;
    let password = support::require(&format!("BINDINGS_KAFKA_SCRAM{bits}_PASSWORD"))?;
    Some((brokers, user, password))
}

#[tokio::test]
async fn scram_sha_256_round_trips_a_record() {
    let Some((brokers, user, password)) = scram_service(256) else {
        return;
    };
    round_trip(&sasl(
        "SASL_PLAINTEXT",
        &brokers,
        "SCRAM-SHA-256",
        &user,
        &password,
    ))
    .await;
}

#[tokio::test]
async fn scram_sha_512_round_trips_a_record() {
    let Some((brokers, user, password)) = scram_service(512) else {
        return;
    };
    round_trip(&sasl(
        "SASL_PLAINTEXT",
        &brokers,
        "SCRAM-SHA-512",
        &user,
        &password,
    ))
    .await;
}

#[tokio::test]
async fn scram_sha_256_with_a_wrong_password_fails_authentication() {
    let Some((brokers, user, _)) = scram_service(256) else {
        return;
    };
    let settings = sasl(
        "SASL_PLAINTEXT",
        &brokers,
        "SCRAM-SHA-256",
        &user,
        "not-the-password",
    );
    fails_with(&settings, "SASL SCRAM authentication failed").await;
}

#[tokio::test]
async fn scram_sha_512_with_a_wrong_password_fails_authentication() {
    let Some((brokers, user, _)) = scram_service(512) else {
        return;
    };
    let settings = sasl(
        "SASL_PLAINTEXT",
        &brokers,
        "SCRAM-SHA-512",
        &user,
        "not-the-password",
    );
    fails_with(&settings, "SASL SCRAM authentication failed").await;
}

// --- Mutual TLS (kafka-tls) ---------------------------------------------------------------

/// The `kafka-tls` service's settings: everything a client needs.
struct Tls {
    brokers: String,
    ca: String,
    cert: String,
    key: String,
    key_password: String,
}

impl Tls {
    fn require() -> Option<Self> {
        Some(Self {
            brokers: support::require("BINDINGS_KAFKA_TLS_BROKERS")?,
            ca: support::require("BINDINGS_KAFKA_TLS_CA")?,
            cert: support::require("BINDINGS_KAFKA_TLS_CLIENT_CERT")?,
            key: support::require("BINDINGS_KAFKA_TLS_CLIENT_KEY")?,
            key_password: support::require("BINDINGS_KAFKA_TLS_CLIENT_KEY_PASSWORD")?,
        })
    }

    /// TLS settings, with or without the CA and the client certificate (+ encrypted key).
    fn settings(&self, ca: bool, client_cert: bool) -> Settings {
        let mut settings = vec![
            ("bootstrap.servers", self.brokers.clone()),
            ("security.protocol", "SSL".to_owned()),
        ];
        if ca {
            settings.push(("ssl.ca.location", self.ca.clone()));
        }
        if client_cert {
            settings.extend([
                ("ssl.certificate.location", self.cert.clone()),
                ("ssl.key.location", self.key.clone()),
                ("ssl.key.password", self.key_password.clone()),
            ]);
        }
        settings
    }
}

#[tokio::test]
async fn tls_with_the_ca_and_a_client_certificate_round_trips_a_record() {
    let Some(tls) = Tls::require() else { return };
    round_trip(&tls.settings(true, true)).await;
}

#[tokio::test]
async fn tls_without_the_ca_fails_to_verify_the_server() {
    let Some(tls) = Tls::require() else { return };
    // Without `ssl.ca.location` librdkafka trusts the system's CAs, which do not know ours.
    fails_with(&tls.settings(false, true), "certificate verify failed").await;
}

#[tokio::test]
async fn tls_without_a_client_certificate_is_refused() {
    let Some(tls) = Tls::require() else { return };
    // stunnel requires a client certificate signed by the CA and refuses the handshake.
    fails_with(&tls.settings(true, false), "certificate required").await;
}

#[tokio::test]
async fn tls_client_key_is_encrypted_with_the_exported_password() {
    let Some(tls) = Tls::require() else { return };
    let mut settings = tls.settings(true, true);
    for (key, value) in &mut settings {
        if *key == "ssl.key.password" {
            *value = "not-the-password".to_owned();
        }
    }
    let err = config(&settings)
        .create::<FutureProducer>()
        .err()
        .expect("a wrong key password must fail client creation");
    let text = err.to_string();
    assert!(
        text.contains("ssl.key.location"),
        "unexpected error: {text}"
    );
}

// --- SASL SCRAM over TLS (kafka-sasl-ssl) -------------------------------------------------

/// The `kafka-sasl-ssl` service's settings, with `password` instead of the right one if given.
fn sasl_ssl_settings(password: Option<&str>) -> Option<Settings> {
    let brokers = support::require("BINDINGS_KAFKA_SASL_SSL_BROKERS")?;
    let ca = support::require("BINDINGS_KAFKA_SASL_SSL_CA")?;
    let mechanism = support::require("BINDINGS_KAFKA_SASL_SSL_MECHANISM")?;
    let user = support::require("BINDINGS_KAFKA_SASL_SSL_USER")?;
    let right = support::require("BINDINGS_KAFKA_SASL_SSL_PASSWORD")?;
    let mut settings = sasl(
        "SASL_SSL",
        &brokers,
        &mechanism,
        &user,
        password.unwrap_or(&right),
    );
    settings.push(("ssl.ca.location", ca));
    Some(settings)
}

#[tokio::test]
async fn sasl_ssl_round_trips_a_record() {
    let Some(settings) = sasl_ssl_settings(None) else {
        return;
    };
    round_trip(&settings).await;
}

#[tokio::test]
async fn sasl_ssl_with_a_wrong_password_fails_authentication() {
    let Some(settings) = sasl_ssl_settings(Some("not-the-password")) else {
        return;
    };
    fails_with(&settings, "SASL SCRAM authentication failed").await;
}
