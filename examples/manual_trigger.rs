//! Functions called from code, through the whole host pipeline: settings, parameter binding by type,
//! logging, retry-vs-poison errors and a graceful shutdown. Needs no external service.
//!
//! ```sh
//! cargo run --example manual_trigger
//! ```

use std::time::Duration;

use bindings::prelude::*;
use serde::Deserialize;

/// The payload of `report`.
#[derive(Debug, Deserialize)]
struct Report {
    region: String,
    total: i64,
}

/// Logs each name it is called with.
#[manual_trigger]
async fn greet(name: String, log: Logger) {
    log.info(format!("hello, {name}"));
}

/// Checks a report: bad JSON is retried (the caller might fix it), a negative total is poison.
#[manual_trigger(name = "report")]
async fn check_report(report: Json<Report>, context: FunctionContext) -> Result<(), FunctionError> {
    if report.total < 0 {
        return Err(FunctionError::poison(format!(
            "negative total {} for {}",
            report.total, report.region
        )));
    }
    println!(
        "  {} accepted report {:?} (invocation {})",
        context.function_name(),
        report.0,
        context.invocation_id()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_target(false)
        .init();

    let host = Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<greet>()
        .function::<check_report>()
        .build()
        .await?
        .start();

    host.call("greet", "world").await?;
    host.call("report", r#"{"region":"eu","total":42}"#).await?;
    for (payload, why) in [
        (r#"{"region":"eu""#, "truncated JSON"),
        (r#"{"region":"us","total":-5}"#, "negative total"),
    ] {
        match host.call("report", payload).await {
            Err(bindings::CallError::Failed { error, .. }) => {
                let action = if error.is_poison() {
                    "poison: not retried"
                } else {
                    "would be retried"
                };
                println!("  {why}: failed ({action}): {error}");
            }
            other => println!("  {why}: unexpected {other:?}"),
        }
    }

    host.shutdown(Duration::from_secs(5)).await?;
    println!("done: 2 succeeded, 1 retryable failure, 1 poison");
    Ok(())
}
