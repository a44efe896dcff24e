//! # bindings
//!
//! Azure Functions' triggers and bindings as a Rust library: annotate an async fn with a trigger and
//! output bindings, and the host does the plumbing — polling, concurrency, retries, poison handling,
//! producing, credentials from app settings — inside your own process. No Functions host needed.
//!
//! ```
//! use bindings::prelude::*;
//!
//! #[manual_trigger]
//! async fn greet(name: String, log: Logger) -> Result<(), FunctionError> {
//!     if name.is_empty() {
//!         return Err(FunctionError::poison("no name given"));
//!     }
//!     log.info(format!("hello, {name}"));
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let host = Host::builder()
//!     .settings(Settings::new())
//!     .function::<greet>()
//!     .build()
//!     .await?
//!     .start();
//! host.call("greet", "world").await?;
//! host.shutdown(std::time::Duration::from_secs(5)).await?;
//! # Ok(())
//! # }
//! ```
//!
//! The function stays an ordinary function: `greet("x".into(), Logger::detached())` calls it directly.
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `queue` (default) | the Azure Queue storage trigger and output |
//! | `kafka` (default) | the Kafka output and trigger |
//! | `http` (default) | the HTTP trigger, on axum |
//! | `otel` | OpenTelemetry traces: W3C trace context through HTTP requests and Kafka headers, an OTLP exporter (`telemetry::otel`) |

pub use bindings_core::{
    BindingData, Bytes, CallError, CancellationToken, Connection, DEFAULT_SHUTDOWN_TIMEOUT,
    Disposition, Error, FunctionContext, FunctionError, Host, HostBuilder, HostConfig,
    HostConfigError, HostHandle, Json, Logger, Result, Settings, SettingsError, Template,
    TemplateError, format_timespan, parse_timespan,
};
#[cfg(feature = "http")]
pub use bindings_http::HttpOptions;
#[cfg(feature = "kafka")]
pub use bindings_kafka::{
    Acks, AuthenticationMode, AutoOffsetReset, Compression, KafkaOptions, Ordering, Partitioner,
    Protocol, RetryStrategy,
};
pub use bindings_macros::Outputs;
#[cfg(feature = "http")]
pub use bindings_macros::http_trigger;
pub use bindings_macros::manual_trigger;
#[cfg(feature = "kafka")]
pub use bindings_macros::{kafka_output, kafka_trigger};
#[cfg(feature = "queue")]
pub use bindings_macros::{queue_output, queue_trigger, storage_account};
#[cfg(feature = "queue")]
pub use bindings_queue::{MessageEncoding, QueuesOptions};
// With a feature off, its attributes still exist and say which feature to enable.
#[cfg(not(feature = "http"))]
#[doc(hidden)]
pub use bindings_macros::http_trigger_disabled as http_trigger;
#[cfg(not(feature = "kafka"))]
#[doc(hidden)]
pub use bindings_macros::{
    kafka_output_disabled as kafka_output, kafka_trigger_disabled as kafka_trigger,
};
#[cfg(not(feature = "queue"))]
#[doc(hidden)]
pub use bindings_macros::{
    queue_output_disabled as queue_output, queue_trigger_disabled as queue_trigger,
    storage_account_disabled as storage_account,
};

/// For writing triggers and output bindings of your own: the traits the provided ones implement.
pub mod extend {
    pub use bindings_core::{
        BindContext, BoxError, BuildError, Finished, FromInvocation, Function, FunctionBuilder,
        FunctionDef, FunctionReturn, IntoItems, Invocation, Invoker, Listener, Manual, ManualEvent,
        ManualTrigger, Output, OutputAttribute, OutputDeclarations, OutputSlot, Payload, Problem,
        Registry, ReplyPart, Resources, ReturnSink, ShutdownHook, Trigger, TriggerAttribute,
        TriggerEvent,
    };
    pub use bindings_core::{Extension, Section, register_extension};
}

/// Metrics, health and the scale signal, and the admin endpoint (`AdminListenAddress`) that serves
/// them: see the README's "Operating it".
pub use bindings_core::telemetry;

/// The queue trigger's and output's crate.
#[cfg(feature = "queue")]
pub use bindings_queue as queue;

/// The Kafka output's and trigger's crate.
#[cfg(feature = "kafka")]
pub use bindings_kafka as kafka;

/// The HTTP trigger's crate.
#[cfg(feature = "http")]
pub use bindings_http as http;

/// Everything a function file needs: `use bindings::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Bytes, CancellationToken, FunctionContext, FunctionError, Host, HostConfig, Json, Logger,
        Outputs, Settings, manual_trigger,
    };
    #[cfg(feature = "http")]
    pub use crate::{
        http::{HttpRequest, HttpResponse, Query},
        http_trigger,
    };
    #[cfg(feature = "kafka")]
    pub use crate::{
        kafka::{Avro, KafkaEvent, KafkaRecord, Protobuf},
        kafka_output, kafka_trigger,
    };
    #[cfg(feature = "queue")]
    pub use crate::{
        queue::{BatchOutcome, QueueMessage, QueueMessageOut, QueueMetadata},
        queue_output, queue_trigger, storage_account,
    };
    // The stand-ins of a disabled feature's attributes, which say which feature to enable.
    #[cfg(not(feature = "http"))]
    #[doc(hidden)]
    pub use crate::http_trigger;
    #[cfg(not(feature = "kafka"))]
    #[doc(hidden)]
    pub use crate::{kafka_output, kafka_trigger};
    #[cfg(not(feature = "queue"))]
    #[doc(hidden)]
    pub use crate::{queue_output, queue_trigger, storage_account};
}

/// What the macros' generated code calls. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use bindings_core::{
        FromInvocation, Function, FunctionDef, FunctionError, FunctionReturn, Invocation,
        ManualTrigger, OutputAttribute, OutputDeclarations, OutputSlot, ReplyPart, ReturnSink,
        Trigger, TriggerAttribute,
    };
    #[cfg(feature = "http")]
    pub use bindings_http::{AuthLevel, HttpTriggerAttribute};
    #[cfg(feature = "kafka")]
    pub use bindings_kafka::{
        Acks, AuthenticationMode, AutoOffsetReset, Compression, KafkaOutputAttribute,
        KafkaTriggerAttribute, Ordering, Partitioner, Protocol, RetryStrategy,
    };
    #[cfg(feature = "queue")]
    pub use bindings_queue::{MessageEncoding, QueueOutputAttribute, QueueTriggerAttribute};
}

/// The README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
