//! The Kafka trigger against Tansu (a real broker, from `cargo xtask services up`): parameters by
//! type and batches, binding data into an output's templates, order per partition and per key
//! with the concurrency that proves parallelism, retries with their policy, the dead-letter topic
//! with its headers, and commits.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bindings::HostHandle;
use bindings::extend::FunctionDef;
use bindings::prelude::*;

mod support;

use support::kafka::{
    Record, WAIT, committed, consume, create_topic_with, produce, produce_bytes, produce_with,
};

/// What the functions saw, per topic (tests run at once; each uses topics of its own).
#[derive(Debug, Default)]
struct Probe {
    /// `(kind, partition, offset, key, value)` in the order the invocations started.
    seen: Vec<(&'static str, i32, i64, Option<String>, String)>,
    running: usize,
    max_running: usize,
    running_per_partition: HashMap<i32, usize>,
    max_per_partition: usize,
    /// When each attempt at a record started, by value.
    attempts: HashMap<String, Vec<Instant>>,
}

static PROBES: Mutex<Option<HashMap<String, Probe>>> = Mutex::new(None);

fn probe<R>(topic: &str, f: impl FnOnce(&mut Probe) -> R) -> R {
    let mut probes = PROBES.lock().unwrap_or_else(PoisonError::into_inner);
    f(probes
        .get_or_insert_with(HashMap::new)
        .entry(topic.to_owned())
        .or_default())
}

fn note(kind: &'static str, record: &KafkaRecord, value: String) {
    probe(&record.topic, |p| {
        p.seen.push((
            kind,
            record.partition,
            record.offset,
            record.key_text().map(str::to_owned),
            value.clone(),
        ));
        p.attempts.entry(value).or_default().push(Instant::now());
    });
}

/// Runs `work` counted as one running invocation of `record`'s topic and partition.
async fn counted<F: Future<Output = ()>>(record: &KafkaRecord, work: F) {
    probe(&record.topic, |p| {
        p.running += 1;
        p.max_running = p.max_running.max(p.running);
        let n = p.running_per_partition.entry(record.partition).or_default();
        *n += 1;
        p.max_per_partition = p.max_per_partition.max(*n);
    });
    work.await;
    probe(&record.topic, |p| {
        p.running -= 1;
        *p.running_per_partition.entry(record.partition).or_default() -= 1;
    });
}

#[derive(Debug, serde::Deserialize)]
struct Order {
    id: String,
}

#[kafka_trigger(
    topic = "%TextTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%"
)]
async fn as_text(text: String, record: KafkaRecord) {
    note("text", &record, text);
}

#[kafka_trigger(
    topic = "%BytesTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%"
)]
async fn as_bytes(bytes: Vec<u8>, shared: Bytes, record: KafkaRecord) {
    assert_eq!(bytes, shared.to_vec());
    note("bytes", &record, format!("{} bytes", bytes.len()));
}

#[kafka_trigger(
    topic = "%JsonTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%"
)]
async fn as_json(order: Json<Order>, record: KafkaRecord) {
    note("json", &record, order.id.clone());
}

#[kafka_trigger(
    topic = "%BatchTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    max_batch_size = 4
)]
async fn as_batch(records: Vec<KafkaRecord>) {
    let size = records.len();
    for record in &records {
        note(
            "batch",
            record,
            format!("{} of {size}", record.text().unwrap_or_default()),
        );
    }
}

/// Copies each record, keyed and routed by its binding data.
#[kafka_trigger(
    topic = "%CopyTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%"
)]
#[kafka_output(
    topic = "{Topic}-copy",
    broker_list = "Brokers",
    key = "{Key}@{Partition}:{Offset}"
)]
async fn copy(text: String) -> String {
    format!("copy of {text}")
}

async fn start<F: FunctionDef>(brokers: &str, settings: &[(&str, &str)]) -> HostHandle {
    let mut all = Settings::new()
        .with("Brokers", brokers)
        .with("Group", support::unique("g"));
    for (name, value) in settings {
        all = all.with(*name, *value);
    }
    Host::builder()
        .settings(all)
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start()
}

/// Waits until `topic`'s probe satisfies `done`.
async fn until_seen(topic: &str, what: &str, done: impl Fn(&Probe) -> bool) {
    support::until(WAIT, what, || probe(topic, |p| done(p))).await;
}

