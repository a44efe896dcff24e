//! Which storage account a queue trigger reads, in Azure's order: the trigger's `connection`, then
//! the function's `#[storage_account]`, then one on the enclosing module, then
//! `AzureWebJobsStorage`. Needs no service: four in-memory accounts are provided under the four
//! connection names, each with one message on a queue named `orders`, and four functions listen
//! on `orders`. Each resolves to a different account, so each reads exactly one message. Exits by
//! itself.
//!
//! ```sh
//! cargo run --example storage_account
//! ```
//!
//! With real accounts, each connection name `X` is an app setting (`AzureWebJobsX` or `X`) holding a
//! connection string, or a section `X__queueServiceUri` etc. for an identity-based connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::prelude::*;
use bindings::queue::{MemoryQueueService, QueueFunctions, QueueService, QueueServices};

const QUEUE: &str = "orders";
const WAIT: Duration = Duration::from_secs(30);

/// What each function read: (function, message text).
static READ: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn record(context: &FunctionContext, text: String) {
    println!("  {:<21} read {text:?}", context.function_name());
    READ.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((context.function_name().to_owned(), text));
}

/// 1. The trigger's `connection` wins, even over the function's own `#[storage_account]`.
#[queue_trigger("orders", connection = "TriggerAccount")]
#[storage_account("FunctionAccount")]
async fn by_connection(text: String, context: FunctionContext) {
    record(&context, text);
}

/// 2. Without a `connection`, the function's `#[storage_account]`.
#[storage_account("FunctionAccount")]
#[queue_trigger("orders")]
async fn by_function_attribute(text: String, context: FunctionContext) {
    record(&context, text);
}

/// 3. Without either, the enclosing module's `#[storage_account]` (a function inside the module
///    with its own `#[storage_account]` would use that instead).
#[storage_account("ModuleAccount")]
mod billing {
    use bindings::prelude::*;

    #[queue_trigger("orders")]
    pub(crate) async fn by_module_attribute(text: String, context: FunctionContext) {
        super::record(&context, text);
    }
}

/// 4. Without any, `AzureWebJobsStorage`.
#[queue_trigger("orders")]
async fn by_default(text: String, context: FunctionContext) {
    record(&context, text);
}

/// The functions in resolution order, with the rule that picks their account.
const RULES: [(&str, &str); 4] = [
    ("by_connection", "the trigger's connection"),
    ("by_function_attribute", "the function's #[storage_account]"),
    ("by_module_attribute", "the module's #[storage_account]"),
    ("by_default", "AzureWebJobsStorage"),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter("warn")
        .init();

    // Four accounts, by connection name ("Storage" is AzureWebJobsStorage), each with one message
    // naming its account.
    let services = QueueServices::new();
    let mut accounts = Vec::new();
    for name in [
        "TriggerAccount",
        "FunctionAccount",
        "ModuleAccount",
        "AzureWebJobsStorage",
    ] {
        let memory = MemoryQueueService::new();
        memory.create_queue(QUEUE).await?;
        memory
            .send(QUEUE, &BASE64.encode(format!("an order in {name}")))
            .await?;
        services.insert(name, Arc::new(memory.clone()));
        accounts.push((name, memory));
    }

    println!(
        "four accounts hold one message each on `{QUEUE}`; four functions listen on `{QUEUE}`:"
    );
    let host = Host::builder()
        .settings(Settings::new().with_env("AdminListenAddress"))
        .resource(Arc::new(services))
        .function::<by_connection>()
        .function::<by_function_attribute>()
        .function::<billing::by_module_attribute>()
        .function::<by_default>()
        .build()
        .await?
        .start();

    let functions = host
        .resources()
        .get::<QueueFunctions>()
        .ok_or("the host has no queue functions")?;
    let deadline = Instant::now() + WAIT;
    while RULES.iter().any(|(name, _)| {
        functions
            .get(name)
            .is_none_or(|function| function.counts().succeeded == 0)
    }) {
        if Instant::now() > deadline {
            return Err(format!("not every function read a message within {WAIT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.shutdown(Duration::from_secs(5)).await?;

    let read = READ
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    println!();
    println!(
        "resolution (connection > function #[storage_account] > module #[storage_account] > AzureWebJobsStorage):"
    );
    for (function, rule) in RULES {
        let texts: Vec<&str> = read
            .iter()
            .filter(|(name, _)| name == function)
            .map(|(_, text)| text.as_str())
            .collect();
        let account = match texts.as_slice() {
            [text] => text.trim_start_matches("an order in "),
            _ => return Err(format!("{function} read {texts:?}, expected one message").into()),
        };
        println!("  {function:<21} -> {account:<19} ({rule})");
    }
    let unread: Vec<&str> = accounts
        .iter()
        .filter(|(_, memory)| !memory.peek_all(QUEUE).is_empty())
        .map(|(name, _)| *name)
        .collect();
    if !unread.is_empty() {
        return Err(format!("messages left unread in {unread:?}").into());
    }
    println!("every account's message was read once, by the function that resolves to it");
    Ok(())
}
