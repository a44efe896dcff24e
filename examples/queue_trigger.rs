//! The Azure Functions queue trigger sample, in Rust: logs each item of `myqueue-items` in the
//! storage account named by the app setting `StorageConnectionAppSetting`. Runs until Ctrl-C or
//! SIGTERM, then finishes what is running and exits.
//!
//! Settings come from the environment over `local.settings.json`, options from `host.json`, both in
//! the current directory (samples in `examples/`, pointing at Azurite on its default ports):
//!
//! ```sh
//! cargo xtask services up     # or Azurite of your own on 10001 for UseDevelopmentStorage=true
//! cd examples
//! StorageConnectionAppSetting="<BINDINGS_AZURITE_CONNECTION_STRING>" cargo run --example queue_trigger
//! ```
//!
//! A missing queue is logged once and waited for: create `myqueue-items` and add base64 messages
//! (Azure Storage Explorer, `az storage message put`, or an SDK with a base64 message policy).

use std::io::IsTerminal as _;

use bindings::prelude::*;

#[queue_trigger("myqueue-items", connection = "StorageConnectionAppSetting")]
async fn queue_trigger(my_queue_item: String, log: Logger) {
    log.info(format!("Rust function processed: {my_queue_item}"));
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<queue_trigger>()
        .build()
        .await?
        .run_until_shutdown()
        .await?;
    Ok(())
}