fn seen(topic: &str) -> Vec<(&'static str, i32, i64, Option<String>, String)> {
    probe(topic, |p| p.seen.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_parameter_type_and_the_batch_form_bind() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let text = create_topic_with(&brokers, &support::unique("kt-text"), 1, &[]).await;
    let bytes = create_topic_with(&brokers, &support::unique("kt-bytes"), 1, &[]).await;
    let json = create_topic_with(&brokers, &support::unique("kt-json"), 1, &[]).await;
    let batch = create_topic_with(&brokers, &support::unique("kt-batch"), 1, &[]).await;
    produce(&brokers, &text, &[(0, Some("k"), "héllo")]).await;
    produce(&brokers, &bytes, &[(0, None, "12345")]).await;
    produce(
        &brokers,
        &json,
        &[(0, None, r#"{"id":"o-7"}"#), (0, None, "not json")],
    )
    .await;
    let batch_values: Vec<String> = (0..6).map(|i| format!("r{i}")).collect();
    let batch_records: Vec<(i32, Option<&str>, &str)> =
        batch_values.iter().map(|v| (0, None, v.as_str())).collect();
    produce(&brokers, &batch, &batch_records).await;

    let hosts = [
        start::<as_text>(&brokers, &[("TextTopic", &text)]).await,
        start::<as_bytes>(&brokers, &[("BytesTopic", &bytes)]).await,
        start::<as_json>(&brokers, &[("JsonTopic", &json)]).await,
        start::<as_batch>(&brokers, &[("BatchTopic", &batch)]).await,
    ];
    until_seen(&text, "the text record", |p| !p.seen.is_empty()).await;
    until_seen(&bytes, "the bytes record", |p| !p.seen.is_empty()).await;
    until_seen(&json, "the JSON record", |p| !p.seen.is_empty()).await;
    until_seen(&batch, "six batched records", |p| p.seen.len() >= 6).await;
    assert_eq!(
        seen(&text),
        [("text", 0, 0, Some("k".to_owned()), "héllo".to_owned())]
    );
    assert_eq!(seen(&bytes), [("bytes", 0, 0, None, "5 bytes".to_owned())]);
    assert_eq!(seen(&json), [("json", 0, 0, None, "o-7".to_owned())]);
    let batched = seen(&batch);
    let values: Vec<&str> = batched
        .iter()
        .map(|s| s.4.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        values,
        ["r0", "r1", "r2", "r3", "r4", "r5"],
        "in offset order"
    );
    let sizes: Vec<usize> = batched
        .iter()
        .map(|s| s.4.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        sizes.iter().all(|n| *n <= 4) && sizes.iter().any(|n| *n > 1),
        "records arrive in batches of up to max_batch_size = 4: {batched:?}"
    );

    // The record that is not JSON went to the dead-letter topic at once: retrying cannot make
    // its bytes JSON.
    let dead = consume(&brokers, &format!("{json}-dlq"), 1).await;
    assert_eq!(dead[0].value, "not json");
    let headers = dead[0].header_texts();
    assert!(
        headers.contains(&("dlq-attempts".to_owned(), "1".to_owned())),
        "{headers:?}"
    );
    for host in hosts {
        host.shutdown(Duration::from_secs(30))
            .await
            .expect("a clean stop");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn binding_data_fills_the_output_s_topic_and_key_templates() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-copy"), 2, &[]).await;
    create_topic_with(&brokers, &format!("{topic}-copy"), 1, &[]).await;
    produce(
        &brokers,
        &topic,
        &[(1, Some("k-1"), "one"), (0, Some("k-0"), "zero")],
    )
    .await;
    let host = start::<copy>(&brokers, &[("CopyTopic", &topic)]).await;
    let mut copies: Vec<Record> = consume(&brokers, &format!("{topic}-copy"), 2).await;
    copies.sort_by(|a, b| a.value.cmp(&b.value));
    let got: Vec<(String, String)> = copies
        .iter()
        .map(|r| (r.key_text(), r.value.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("k-1@1:0".to_owned(), "copy of one".to_owned()),
            ("k-0@0:0".to_owned(), "copy of zero".to_owned()),
        ]
    );
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

/// Holds `record`, if it is the first of its lane (`first`), until another invocation runs too,
/// for at most 10 s: two lanes that can run in parallel meet here; lanes that cannot never do.
async fn meet(record: &KafkaRecord, first: bool) {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if first {
        let deadline = Instant::now() + Duration::from_secs(10);
        while probe(&record.topic, |p| p.running) < 2 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Partition ordering (the default): one record of a partition at a time, partitions in parallel.
#[kafka_trigger(
    topic = "%SlowTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%"
)]
async fn slow_by_partition(record: KafkaRecord) {
    note(
        "slow",
        &record,
        record.text().unwrap_or_default().to_owned(),
    );
    counted(&record, meet(&record, record.offset == 0)).await;
}

/// Key ordering: records of a key in order, keys concurrently.
#[kafka_trigger(
    topic = "%SlowTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    ordering = "key"
)]
async fn slow_by_key(record: KafkaRecord) {
    let value = record.text().unwrap_or_default().to_owned();
    note("slow", &record, value.clone());
    counted(&record, meet(&record, value.ends_with("-0"))).await;
}

/// Produces `per_key` records for each of `keys` keys to partition 0 and `others` (keyless) to
/// partition 1 of `topic`, in an interleaved order.
async fn produce_keyed(brokers: &str, topic: &str, keys: usize, per_key: usize, others: usize) {
    let mut records: Vec<(i32, Option<String>, String)> = Vec::new();
    for i in 0..per_key {
        for k in 0..keys {
            records.push((0, Some(format!("k{k}")), format!("k{k}-{i}")));
        }
    }
    for i in 0..others {
        records.push((1, None, format!("p1-{i}")));
    }
    let borrowed: Vec<(i32, Option<&str>, &str)> = records
        .iter()
        .map(|(p, k, v)| (*p, k.as_deref(), v.as_str()))
        .collect();
    produce(brokers, topic, &borrowed).await;
}

/// The values seen, per key (or per partition for keyless records), in order.
fn sequences(topic: &str) -> HashMap<String, Vec<String>> {
    let mut by: HashMap<String, Vec<String>> = HashMap::new();
    for (_, partition, _, key, value) in seen(topic) {
        by.entry(key.unwrap_or_else(|| format!("partition {partition}")))
            .or_default()
            .push(value);
    }
    by
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn partition_ordering_runs_partitions_in_parallel_and_each_in_order() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-part"), 2, &[]).await;
    produce_keyed(&brokers, &topic, 3, 4, 8).await;
    let host = start::<slow_by_partition>(&brokers, &[("SlowTopic", &topic)]).await;
    until_seen(&topic, "20 records", |p| {
        p.seen.len() >= 20 && p.running == 0
    })
    .await;
    let by = sequences(&topic);
    for k in 0..3 {
        assert_eq!(by[&format!("k{k}")], numbered(&format!("k{k}"), 4));
    }
    assert_eq!(by["partition 1"], numbered("p1", 8));
    let partition0: Vec<i64> = seen(&topic)
        .iter()
        .filter(|s| s.1 == 0)
        .map(|s| s.2)
        .collect();
    assert_eq!(
        partition0,
        (0..12).collect::<Vec<_>>(),
        "partition 0 in offset order"
    );
    let (max, per_partition) = probe(&topic, |p| (p.max_running, p.max_per_partition));
    assert_eq!(per_partition, 1, "one record of a partition at a time");
    assert_eq!(max, 2, "the two partitions ran at the same time");
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn key_ordering_runs_keys_concurrently_each_in_order() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-key"), 2, &[]).await;
    produce_keyed(&brokers, &topic, 4, 5, 0).await;
    let host = start::<slow_by_key>(&brokers, &[("SlowTopic", &topic)]).await;
    until_seen(&topic, "20 records", |p| {
        p.seen.len() >= 20 && p.running == 0
    })
    .await;
    let by = sequences(&topic);
    for k in 0..4 {
        assert_eq!(
            by[&format!("k{k}")],
            numbered(&format!("k{k}"), 5),
            "key k{k} in order"
        );
    }
    let per_partition = probe(&topic, |p| p.max_per_partition);
    assert!(
        (2..=4).contains(&per_partition),
        "records of one partition ran concurrently, at most one per key: {per_partition}"
    );
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

/// Fails every attempt at `bad`; the other keys succeed.
#[kafka_trigger(
    topic = "%FlakyTopic%",
    broker_list = "Brokers",
    consumer_group = "%FlakyGroup%",
    ordering = "key",
    retry_strategy = "exponential_backoff",
    max_retry_count = 2,
    minimum_interval = "00:00:00.300",
    maximum_interval = "00:00:00.500"
)]
async fn flaky(record: KafkaRecord) -> Result<(), FunctionError> {
    let value = record.text().unwrap_or_default().to_owned();
    note("flaky", &record, value.clone());
    if value.starts_with("bad") {
        return Err(FunctionError::retry(format!("{value} always fails")));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_record_is_retried_by_its_policy_then_dead_lettered_without_blocking_other_keys()
{
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-flaky"), 1, &[]).await;
    let group = support::unique("flaky");
    produce(
        &brokers,
        &topic,
        &[
            (0, Some("x"), "bad-1"),
            (0, Some("y"), "good-1"),
            (0, Some("y"), "good-2"),
            (0, Some("x"), "after-bad"),
        ],
    )
    .await;
    let host = start::<flaky>(&brokers, &[("FlakyTopic", &topic), ("FlakyGroup", &group)]).await;
    let dead = consume(&brokers, &format!("{topic}-dlq"), 1).await;
    until_seen(&topic, "after-bad", |p| {
        p.attempts.contains_key("after-bad")
    })
    .await;
    let (attempts, seen) = probe(&topic, |p| (p.attempts.clone(), p.seen.clone()));

    // Three attempts at 300 ms, then 600 ms capped at 500 ms apart.
    let tries = &attempts["bad-1"];
    assert_eq!(
        tries.len(),
        3,
        "the first attempt and max_retry_count = 2 retries"
    );
    assert!(
        tries[1] - tries[0] >= Duration::from_millis(300),
        "{tries:?}"
    );
    assert!(
        tries[2] - tries[1] >= Duration::from_millis(500),
        "{tries:?}"
    );
    // Key `y` was not held up by `x`'s retries; `after-bad` (key `x`) waited for `bad-1`.
    assert!(
        attempts["good-2"][0] < tries[1],
        "key y ran during x's retries: {seen:?}"
    );
    assert!(
        attempts["after-bad"][0] > tries[2],
        "key x stays in order: {seen:?}"
    );

    // In the dead-letter topic with its key, value and the headers.
    assert_eq!(
        (dead[0].key_text(), dead[0].value.as_str()),
        ("x".to_owned(), "bad-1")
    );
    let headers = dead[0].header_texts();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("dlq-attempts"), Some("3"));
    assert_eq!(header("dlq-function"), Some("flaky"));
    assert_eq!(header("dlq-source-offset"), Some("0"));
    assert!(
        header("dlq-error").is_some_and(|e| e.contains("bad-1 always fails")),
        "{headers:?}"
    );

    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
    assert_eq!(
        committed(&brokers, &group, &topic, 1),
        [Some(4)],
        "committed past the dead-lettered record"
    );
}

/// Never runs: the lag test reads the group's lag without letting the function consume.
#[kafka_trigger(
    topic = "%LagTopic%",
    broker_list = "Brokers",
    consumer_group = "%LagGroup%",
    lag_threshold = 10
)]
async fn lagging(record: KafkaRecord) {
    let _ = record;
}

#[tokio::test(flavor = "multi_thread")]
async fn lag_and_scale_hint_follow_the_extension_s_formula() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-lag"), 3, &[]).await;
    let group = support::unique("lag");
    let mut records = Vec::new();
    for i in 0..25 {
        records.push((i % 3, None, "x"));
    }
    produce(&brokers, &topic, &records).await;
    // Built, not started: nothing is consumed, so the group's lag is every record.
    let host = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", &brokers)
                .with("LagTopic", &topic)
                .with("LagGroup", &group)
                .with("AdminListenAddress", "127.0.0.1:0"),
        )
        .function::<lagging>()
        .build()
        .await
        .expect("the host builds");
    let status = host
        .resources()
        .get::<bindings::kafka::KafkaTriggers>()
        .and_then(|triggers| triggers.get("lagging"))
        .expect("the trigger is registered");
    let lag = status.lag().await.expect("the lag is read");
    assert_eq!(lag.partitions, [(0, 9), (1, 8), (2, 8)]);
    assert_eq!(lag.total, 25);
    assert_eq!(
        lag.target_instances, 3,
        "ceil(25 / 10) = 3 instances, one per partition"
    );

    // Started, it consumes and commits everything: no lag, no instance needed.
    let handle = host.start();
    support::until_async(WAIT, "the lag to reach 0", || {
        let status = std::sync::Arc::clone(&status);
        async move { status.lag().await.is_ok_and(|lag| lag.total == 0) }
    })
    .await;
    assert_eq!(status.lag().await.expect("lag").target_instances, 0);

    // The admin endpoint says the same, and counts the work, the commits and the assignment.
    let admin = handle.admin_address().expect("AdminListenAddress is set");
    let metrics = || async move {
        let response = reqwest::get(format!("http://{admin}/metrics")).await;
        response.expect("GET /metrics").text().await.expect("text")
    };
    let scale = reqwest::get(format!("http://{admin}/scale"))
        .await
        .expect("GET /scale")
        .text()
        .await
        .expect("text");
    let scale: serde_json::Value = serde_json::from_str(&scale).expect("JSON");
    assert_eq!(
        scale["functions"][0],
        serde_json::json!({"name": "lagging", "trigger": "kafka_trigger", "scale_hint": 0,
            "input": {"topic": topic, "consumer_group": group, "lag": 0, "lag_threshold": 10, "partitions": 3}})
    );
    let labels = format!("function=\"lagging\",topic=\"{topic}\"");
    let committed = format!("bindings_kafka_commits_total{{{labels},kind=\"committed\"}} ");
    let is_counted = |text: &str| {
        text.lines()
            .any(|line| line.starts_with(&committed) && !line.ends_with(" 0"))
    };
    support::until_async(WAIT, "a commit counted", || async {
        is_counted(&metrics().await)
    })
    .await;
    let text = metrics().await;
    for expected in [
        format!("bindings_kafka_consumer_lag{{{labels},partition=\"0\"}} 0"),
        format!("bindings_kafka_consumer_lag{{{labels},partition=\"2\"}} 0"),
        format!("bindings_kafka_rebalances_total{{{labels},kind=\"assigned\"}} 3"),
        format!("bindings_kafka_trigger_records_total{{{labels},kind=\"succeeded\"}} 25"),
        "faas_invocations_total{function=\"lagging\",trigger=\"kafka_trigger\",outcome=\"succeeded\"} 25".to_owned(),
        format!("messaging_client_consumed_messages_total{{function=\"lagging\",messaging_system=\"kafka\",messaging_destination_name=\"{topic}\"}} 25"),
        "bindings_scale_hint{function=\"lagging\",trigger=\"kafka_trigger\"} 0".to_owned(),
    ] {
        assert!(text.lines().any(|line| line == expected), "{expected} in:\n{text}");
    }
    handle
        .shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

