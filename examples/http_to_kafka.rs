//! The seed's HTTP -> Kafka sample: `GET /api/output?message=...` (or the request body) becomes one
//! Kafka message; the answer is `Ok` once Kafka has it.
//!
//! Settings (environment or `local.settings.json` in the current directory): `BrokerList`,
//! `OutputTopic`, optionally `HttpListenAddress` (default 127.0.0.1:7071).
//!
//! ```sh
//! BrokerList=127.0.0.1:9092 OutputTopic=topic cargo run --example http_to_kafka
//! curl 'http://127.0.0.1:7071/api/output?message=hello'
//! ```

use bindings::prelude::*;

#[derive(Outputs)]
struct Answer {
    #[kafka_output(topic = "%OutputTopic%", broker_list = "BrokerList")]
    message: Option<String>,
    response: HttpResponse,
}

#[http_trigger(methods = ["get", "post"], auth_level = "anonymous")]
async fn output(request: HttpRequest, log: Logger) -> Answer {
    let message = request
        .query("message")
        .map(str::to_owned)
        .or_else(|| request.text().filter(|t| !t.is_empty()).map(str::to_owned));
    log.info(format!("Message: {message:?}"));
    match message {
        Some(message) => Answer {
            message: Some(message),
            response: HttpResponse::ok().body("Ok"),
        },
        None => Answer {
            message: None,
            response: HttpResponse::bad_request("pass ?message= or a body"),
        },
    }
}

#[tokio::main]
async fn main() -> Result<(), bindings::Error> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<output>()
        .build()
        .await?
        .run_until_shutdown()
        .await
}
