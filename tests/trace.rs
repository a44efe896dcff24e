//! One trace from an HTTP request through a Kafka record to the function that record triggers:
//! the request's `traceparent` is continued by the HTTP function, written into the record's
//! headers by the Kafka output, and continued again by the Kafka trigger; and through a storage
//! queue, in the envelope both ends opted in to (`trace_context`). Spans are collected with
//! OpenTelemetry's in-memory exporter (the `otel` feature; without it this file has no test).
#![cfg(feature = "otel")]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bindings::prelude::*;
use bindings::queue::{AzureQueueService, QueueService, StorageAccount};
use bindings::telemetry::otel;
use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

const WAIT: Duration = Duration::from_secs(60);

/// The caller's trace and span (W3C `traceparent`: version, trace id, parent span id, flags).
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[http_trigger(methods = ["post"], auth_level = "anonymous")]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
async fn accept(body: String) -> String {
    body
}

static CONTINUED: AtomicBool = AtomicBool::new(false);
static DEQUEUED: AtomicBool = AtomicBool::new(false);

/// The queue leg, opted in on both ends: the envelope carries the trace.
#[http_trigger(methods = ["post"], auth_level = "anonymous")]
#[queue_output("%Queue%", trace_context = true)]
async fn enqueue(body: String) -> String {
    body
}

#[queue_trigger("%Queue%", trace_context = true)]
async fn dequeue(order: String) {
    assert_eq!(
        order, "order-2",
        "the trigger hands over the body, not the envelope"
    );
    DEQUEUED.store(true, Ordering::SeqCst);
}

#[kafka_trigger(topic = "%Topic%", broker_list = "Brokers", consumer_group = "%Group%")]
async fn fulfil(_order: String) {
    CONTINUED.store(true, Ordering::SeqCst);
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
            panic!("a span named {name:?} among {names:?}")
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_runs_from_an_http_request_through_a_kafka_record_to_its_consumer() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_BROKERS") else {
        return;
    };
    let Some(storage) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing_subscriber::util::SubscriberInitExt::try_init(
        tracing_subscriber::registry().with(otel::layer(&provider)),
    )
    .expect("the only subscriber of this test binary");

    let topic = support::kafka::create_topic(&brokers, &support::unique("trace")).await;
    let queue = support::unique("trace");
    AzureQueueService::new(
        StorageAccount::from_connection_string(&storage).expect("a valid connection string"),
    )
    .create_queue(&queue)
    .await
    .expect("create the queue");
    let http = support::free_address();
    let host = Host::builder()
        .settings(
            Settings::new()
                .with("Brokers", &brokers)
                .with("Topic", &topic)
                .with("Group", support::unique("trace"))
                .with("HttpListenAddress", &http)
                .with("AzureWebJobsStorage", &storage)
                .with("Queue", &queue),
        )
        .function::<accept>()
        .function::<fulfil>()
        .function::<enqueue>()
        .function::<dequeue>()
        .build()
        .await
        .expect("the host builds")
        .start();
    support::listening(&http, "the HTTP functions", WAIT).await;
    let response = reqwest::Client::new()
        .post(format!("http://{http}/api/accept"))
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .body("order-1")
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success(), "{}", response.status());

    // The record carries the trace, with the send span as its parent.
    let record = support::kafka::consume(&brokers, &topic, 1).await.remove(0);
    let headers = record.header_texts();
    let traceparent = headers
        .iter()
        .find(|(name, _)| name == "traceparent")
        .map(|(_, value)| value.clone())
        .unwrap_or_else(|| panic!("a traceparent header in {headers:?}"));
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[1], TRACE, "the record continues the caller's trace");
    assert_ne!(
        parts[2], CALLER_SPAN,
        "its parent is our send span, not the caller"
    );

    support::until(WAIT, "the Kafka trigger ran", || {
        CONTINUED.load(Ordering::SeqCst)
    })
    .await;

    // The queue leg: another request of the same trace, through the envelope.
    let response = reqwest::Client::new()
        .post(format!("http://{http}/api/enqueue"))
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .body("order-2")
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success(), "{}", response.status());
    support::until(WAIT, "the queue trigger ran", || {
        DEQUEUED.load(Ordering::SeqCst)
    })
    .await;
    host.shutdown(WAIT).await.expect("a clean stop");
    provider.force_flush().expect("spans flushed");
    let spans = exporter.get_finished_spans().expect("the exported spans");

    let trace = TraceId::from_hex(TRACE).expect("a trace id");
    let server = named(&spans, "POST /api/accept");
    assert_eq!(server.span_context.trace_id(), trace);
    assert_eq!(
        server.parent_span_id,
        SpanId::from_hex(CALLER_SPAN).unwrap()
    );
    assert_eq!(server.span_kind, SpanKind::Server);

    let send = named(&spans, &format!("send {topic}"));
    assert_eq!(send.span_context.trace_id(), trace);
    assert_eq!(send.span_kind, SpanKind::Producer);
    assert_eq!(
        send.span_context.span_id(),
        SpanId::from_hex(parts[2]).unwrap(),
        "the header names the send span"
    );
    let attribute = |span: &SpanData, key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(
        attribute(send, "messaging.system").as_deref(),
        Some("kafka")
    );
    assert_eq!(
        attribute(send, "messaging.destination.name").as_deref(),
        Some(topic.as_str())
    );
    assert_eq!(
        attribute(send, "messaging.operation.type").as_deref(),
        Some("send")
    );

    let process = named(&spans, &format!("process {topic}"));
    assert_eq!(
        process.span_context.trace_id(),
        trace,
        "the consumer continues the trace"
    );
    assert_eq!(process.parent_span_id, send.span_context.span_id());
    assert_eq!(process.span_kind, SpanKind::Consumer);
    assert_eq!(
        attribute(process, "messaging.operation.type").as_deref(),
        Some("process")
    );
    assert_eq!(
        attribute(process, "messaging.kafka.offset").as_deref(),
        Some("0")
    );
    assert_eq!(
        attribute(process, "messaging.destination.partition.id").as_deref(),
        Some("0")
    );
    let invocation = named(&spans, "fulfil");
    assert_eq!(invocation.span_context.trace_id(), trace);
    assert_eq!(invocation.parent_span_id, process.span_context.span_id());

    let dequeued = named(&spans, &format!("process {queue}"));
    assert_eq!(
        dequeued.span_context.trace_id(),
        trace,
        "the envelope carried the trace"
    );
    assert_eq!(dequeued.span_kind, SpanKind::Consumer);
    let enqueued = named(&spans, "enqueue");
    assert_eq!(dequeued.parent_span_id, enqueued.span_context.span_id());
    assert_eq!(
        attribute(dequeued, "messaging.system").as_deref(),
        Some("azure_queue")
    );
}