// ---- Security, against Tansu behind SCRAM and stunnel (`cargo xtask services up`). ----

#[kafka_trigger(
    topic = "%SecureTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    protocol = "SaslSsl",
    authentication_mode = "ScramSha512",
    username = "%KafkaUser%",
    password = "%KafkaPassword%",
    ssl_ca_location = "%CaFile%"
)]
async fn over_sasl_ssl(text: String, record: KafkaRecord) {
    note("secure", &record, text);
}

#[kafka_trigger(
    topic = "%SecureTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    protocol = "SaslPlaintext",
    authentication_mode = "ScramSha512",
    username = "%KafkaUser%",
    password = "%KafkaPassword%"
)]
async fn over_scram(text: String, record: KafkaRecord) {
    note("scram", &record, text);
}

fn service(var: &str) -> String {
    support::service(var).unwrap_or_else(|| panic!("{var} is recorded with the brokers"))
}

#[tokio::test(flavor = "multi_thread")]
async fn on_tansu_sasl_ssl_the_trigger_reads() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_SASL_SSL_BROKERS") else {
        return;
    };
    let credentials = support::kafka::SaslSsl::recorded();
    let (ca, user, password) = (&credentials.ca, &credentials.user, &credentials.password);
    let security = credentials.client();
    let topic = create_topic_with(&brokers, &support::unique("kt-secure"), 1, &security).await;
    produce_with(&brokers, &topic, &[(0, None, "over TLS")], &security).await;
    let host = start::<over_sasl_ssl>(
        &brokers,
        &[
            ("SecureTopic", &topic),
            ("KafkaUser", user),
            ("KafkaPassword", password),
            ("CaFile", ca),
        ],
    )
    .await;
    until_seen(&topic, "the record read over SASL_SSL", |p| {
        !p.seen.is_empty()
    })
    .await;
    assert_eq!(
        seen(&topic),
        [("secure", 0, 0, None, "over TLS".to_owned())]
    );
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_scram_password_stops_the_trigger_with_an_error_naming_it() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_SCRAM_BROKERS") else {
        return;
    };
    let user = service("BINDINGS_KAFKA_SCRAM512_USER");
    let wrong = "not-the-password";
    let host = start::<over_scram>(
        &brokers,
        &[
            ("SecureTopic", "never-read"),
            ("KafkaUser", &user),
            ("KafkaPassword", wrong),
        ],
    )
    .await;
    tokio::time::timeout(WAIT, host.failed())
        .await
        .expect("the trigger stops on refused credentials");
    let err = host
        .shutdown(Duration::from_secs(30))
        .await
        .expect_err("the host reports the trigger's failure")
        .to_string();
    assert!(
        err.contains("over_scram")
            && err.contains("refused the SASL credentials")
            && err.contains(&brokers),
        "{err}"
    );
    assert!(!err.contains(wrong), "no password in the error: {err}");
}

