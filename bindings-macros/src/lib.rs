//! The attribute and derive macros of `bindings`. Use them through the `bindings` crate.
//!
//! Each macro parses its options into a typed struct, collects every error (with spans) before
//! reporting, re-emits the user's function unchanged, and generates code that names only
//! `::bindings::__private` and `::core`. No runtime logic lives here.

mod ctxt;
mod disabled;
mod function;
mod http;
mod kafka;
mod manual;
mod options;
mod outputs;
mod queue;

use proc_macro::TokenStream;

/// Marks a function as called from code: `handle.call("name", payload)`.
///
/// Options: `name = "..."` (the function's name; default the fn's name).
///
/// ```
/// use std::time::Duration;
/// use bindings::prelude::*;
///
/// #[manual_trigger]
/// async fn greet(name: String, log: Logger) {
///     log.info(format!("hello, {name}"));
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let host = Host::builder()
///     .settings(Settings::new())
///     .function::<greet>()
///     .build()
///     .await?
///     .start();
/// host.call("greet", "world").await?;
/// host.shutdown(Duration::from_secs(5)).await?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn manual_trigger(args: TokenStream, item: TokenStream) -> TokenStream {
    function::expand::<manual::ManualTrigger>(args.into(), item.into()).into()
}

/// Triggers a function on messages of an Azure Storage queue.
///
/// The first argument is the queue's name, or `"%Setting%"` naming the app setting that holds it;
/// like Azure, it is lower-cased, and `<name>-poison` must fit 63 characters.
/// Options (each overrides host.json's `extensions.queues` for this function):
/// `connection` (app setting of the storage connection; empty or left out: a `#[storage_account]`,
/// else `AzureWebJobsStorage`),
/// `batch_size` (1–32), `new_batch_threshold`, `max_polling_interval` (a `TimeSpan`, e.g. `"00:00:02"`),
/// `visibility_timeout` (retry delay after a failure), `max_dequeue_count`, `message_encoding`
/// (`"base64"` or `"none"`), `receive_visibility_timeout`, and `name` (the function's name).
///
/// ```no_run
/// use bindings::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct Order {
///     id: String,
///     total: i64,
/// }
///
/// #[queue_trigger("orders", connection = "OrdersStorage", batch_size = 8, max_dequeue_count = 3)]
/// async fn process(
///     order: Json<Order>,
///     meta: QueueMetadata,
///     log: Logger,
/// ) -> Result<(), FunctionError> {
///     if order.total < 0 {
///         return Err(FunctionError::poison("negative total"));
///     }
///     log.info(format!("order {} on attempt {}", order.id, meta.dequeue_count));
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Needs the app setting `OrdersStorage`: a storage connection string.
/// Host::builder()
///     .settings(Settings::from_env_and_local_file()?)
///     .function::<process>()
///     .build()
///     .await?
///     .run_until_shutdown()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn queue_trigger(args: TokenStream, item: TokenStream) -> TokenStream {
    function::expand::<queue::QueueTrigger>(args.into(), item.into()).into()
}

/// Names the storage connection for the queue triggers of a function, or of every function in a
/// module. A trigger's own `connection` wins, then the function's `#[storage_account]`, then the
/// module's, then `AzureWebJobsStorage`.
///
/// ```
/// use bindings::prelude::*;
///
/// #[storage_account("OrdersStorage")]
/// mod orders {
///     use bindings::prelude::*;
///
///     // Polls `orders-in` in the account of the app setting `OrdersStorage`.
///     #[queue_trigger("orders-in")]
///     pub async fn incoming(text: String, log: Logger) {
///         log.info(format!("order {text}"));
///     }
/// }
///
/// let builder = Host::builder().function::<orders::incoming>();
/// # drop(builder);
/// ```
#[proc_macro_attribute]
pub fn storage_account(args: TokenStream, item: TokenStream) -> TokenStream {
    queue::expand_storage_account(args.into(), item.into()).into()
}

