//! The queue trigger's rules, on the in-memory queue service (same semantics as Azure Queue storage),
//! with tokio's paused clock where time matters. Each test uses its own queue (`%Queue%`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use bindings::HostHandle;
use bindings::prelude::*;
use bindings::queue::{MemoryQueueService, QueueFunctions, QueueService, QueueServices};
use tokio::sync::Notify;

mod support;

use support::counting::Counting;

/// What the test functions do with a message, per queue.
#[derive(Default)]
struct Script {
    /// Bodies seen, in order, with their dequeue counts.
    seen: Mutex<Vec<(String, u32)>>,
    /// When each was seen (real time).
    seen_at: Mutex<Vec<std::time::Instant>>,
    running: AtomicUsize,
    peak: AtomicUsize,
    /// When set, functions wait for it before finishing.
    gate: Option<Arc<Notify>>,
    entered: Notify,
}

fn scripts() -> &'static Mutex<HashMap<String, Arc<Script>>> {
    static SCRIPTS: OnceLock<Mutex<HashMap<String, Arc<Script>>>> = OnceLock::new();
    SCRIPTS.get_or_init(Mutex::default)
}

fn script_for(queue: &str) -> Arc<Script> {
    Arc::clone(
        scripts()
            .lock()
            .unwrap()
            .entry(queue.to_owned())
            .or_default(),
    )
}

/// The behaviour all test functions share: record, maybe wait, then succeed, fail or poison by body.
async fn act(body: String, meta: &QueueMetadata) -> Result<(), FunctionError> {
    let script = script_for(&meta.queue);
    script
        .seen
        .lock()
        .unwrap()
        .push((body.clone(), meta.dequeue_count));
    script
        .seen_at
        .lock()
        .unwrap()
        .push(std::time::Instant::now());
    let now = script.running.fetch_add(1, Ordering::SeqCst) + 1;
    script.peak.fetch_max(now, Ordering::SeqCst);
    script.entered.notify_waiters();
    if let Some(gate) = &script.gate {
        gate.notified().await;
    }
    script.running.fetch_sub(1, Ordering::SeqCst);
    match body.as_str() {
        "fail" => Err(FunctionError::retry("asked to fail")),
        "poison" => Err(FunctionError::poison("asked to poison")),
        _ => Ok(()),
    }
}