// ---- Avro values, and back-pressure. ----

const ORDER_SCHEMA: &str =
    r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}"#;

/// `order` in Confluent's wire format under schema id `id`.
fn avro_order(id: u32, order: &str) -> Vec<u8> {
    let schema = apache_avro::Schema::parse_str(ORDER_SCHEMA).unwrap();
    let value = apache_avro::types::Value::Record(vec![(
        "id".into(),
        apache_avro::types::Value::String(order.into()),
    )]);
    let mut bytes = vec![0];
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend(apache_avro::to_avro_datum(&schema, value).unwrap());
    bytes
}

#[kafka_trigger(
    topic = "%AvroTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    avro_schema = "%OrderSchema%"
)]
async fn as_avro(order: Avro<Order>, record: KafkaRecord) {
    note("avro", &record, order.0.id);
}

#[kafka_trigger(
    topic = "%AvroTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    schema_registry_url = "%RegistryUrl%"
)]
async fn as_registered_avro(order: Avro<Order>, record: KafkaRecord) {
    note("registry", &record, order.0.id);
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_values_decode_with_the_schema_and_a_value_that_is_not_avro_is_dead_lettered() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-avro"), 1, &[]).await;
    produce_bytes(&brokers, &topic, 0, &avro_order(1, "o-1")).await;
    produce_bytes(&brokers, &topic, 0, b"{\"id\":\"o-2\"}").await;
    let host = start::<as_avro>(
        &brokers,
        &[("AvroTopic", &topic), ("OrderSchema", ORDER_SCHEMA)],
    )
    .await;
    let dead = consume(&brokers, &format!("{topic}-dlq"), 1).await;
    assert_eq!(dead[0].value, r#"{"id":"o-2"}"#, "the JSON record, intact");
    let headers = dead[0].header_texts();
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "dlq-error" && v.contains("not in Confluent's Avro wire format")),
        "{headers:?}"
    );
    assert!(
        headers.contains(&("dlq-attempts".to_owned(), "1".to_owned())),
        "at once: {headers:?}"
    );
    until_seen(&topic, "the Avro record", |p| !p.seen.is_empty()).await;
    assert_eq!(seen(&topic), [("avro", 0, 0, None, "o-1".to_owned())]);
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

