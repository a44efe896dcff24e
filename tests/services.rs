//! Proves that the services `cargo xtask services up` starts are real (they test the test
//! services, not the library; one binary for all of them): Azurite accepts Shared-Key-signed queue
//! requests, and Tansu, plain and secured — SASL SCRAM-SHA-256 and -512 (`kafka-scram`), mutual
//! TLS through stunnel (`kafka-tls`) and SASL SCRAM over TLS (`kafka-sasl-ssl`) — creates a topic
//! and round-trips a record with a key, a header and a value through librdkafka; wrong
//! credentials fail with a clear error.
//!
//! librdkafka reports connection and authentication failures in its logs and error events,
//! not as the result of a call (a produce just times out), so the negative tests record both
//! with [`Recorder`], wait for the expected text, and also check that the produce fails. (The
//! text comes first as a warning log, e.g. `SASL authentication error: SASL SCRAM
//! authentication failed: broker responded with invalid-proof`.)

mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac as _};
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use reqwest::{Method, StatusCode, Url};
use sha2::Sha256;
use support::kafka::{consume_with, create_topic_with};
use time::OffsetDateTime;
use time::macros::format_description;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

/// Upper bound for every wait on a service.
const WAIT: Duration = Duration::from_secs(30);

// --- Azurite --------------------------------------------------------------------------------

/// Azurite's fixed account and its well-known key.
const ACCOUNT: &str = "devstoreaccount1";
const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// The storage REST API version the requests ask for.
const API_VERSION: &str = "2021-12-02";

/// Sends a body-less request signed with Shared Key, as the Azure SDKs do.
///
/// String to sign (version 2015-02-21 and later): the verb, eleven standard headers (all empty
/// for a request without body: Content-Length is empty when 0), the `x-ms-*` headers as
/// `name:value\n` sorted, then the canonicalized resource `/<account><url path>` followed by
/// `\n<param>:<value>` per query parameter, sorted (path-style Azurite URLs thus give
/// `/devstoreaccount1/devstoreaccount1/<queue>`). The signature is
/// `base64(HMAC-SHA256(base64decode(key), string to sign))`.
async fn signed(client: &reqwest::Client, method: Method, url: Url) -> reqwest::Response {
    let date = OffsetDateTime::now_utc()
        .format(format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .expect("RFC 1123 date");
    let mut resource = format!("/{ACCOUNT}{}", url.path());
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| (name.to_lowercase(), value.into_owned()))
        .collect();
    params.sort();
    for (name, value) in params {
        resource.push_str(&format!("\n{name}:{value}"));
    }
    let standard_headers = "\n".repeat(11);
    let string_to_sign = format!(
        "{method}\n{standard_headers}x-ms-date:{date}\nx-ms-version:{API_VERSION}\n{resource}"
    );
    let key = BASE64
        .decode(ACCOUNT_KEY)
        .expect("the account key is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    let signature = BASE64.encode(mac.finalize().into_bytes());

    let request = client
        .request(method.clone(), url.clone())
        .header("x-ms-date", date)
        .header("x-ms-version", API_VERSION)
        .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"));
    timeout(WAIT, request.send())
        .await
        .unwrap_or_else(|_| panic!("{method} {url}: no answer within {WAIT:?}"))
        .unwrap_or_else(|err| panic!("{method} {url}: {err}"))
}

/// Asserts `response` has `expected` status, showing the body (Azurite's error XML) if not.
async fn expect_status(what: &str, response: reqwest::Response, expected: StatusCode) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, expected, "{what}: unexpected status; body: {body}");
    body
}

#[tokio::test]
async fn azurite_creates_lists_and_deletes_a_queue() {
    let Some(endpoint) = support::require("BINDINGS_AZURITE_QUEUE_ENDPOINT") else {
        return;
    };
    let endpoint = endpoint.trim_end_matches('/');
    let queue = support::unique("services");
    let client = reqwest::Client::new();
    let queue_url = Url::parse(&format!("{endpoint}/{queue}")).expect("queue URL");

    let created = signed(&client, Method::PUT, queue_url.clone()).await;
    expect_status("create queue", created, StatusCode::CREATED).await;

    let list_url = Url::parse(&format!("{endpoint}?comp=list")).expect("list URL");
    let listed = signed(&client, Method::GET, list_url).await;
    let xml = expect_status("list queues", listed, StatusCode::OK).await;
    assert!(
        xml.contains(&format!("<Name>{queue}</Name>")),
        "queue {queue} not in the listing: {xml}"
    );

    let deleted = signed(&client, Method::DELETE, queue_url).await;
    expect_status("delete queue", deleted, StatusCode::NO_CONTENT).await;
}

