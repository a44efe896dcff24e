//! Proves that the services `cargo xtask services up` starts are real: Azurite accepts
//! Shared-Key-signed queue requests, and Tansu creates topics and round-trips a record with a
//! key, a header and a value through librdkafka.

mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac as _};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Header, Headers as _, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use reqwest::{Method, StatusCode, Url};
use sha2::Sha256;
use time::OffsetDateTime;
use time::macros::format_description;
use tokio::time::timeout;

/// Upper bound for every wait on a service.
const WAIT: Duration = Duration::from_secs(30);

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

#[tokio::test]
async fn tansu_round_trips_a_record_with_key_header_and_value() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = support::unique("services");

    // Tansu does not auto-create topics.
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .expect("admin client");
    let new_topic = NewTopic::new(&topic, 3, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(WAIT));
    let created = timeout(WAIT, admin.create_topics([&new_topic], &options))
        .await
        .expect("create_topics timed out")
        .expect("create_topics");
    for result in created {
        result.unwrap_or_else(|(name, err)| panic!("creating topic {name}: {err}"));
    }

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("message.timeout.ms", "30000")
        .create()
        .expect("producer");
    let record = FutureRecord::to(&topic)
        .key("key-1")
        .payload("value-1")
        .headers(OwnedHeaders::new().insert(Header {
            key: "trace-id",
            value: Some("abc-123"),
        }));
    let delivery = timeout(WAIT, producer.send(record, Timeout::After(WAIT)))
        .await
        .expect("delivery timed out")
        .unwrap_or_else(|(err, _message)| panic!("producing to {topic}: {err}"));

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", support::unique("services-group"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let message = timeout(WAIT, consumer.recv())
        .await
        .unwrap_or_else(|_| panic!("no record from {topic} within {WAIT:?}"))
        .expect("consuming");

    assert_eq!(message.key(), Some(&b"key-1"[..]));
    assert_eq!(message.payload(), Some(&b"value-1"[..]));
    assert_eq!(
        (message.partition(), message.offset()),
        (delivery.partition, delivery.offset)
    );
    let headers = message.headers().expect("the record has headers");
    let header = headers
        .iter()
        .find(|header| header.key == "trace-id")
        .expect("the trace-id header");
    assert_eq!(header.value, Some(&b"abc-123"[..]));
}