/// A stand-in schema registry that knows [`ORDER_SCHEMA`] as id 7, and counts the requests for it.
async fn order_registry() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&asked);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let n = socket.read(&mut buffer).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buffer[..n]).into_owned();
            let (status, body) = if head.starts_with("GET /schemas/ids/7 ") {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (
                    "200 OK",
                    serde_json::json!({ "schema": ORDER_SCHEMA }).to_string(),
                )
            } else {
                (
                    "404 Not Found",
                    r#"{"error_code":40403,"message":"Schema not found"}"#.to_owned(),
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/vnd.schemaregistry.v1+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (url, asked)
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_schema_registry_the_writer_schema_is_read_once_per_id() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let (registry, asked) = order_registry().await;
    let topic = create_topic_with(&brokers, &support::unique("kt-registry"), 1, &[]).await;
    produce_bytes(&brokers, &topic, 0, &avro_order(7, "o-7")).await;
    produce_bytes(&brokers, &topic, 0, &avro_order(7, "o-8")).await;
    let host = start::<as_registered_avro>(
        &brokers,
        &[("AvroTopic", &topic), ("RegistryUrl", &registry)],
    )
    .await;
    until_seen(&topic, "both Avro records", |p| p.seen.len() >= 2).await;
    let ids: Vec<String> = seen(&topic).into_iter().map(|s| s.4).collect();
    assert_eq!(ids, ["o-7", "o-8"]);
    assert_eq!(
        asked.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "schema 7 read once"
    );
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

/// Set when [`gated`] may finish its records.
static GATE_OPEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Holds each record until [`GATE_OPEN`] (at most a minute).
#[kafka_trigger(
    topic = "%GateTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%",
    max_concurrency = 1,
    max_batch_size = 1
)]
async fn gated(record: KafkaRecord) {
    let deadline = Instant::now() + WAIT;
    while !GATE_OPEN.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    note(
        "gated",
        &record,
        record.text().unwrap_or_default().to_owned(),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_function_holds_its_partition_s_records_in_librdkafka_instead_of_buffering() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-gate"), 1, &[]).await;
    let values: Vec<String> = (0..40).map(|i| format!("g-{i}")).collect();
    let records: Vec<(i32, Option<&str>, &str)> =
        values.iter().map(|v| (0, None, v.as_str())).collect();
    produce(&brokers, &topic, &records).await;
    let host = start::<gated>(&brokers, &[("GateTopic", &topic)]).await;
    let status = host
        .resources()
        .get::<bindings::kafka::KafkaTriggers>()
        .and_then(|triggers| triggers.get("gated"))
        .expect("the trigger is registered");
    support::until(WAIT, "the partition's lanes full", || {
        status.counts().pauses >= 1
    })
    .await;
    // 2 × max(max_batch_size, max_concurrency) = 2 records may wait; librdkafka holds the rest.
    assert!(status.counts().buffered <= 2, "{:?}", status.counts());
    GATE_OPEN.store(true, std::sync::atomic::Ordering::SeqCst);
    support::until(WAIT, "every record processed", || {
        status.counts().succeeded >= 40
    })
    .await;
    let counts = status.counts();
    assert_eq!(
        counts.max_buffered, 2,
        "never more than the bound: {counts:?}"
    );
    assert_eq!(counts.received, 40, "each record read once: {counts:?}");
    let values_seen: Vec<String> = seen(&topic).into_iter().map(|s| s.4).collect();
    assert_eq!(values_seen, values, "in order, after the pauses");
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}

/// A protobuf order.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoOrder {
    #[prost(string, tag = "1")]
    id: String,
}

