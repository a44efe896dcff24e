//! Queue -> Kafka against real services, configured like a Functions app: app settings from the
//! environment over `local.settings.json`, options from `host.json` (both read from the current
//! directory). Runs until Ctrl-C or SIGTERM, then stops polling, lets running invocations finish,
//! flushes the producer and exits 0.
//!
//! Settings:
//! - `AzureWebJobsStorage`: the storage account (a connection string; `UseDevelopmentStorage=true`
//!   for Azurite on its default ports);
//! - `BrokerList`: the Kafka bootstrap servers;
//! - `InputQueue`: the queue to read; `OutputTopic`: the topic to write (both must exist).
//!
//! Each message's text is sent to the topic as the value, keyed by `{id}`: the queue message's id,
//! also for a JSON body with an `id` of its own, because the function takes the text as `String`
//! (as in Azure, a body's properties are binding data only for a `Json<T>` parameter; the
//! quickstart binds `Json<Order>` and so keys by the order's `id`). Each has a `dequeue-count` header. A message whose text is
//! exactly `fail` fails (it is retried, then moved to `<InputQueue>-poison`); exactly `poison` goes
//! to the poison queue at once. Every other message prints `processed id=<id> dequeue_count=<n>`
//! on stdout when the function accepts it (its record is delivered right after; should that
//! fail, the message is retried and prints again).
//! Queue messages are base64 text unless host.json says `"messageEncoding": "none"`.
//!
//! ```sh
//! cargo xtask services up        # Azurite + a Kafka broker; prints their addresses
//! cd examples                    # local.settings.json and host.json samples are here
//! AzureWebJobsStorage="<BINDINGS_AZURITE_CONNECTION_STRING>" BrokerList=<BINDINGS_KAFKA_BROKERS> \
//!     cargo run --example queue_to_kafka
//! ```

use std::io::{IsTerminal as _, Write as _};

use bindings::prelude::*;

/// Forwards one queue message to Kafka.
#[queue_trigger("%InputQueue%")]
#[kafka_output(
    topic = "%OutputTopic%",
    broker_list = "BrokerList",
    key = "{id}",
    enable_idempotence = true
)]
async fn forward(text: String, meta: QueueMetadata) -> Result<KafkaEvent<String>, FunctionError> {
    match text.as_str() {
        "fail" => return Err(FunctionError::retry("the message says `fail`")),
        "poison" => return Err(FunctionError::poison("the message says `poison`")),
        _ => {}
    }
    let mut stdout = std::io::stdout().lock();
    // Stdout is this example's interface (tests read it); a closed pipe must not fail the message.
    let _ = writeln!(
        stdout,
        "processed id={} dequeue_count={}",
        meta.id, meta.dequeue_count
    );
    let _ = stdout.flush();
    Ok(KafkaEvent::new(text).header("dequeue-count", meta.dequeue_count.to_string()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<forward>()
        .build()
        .await?
        .run_until_shutdown()
        .await?;
    Ok(())
}
