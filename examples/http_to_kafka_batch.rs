//! The seed's batch sample: one HTTP request sends `["one", "two"]` as two Kafka messages.
//!
//! ```sh
//! BrokerList=127.0.0.1:9092 OutputTopic=topic cargo run --example http_to_kafka_batch
//! curl http://127.0.0.1:7071/api/batch
//! ```

use bindings::prelude::*;

#[derive(Outputs)]
struct Batch {
    #[kafka_output(topic = "%OutputTopic%", broker_list = "BrokerList")]
    kevents: Vec<&'static str>,
    response: HttpResponse,
}

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn batch() -> Batch {
    Batch {
        kevents: vec!["one", "two"],
        response: HttpResponse::ok().body("Ok"),
    }
}

#[tokio::main]
async fn main() -> Result<(), bindings::Error> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<batch>()
        .build()
        .await?
        .run_until_shutdown()
        .await
}
