//! The seed's `MultipleOutputType`: one invocation answers HTTP and sends Kafka messages; the
//! response is written only after every message is delivered.
//!
//! ```sh
//! BrokerList=127.0.0.1:9092 OutputTopic=topic cargo run --example http_multiple_output
//! curl -X POST http://127.0.0.1:7071/api/multiple -d 'three'
//! ```

use bindings::prelude::*;

#[derive(Outputs)]
struct MultipleOutput {
    #[kafka_output(topic = "%OutputTopic%", broker_list = "BrokerList")]
    kevents: Vec<String>,
    http_response: HttpResponse,
}

#[http_trigger(methods = ["get", "post"], auth_level = "anonymous")]
async fn multiple(request: HttpRequest) -> MultipleOutput {
    let mut kevents = vec!["one".to_owned(), "two".to_owned()];
    if let Some(extra) = request.text().filter(|t| !t.is_empty()) {
        kevents.push(extra.to_owned());
    }
    let count = kevents.len();
    MultipleOutput {
        kevents,
        http_response: HttpResponse::ok().body(format!("sent {count} messages")),
    }
}

#[tokio::main]
async fn main() -> Result<(), bindings::Error> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<multiple>()
        .build()
        .await?
        .run_until_shutdown()
        .await
}
