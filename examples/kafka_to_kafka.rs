//! Kafka -> Kafka against a real broker, configured like a Functions app: app settings from the
//! environment over `local.settings.json`, options from `host.json` (both read from the current
//! directory). Runs until Ctrl-C or SIGTERM, then stops reading, lets running invocations finish,
//! commits their offsets, leaves the consumer group and exits 0.
//!
//! Settings:
//! - `BrokerList`: the Kafka bootstrap servers;
//! - `InputTopic`: the topic to read (it must exist); `OutputTopic`: the topic to write;
//! - `ConsumerGroup`: the consumer group the trigger joins.
//!
//! Each record's value is produced to `OutputTopic` with the same key and a header `source-offset`
//! (`<partition>:<offset>`); the example prints `processed partition=<p> offset=<o>` on stdout when
//! the function accepts the record (its output is delivered right after; should that fail, the
//! record is retried and prints again), and its offset is committed once the output is delivered.
//! A record whose value is exactly `fail` fails every attempt: it is retried twice, a second apart,
//! then produced to `<InputTopic>-dlq` with its value intact; exactly `poison` goes there at once.
//! A record without a value (a tombstone) is not forwarded.
//!
//! ```sh
//! cargo xtask services up        # Azurite + a Kafka broker; prints their addresses
//! cd examples                    # local.settings.json and host.json samples are here
//! BrokerList=<BINDINGS_KAFKA_BROKERS> InputTopic=orders OutputTopic=orders-copy \
//!     ConsumerGroup=relay cargo run --example kafka_to_kafka
//! ```

use std::io::{IsTerminal as _, Write as _};

use bindings::prelude::*;

/// Forwards one record to the output topic.
#[kafka_trigger(
    topic = "%InputTopic%",
    broker_list = "BrokerList",
    consumer_group = "%ConsumerGroup%",
    max_retry_count = 2,
    delay_interval = "00:00:01"
)]
#[kafka_output(
    topic = "%OutputTopic%",
    broker_list = "BrokerList",
    enable_idempotence = true
)]
async fn relay(record: KafkaRecord, log: Logger) -> Result<Vec<KafkaEvent<Bytes>>, FunctionError> {
    let Some(value) = record.value.clone() else {
        log.warn(format!(
            "record {} has no value; not forwarded",
            record.position()
        ));
        return Ok(Vec::new());
    };
    match &value[..] {
        b"fail" => return Err(FunctionError::retry("the record says `fail`")),
        b"poison" => return Err(FunctionError::poison("the record says `poison`")),
        _ => {}
    }
    let mut stdout = std::io::stdout().lock();
    // Stdout is this example's interface (tests read it); a closed pipe must not fail the record.
    let _ = writeln!(
        stdout,
        "processed partition={} offset={}",
        record.partition, record.offset
    );
    let _ = stdout.flush();
    let mut event = KafkaEvent::new(value).header("source-offset", record.position());
    if let Some(key) = record.key {
        event = event.key(key.to_vec());
    }
    Ok(vec![event])
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
        .function::<relay>()
        .build()
        .await?
        .run_until_shutdown()
        .await?;
    Ok(())
}
