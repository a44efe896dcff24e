//! The admin endpoint (`AdminListenAddress`) of in-process hosts on the real services: what
//! `/metrics`, `/healthz`, `/readyz` and `/scale` answer while queue, Kafka and HTTP functions run,
//! and readiness while the storage account is down and back.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::prelude::*;
use bindings::queue::{AzureQueueService, QueueService, StorageAccount};
use bindings::telemetry::{ADMIN_LISTEN_ADDRESS_SETTING, METRICS_CONTENT_TYPE};
use bindings::{HostBuilder, HostHandle};
use tokio::sync::Semaphore;

/// Upper bound for anything the tests wait for.
const WAIT: Duration = Duration::from_secs(60);

/// Quick polling, so the tests see work and outages within a second.
const HOST_JSON: &str = r#"{
  "version": "2.0",
  "extensions": {
    "queues": { "batchSize": 4, "newBatchThreshold": 2, "maxPollingInterval": "00:00:00.200",
                "visibilityTimeout": "00:00:00", "maxDequeueCount": 2 }
  }
}"#;

/// Forwards each message to the topic; a body starting with `poison` is poisoned at once.
#[queue_trigger("%InputQueue%")]
#[kafka_output(topic = "%OutputTopic%", broker_list = "BrokerList")]
async fn forward(text: String) -> Result<KafkaEvent<String>, FunctionError> {
    if text.starts_with("poison") {
        return Err(FunctionError::poison(format!("`{text}` is poison")));
    }
    Ok(KafkaEvent::new(text))
}

/// Released by the test at its end: `hold` keeps its messages running while the scale is read.
static HOLD: Semaphore = Semaphore::const_new(0);

#[queue_trigger("%HeldQueue%")]
async fn hold(_text: String) {
    HOLD.acquire().await.expect("never closed").forget();
}

/// The body of `GET <admin><path>`, after checking its status.
async fn get(admin: SocketAddr, path: &str, status: u16) -> (String, reqwest::header::HeaderMap) {
    let response = reqwest::get(format!("http://{admin}{path}"))
        .await
        .unwrap_or_else(|err| panic!("GET {path}: {err}"));
    assert_eq!(response.status().as_u16(), status, "GET {path}");
    let headers = response.headers().clone();
    (response.text().await.expect("a text body"), headers)
}

/// The value of the series `line` (`name{labels}`) in a Prometheus text body, if it is there.
fn series(text: &str, line: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line)?.strip_prefix(' ')?.parse().ok())
}

fn settings(connection: &str) -> Settings {
    Settings::new()
        .with("AzureWebJobsStorage", connection)
        .with(ADMIN_LISTEN_ADDRESS_SETTING, "127.0.0.1:0")
}

