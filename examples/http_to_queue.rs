//! HTTP -> queue: `GET /api/enqueue?message=<text>` puts `<text>` on the queue `OutputQueue` names
//! (encoded as host.json's `extensions.queues.messageEncoding` says, base64 by default); the answer
//! is `Ok` only after the storage service accepted it. `&count=<n>` (1 to 1000) puts n copies, in one
//! invocation; `&delay=<seconds>` (at most 7 days) makes them visible only after that delay.
//!
//! Settings (environment or `local.settings.json` in the current directory): `AzureWebJobsStorage`,
//! `OutputQueue`, optionally `HttpListenAddress` (default 127.0.0.1:7071). The queue is created on
//! first use. SIGTERM or Ctrl-C stops it cleanly.
//!
//! ```sh
//! AzureWebJobsStorage=UseDevelopmentStorage=true OutputQueue=outqueue cargo run --example http_to_queue
//! curl 'http://127.0.0.1:7071/api/enqueue?message=hello&count=3&delay=10'
//! ```

use std::time::Duration;

use bindings::prelude::*;

/// The most copies one request may ask for.
const MAX_COUNT: usize = 1000;
/// The longest delay the service allows (7 days), in seconds.
const MAX_DELAY_SECONDS: u64 = 7 * 24 * 3600;

#[derive(Outputs)]
struct Answer {
    #[queue_output("%OutputQueue%")]
    messages: Vec<QueueMessageOut<String>>,
    response: HttpResponse,
}

impl Answer {
    fn refuse(why: &str) -> Self {
        Self {
            messages: Vec::new(),
            response: HttpResponse::bad_request(why),
        }
    }
}

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn enqueue(request: HttpRequest, log: Logger) -> Answer {
    let Some(message) = request.query("message") else {
        return Answer::refuse("pass ?message=<text>");
    };
    let count = match request.query("count").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(n)) if (1..=MAX_COUNT).contains(&n) => n,
        Some(_) => return Answer::refuse("count must be a whole number from 1 to 1000"),
    };
    let delay = match request.query("delay").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(seconds)) if seconds <= MAX_DELAY_SECONDS => seconds,
        Some(_) => return Answer::refuse("delay must be whole seconds from 0 to 604800 (7 days)"),
    };
    log.info(format!(
        "enqueueing {count} x {message:?}, visible in {delay} s"
    ));
    let copy =
        QueueMessageOut::new(message.to_owned()).visibility_delay(Duration::from_secs(delay));
    Answer {
        messages: vec![copy; count],
        response: HttpResponse::ok().body("Ok"),
    }
}

#[tokio::main]
async fn main() -> Result<(), bindings::Error> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<enqueue>()
        .build()
        .await?
        .run_until_shutdown()
        .await
}