// --- Kafka ----------------------------------------------------------------------------------

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

/// `settings` as the `(key, value)` pairs the shared Kafka helpers take.
fn pairs(settings: &Settings) -> Vec<(&str, &str)> {
    settings
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect()
}

/// The broker `settings` name (`bootstrap.servers`).
fn brokers(settings: &Settings) -> &str {
    settings
        .iter()
        .find(|(key, _)| *key == "bootstrap.servers")
        .map(|(_, value)| value.as_str())
        .expect("the settings name the brokers")
}

/// Create a fresh topic with `partitions`, produce one record with a key, a header and a value to
/// it and consume it back, all with `settings` (which say where the broker is and how to connect
/// and authenticate).
async fn round_trip(settings: &Settings, partitions: i32) {
    let brokers = brokers(settings);
    // Tansu does not auto-create topics: CreateTopics, authenticated like everything else.
    let topic =
        create_topic_with(brokers, &support::unique("t"), partitions, &pairs(settings)).await;

    let producer: FutureProducer = config(&with(settings, &[("message.timeout.ms", "30000")]))
        .create()
        .expect("producer");
    let record = FutureRecord::to(&topic)
        .key("key-1")
        .payload("value-1")
        .headers(OwnedHeaders::new().insert(Header {
            key: "trace-id",
            value: Some("abc-123"),
        }));
    let Ok(delivered) = timeout(WAIT, producer.send(record, Timeout::After(WAIT))).await else {
        panic!("producing to {topic}: no delivery report within {WAIT:?}");
    };
    let delivery =
        delivered.unwrap_or_else(|(err, _message)| panic!("producing to {topic}: {err}"));

    let record = consume_with(brokers, &topic, 1, &pairs(settings))
        .await
        .remove(0);
    assert_eq!(record.key.as_deref(), Some(&b"key-1"[..]));
    assert_eq!(record.payload, b"value-1");
    assert_eq!(
        (record.partition, record.offset),
        (delivery.partition, delivery.offset)
    );
    assert_eq!(
        record.headers,
        [("trace-id".to_owned(), Some(b"abc-123".to_vec()))]
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

// --- Plaintext (kafka) --------------------------------------------------------------------

#[tokio::test]
async fn tansu_round_trips_a_record_with_key_header_and_value() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    round_trip(&vec![("bootstrap.servers", brokers)], 3).await;
}

// --- SASL SCRAM (kafka-scram) -------------------------------------------------------------

/// The `kafka-scram` settings for SCRAM-SHA-`bits` (256 or 512), with `password` instead of
/// the user's own if given; `None` if the service is missing (and skipping is allowed).
fn scram_settings(bits: u16, password: Option<&str>) -> Option<Settings> {
    let brokers = support::require("BINDINGS_KAFKA_SCRAM_BROKERS")?;
    let user = support::require(&format!("BINDINGS_KAFKA_SCRAM{bits}_USER"))?;
    let right = support::require(&format!("BINDINGS_KAFKA_SCRAM{bits}_PASSWORD"))?;
    Some(sasl(
        "SASL_PLAINTEXT",
        &brokers,
        &format!("SCRAM-SHA-{bits}"),
        &user,
        password.unwrap_or(&right),
    ))
}

#[tokio::test]
async fn scram_sha_256_round_trips_a_record() {
    let Some(settings) = scram_settings(256, None) else {
        return;
    };
    round_trip(&settings, 1).await;
}

#[tokio::test]
async fn scram_sha_512_round_trips_a_record() {
    let Some(settings) = scram_settings(512, None) else {
        return;
    };
    round_trip(&settings, 1).await;
}

#[tokio::test]
async fn scram_sha_256_with_a_wrong_password_fails_authentication() {
    let Some(settings) = scram_settings(256, Some("not-the-password")) else {
        return;
    };
    fails_with(&settings, "SASL SCRAM authentication failed").await;
}

#[tokio::test]
async fn scram_sha_512_with_a_wrong_password_fails_authentication() {
    let Some(settings) = scram_settings(512, Some("not-the-password")) else {
        return;
    };
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
    round_trip(&tls.settings(true, true), 1).await;
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
    round_trip(&settings, 1).await;
}

#[tokio::test]
async fn sasl_ssl_with_a_wrong_password_fails_authentication() {
    let Some(settings) = sasl_ssl_settings(Some("not-the-password")) else {
        return;
    };
    fails_with(&settings, "SASL SCRAM authentication failed").await;
}