async fn start(settings: Settings, build: impl FnOnce(HostBuilder) -> HostBuilder) -> HostHandle {
    build(
        Host::builder()
            .settings(settings)
            .host_config(HostConfig::from_json_str(HOST_JSON).expect("valid host.json")),
    )
    .build()
    .await
    .expect("the host builds")
    .start()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_a_queue_to_kafka_function_s_work_by_outcome_and_the_scale_says_why() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let service = AzureQueueService::new(
        StorageAccount::from_connection_string(&connection).expect("a valid connection string"),
    );
    let input = support::unique("telemetry-in");
    let held = support::unique("telemetry-held");
    let topic = support::kafka::create_topic(&brokers, &support::unique("telemetry")).await;
    for queue in [&input, &held] {
        service.create_queue(queue).await.expect("create the queue");
    }
    for body in ["one", "two", "three", "poison-four"] {
        service
            .send(&input, &BASE64.encode(body))
            .await
            .expect("send");
    }
    // 13 messages, of which at most batchSize + newBatchThreshold = 6 are held at once.
    for n in 0..13 {
        let body = BASE64.encode(format!("held-{n}"));
        service.send(&held, &body).await.expect("send");
    }
    let host = start(
        settings(&connection)
            .with("InputQueue", &input)
            .with("HeldQueue", &held)
            .with("OutputTopic", &topic)
            .with("BrokerList", &brokers),
        |b| b.function::<forward>().function::<hold>(),
    )
    .await;
    let admin = host.admin_address().expect("AdminListenAddress is set");
    let records = support::kafka::consume(&brokers, &topic, 3).await;
    assert_eq!(records.len(), 3);

    // `forward`: 3 succeeded, 1 poisoned, every count labelled by function.
    let labels = format!(
        "function=\"forward\",messaging_system=\"azure_queue\",messaging_destination_name=\"{input}\""
    );
    let poisoned = format!(
        "bindings_queue_messages_poisoned_total{{function=\"forward\",queue=\"{input}\"}} 1"
    );
    support::until_async(WAIT, "forward's poisoned message counted", || {
        let poisoned = poisoned.clone();
        async move { get(admin, "/metrics", 200).await.0.contains(&poisoned) }
    })
    .await;
    let (text, headers) = get(admin, "/metrics", 200).await;
    assert_eq!(headers["content-type"], METRICS_CONTENT_TYPE);
    let invocations = |outcome: &str| {
        series(
            &text,
            &format!(
                "faas_invocations_total{{function=\"forward\",trigger=\"queue_trigger\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    assert_eq!(invocations("succeeded"), Some(3.0), "{text}");
    assert_eq!(invocations("poisoned"), Some(1.0), "{text}");
    assert_eq!(invocations("retried"), Some(0.0), "{text}");
    assert_eq!(
        series(
            &text,
            &format!("messaging_client_consumed_messages_total{{{labels}}}")
        ),
        Some(4.0),
        "{text}"
    );
    let queue_labels = format!("{{function=\"forward\",queue=\"{input}\"}}");
    for (name, value) in [
        ("bindings_queue_messages_deleted_total", 3.0),
        ("bindings_queue_messages_poisoned_total", 1.0),
        ("bindings_queue_messages_released_total", 0.0),
    ] {
        assert_eq!(
            series(&text, &format!("{name}{queue_labels}")),
            Some(value),
            "{name}: {text}"
        );
    }
    assert!(
        series(
            &text,
            &format!("bindings_queue_polls_total{{function=\"forward\",queue=\"{input}\",result=\"messages\"}}")
        )
        .is_some_and(|polls| polls >= 1.0),
        "{text}"
    );
    let kafka = format!(
        "function=\"forward\",messaging_system=\"kafka\",messaging_destination_name=\"{topic}\""
    );
    assert_eq!(
        series(
            &text,
            &format!("messaging_client_sent_messages_total{{{kafka}}}")
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            &format!(
                "messaging_client_operation_duration_seconds_count{{{kafka},messaging_operation_name=\"send\"}}"
            )
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "faas_invoke_duration_seconds_count{function=\"forward\",trigger=\"queue_trigger\"}"
        ),
        Some(4.0),
        "{text}"
    );
    assert!(
        text.contains("# TYPE faas_invoke_duration_seconds histogram"),
        "{text}"
    );

    // `hold`: the approximate count (13, the held ones included) over batchSize + newBatchThreshold.
    let (body, headers) = get(admin, "/scale", 200).await;
    assert_eq!(headers["content-type"], "application/json");
    let scale: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let function = |name: &str| {
        scale["functions"]
            .as_array()
            .expect("a list of functions")
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {scale}"))
            .clone()
    };
    assert_eq!(
        function("hold"),
        serde_json::json!({
            "name": "hold", "trigger": "queue_trigger", "scale_hint": 3,
            "input": {"queue": held, "queue_length": 13, "batch_size": 4, "new_batch_threshold": 2}
        })
    );
    assert_eq!(function("forward")["scale_hint"], 0);
    assert_eq!(function("forward")["input"]["queue_length"], 0);
    assert_eq!(scale["scale_hint"], 3, "the largest hint: {scale}");
    let text = get(admin, "/metrics", 200).await.0;
    assert_eq!(
        series(
            &text,
            "bindings_scale_hint{function=\"hold\",trigger=\"queue_trigger\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            &format!("bindings_queue_length{{function=\"hold\",queue=\"{held}\"}}")
        ),
        Some(13.0),
        "{text}"
    );

    assert_eq!(get(admin, "/healthz", 200).await.0, "alive\n");
    assert_eq!(get(admin, "/readyz", 200).await.0, "ready\n");
    HOLD.add_permits(13);
    host.shutdown(WAIT).await.expect("a clean stop");
    let stopped = reqwest::get(format!("http://{admin}/healthz")).await;
    assert!(stopped.is_err(), "the admin endpoint stops with the host");
}

#[queue_trigger("%InputQueue%")]
async fn consume(_text: String) {}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_flips_while_the_storage_account_is_down_and_back() {
    let Some(shared) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let Some(program) = support::services::azurite_program() else {
        return;
    };
    let dir = support::services::scratch("readiness");
    let (mut azurite, connection) = support::services::own_azurite(&program, &shared, &dir).await;
    let queue = support::unique("readiness");
    let service = AzureQueueService::new(
        StorageAccount::from_connection_string(&connection).expect("a valid connection string"),
    );
    service
        .create_queue(&queue)
        .await
        .expect("create the queue");
    let host = start(settings(&connection).with("InputQueue", &queue), |b| {
        b.function::<consume>()
    })
    .await;
    let admin = host.admin_address().expect("AdminListenAddress is set");
    let readyz = || async move {
        let response = reqwest::get(format!("http://{admin}/readyz"))
            .await
            .expect("GET /readyz");
        (
            response.status().as_u16(),
            response.text().await.expect("text"),
        )
    };
    support::until_async(WAIT, "ready", || async { readyz().await.0 == 200 }).await;

    azurite.stop(false).await;
    support::until_async(WAIT, "not ready while Azurite is down", || async {
        readyz().await.0 == 503
    })
    .await;
    let reason = readyz().await.1;
    assert!(
        reason.starts_with("function `consume`: #[queue_trigger]: service unreachable: queue `"),
        "{reason}"
    );
    assert!(reason.contains(&queue), "{reason}");
    assert_eq!(
        get(admin, "/healthz", 200).await.0,
        "alive\n",
        "alive all the same"
    );
    let text = get(admin, "/metrics", 200).await.0;
    assert_eq!(
        series(
            &text,
            "bindings_ready{function=\"consume\",trigger=\"queue_trigger\"}"
        ),
        Some(0.0),
        "{text}"
    );

    azurite.restart().await;
    support::until_async(WAIT, "ready again after Azurite restarted", || async {
        readyz().await.0 == 200
    })
    .await;
    let stopping = tokio::spawn(host.shutdown(WAIT));
    stopping.await.expect("joined").expect("a clean stop");
}

#[http_trigger(methods = ["post"], auth_level = "anonymous")]
async fn orders(order: Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::ok().body(order.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn http_requests_are_counted_by_function_method_and_status() {
    let http = support::free_address();
    let host = start(
        Settings::new()
            .with("HttpListenAddress", &http)
            .with(ADMIN_LISTEN_ADDRESS_SETTING, "127.0.0.1:0"),
        HostBuilder::function::<orders>,
    )
    .await;
    let admin = host.admin_address().expect("AdminListenAddress is set");
    support::listening(&http, "the HTTP functions", WAIT).await;
    let client = reqwest::Client::new();
    let url = format!("http://{http}/api/orders");
    for body in [r#"{"id":1}"#, r#"{"id":2}"#, "not json"] {
        client.post(&url).body(body).send().await.expect("POST");
    }
    let text = get(admin, "/metrics", 200).await.0;
    let requests = |status: u16| {
        series(
            &text,
            &format!(
                "http_server_request_duration_seconds_count{{function=\"orders\",http_request_method=\"POST\",http_response_status_code=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(requests(200), Some(2.0), "{text}");
    assert_eq!(requests(400), Some(1.0), "{text}");
    let invocations = |outcome: &str| {
        series(
            &text,
            &format!(
                "faas_invocations_total{{function=\"orders\",trigger=\"http_trigger\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    assert_eq!(invocations("succeeded"), Some(2.0), "{text}");
    assert_eq!(invocations("failed"), Some(1.0), "{text}");
    host.shutdown(WAIT).await.expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_or_taken_admin_address_is_a_build_problem_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("its address").to_string();
    for (value, says) in [
        ("9090", "is not host:port"),
        (address.as_str(), "cannot listen on"),
    ] {
        let err = Host::builder()
            .settings(Settings::new().with(ADMIN_LISTEN_ADDRESS_SETTING, value))
            .build()
            .await
            .expect_err("the host does not build");
        let text = err.to_string();
        assert!(
            text.contains("`AdminListenAddress`") && text.contains(says),
            "{value}: {text}"
        );
    }
    let off = Host::builder()
        .settings(Settings::new())
        .build()
        .await
        .expect("builds")
        .start();
    assert_eq!(off.admin_address(), None, "off by default");
    off.shutdown(WAIT).await.expect("a clean stop");
}

#[manual_trigger]
#[kafka_output(topic = "t", broker_list = "Brokers")]
async fn every_output(text: String) -> String {
    text
}

#[kafka_trigger(topic = "t", broker_list = "Brokers", consumer_group = "g")]
async fn every_kafka(_text: String) {}

/// The README's metrics table: its first column, one metric a row, and its type.
fn readme_metrics() -> Vec<(String, String)> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("| metric | type |")
        .expect("README has the metrics table");
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_lists_every_metric_a_host_exposes_with_its_type() {
    // Built, not started: every binding registers its families at `build()`.
    let memory = bindings::queue::MemoryQueueService::new();
    let cluster = rdkafka::mocking::MockCluster::new(1).expect("a mock cluster");
    let host = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", cluster.bootstrap_servers())
                .with("InputQueue", "every")
                .with("HttpListenAddress", "off"),
        )
        .resource(std::sync::Arc::new(
            bindings::queue::QueueServices::new().with("Storage", memory),
        ))
        .function::<consume>()
        .function::<orders>()
        .function::<every_output>()
        .function::<every_kafka>()
        .build()
        .await
        .expect("the host builds");
    let text = host
        .resources()
        .get::<bindings::telemetry::Metrics>()
        .expect("every host has metrics")
        .encode();
    let mut exposed: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .map(|rest| {
            let (name, kind) = rest.split_once(' ').expect("name and type");
            (name.to_owned(), kind.to_owned())
        })
        .collect();
    // A family shows once it has a series; these get theirs from what happens (a status code, an
    // error type, a partition), the others when a function is bound (a static topic's send
    // duration too).
    let on_first_use = [
        "bindings_kafka_consumer_lag",
        "bindings_kafka_delivery_failures_total",
        "http_server_request_duration_seconds",
    ];
    let mut listed = readme_metrics();
    listed.retain(|(name, _)| !on_first_use.contains(&name.as_str()));
    exposed.sort();
    listed.sort();
    assert_eq!(
        listed, exposed,
        "README's metrics table against the families a host registers"
    );
    // The others are checked where they get their series: the lag in kafka_trigger.rs, the send
    // duration and the requests above, the delivery failures in kafka_output.rs.
    assert_eq!(readme_metrics().len(), exposed.len() + on_first_use.len());
    drop(host);
}