#[kafka_trigger(
    topic = "%ProtoTopic%",
    broker_list = "Brokers",
    consumer_group = "%Group%"
)]
async fn as_protobuf(order: Protobuf<ProtoOrder>, record: KafkaRecord) {
    note("protobuf", &record, order.0.id);
}

#[tokio::test(flavor = "multi_thread")]
async fn protobuf_values_decode_and_a_value_that_is_not_one_is_dead_lettered() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let topic = create_topic_with(&brokers, &support::unique("kt-proto"), 1, &[]).await;
    let encoded = prost::Message::encode_to_vec(&ProtoOrder { id: "p-1".into() });
    produce_bytes(&brokers, &topic, 0, &encoded).await;
    // Field 1 as a varint where a string is declared: not a `ProtoOrder`.
    produce_bytes(&brokers, &topic, 0, &[0x08, 0x01]).await;
    let host = start::<as_protobuf>(&brokers, &[("ProtoTopic", &topic)]).await;
    let dead = consume(&brokers, &format!("{topic}-dlq"), 1).await;
    assert_eq!(dead[0].payload, [0x08, 0x01], "the bad record, intact");
    let headers = dead[0].header_texts();
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "dlq-error" && v.contains("is not a protobuf")),
        "{headers:?}"
    );
    assert!(
        headers.contains(&("dlq-attempts".to_owned(), "1".to_owned())),
        "at once: {headers:?}"
    );
    until_seen(&topic, "the protobuf record", |p| !p.seen.is_empty()).await;
    assert_eq!(seen(&topic), [("protobuf", 0, 0, None, "p-1".to_owned())]);
    host.shutdown(Duration::from_secs(30))
        .await
        .expect("a clean stop");
}
