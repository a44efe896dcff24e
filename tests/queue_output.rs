//! `#[queue_output]`: values, encodings, queue names, creation, limits and awaited delivery on the
//! in-memory queue service (with faults injected), and what Microsoft's Python SDK reads on Azurite.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bindings::extend::FunctionDef;
use bindings::prelude::*;
use bindings::queue::{
    MAX_CONCURRENT_SENDS, MemoryQueueService, QueueService, QueueServices, Receipt,
    ReceivedMessage, SendOptions, ServiceError, ServiceErrorKind, async_trait,
};
use bindings::{BindingData, CallError, HostHandle};

mod support;

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Order {
    id: String,
}

#[manual_trigger]
#[queue_output("%Out%")]
async fn text(body: String) -> String {
    body
}

#[manual_trigger]
#[queue_output("%Out%")]
async fn raw(body: Vec<u8>) -> Vec<u8> {
    body
}

#[manual_trigger]
#[queue_output("%Out%")]
async fn shared(body: Bytes) -> Bytes {
    body
}

#[manual_trigger]
#[queue_output("%Out%")]
async fn json(id: String) -> Json<Order> {
    Json(Order { id })
}

/// Each comma-separated word as a message; an empty payload sends nothing.
#[manual_trigger]
#[queue_output("%Out%")]
async fn words(text: String) -> Vec<String> {
    text.split(',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[manual_trigger]
#[queue_output("%Out%")]
async fn maybe(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[manual_trigger]
#[queue_output("%Out%", message_encoding = "none")]
async fn plain(body: Vec<u8>) -> Vec<u8> {
    body
}

#[manual_trigger]
#[queue_output("{region}-orders")]
async fn routed(body: String) -> String {
    body
}

/// `now`, `late` (visible after 2 s), `short` (lives 60 s) and `forever` (never expires).
#[manual_trigger]
#[queue_output("%Out%")]
async fn scheduled(_: String) -> Vec<QueueMessageOut<String>> {
    vec![
        QueueMessageOut::new("now".to_owned()),
        QueueMessageOut::new("late".to_owned()).visibility_delay(Duration::from_secs(2)),
        QueueMessageOut::new("short".to_owned()).time_to_live(Duration::from_secs(60)),
        QueueMessageOut::new("forever".to_owned()).never_expires(),
    ]
}

#[manual_trigger]
#[queue_output("%Out%")]
async fn too_late(_: String) -> QueueMessageOut<String> {
    QueueMessageOut::new("x".to_owned()).visibility_delay(Duration::from_secs(8 * 24 * 3600))
}

/// Forwards each message of `In` to `Out`; retries (almost) forever, so only delivery decides.
#[queue_trigger(
    "%In%",
    max_dequeue_count = 10000,
    max_polling_interval = "00:00:00.100"
)]
#[queue_output("%Out%")]
async fn forward(body: String) -> String {
    body
}

/// Copies each message of `In` to the queue named by its text: `eu` goes to `eu-copies`.
#[queue_trigger("%In%", max_polling_interval = "00:00:00.100")]
#[queue_output("{queueTrigger}-copies")]
async fn copies(body: String) -> String {
    body
}

/// A module's `#[storage_account]` applies to the outputs inside it.
#[storage_account("Other")]
mod other_account {
    use bindings::prelude::*;

    #[manual_trigger]
    #[queue_output("%Out%")]
    pub(crate) async fn elsewhere(body: String) -> String {
        body
    }

    /// The output's own `connection` wins over the module's account.
    #[manual_trigger]
    #[queue_output("%Out%", connection = "Storage")]
    pub(crate) async fn own_connection(body: String) -> String {
        body
    }
}

/// `GET /api/order?region=eu` sends the order to `eu-orders`.
#[derive(Outputs)]
struct Routed {
    #[queue_output("{region}-orders")]
    order: String,
    response: HttpResponse,
}

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn order(request: HttpRequest) -> Routed {
    Routed {
        order: request.query("id").unwrap_or("none").to_owned(),
        response: HttpResponse::ok().body("queued"),
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// A host running `F` with `service` as the default storage connection.
async fn host<F: FunctionDef>(service: Arc<dyn QueueService>, settings: Settings) -> HostHandle {
    let services = QueueServices::new();
    services.insert("Storage", service);
    Host::builder()
        .settings(settings)
        .resource(Arc::new(services))
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start()
}

/// A host running `F` on a fresh in-memory account, sending to a fresh queue `Out`.
async fn on_memory<F: FunctionDef>() -> (MemoryQueueService, String, HostHandle) {
    let memory = MemoryQueueService::new();
    let out = support::unique("out");
    let handle = host::<F>(Arc::new(memory.clone()), Settings::new().with("Out", &out)).await;
    (memory, out, handle)
}

fn failure(result: Result<(), CallError>) -> FunctionError {
    match result {
        Err(CallError::Failed { error, .. }) => error,
        other => panic!("expected the invocation to fail, got {other:?}"),
    }
}

#[tokio::test]
async fn every_value_type_goes_to_the_queue_base64_encoded_by_default() {
    let sent: &[(&str, &[u8])] = &[
        ("text", "héllo".as_bytes()),
        ("raw", &[0, 1, 255]),
        ("shared", b"bytes"),
        ("json", b"o-1"),
    ];
    for (function, payload) in sent {
        let (memory, out, handle) = match *function {
            "text" => on_memory::<text>().await,
            "raw" => on_memory::<raw>().await,
            "shared" => on_memory::<shared>().await,
            _ => on_memory::<json>().await,
        };
        handle.call(function, payload.to_vec()).await.unwrap();
        let stored = memory.peek_all(&out);
        let expected = if *function == "json" {
            br#"{"id":"o-1"}"#.to_vec()
        } else {
            payload.to_vec()
        };
        assert_eq!(stored, [b64(&expected)], "{function}");
        handle.shutdown(Duration::from_secs(5)).await.unwrap();
    }
}

#[tokio::test]
async fn a_vec_sends_each_element_and_none_or_empty_sends_nothing() {
    let (memory, out, handle) = on_memory::<words>().await;
    handle.call("words", "a,b,c").await.unwrap();
    handle.call("words", "").await.unwrap();
    let mut stored: Vec<Vec<u8>> = memory.peek_all(&out).iter().map(|t| unb64(t)).collect();
    stored.sort();
    assert_eq!(stored, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();

    let (memory, out, handle) = on_memory::<maybe>().await;
    handle.call("maybe", "").await.unwrap();
    assert!(
        !memory.queue_exists(&out),
        "nothing to send: the queue is not even created"
    );
    handle.call("maybe", "one").await.unwrap();
    assert_eq!(memory.peek_all(&out), [b64("one")]);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn encoding_none_stores_text_as_it_is_and_refuses_bytes_that_are_not_text() {
    let (memory, out, handle) = on_memory::<plain>().await;
    handle.call("plain", "as it is").await.unwrap();
    assert_eq!(memory.peek_all(&out), ["as it is"]);
    let err = failure(handle.call("plain", vec![0xff, 0xfe]).await);
    assert!(err.is_poison(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("queue `{out}`")) && text.contains("not UTF-8"),
        "{text}"
    );
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn host_json_message_encoding_applies_unless_the_output_overrides_it() {
    let memory = MemoryQueueService::new();
    let out = support::unique("out");
    let services = QueueServices::new().with("Storage", memory.clone());
    let config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "extensions": { "queues": { "messageEncoding": "none" } } }"#,
    )
    .unwrap();
    let handle = Host::builder()
        .settings(Settings::new().with("Out", &out))
        .host_config(config)
        .resource(Arc::new(services))
        .function::<text>()
        .build()
        .await
        .unwrap()
        .start();
    handle.call("text", "plain text").await.unwrap();
    assert_eq!(memory.peek_all(&out), ["plain text"]);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_binding_expression_names_the_queue_per_invocation_and_a_bad_name_fails_it() {
    let memory = MemoryQueueService::new();
    let handle = host::<routed>(Arc::new(memory.clone()), Settings::new()).await;
    let region = |name: &str| {
        let mut data = BindingData::new();
        data.insert("region", name);
        data
    };
    handle
        .call_with("routed", "o-1", region("eu"))
        .await
        .unwrap();
    handle
        .call_with("routed", "o-2", region("US"))
        .await
        .unwrap();
    assert_eq!(memory.peek_all("eu-orders"), [b64("o-1")]);
    assert_eq!(
        memory.peek_all("us-orders"),
        [b64("o-2")],
        "lower-cased like Azure"
    );
    let err = failure(handle.call_with("routed", "o-3", region("e_u")).await);
    assert!(err.is_poison(), "retrying renders the same name: {err}");
    assert!(
        err.to_string().contains("queue name \"e_u-orders\""),
        "{err}"
    );
    let err = failure(handle.call("routed", "o-4").await);
    assert!(err.to_string().contains("`region`"), "{err}");
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_queue_trigger_s_binding_data_names_the_output_queue() {
    let memory = MemoryQueueService::new();
    let input = support::unique("in");
    memory.create_queue(&input).await.unwrap();
    memory.send(&input, &b64("eu")).await.unwrap();
    let handle = host::<copies>(Arc::new(memory.clone()), Settings::new().with("In", &input)).await;
    support::until(Duration::from_secs(10), "the copy in eu-copies", || {
        memory.peek_all("eu-copies") == [b64("eu")] && memory.peek_all(&input).is_empty()
    })
    .await;
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn an_http_trigger_s_query_names_the_output_queue() {
    let memory = MemoryQueueService::new();
    let address = support::free_address();
    let handle = host::<order>(
        Arc::new(memory.clone()),
        Settings::new().with("HttpListenAddress", &address),
    )
    .await;
    support::listening(&address, "the host", Duration::from_secs(10)).await;
    let get = |query: &'static str| {
        let url = format!("http://{address}/api/order?{query}");
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    };
    assert_eq!(get("region=eu&id=o-1").await, 200);
    assert_eq!(memory.peek_all("eu-orders"), [b64("o-1")]);
    assert_eq!(
        get("region=e_u&id=o-2").await,
        500,
        "an invalid resolved name fails the invocation"
    );
    assert!(!memory.queue_exists("e_u-orders"));
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn the_queue_is_created_once_per_host_not_per_message() {
    let (memory, out, handle) = on_memory::<words>().await;
    assert!(!memory.queue_exists(&out));
    let before = memory.operation_count();
    handle.call("words", "a,b,c").await.unwrap();
    assert_eq!(
        memory.operation_count() - before,
        4,
        "one create, three sends"
    );
    handle.call("words", "d,e").await.unwrap();
    assert_eq!(memory.operation_count() - before, 6, "two more sends only");
    assert_eq!(memory.peek_all(&out).len(), 5);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn the_64_kib_limit_is_checked_after_encoding_before_anything_is_sent() {
    const LIMIT: usize = 64 * 1024;
    let (memory, out, handle) = on_memory::<plain>().await;
    handle.call("plain", vec![b'x'; LIMIT]).await.unwrap();
    let err = failure(handle.call("plain", vec![b'x'; LIMIT + 1]).await);
    assert!(err.is_poison(), "{err}");
    let text = err.to_string();
    for part in [
        format!("queue `{out}`"),
        format!("{} bytes", LIMIT + 1),
        format!("at most {LIMIT}"),
        "a blob".to_owned(),
    ] {
        assert!(text.contains(&part), "{part} in {text}");
    }
    assert_eq!(memory.peek_all(&out).len(), 1);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();

    // Base64 makes 3 bytes 4: 49152 bytes are exactly 64 KiB of text, one more is 65540.
    let (memory, out, handle) = on_memory::<raw>().await;
    handle.call("raw", vec![7u8; LIMIT / 4 * 3]).await.unwrap();
    assert_eq!(memory.peek_all(&out)[0].len(), LIMIT);
    let err = failure(handle.call("raw", vec![7u8; LIMIT / 4 * 3 + 1]).await);
    assert!(err.is_poison(), "{err}");
    assert!(
        err.to_string()
            .contains("65540 bytes (49153 bytes before base64)"),
        "{err}"
    );
    assert_eq!(memory.peek_all(&out).len(), 1, "nothing more was sent");
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn per_message_delay_and_time_to_live_are_kept() {
    let (memory, out, handle) = on_memory::<scheduled>().await;
    handle.call("scheduled", "").await.unwrap();
    let visible = |received: Vec<ReceivedMessage>| {
        let mut texts: Vec<String> = received
            .iter()
            .map(|m| String::from_utf8(unb64(&m.text)).unwrap())
            .collect();
        texts.sort();
        texts
    };
    let first = memory
        .receive(&out, 32, Duration::from_millis(100))
        .await
        .unwrap();
    let forever = first
        .iter()
        .find(|m| m.text == b64("forever"))
        .expect("forever");
    assert!(forever.expiration_time.year() > 2100);
    let short = first.iter().find(|m| m.text == b64("short")).unwrap();
    let lives = (short.expiration_time - short.insertion_time).whole_milliseconds();
    assert!((59_900..=60_100).contains(&lives), "{lives} ms");
    assert_eq!(visible(first), ["forever", "now", "short"]);
    tokio::time::advance(Duration::from_secs(2)).await;
    let later = memory
        .receive(&out, 32, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(visible(later), ["forever", "late", "now", "short"]);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_delay_the_service_would_refuse_fails_the_invocation_as_poison() {
    let (memory, out, handle) = on_memory::<too_late>().await;
    let err = failure(handle.call("too_late", "").await);
    assert!(err.is_poison(), "{err}");
    assert!(err.to_string().contains("7 days"), "{err}");
    assert!(memory.peek_all(&out).is_empty());
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn missing_connection_settings_and_bad_queue_names_are_named_at_build() {
    let err = Host::builder()
        .settings(Settings::new().with("Out", "fine"))
        .function::<text>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("function `text`, #[queue_output]") && err.contains("AzureWebJobsStorage"),
        "{err}"
    );
    for (out, expected) in [
        ("Bad_Name", "queue name \"Bad_Name\""),
        ("{region", "unbalanced"),
    ] {
        let services = QueueServices::new().with("Storage", MemoryQueueService::new());
        let err = Host::builder()
            .settings(Settings::new().with("Out", out))
            .resource(Arc::new(services))
            .function::<text>()
            .build()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("#[queue_output]") && err.contains(expected),
            "{err}"
        );
    }
    let err = Host::builder()
        .settings(Settings::new().with("AzureWebJobsStorage", "UseDevelopmentStorage=true"))
        .function::<text>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`Out`"), "the missing %Out% is named: {err}");
}

#[tokio::test]
async fn the_storage_account_of_the_enclosing_module_or_the_output_s_connection_is_used() {
    let (default, other) = (MemoryQueueService::new(), MemoryQueueService::new());
    let out = support::unique("out");
    let services = QueueServices::new()
        .with("Storage", default.clone())
        .with("Other", other.clone());
    let handle = Host::builder()
        .settings(Settings::new().with("Out", &out))
        .resource(Arc::new(services))
        .function::<other_account::elsewhere>()
        .function::<other_account::own_connection>()
        .build()
        .await
        .unwrap()
        .start();
    handle.call("elsewhere", "in other").await.unwrap();
    handle.call("own_connection", "in default").await.unwrap();
    assert_eq!(other.peek_all(&out), [b64("in other")]);
    assert_eq!(default.peek_all(&out), [b64("in default")]);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// A queue service that fails on purpose: sends to `down_queue` while `down` is set, and sends of
/// `bad_text` always. Sends take `latency`; the most in flight at once is recorded.
struct Faulty {
    inner: MemoryQueueService,
    down_queue: String,
    down: AtomicBool,
    bad_text: Option<String>,
    latency: Duration,
    refused: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Faulty {
    fn new(inner: MemoryQueueService, down_queue: &str) -> Self {
        Self {
            inner,
            down_queue: down_queue.to_owned(),
            down: AtomicBool::new(false),
            bad_text: None,
            latency: Duration::ZERO,
            refused: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl QueueService for Faulty {
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, ServiceError> {
        self.inner.receive(queue, max, visibility).await
    }
    async fn update_visibility(
        &self,
        queue: &str,
        id: &str,
        pop_receipt: &str,
        visibility: Duration,
    ) -> Result<Receipt, ServiceError> {
        self.inner
            .update_visibility(queue, id, pop_receipt, visibility)
            .await
    }
    async fn delete(&self, queue: &str, id: &str, pop_receipt: &str) -> Result<(), ServiceError> {
        self.inner.delete(queue, id, pop_receipt).await
    }
    async fn send_with(
        &self,
        queue: &str,
        text: &str,
        options: SendOptions,
    ) -> Result<(), ServiceError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let down = queue == self.down_queue && self.down.load(Ordering::SeqCst);
        if down || self.bad_text.as_deref() == Some(text) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(ServiceError::new(
                ServiceErrorKind::Unavailable,
                format!("send on queue `{queue}`: injected: the service is down"),
            ));
        }
        self.inner.send_with(queue, text, options).await
    }
    async fn create_queue(&self, queue: &str) -> Result<(), ServiceError> {
        self.inner.create_queue(queue).await
    }
    async fn approximate_count(&self, queue: &str) -> Result<u64, ServiceError> {
        self.inner.approximate_count(queue).await
    }
    async fn has_visible(&self, queue: &str) -> Result<bool, ServiceError> {
        self.inner.has_visible(queue).await
    }
    fn describe(&self) -> String {
        format!("{} (faulty)", self.inner.describe())
    }
}

#[tokio::test]
async fn queue_to_queue_deletes_the_input_only_after_the_output_exists() {
    const COUNT: usize = 20;
    let memory = MemoryQueueService::new();
    let (input, out) = (support::unique("in"), support::unique("out"));
    memory.create_queue(&input).await.unwrap();
    for n in 0..COUNT {
        memory.send(&input, &b64(format!("m{n}"))).await.unwrap();
    }
    let faulty = Arc::new(Faulty::new(memory.clone(), &out));
    faulty.down.store(true, Ordering::SeqCst);
    let handle = host::<forward>(
        Arc::clone(&faulty) as Arc<dyn QueueService>,
        Settings::new().with("In", &input).with("Out", &out),
    )
    .await;
    support::until(
        Duration::from_secs(30),
        "every message failed at least once",
        || faulty.refused.load(Ordering::SeqCst) >= 2 * COUNT,
    )
    .await;
    assert_eq!(
        memory.peek_all(&input).len(),
        COUNT,
        "no input deleted while its output failed"
    );
    assert!(memory.peek_all(&out).is_empty());
    faulty.down.store(false, Ordering::SeqCst);
    support::until(
        Duration::from_secs(30),
        "every message forwarded and its input deleted",
        || memory.peek_all(&input).is_empty(),
    )
    .await;
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let forwarded: BTreeSet<Vec<u8>> = memory.peek_all(&out).iter().map(|t| unb64(t)).collect();
    let expected: BTreeSet<Vec<u8>> = (0..COUNT).map(|n| format!("m{n}").into_bytes()).collect();
    assert_eq!(forwarded, expected, "lost = 0");
    assert!(memory.peek_all(&format!("{input}-poison")).is_empty());
}

#[tokio::test]
async fn a_partial_failure_fails_the_invocation_with_the_count_sent_and_the_first_error() {
    let memory = MemoryQueueService::new();
    let out = support::unique("out");
    let mut faulty = Faulty::new(memory.clone(), "");
    faulty.bad_text = Some(b64("bad"));
    let handle = host::<words>(Arc::new(faulty), Settings::new().with("Out", &out)).await;
    let err = failure(handle.call("words", "a,b,bad,c").await);
    assert!(!err.is_poison(), "a passing failure is retried: {err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "queue `{out}`: 3 of 4 message(s) sent before a failure"
        )) && text.contains("injected: the service is down")
            && text.contains("at-least-once"),
        "{text}"
    );
    assert_eq!(memory.peek_all(&out).len(), 3);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn several_messages_are_sent_concurrently_up_to_the_bound() {
    let memory = MemoryQueueService::new();
    let out = support::unique("out");
    let mut faulty = Faulty::new(memory.clone(), "");
    faulty.latency = Duration::from_millis(10);
    let faulty = Arc::new(faulty);
    let handle = host::<words>(
        Arc::clone(&faulty) as Arc<dyn QueueService>,
        Settings::new().with("Out", &out),
    )
    .await;
    let many: Vec<String> = (0..50).map(|n| n.to_string()).collect();
    handle.call("words", many.join(",")).await.unwrap();
    assert_eq!(memory.peek_all(&out).len(), 50);
    assert_eq!(faulty.peak.load(Ordering::SeqCst), MAX_CONCURRENT_SENDS);
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// Peeks `queue` with Microsoft's Python SDK: one line per visible message, `<body as hex>
/// <seconds to live, or never>`. Args: connection string, queue, `base64` or `none`.
const PYTHON_PEEK: &str = r#"
import sys
from azure.storage.queue import QueueClient, BinaryBase64DecodePolicy
connection, queue, encoding = sys.argv[1:]
policy = BinaryBase64DecodePolicy() if encoding == "base64" else None
client = QueueClient.from_connection_string(connection, queue, message_decode_policy=policy)
for m in client.peek_messages(max_messages=32):
    body = m.content if isinstance(m.content, bytes) else m.content.encode()
    ttl = "never" if m.expires_on.year == 9999 else str(round((m.expires_on - m.inserted_on).total_seconds()))
    print(body.hex(), ttl)
"#;

/// What [`PYTHON_PEEK`] sees in `queue`: (body, time-to-live), sorted.
async fn python_peek(connection: &str, queue: &str, encoding: &str) -> Vec<(Vec<u8>, String)> {
    let args = [connection, queue, encoding].map(str::to_owned);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(support::python_with(&[support::AZURE_STORAGE_QUEUE]))
            .arg("-c")
            .arg(PYTHON_PEEK)
            .args(args)
            .output()
    })
    .await
    .unwrap()
    .expect("python runs");
    assert!(
        output.status.success(),
        "python peek failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut seen: Vec<(Vec<u8>, String)> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (hex, ttl) = line.split_once(' ').expect("two fields");
            let body = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (body, ttl.to_owned())
        })
        .collect();
    seen.sort();
    seen
}

/// A host running `F` on Azurite through `AzureWebJobsStorage`, sending to a fresh queue `Out`
/// (not created: the output creates it).
async fn on_azurite<F: FunctionDef>(connection: &str) -> (String, HostHandle) {
    let out = support::unique("az-out");
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("AzureWebJobsStorage", connection)
                .with("Out", &out),
        )
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start();
    (out, handle)
}

#[tokio::test]
async fn on_azurite_python_reads_every_value_type_from_a_queue_the_output_created() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let week = (7 * 24 * 3600).to_string();
    let (out, handle) = on_azurite::<raw>(&connection).await;
    handle.call("raw", vec![0u8, 1, 255]).await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        python_peek(&connection, &out, "base64").await,
        [(vec![0, 1, 255], week.clone())]
    );
    let (out, handle) = on_azurite::<words>(&connection).await;
    handle.call("words", "héllo,wörld").await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        python_peek(&connection, &out, "base64").await,
        [
            ("héllo".as_bytes().to_vec(), week.clone()),
            ("wörld".as_bytes().to_vec(), week.clone())
        ]
    );
    let (out, handle) = on_azurite::<json>(&connection).await;
    handle.call("json", "o-1").await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        python_peek(&connection, &out, "base64").await,
        [(br#"{"id":"o-1"}"#.to_vec(), week.clone())]
    );
    let (out, handle) = on_azurite::<plain>(&connection).await;
    handle.call("plain", "as <it> & is").await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        python_peek(&connection, &out, "none").await,
        [(b"as <it> & is".to_vec(), week)]
    );
}

#[tokio::test]
async fn on_azurite_python_sees_the_visibility_delay_and_time_to_live_of_each_message() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let (out, handle) = on_azurite::<scheduled>(&connection).await;
    handle.call("scheduled", "").await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let week = (7 * 24 * 3600).to_string();
    let entry = |body: &str, ttl: &str| (body.as_bytes().to_vec(), ttl.to_owned());
    assert_eq!(
        python_peek(&connection, &out, "base64").await,
        [
            entry("forever", "never"),
            entry("now", &week),
            entry("short", "60")
        ],
        "`late` is not visible yet"
    );
    support::until_async(
        Duration::from_secs(20),
        "`late` visible after its 2 s delay, living 7 days",
        || async {
            python_peek(&connection, &out, "base64")
                .await
                .contains(&entry("late", &week))
        },
    )
    .await;
}

#[tokio::test]
async fn on_azurite_a_queue_to_queue_pipeline_forwards_and_deletes() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let account = bindings::queue::StorageAccount::from_connection_string(&connection).unwrap();
    let service = bindings::queue::AzureQueueService::new(account);
    let (input, out) = (support::unique("az-in"), support::unique("az-out"));
    service.create_queue(&input).await.unwrap();
    for n in 0..10 {
        service.send(&input, &b64(format!("m{n}"))).await.unwrap();
    }
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("AzureWebJobsStorage", &connection)
                .with("In", &input)
                .with("Out", &out),
        )
        .function::<forward>()
        .build()
        .await
        .unwrap()
        .start();
    support::until_async(Duration::from_secs(30), "the input drained", || async {
        service.approximate_count(&input).await.unwrap() == 0
    })
    .await;
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let forwarded: BTreeSet<Vec<u8>> = python_peek(&connection, &out, "base64")
        .await
        .into_iter()
        .map(|(body, _)| body)
        .collect();
    assert_eq!(
        forwarded,
        (0..10).map(|n| format!("m{n}").into_bytes()).collect()
    );
}