#[queue_trigger("%Queue%", max_dequeue_count = 3)]
async fn text_worker(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[queue_trigger("%Queue%", message_encoding = "none", max_dequeue_count = 2)]
async fn plain_worker(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[derive(serde::Deserialize)]
struct Order {
    id: String,
}

#[queue_trigger("%Queue%", max_dequeue_count = 2)]
async fn order_worker(
    order: Json<Order>,
    meta: QueueMetadata,
    context: FunctionContext,
) -> Result<(), FunctionError> {
    let id = context.binding_data().get("id").cloned();
    assert_eq!(
        id,
        Some(serde_json::json!(order.id)),
        "JSON properties are binding data"
    );
    act(order.0.id, &meta).await
}

#[queue_trigger("%Queue%", batch_size = 4, new_batch_threshold = 2)]
async fn narrow_worker(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[queue_trigger("%Queue%", receive_visibility_timeout = "00:00:10")]
async fn slow_worker(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[queue_trigger("%Queue%", max_polling_interval = "00:00:02")]
async fn idle_worker(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

struct Fixture {
    queue: String,
    memory: MemoryQueueService,
    handle: HostHandle,
    script: Arc<Script>,
}

/// A host running `F` on a fresh in-memory queue with `messages` already in it.
async fn start<F: bindings::extend::FunctionDef>(messages: &[String], gate: bool) -> Fixture {
    let setup = MemorySetup {
        gate,
        ..MemorySetup::default()
    };
    start_with::<F>(messages, setup).await
}

/// How [`start_with`] sets its host up.
#[derive(Default)]
struct MemorySetup {
    /// The queue's name; a unique one if `None`.
    queue: Option<String>,
    /// The `Queue` setting the functions name their queue by; the queue's name if `None`.
    setting: Option<String>,
    /// Functions wait for the script's gate.
    gate: bool,
    /// Every receive asks the queue for this many messages, whatever the listener asked for.
    receiving: Option<u32>,
}

/// [`start`], set up by `setup`.
async fn start_with<F: bindings::extend::FunctionDef>(
    messages: &[String],
    setup: MemorySetup,
) -> Fixture {
    let MemorySetup {
        queue,
        setting,
        gate,
        receiving,
    } = setup;
    let queue = queue.unwrap_or_else(|| support::unique("q"));
    let script = Arc::new(Script {
        gate: gate.then(|| Arc::new(Notify::new())),
        ..Script::default()
    });
    scripts()
        .lock()
        .unwrap()
        .insert(queue.clone(), Arc::clone(&script));
    let memory = MemoryQueueService::new();
    memory.create_queue(&queue).await.unwrap();
    for m in messages {
        memory.send(&queue, m).await.unwrap();
    }
    let services = QueueServices::new();
    let service: Arc<dyn QueueService> = match receiving {
        Some(max) => Arc::new(Counting::new(Arc::new(memory.clone()), None).receiving(max)),
        None => Arc::new(memory.clone()),
    };
    services.insert("Storage", service);
    let handle = Host::builder()
        .settings(Settings::new().with("Queue", setting.unwrap_or_else(|| queue.clone())))
        .resource(Arc::new(services))
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start();
    Fixture {
        queue,
        memory,
        handle,
        script,
    }
}

impl Fixture {
    fn seen(&self) -> Vec<(String, u32)> {
        self.script.seen.lock().unwrap().clone()
    }

    fn counts(&self, function: &str) -> bindings::queue::QueueCounts {
        self.handle
            .resources()
            .get::<QueueFunctions>()
            .unwrap()
            .get(function)
            .unwrap()
            .counts()
    }

    /// Waits (on tokio's clock) until `done` holds, checking every 50 ms, for at most `limit`.
    async fn until(&self, limit: Duration, done: impl Fn(&Self) -> bool) {
        support::until(limit, || done(self)).await;
    }

    fn poison(&self) -> Vec<String> {
        self.memory.peek_all(&format!("{}-poison", self.queue))
    }

    fn remaining(&self) -> Vec<String> {
        self.memory.peek_all(&self.queue)
    }
}

#[tokio::test(start_paused = true)]
async fn base64_messages_are_decoded_processed_and_deleted() {
    let f = start::<text_worker>(&[b64("hello"), b64("wörld")], false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("text_worker").succeeded == 2
    })
    .await;
    let mut seen = f.seen();
    seen.sort();
    assert_eq!(seen, [("hello".to_owned(), 1), ("wörld".to_owned(), 1)]);
    assert!(f.remaining().is_empty(), "processed messages are deleted");
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn plain_text_is_used_as_is_with_encoding_none() {
    let f = start::<plain_worker>(&["not base64!".to_owned()], false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("plain_worker").succeeded == 1
    })
    .await;
    assert_eq!(f.seen(), [("not base64!".to_owned(), 1)]);
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn invalid_base64_goes_straight_to_poison_with_its_raw_text() {
    let f = start::<text_worker>(&["plain text, not base64".to_owned()], false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("text_worker").poisoned == 1
    })
    .await;
    assert!(f.seen().is_empty(), "the function never ran");
    assert_eq!(f.poison(), ["plain text, not base64"]);
    assert!(f.remaining().is_empty());
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failing_message_is_retried_then_poisoned_with_its_body_intact() {
    let f = start::<text_worker>(&[b64("fail")], false).await;
    f.until(Duration::from_secs(30), |f| {
        f.counts("text_worker").poisoned == 1
    })
    .await;
    assert_eq!(
        f.seen(),
        [
            ("fail".to_owned(), 1),
            ("fail".to_owned(), 2),
            ("fail".to_owned(), 3)
        ]
    );
    assert_eq!(
        f.poison(),
        [b64("fail")],
        "the body is copied as stored (same encoding)"
    );
    assert!(f.remaining().is_empty(), "the original is deleted");
    let counts = f.counts("text_worker");
    assert_eq!(
        (counts.received, counts.failed, counts.succeeded),
        (3, 3, 0)
    );
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_function_can_ask_for_poison_now() {
    let f = start::<text_worker>(&[b64("poison")], false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("text_worker").poisoned == 1
    })
    .await;
    assert_eq!(f.seen(), [("poison".to_owned(), 1)], "no retries");
    assert_eq!(f.poison(), [b64("poison")]);
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_payload_that_does_not_parse_is_retried_then_poisoned() {
    let f = start::<order_worker>(&[b64(r#"{"id": 5}"#), b64(r#"{"id":"o-1"}"#)], false).await;
    f.until(Duration::from_secs(30), |f| {
        let c = f.counts("order_worker");
        c.poisoned == 1 && c.succeeded == 1
    })
    .await;
    assert_eq!(
        f.seen(),
        [("o-1".to_owned(), 1)],
        "only the good order reached the function"
    );
    assert_eq!(
        f.counts("order_worker").received,
        3,
        "the bad one was tried max_dequeue_count = 2 times"
    );
    assert_eq!(f.poison(), [b64(r#"{"id": 5}"#)]);
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_message_received_too_often_is_poisoned_without_running() {
    // A message that was received max_dequeue_count times without completing (hosts that crashed).
    let queue_text = b64("crash-loop");
    let f = start::<text_worker>(&[], false).await;
    f.memory.send(&f.queue, &queue_text).await.unwrap();
    for _ in 0..3 {
        f.memory
            .receive(&f.queue, 1, Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    f.until(Duration::from_secs(10), |f| {
        f.counts("text_worker").poisoned == 1
    })
    .await;
    assert!(f.seen().is_empty(), "the function never ran");
    assert_eq!(f.poison(), [queue_text]);
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn concurrency_peaks_at_batch_size_plus_threshold() {
    let messages: Vec<String> = (0..30).map(|i| b64(&i.to_string())).collect();
    let f = start::<narrow_worker>(&messages, true).await;
    let running = |f: &Fixture| f.script.running.load(Ordering::SeqCst);
    let gate = Arc::clone(f.script.gate.as_ref().unwrap());
    // One batch of 4 runs; no new poll while more than new_batch_threshold (2) are in flight.
    f.until(Duration::from_secs(10), |f| running(f) == 4).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(f.script.peak.load(Ordering::SeqCst), 4);
    // Two finish: in flight drops to the threshold, so a new batch of 4 starts: 6 at once.
    gate.notify_one();
    gate.notify_one();
    f.until(Duration::from_secs(10), |f| running(f) == 6).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(f.script.peak.load(Ordering::SeqCst), 6);
    while f.counts("narrow_worker").succeeded < 30 {
        gate.notify_one();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        f.script.peak.load(Ordering::SeqCst),
        6,
        "never above batch_size + new_batch_threshold"
    );
    assert!(f.remaining().is_empty());
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_long_running_message_stays_invisible_while_it_runs() {
    let f = start::<slow_worker>(&[b64("slow")], true).await;
    f.until(Duration::from_secs(10), |f| {
        f.script.running.load(Ordering::SeqCst) == 1
    })
    .await;
    // Four receive-visibility periods later, renewal has kept it hidden from every other receiver.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(
            !f.memory.has_visible(&f.queue).await.unwrap(),
            "the message became visible while running"
        );
    }
    f.script.gate.as_ref().unwrap().notify_waiters();
    f.until(Duration::from_secs(10), |f| {
        f.counts("slow_worker").succeeded == 1
    })
    .await;
    assert_eq!(f.seen(), [("slow".to_owned(), 1)], "processed once");
    assert!(
        f.remaining().is_empty(),
        "deleted with the renewed pop receipt"
    );
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_idle_queue_is_polled_with_growing_back_off_up_to_the_maximum() {
    let f = start::<idle_worker>(&[], false).await;
    let ops = f.memory.operation_count();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let warmup = f.memory.operation_count() - ops;
    // 100 ms, ~200, ~300, ~500, ~900, ~1.7 s, then 2 s each: about 9 polls in the first 10 s.
    assert!(
        (7..=11).contains(&warmup),
        "{warmup} polls in the first 10 s"
    );
    let before = f.memory.operation_count();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let steady = f.memory.operation_count() - before;
    assert!(
        (29..=31).contains(&steady),
        "{steady} polls in 60 s at a 2 s maximum"
    );
    // A message resets the back-off: it is picked up within the maximum interval, and after it the
    // next empty poll comes after the minimum delay again.
    f.memory.send(&f.queue, &b64("wake")).await.unwrap();
    f.until(Duration::from_millis(2100), |f| {
        f.counts("idle_worker").succeeded == 1
    })
    .await;
    let before = f.memory.operation_count();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Empty polls at about +0, +0.1, +0.3 and +0.6 s after the message, instead of one per 2 s.
    assert!(
        f.memory.operation_count() - before >= 3,
        "polling sped up again after a message"
    );
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_mid_batch_finishes_what_runs_and_loses_nothing() {
    let messages: Vec<String> = (0..40).map(|i| b64(&i.to_string())).collect();
    let f = start::<narrow_worker>(&messages, true).await;
    f.until(Duration::from_secs(10), |f| {
        f.script.running.load(Ordering::SeqCst) == 4
    })
    .await;
    let gate = Arc::clone(f.script.gate.as_ref().unwrap());
    let release = tokio::spawn(async move {
        loop {
            gate.notify_waiters();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let Fixture {
        queue,
        memory,
        handle,
        script,
    } = f;
    handle.shutdown(Duration::from_secs(30)).await.unwrap();
    release.abort();
    let processed = script.seen.lock().unwrap().len();
    let remaining = memory.peek_all(&queue).len();
    assert!(processed >= 4, "the running ones finished");
    assert_eq!(
        processed + remaining,
        40,
        "every message was processed (and deleted) or is still in the queue"
    );
    // Nothing is left invisible: everything still there can be received at once.
    let visible = memory
        .receive(&queue, 32, Duration::from_secs(1))
        .await
        .unwrap()
        .len();
    assert_eq!(visible, remaining.min(32));
}

#[tokio::test(start_paused = true)]
async fn a_missing_queue_is_waited_for_not_created() {
    let f = start::<idle_worker>(&[], false).await;
    let missing = support::unique("late");
    // Point a second host at a queue that does not exist yet.
    let late = Host::builder()
        .settings(Settings::new().with("Queue", missing.clone()))
        .resource(Arc::new(
            QueueServices::new().with("Storage", f.memory.clone()),
        ))
        .function::<idle_worker>()
        .build()
        .await
        .unwrap()
        .start();
    scripts()
        .lock()
        .unwrap()
        .insert(missing.clone(), Arc::default());
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(
        !f.memory.queue_exists(&missing),
        "the trigger does not create its queue"
    );
    f.memory.create_queue(&missing).await.unwrap();
    f.memory.send(&missing, &b64("finally")).await.unwrap();
    let done = || {
        late.resources()
            .get::<QueueFunctions>()
            .unwrap()
            .get("idle_worker")
            .unwrap()
            .counts()
            .succeeded
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while done() == 0 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    late.shutdown(Duration::from_secs(5)).await.unwrap();
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn two_hosts_on_one_queue_process_every_message_exactly_once() {
    let messages: Vec<String> = (0..100).map(|i| b64(&format!("m{i}"))).collect();
    let f = start::<text_worker>(&messages, false).await;
    let second = Host::builder()
        .settings(Settings::new().with("Queue", f.queue.clone()))
        .resource(Arc::new(
            QueueServices::new().with("Storage", f.memory.clone()),
        ))
        .function::<text_worker>()
        .build()
        .await
        .unwrap()
        .start();
    f.until(Duration::from_secs(30), |f| {
        f.seen().len() == 100 && f.remaining().is_empty()
    })
    .await;
    let mut bodies: Vec<String> = f.seen().into_iter().map(|(b, _)| b).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 100, "every message once");
    assert!(f.seen().iter().all(|(_, dequeue)| *dequeue == 1));
    let first = f.counts("text_worker").succeeded;
    let other = second
        .resources()
        .get::<QueueFunctions>()
        .unwrap()
        .get("text_worker")
        .unwrap()
        .counts()
        .succeeded;
    assert_eq!(first + other, 100);
    second.shutdown(Duration::from_secs(5)).await.unwrap();
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_scale_hint_divides_the_queue_by_what_one_host_holds() {
    let messages: Vec<String> = (0..50).map(|i| b64(&i.to_string())).collect();
    let f = start::<narrow_worker>(&messages, true).await;
    f.until(Duration::from_secs(10), |f| {
        f.script.running.load(Ordering::SeqCst) == 4
    })
    .await;
    let function = f
        .handle
        .resources()
        .get::<QueueFunctions>()
        .unwrap()
        .get("narrow_worker")
        .unwrap();
    let hint = function.scale_hint().await.unwrap();
    assert_eq!(
        (hint.queue_length, hint.target_instances),
        (50, 9),
        "ceil(50 / (4 + 2))"
    );
    f.script.gate.as_ref().unwrap().notify_waiters();
    drop(function);
    let gate = Arc::clone(f.script.gate.as_ref().unwrap());
    let release = tokio::spawn(async move {
        loop {
            gate.notify_waiters();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    f.handle.shutdown(Duration::from_secs(30)).await.unwrap();
    release.abort();
}

#[tokio::test]
async fn settings_problems_are_reported_at_build() {
    let err = Host::builder()
        .settings(Settings::new())
        .function::<text_worker>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "function `text_worker`, #[queue_trigger]: `queue_name` refers to app setting `Queue`"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "connection `Storage` is not set; looked for `AzureWebJobsStorage`, then `Storage`"
        ),
        "{err}"
    );
    let err = Host::builder()
        .settings(Settings::new().with("Queue", "Bad_Name"))
        .resource(Arc::new(
            QueueServices::new().with("Storage", MemoryQueueService::new()),
        ))
        .function::<text_worker>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "queue name \"Bad_Name\" (lower-cased: \"bad_name\") may contain only lowercase letters, digits and dashes"
        ),
        "{err}"
    );
}

/// A message as a function received it: the body, the binding data's `id`, the metadata.
type Received = (Vec<u8>, Option<serde_json::Value>, QueueMetadata);

/// What the functions below received, per queue.
fn received() -> &'static Mutex<HashMap<String, Vec<Received>>> {
    static RECEIVED: OnceLock<Mutex<HashMap<String, Vec<Received>>>> = OnceLock::new();
    RECEIVED.get_or_init(Mutex::default)
}

fn note(body: Vec<u8>, context: &FunctionContext, meta: QueueMetadata) {
    let id = context.binding_data().get("id").cloned();
    received()
        .lock()
        .unwrap()
        .entry(meta.queue.to_string())
        .or_default()
        .push((body, id, meta));
}

fn received_on(queue: &str) -> Vec<Received> {
    received()
        .lock()
        .unwrap()
        .get(queue)
        .cloned()
        .unwrap_or_default()
}

#[queue_trigger("%Queue%")]
async fn keyed_by_id(body: String, meta: QueueMetadata, context: FunctionContext) {
    note(body.into_bytes(), &context, meta);
}

#[queue_trigger("%BytesQueue%")]
async fn bytes_worker(body: Vec<u8>, meta: QueueMetadata, context: FunctionContext) {
    note(body, &context, meta);
}

#[queue_trigger("%MessageQueue%")]
async fn message_worker(message: QueueMessage, context: FunctionContext) {
    note(message.body.to_vec(), &context, message.metadata);
}

#[tokio::test(start_paused = true)]
async fn a_json_body_s_properties_are_binding_data_only_for_a_json_parameter() {
    // As in Azure: for a `String` parameter `{id}` is the message id, whatever the body holds.
    let f = start::<keyed_by_id>(&[b64(r#"{"id":"o-7","region":"eu"}"#)], false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("keyed_by_id").succeeded == 1
    })
    .await;
    let seen = received_on(&f.queue);
    let [(_, binding_id, meta)] = seen.as_slice() else {
        panic!("one invocation: {seen:?}");
    };
    assert_eq!(
        binding_id.as_ref(),
        Some(&serde_json::json!(meta.id)),
        "`{{id}}` is the message id, not the body's `o-7`"
    );
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
    // With `Json<T>` the body's properties join and win (order_worker asserts `{id}` is the order's).
    let f = start::<order_worker>(&[b64(r#"{"id":"o-8"}"#)], false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("order_worker").succeeded == 1
    })
    .await;
    assert_eq!(f.seen(), [("o-8".to_owned(), 1)]);
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_uppercase_queue_name_is_lower_cased_like_azure_does() {
    let queue = support::unique("upper");
    let setup = MemorySetup {
        setting: Some(queue.to_uppercase()),
        queue: Some(queue),
        ..MemorySetup::default()
    };
    let f = start_with::<text_worker>(&[b64("shouted")], setup).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("text_worker").succeeded == 1
    })
    .await;
    assert_eq!(
        f.seen(),
        [("shouted".to_owned(), 1)],
        "the lower-cased queue was polled, and `QueueMetadata::queue` names it"
    );
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_queue_name_whose_poison_queue_is_too_long_is_refused_at_build() {
    let name = "q".repeat(57);
    let err = Host::builder()
        .settings(Settings::new().with("Queue", name.clone()))
        .resource(Arc::new(
            QueueServices::new().with("Storage", MemoryQueueService::new()),
        ))
        .function::<text_worker>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "function `text_worker`, #[queue_trigger]: queue name \"{name}\" has 57 characters, so its \
             poison queue \"{name}-poison\" would have 64, over the limit of 63: use at most 56 characters"
        )),
        "{err}"
    );
}

#[queue_trigger("%Queue%", connection = "")]
async fn default_connection(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[tokio::test(start_paused = true)]
async fn an_empty_connection_means_azure_web_jobs_storage() {
    // `start` provides the queue service for connection `Storage`, i.e. `AzureWebJobsStorage`.
    let f = start::<default_connection>(&[b64("default")], false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("default_connection").succeeded == 1
    })
    .await;
    assert_eq!(f.seen(), [("default".to_owned(), 1)]);
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[queue_trigger("%Queue%", connection = "StorageConnectionAppSetting")]
async fn seed_connection(body: String) {
    let _ = body;
}

#[tokio::test]
async fn a_connection_that_names_no_setting_fails_the_build_with_the_keys_tried() {
    let err = Host::builder()
        .settings(
            Settings::new()
                .with("Queue", "orders")
                .with("StorageConnectionAppSettings", "UseDevelopmentStorage=true"),
        )
        .function::<seed_connection>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "function `seed_connection`, #[queue_trigger]: `connection`: connection \
             `StorageConnectionAppSetting` is not set; looked for \
             `AzureWebJobsStorageConnectionAppSetting`, then `StorageConnectionAppSetting`"
        ),
        "{err}"
    );
    assert!(
        err.contains("did you mean `StorageConnectionAppSettings`?"),
        "a near setting is suggested: {err}"
    );
    assert!(
        !err.contains("UseDevelopmentStorage"),
        "never the value: {err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_service_that_returns_more_than_batch_size_is_handled_not_a_panic() {
    support::logs();
    let messages: Vec<String> = (0..20).map(|i| b64(&format!("m{i}"))).collect();
    // `QueueService` is a public trait: this one returns up to 32 whatever the listener asks for.
    let setup = MemorySetup {
        gate: true,
        receiving: Some(32),
        ..MemorySetup::default()
    };
    let f = start_with::<narrow_worker>(&messages, setup).await;
    let running = |f: &Fixture| f.script.running.load(Ordering::SeqCst);
    f.until(Duration::from_secs(10), |f| running(f) == 4).await;
    // Let them finish one at a time until the queue is empty.
    let gate = Arc::clone(f.script.gate.as_ref().unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f.remaining().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of 20 messages processed within 30 s",
            f.seen().len()
        );
        gate.notify_one();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut bodies: Vec<String> = f.seen().into_iter().map(|(b, _)| b).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 20, "every message processed, once each");
    assert_eq!(
        f.script.peak.load(Ordering::SeqCst),
        6,
        "still never above batch_size + new_batch_threshold"
    );
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let text = support::log_text();
    assert!(
        text.lines().any(|l| l.contains(&format!("queue={}", f.queue))
            && l.contains("the queue service returned 20 messages for a receive of at most 4; handing the 16 extra back")),
        "the surplus is logged"
    );
}

/// Fails every time: on a poison queue it is retried forever, never deleted.
#[queue_trigger("%Queue%", max_dequeue_count = 2, max_polling_interval = "00:00:02")]
async fn poison_queue_worker(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[tokio::test(start_paused = true)]
async fn a_poison_queue_s_undecodable_message_stays_and_nothing_spins() {
    // Not base64, on a queue without a poison queue: it cannot run and cannot be moved. It stays,
    // and the polls that find only it back off like empty ones.
    let setup = MemorySetup {
        queue: Some(format!("{}-poison", support::unique("undecodable"))),
        ..MemorySetup::default()
    };
    let f = start_with::<poison_queue_worker>(&["not base64".to_owned()], setup).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let before = f.memory.operation_count();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let operations = f.memory.operation_count() - before;
    // At the 2 s maximum: 30 polls in 60 s, each receiving the message and releasing it.
    assert!(
        (58..=62).contains(&operations),
        "{operations} storage operations in 60 s"
    );
    assert_eq!(f.remaining(), ["not base64"], "the message stays as it was");
    assert!(
        !f.memory.queue_exists(&format!("{}-poison", f.queue)),
        "a poison queue has no poison queue"
    );
    assert!(f.seen().is_empty());
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[queue_trigger(
    "%PoisonQueue%",
    max_polling_interval = "00:01:00",
    message_encoding = "none"
)]
async fn poison_reader(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[tokio::test(start_paused = true)]
async fn poisoning_wakes_a_listener_on_the_poison_queue_in_the_same_host() {
    let queue = support::unique("w");
    let poison = format!("{queue}-poison");
    scripts()
        .lock()
        .unwrap()
        .insert(queue.clone(), Arc::default());
    scripts()
        .lock()
        .unwrap()
        .insert(poison.clone(), Arc::default());
    let memory = MemoryQueueService::new();
    memory.create_queue(&queue).await.unwrap();
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Queue", queue.clone())
                .with("PoisonQueue", poison.clone()),
        )
        .resource(Arc::new(
            QueueServices::new().with("Storage", memory.clone()),
        ))
        .function::<text_worker>()
        .function::<poison_reader>()
        .build()
        .await
        .unwrap()
        .start();
    // Long idle: the poison reader's back-off has reached its 1-minute maximum.
    tokio::time::sleep(Duration::from_secs(600)).await;
    memory.send(&queue, &b64("poison")).await.unwrap();
    let functions = handle.resources().get::<QueueFunctions>().unwrap();
    let (worker, reader) = (
        functions.get("text_worker").unwrap(),
        functions.get("poison_reader").unwrap(),
    );
    // The worker itself polls at its 1-minute maximum by now.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(70);
    while worker.counts().poisoned == 0 {
        assert!(tokio::time::Instant::now() < deadline, "not poisoned");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let poisoned_at = tokio::time::Instant::now();
    while reader.counts().succeeded == 0 {
        assert!(
            poisoned_at.elapsed() < Duration::from_secs(1),
            "the poison reader was not woken"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // It received the poison message's body as stored (base64 of "poison"), its encoding being "none".
    assert_eq!(
        script_for(&poison).seen.lock().unwrap().clone(),
        [(b64("poison"), 1)]
    );
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[queue_trigger("%Queue%", connection = "A")]
#[storage_account("B")]
async fn connection_wins(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[storage_account("B")]
#[queue_trigger("%Queue%")]
async fn function_account(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[storage_account("C")]
mod module_account {
    use bindings::prelude::*;

    #[queue_trigger("%Queue%")]
    pub(crate) async fn inherits(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
        super::act(body, &meta).await
    }

    #[queue_trigger("%Queue%")]
    #[storage_account("B")]
    pub(crate) async fn overrides(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
        super::act(body, &meta).await
    }
}

/// Runs `F` with four accounts that each hold one message on the same queue name; returns the
/// account whose message it processed.
async fn account_used<F: bindings::extend::FunctionDef>() -> &'static str {
    let queue = support::unique("acct");
    scripts()
        .lock()
        .unwrap()
        .insert(queue.clone(), Arc::default());
    let accounts = ["A", "B", "C", "Storage"];
    let services = QueueServices::new();
    let mut memories = Vec::new();
    for name in accounts {
        let memory = MemoryQueueService::new();
        memory.create_queue(&queue).await.unwrap();
        memory.send(&queue, &b64(name)).await.unwrap();
        services.insert(name, Arc::new(memory.clone()));
        memories.push(memory);
    }
    let handle = Host::builder()
        .settings(Settings::new().with("Queue", queue.clone()))
        .resource(Arc::new(services))
        .function::<F>()
        .build()
        .await
        .unwrap()
        .start();
    let script = script_for(&queue);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while script.seen.lock().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "nothing processed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let emptied: Vec<&str> = accounts
        .iter()
        .zip(&memories)
        .filter(|(_, m)| m.peek_all(&queue).is_empty())
        .map(|(a, _)| *a)
        .collect();
    assert_eq!(emptied, [seen[0].0.as_str()]);
    accounts.into_iter().find(|a| *a == seen[0].0).unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_storage_account_is_resolved_in_azure_s_order() {
    assert_eq!(
        account_used::<connection_wins>().await,
        "A",
        "the trigger's connection first"
    );
    assert_eq!(
        account_used::<function_account>().await,
        "B",
        "then the function's storage_account"
    );
    assert_eq!(
        account_used::<module_account::overrides>().await,
        "B",
        "the function's wins over the module's"
    );
    assert_eq!(
        account_used::<module_account::inherits>().await,
        "C",
        "then the module's"
    );
    assert_eq!(
        account_used::<text_worker>().await,
        "Storage",
        "then AzureWebJobsStorage"
    );
}

#[tokio::test(start_paused = true)]
async fn decoding_and_parse_failures_are_logged_with_what_to_do() {
    let logs = support::logs();
    let f = start::<order_worker>(&["not base64".to_owned(), b64("{\"id\": 5}")], false).await;
    f.until(Duration::from_secs(30), |f| {
        f.counts("order_worker").poisoned == 2
    })
    .await;
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let mine: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(&format!("queue={}", f.queue)))
        .collect();
    let has = |needle: &str| mine.iter().any(|l| l.contains(needle));
    assert!(
        has("message decoding failed; check messageEncoding"),
        "{mine:#?}"
    );
    assert!(has("set message_encoding = \"none\""), "{mine:#?}");
    assert!(
        has("the payload is not valid JSON for `queue_trigger::Order`: invalid type: integer `5`"),
        "{mine:#?}"
    );
    let about_messages = mine
        .iter()
        .filter(|l| l.contains("decoding failed") || l.contains("not valid JSON"));
    assert!(about_messages.clone().count() >= 3, "{mine:#?}");
    assert!(
        about_messages.clone().all(|l| l.contains("message_id=")),
        "the message's span is on its lines: {mine:#?}"
    );
    assert!(
        has("queue_listener{function=order_worker"),
        "the listener's own lines name the function: {mine:#?}"
    );
    assert!(
        has("invocation{function=order_worker"),
        "the invocation's span nests inside: {mine:#?}"
    );
}

// ---- The same trigger against Azurite (real time): `cargo xtask services up` provides it. ----

#[queue_trigger(
    "%Queue%",
    receive_visibility_timeout = "00:00:02",
    max_dequeue_count = 3
)]
async fn azurite_worker(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

struct OnAzurite {
    queue: String,
    service: bindings::queue::AzureQueueService,
    handle: Option<HostHandle>,
    script: Arc<Script>,
    function: String,
    /// Every storage request the host made, when it was given a counted service.
    counted: Option<Arc<Counting>>,
}

/// A host running `azurite_worker` on a fresh Azurite queue holding `messages`, connected through
/// `AzureWebJobsStorage` like a deployed app.
async fn on_azurite(connection: &str, messages: &[String], gate: bool) -> OnAzurite {
    let setup = Setup {
        gate,
        ..Setup::default()
    };
    on_azurite_with::<azurite_worker>(connection, support::unique("az"), messages, setup).await
}

/// How [`on_azurite_with`] sets its host up.
#[derive(Default)]
struct Setup {
    /// Functions wait for the script's gate.
    gate: bool,
    /// The host gets the service through a [`Counting`] wrapper (its requests are counted) instead
    /// of connecting through `AzureWebJobsStorage` itself.
    counted: bool,
    /// More settings.
    settings: Settings,
}

/// A host running `F` on Azurite queue `queue` (created, holding `messages`).
async fn on_azurite_with<F: bindings::extend::FunctionDef>(
    connection: &str,
    queue: String,
    messages: &[String],
    setup: Setup,
) -> OnAzurite {
    let Setup {
        gate,
        counted,
        settings: extra,
    } = setup;
    let script = Arc::new(Script {
        gate: gate.then(|| Arc::new(Notify::new())),
        ..Script::default()
    });
    scripts()
        .lock()
        .unwrap()
        .insert(queue.clone(), Arc::clone(&script));
    let service = azurite_service(connection);
    service.create_queue(&queue).await.unwrap();
    for m in messages {
        service.send(&queue, m).await.unwrap();
    }
    let counted =
        counted.then(|| Arc::new(Counting::new(Arc::new(azurite_service(connection)), None)));
    let mut settings = Settings::new()
        .with("Queue", queue.clone())
        .with("AzureWebJobsStorage", connection);
    settings.merge(extra);
    let mut builder = Host::builder().settings(settings);
    if let Some(counted) = &counted {
        let services = QueueServices::new();
        services.insert("Storage", Arc::clone(counted) as Arc<dyn QueueService>);
        builder = builder.resource(Arc::new(services));
    }
    let handle = builder
        .function::<F>()
        .build()
        .await
        .expect("the host builds")
        .start();
    OnAzurite {
        queue,
        service,
        handle: Some(handle),
        script,
        function: F::describe().name().to_owned(),
        counted,
    }
}

fn azurite_service(connection: &str) -> bindings::queue::AzureQueueService {
    let account = bindings::queue::StorageAccount::from_connection_string(connection).unwrap();
    bindings::queue::AzureQueueService::new(account)
}

impl OnAzurite {
    fn counts(&self) -> bindings::queue::QueueCounts {
        let handle = self.handle.as_ref().expect("running");
        handle
            .resources()
            .get::<QueueFunctions>()
            .unwrap()
            .get(&self.function)
            .unwrap()
            .counts()
    }

    async fn stop(&mut self) {
        self.handle
            .take()
            .expect("running")
            .shutdown(Duration::from_secs(10))
            .await
            .unwrap();
    }

    async fn until(&self, limit: Duration, done: impl Fn(&Self) -> bool) {
        support::until(limit, || done(self)).await;
    }

    /// Every message left in `queue`, received (and so hidden) for a second.
    async fn drain(&self, queue: &str) -> Vec<String> {
        match self
            .service
            .receive(queue, 32, Duration::from_secs(1))
            .await
        {
            Ok(messages) => messages.into_iter().map(|m| m.text).collect(),
            Err(err) if err.kind == bindings::queue::ServiceErrorKind::QueueNotFound => Vec::new(),
            Err(err) => panic!("{err}"),
        }
    }
}

#[tokio::test]
async fn on_azurite_messages_are_processed_deleted_and_poisoned() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let mut f = on_azurite(
        &connection,
        &[b64("hello"), b64("fail"), "not base64".to_owned()],
        false,
    )
    .await;
    f.until(Duration::from_secs(30), |f| {
        let c = f.counts();
        c.succeeded == 1 && c.poisoned == 2
    })
    .await;
    f.stop().await;
    let mut seen = f.script.seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("fail".to_owned(), 1),
            ("fail".to_owned(), 2),
            ("fail".to_owned(), 3),
            ("hello".to_owned(), 1)
        ]
    );
    assert!(f.drain(&f.queue).await.is_empty(), "the queue is empty");
    let mut poison = f.drain(&format!("{}-poison", f.queue)).await;
    poison.sort();
    assert_eq!(
        poison,
        [b64("fail"), "not base64".to_owned()],
        "created on first use, bodies as stored"
    );
}

#[tokio::test]
async fn on_azurite_a_slow_function_keeps_its_message_invisible() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let mut f = on_azurite(&connection, &[b64("slow")], true).await;
    f.until(Duration::from_secs(30), |f| {
        f.script.running.load(Ordering::SeqCst) == 1
    })
    .await;
    // Three receive-visibility periods (2 s) pass; renewal every second keeps the message hidden.
    // Waiting is the point here: the service's clock has to move.
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            !f.service.has_visible(&f.queue).await.unwrap(),
            "the message became visible while running"
        );
    }
    f.script.gate.as_ref().unwrap().notify_waiters();
    f.until(Duration::from_secs(30), |f| f.counts().succeeded == 1)
        .await;
    f.stop().await;
    assert_eq!(
        f.script.seen.lock().unwrap().clone(),
        [("slow".to_owned(), 1)]
    );
    assert_eq!(
        f.service.approximate_count(&f.queue).await.unwrap(),
        0,
        "deleted with the renewed receipt"
    );
}

#[tokio::test]
async fn on_azurite_refused_credentials_stop_the_host_with_a_clear_error() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let key = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk=";
    let wrong = support::with_account_key(&connection, key);
    let queue = support::unique("auth");
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Queue", queue)
                .with("AzureWebJobsStorage", wrong),
        )
        .function::<azurite_worker>()
        .build()
        .await
        .unwrap()
        .start();
    tokio::time::timeout(Duration::from_secs(30), handle.failed())
        .await
        .expect("the trigger reports the failure");
    let err = handle
        .shutdown(Duration::from_secs(10))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("function `azurite_worker`: its trigger stopped"),
        "{err}"
    );
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(err.contains("check connection `Storage`"), "{err}");
    assert!(!err.contains(key), "no secret in the error: {err}");
}

#[queue_trigger("%Queue%")]
async fn default_attempts(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await
}

#[tokio::test]
async fn on_azurite_the_default_max_dequeue_count_is_5() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let queue = support::unique("five");
    let mut f =
        on_azurite_with::<default_attempts>(&connection, queue, &[b64("fail")], Setup::default())
            .await;
    f.until(Duration::from_secs(60), |f| f.counts().poisoned == 1)
        .await;
    f.stop().await;
    let attempts: Vec<(String, u32)> = (1..=5).map(|n| ("fail".to_owned(), n)).collect();
    assert_eq!(
        f.script.seen.lock().unwrap().clone(),
        attempts,
        "five attempts, the first included, as the seed says"
    );
    assert!(
        f.drain(&f.queue).await.is_empty(),
        "the original is deleted"
    );
    assert_eq!(f.drain(&format!("{}-poison", f.queue)).await, [b64("fail")]);
}

/// Fails its first attempt; the retry comes after `visibility_timeout`.
#[queue_trigger(
    "%Queue%",
    visibility_timeout = "00:00:02",
    max_polling_interval = "00:00:00.500"
)]
async fn retry_later(body: String, meta: QueueMetadata) -> Result<(), FunctionError> {
    act(body, &meta).await?;
    if meta.dequeue_count == 1 {
        return Err(FunctionError::retry("the first attempt fails"));
    }
    Ok(())
}

#[tokio::test]
async fn on_azurite_a_failed_message_is_retried_after_visibility_timeout() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let queue = support::unique("later");
    let mut f =
        on_azurite_with::<retry_later>(&connection, queue, &[b64("again")], Setup::default()).await;
    f.until(Duration::from_secs(30), |f| f.counts().succeeded == 1)
        .await;
    f.stop().await;
    assert_eq!(
        f.script.seen.lock().unwrap().clone(),
        [("again".to_owned(), 1), ("again".to_owned(), 2)]
    );
    let at = f.script.seen_at.lock().unwrap().clone();
    let gap = at[1] - at[0];
    // Released after the first attempt started, visible 2 s after that: never sooner. The next
    // poll after that comes within the 500 ms maximum polling interval.
    assert!(
        gap >= Duration::from_secs(2) && gap < Duration::from_secs(10),
        "retried {gap:?} after the first attempt"
    );
    eprintln!("retried {gap:?} after the first attempt");
    assert!(
        f.drain(&f.queue).await.is_empty(),
        "deleted after the retry"
    );
}

#[tokio::test]
async fn on_azurite_development_polls_an_idle_queue_at_most_every_2_seconds() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    // No max_polling_interval anywhere: the default is 1 minute, 2 s in Development.
    let setup = Setup {
        counted: true,
        settings: Settings::new().with("AZURE_FUNCTIONS_ENVIRONMENT", "Development"),
        ..Setup::default()
    };
    let mut f =
        on_azurite_with::<default_attempts>(&connection, support::unique("dev"), &[], setup).await;
    // Real time on purpose: the point is the pace of idle polling. The back-off reaches its
    // maximum after about 4 s (100 ms, ~200, ~300, ~500, ~900 ms, ~1.7 s), then stays there.
    tokio::time::sleep(Duration::from_secs(16)).await;
    f.stop().await;
    let times = f.counted.as_ref().unwrap().request_times();
    let first = times[0];
    let steady: Vec<Duration> = times
        .windows(2)
        .filter(|pair| pair[0] - first >= Duration::from_secs(5))
        .map(|pair| pair[1] - pair[0])
        .collect();
    // With the 1-minute maximum the waits here would be ~3.3 s, then ~6.5 s.
    assert!(steady.len() >= 4, "polls after the warm-up: {steady:?}");
    assert!(
        steady
            .iter()
            .all(|gap| *gap >= Duration::from_millis(1900) && *gap < Duration::from_secs(3)),
        "an idle poll every 2 s: {steady:?}"
    );
}

#[tokio::test]
async fn on_azurite_bytes_and_queue_message_parameters_get_the_body_and_the_metadata() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let service = azurite_service(&connection);
    let (bytes_queue, message_queue) = (support::unique("bytes"), support::unique("msg"));
    let binary = [0xff_u8, 0x00, 0x7b, 0x80];
    let json = br#"{"id":"body-id","region":"eu"}"#;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    for (queue, bodies) in [
        (&bytes_queue, vec![&binary[..], &json[..]]),
        (&message_queue, vec![&json[..]]),
    ] {
        service.create_queue(queue).await.unwrap();
        for body in bodies {
            service.send(queue, &encode(body)).await.unwrap();
        }
    }
    let started = time::OffsetDateTime::now_utc();
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("BytesQueue", bytes_queue.clone())
                .with("MessageQueue", message_queue.clone())
                .with("AzureWebJobsStorage", connection.clone()),
        )
        .function::<bytes_worker>()
        .function::<message_worker>()
        .build()
        .await
        .expect("the host builds")
        .start();
    support::until(Duration::from_secs(30), || {
        received_on(&bytes_queue).len() == 2 && received_on(&message_queue).len() == 1
    })
    .await;
    handle.shutdown(Duration::from_secs(10)).await.unwrap();

    let mut bytes = received_on(&bytes_queue);
    bytes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        bytes.iter().map(|r| r.0.as_slice()).collect::<Vec<_>>(),
        [&json[..], &binary[..]],
        "`Vec<u8>` gets the decoded bytes, binary or not"
    );
    let message = received_on(&message_queue);
    assert_eq!(message[0].0, json, "`QueueMessage` has the decoded body");
    for (queue, (_, binding_id, meta)) in bytes
        .iter()
        .map(|r| (&bytes_queue, r))
        .chain(message.iter().map(|r| (&message_queue, r)))
    {
        assert_eq!(&*meta.queue, queue.as_str());
        assert_eq!(meta.dequeue_count, 1);
        assert!(
            !meta.id.is_empty() && !meta.pop_receipt.is_empty(),
            "{meta:?}"
        );
        assert!(
            meta.insertion_time >= started - Duration::from_secs(60)
                && meta.insertion_time <= meta.next_visible_time
                && meta.next_visible_time < meta.expiration_time,
            "{meta:?}"
        );
        // Not `Json<T>`: the body's properties are not binding data; `{id}` is the message id.
        assert_eq!(
            binding_id.as_ref(),
            Some(&serde_json::json!(meta.id)),
            "{meta:?}"
        );
    }
    for queue in [&bytes_queue, &message_queue] {
        assert_eq!(
            service.approximate_count(queue).await.unwrap(),
            0,
            "{queue} is empty"
        );
    }
}

#[tokio::test]
async fn on_azurite_a_failing_function_on_a_poison_queue_runs_on_every_delivery_and_nothing_spins()
{
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let queue = format!("{}-poison", support::unique("pq"));
    let setup = Setup {
        counted: true,
        ..Setup::default()
    };
    let mut f =
        on_azurite_with::<poison_queue_worker>(&connection, queue, &[b64("fail")], setup).await;
    // Real time on purpose: the point is what the host does over 20 s with a message that always
    // fails on a queue that has no poison queue.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let requests = f.counted.as_ref().unwrap().request_count();
    f.stop().await;
    let attempts: Vec<u32> = f
        .script
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, n)| *n)
        .collect();
    let every_delivery: Vec<u32> = (1..=attempts.len() as u32).collect();
    assert_eq!(
        attempts, every_delivery,
        "the function ran on every delivery"
    );
    assert!(
        attempts.len() > 2,
        "it ran past max_dequeue_count (2): {attempts:?} ({requests} storage requests in 20 s)"
    );
    // Each delivery costs a receive and a release; after its max_dequeue_count attempts the message
    // is retried at the polling back-off's pace (up to the 2 s maximum): ~15 deliveries in 20 s.
    // A loop that re-receives and releases without backing off makes hundreds of requests a second.
    assert!(
        requests <= 60,
        "{requests} storage requests in 20 s for {} deliveries",
        attempts.len()
    );
    eprintln!(
        "{requests} storage requests in 20 s for {} deliveries",
        attempts.len()
    );
    assert_eq!(
        f.drain(&f.queue).await,
        [b64("fail")],
        "the message stays, as it was sent"
    );
    assert!(
        f.drain(&format!("{}-poison", f.queue)).await.is_empty(),
        "a poison queue has no poison queue"
    );
}

#[tokio::test]
async fn on_azurite_messages_interoperate_with_microsofts_python_sdk() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let mut f = on_azurite(&connection, &[], false).await;
    let send = |texts: &[&str]| {
        let mut args = vec![connection.clone(), f.queue.clone(), "send".to_owned()];
        args.extend(texts.iter().map(|t| (*t).to_owned()));
        args
    };
    // The SDK base64-encodes; the trigger decodes.
    support::python_queue_client(send(&["héllo from python", "fail"])).await;
    f.until(Duration::from_secs(60), |f| {
        let c = f.counts();
        c.succeeded == 1 && c.poisoned == 1
    })
    .await;
    f.stop().await;
    assert!(
        f.script
            .seen
            .lock()
            .unwrap()
            .contains(&("héllo from python".to_owned(), 1))
    );
    // The poison queue holds the body as stored: the SDK decodes it back to the original text.
    let poison = format!("{}-poison", f.queue);
    let read =
        support::python_queue_client(vec![connection.clone(), poison, "receive".to_owned()]).await;
    assert_eq!(read.trim(), "fail");
}

/// Sizes of the batches `batch_worker` received, per queue.
fn batch_sizes() -> &'static Mutex<HashMap<String, Vec<usize>>> {
    static SIZES: OnceLock<Mutex<HashMap<String, Vec<usize>>>> = OnceLock::new();
    SIZES.get_or_init(Mutex::default)
}

#[queue_trigger("%Queue%", batch_size = 8, max_dequeue_count = 2)]
async fn batch_worker(batch: Vec<QueueMessage>) -> BatchOutcome {
    let queue = batch[0].metadata.queue.to_string();
    batch_sizes()
        .lock()
        .unwrap()
        .entry(queue)
        .or_default()
        .push(batch.len());
    let mut outcome = BatchOutcome::all_succeeded();
    for message in &batch {
        let text = message.text().unwrap_or_default().to_owned();
        let _ = act(text.clone(), &message.metadata).await;
        match text.as_str() {
            "fail" => outcome.fail(message, FunctionError::retry("asked to fail")),
            "poison" => outcome.fail(message, FunctionError::poison("asked to poison")),
            _ => &mut outcome,
        };
    }
    outcome
}

#[tokio::test(start_paused = true)]
async fn a_batch_function_gets_every_message_of_a_poll_in_one_invocation() {
    let messages: Vec<String> = (0..5).map(|i| b64(&format!("m{i}"))).collect();
    let f = start::<batch_worker>(&messages, false).await;
    f.until(Duration::from_secs(10), |f| {
        f.counts("batch_worker").succeeded == 5
    })
    .await;
    assert_eq!(batch_sizes().lock().unwrap()[&f.queue], [5]);
    assert!(f.remaining().is_empty());
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_batch_function_decides_per_message() {
    let f = start::<batch_worker>(
        &[b64("ok-1"), b64("fail"), b64("ok-2"), b64("poison")],
        false,
    )
    .await;
    f.until(Duration::from_secs(30), |f| {
        let c = f.counts("batch_worker");
        c.succeeded == 2 && c.poisoned == 2
    })
    .await;
    // The failed one came back alone, was failed again (max_dequeue_count = 2) and poisoned.
    assert_eq!(batch_sizes().lock().unwrap()[&f.queue], [4, 1]);
    let mut poison = f.poison();
    poison.sort();
    assert_eq!(poison, [b64("fail"), b64("poison")]);
    assert!(f.remaining().is_empty(), "the successes were deleted");
    let fail_attempts: Vec<u32> = f
        .seen()
        .into_iter()
        .filter(|(b, _)| b == "fail")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(fail_attempts, [1, 2]);
    f.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}