/// Sends a function's return value to a Kafka topic: `String`, `&'static str`, `Vec<u8>`, `Bytes`,
/// `Json<T>`, `KafkaEvent<V>` (key, headers, partition, timestamp), the Azure extension's JSON-string
/// event form, and `Vec`/`Option`/`Result` of those. Every message's delivery is awaited: a failure
/// fails the invocation, so the trigger retries it.
///
/// Required: `topic` and `broker_list`. Credentials (`username`, `password`, `ssl_key_password`,
/// `ssl_key_pem`, `ssl_certificate_and_key_pem`, `schema_registry_password`)
/// name the app setting that holds them, `"ConfluentCloudPassword"` or `"%ConfluentCloudPassword%"`;
/// a value that cannot be a setting's name is a compile error. `authentication_mode = "Gssapi"` and
/// `"OAuthBearer"` are refused (this build's librdkafka has neither Kerberos nor an OIDC client). See
/// the `bindings-kafka` crate for the options and defaults.
///
/// ```no_run
/// use bindings::prelude::*;
///
/// // The key is the queue message's id, from the trigger's binding data.
/// #[queue_trigger("orders-in")]
/// #[kafka_output(topic = "orders", broker_list = "BrokerList", key = "{id}", enable_idempotence = true)]
/// async fn forward(order: String) -> String {
///     order
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Needs the app settings `AzureWebJobsStorage` and `BrokerList` (`host:port`).
/// Host::builder()
///     .settings(Settings::from_env_and_local_file()?)
///     .function::<forward>()
///     .build()
///     .await?
///     .run_until_shutdown()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn kafka_output(args: TokenStream, item: TokenStream) -> TokenStream {
    outputs::expand_standalone(kafka::ATTRIBUTE, &args.into(), item.into()).into()
}

/// Triggers a function on the records of a Kafka topic, as a member of a consumer group.
///
/// Required: `topic`, `broker_list` and `consumer_group` (each a name, or `"%Setting%"`;
/// `broker_list` may also name the app setting that holds the brokers). Records of a partition run
/// in offset order; `ordering = "key"` runs different keys concurrently and `"none"` any records,
/// up to `max_concurrency` invocations at once. A failed record is retried as
/// `retry_strategy` (`"fixed_delay"` with `delay_interval`, or `"exponential_backoff"` with
/// `minimum_interval` and `maximum_interval`) says, `max_retry_count` times, then produced to
/// `dead_letter_topic` (default `<topic>-dlq`); `FunctionError::poison` sends it there at once. Its
/// offset is committed only after that, or after the function succeeded and its outputs were
/// delivered. The connection and security options are `#[kafka_output]`'s; the consumer options
/// (`max_batch_size`, `session_timeout_ms`, `auto_offset_reset`, …) override host.json's
/// `extensions.kafka`. Parameters: `String`, `Vec<u8>`, `Bytes`, `Json<T>`, `Protobuf<M>`,
/// `KafkaRecord` (key, headers, partition, offset, timestamp), or `Vec<KafkaRecord>` for batches of
/// up to `max_batch_size`.
///
/// ```no_run
/// use bindings::prelude::*;
///
/// // Each record of `orders` to `orders-copy`, with the same key.
/// #[kafka_trigger(topic = "orders", broker_list = "BrokerList", consumer_group = "copier",
///                 max_retry_count = 3, delay_interval = "00:00:02")]
/// #[kafka_output(topic = "orders-copy", broker_list = "BrokerList")]
/// async fn copy(record: KafkaRecord) -> KafkaEvent<Bytes> {
///     let event = KafkaEvent::new(record.value.clone().unwrap_or_default());
///     match record.key {
///         Some(key) => event.key(key.to_vec()),
///         None => event,
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Needs the app setting `BrokerList` (`host:port`).
/// Host::builder()
///     .settings(Settings::from_env_and_local_file()?)
///     .function::<copy>()
///     .build()
///     .await?
///     .run_until_shutdown()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn kafka_trigger(args: TokenStream, item: TokenStream) -> TokenStream {
    function::expand::<kafka::KafkaTrigger>(args.into(), item.into()).into()
}

/// Sends a function's return value to an Azure Storage queue: `String`, `&'static str`, `Vec<u8>`,
/// `Bytes`, `Json<T>` (serialized), `QueueMessageOut<V>` (a visibility delay and time-to-live of its
/// own), and `Vec`/`Option`/`Result` of those (`None` and an empty `Vec` send nothing). Every message
/// is awaited: the invocation succeeds only once the service accepted each one, so a queue-triggered
/// function deletes its input only after its outputs exist.
///
/// The first argument is the queue: a name, `"%Setting%"`, or `{bindingData}` expressions
/// (`"{queueTrigger}-copies"`); like Azure, it is lower-cased, and a literal one is checked here.
/// The queue is created on first use. Options: `connection` (resolved like `#[queue_trigger]`'s,
/// `#[storage_account]` included) and `message_encoding` (`"base64"` or `"none"`; default
/// host.json's `extensions.queues.messageEncoding`, base64).
///
/// ```no_run
/// use bindings::prelude::*;
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Order {
///     region: String,
/// }
///
/// // Each order to the queue of its region (`{region}` is the body's property), visible in a minute.
/// #[queue_trigger("orders-in")]
/// #[queue_output("{region}-orders")]
/// async fn route(order: Json<Order>) -> QueueMessageOut<Json<Order>> {
///     QueueMessageOut::new(order).visibility_delay(std::time::Duration::from_secs(60))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Needs the app setting `AzureWebJobsStorage`.
/// Host::builder()
///     .settings(Settings::from_env_and_local_file()?)
///     .function::<route>()
///     .build()
///     .await?
///     .run_until_shutdown()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn queue_output(args: TokenStream, item: TokenStream) -> TokenStream {
    outputs::expand_standalone(queue::OUTPUT, &args.into(), item.into()).into()
}

/// A return type whose fields go to several outputs: each field with an output attribute
/// (`#[kafka_output(...)]`, `#[queue_output(...)]`) is sent there; a field without one is the trigger's reply (an HTTP
/// response).
///
/// ```
/// use bindings::prelude::*;
///
/// #[derive(Outputs)]
/// struct Fanout {
///     #[kafka_output(topic = "orders", broker_list = "BrokerList")]
///     orders: Vec<String>,
///     #[kafka_output(topic = "audit", broker_list = "BrokerList")]
///     audit: Option<String>,
/// }
///
/// // Each word to `orders`, and one line to `audit`.
/// #[manual_trigger]
/// async fn fan_out(text: String) -> Fanout {
///     Fanout {
///         audit: Some(format!("saw {text}")),
///         orders: text.split(',').map(str::to_owned).collect(),
///     }
/// }
///
/// let builder = Host::builder().function::<fan_out>();
/// # drop(builder);
/// ```
#[proc_macro_derive(Outputs, attributes(kafka_output, queue_output))]
pub fn derive_outputs(item: TokenStream) -> TokenStream {
    outputs::expand(item.into()).into()
}

/// Triggers a function on HTTP requests (served on axum by the host, or merged into your app).
///
/// Options: `methods = ["get", "post"]` (default: all), `route = "products/{id}"` (default: the
/// function's name; under host.json's `routePrefix`, `api` by default), `auth_level = "anonymous" |
/// "function" | "admin"` (default `function`: a key from `HttpFunctionKeys__<name>`, `HttpHostKeys` or
/// `HttpMasterKey`, sent as `x-functions-key` or `?code=`), and `name`.
///
/// ```no_run
/// use bindings::prelude::*;
///
/// // `GET /api/hello?name=you` answers `hello you`.
/// #[http_trigger(methods = ["get", "post"], auth_level = "anonymous")]
/// async fn hello(req: HttpRequest) -> String {
///     format!("hello {}", req.query("name").unwrap_or("you"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Serves on `HttpListenAddress` (default `127.0.0.1:7071`) until Ctrl-C or SIGTERM.
/// Host::builder()
///     .settings(Settings::from_env_and_local_file()?)
///     .function::<hello>()
///     .build()
///     .await?
///     .run_until_shutdown()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn http_trigger(args: TokenStream, item: TokenStream) -> TokenStream {
    function::expand::<http::HttpTrigger>(args.into(), item.into()).into()
}

/// `#[queue_trigger]` while the `queue` feature of `bindings` is off: an error naming the feature.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn queue_trigger_disabled(_: TokenStream, item: TokenStream) -> TokenStream {
    disabled::expand("queue_trigger", "queue", item.into()).into()
}

/// `#[storage_account]` while the `queue` feature of `bindings` is off: an error naming the feature.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn storage_account_disabled(_: TokenStream, item: TokenStream) -> TokenStream {
    disabled::expand("storage_account", "queue", item.into()).into()
}

/// `#[queue_output]` while the `queue` feature of `bindings` is off: an error naming the feature.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn queue_output_disabled(_: TokenStream, item: TokenStream) -> TokenStream {
    disabled::expand("queue_output", "queue", item.into()).into()
}

/// `#[kafka_output]` while the `kafka` feature of `bindings` is off: an error naming the feature.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn kafka_output_disabled(_: TokenStream, item: TokenStream) -> TokenStream {
    disabled::expand("kafka_output", "kafka", item.into()).into()
}

/// `#[kafka_trigger]` while the `kafka` feature of `bindings` is off: an error naming the feature.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn kafka_trigger_disabled(_: TokenStream, item: TokenStream) -> TokenStream {
    disabled::expand("kafka_trigger", "kafka", item.into()).into()
}

/// `#[http_trigger]` while the `http` feature of `bindings` is off: an error naming the feature.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn http_trigger_disabled(_: TokenStream, item: TokenStream) -> TokenStream {
    disabled::expand("http_trigger", "http", item.into()).into()
}
