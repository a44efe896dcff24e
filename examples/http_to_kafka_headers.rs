//! The seed's headers sample: a Kafka event with header `test: rust`, once as a typed `KafkaEvent` and
//! once through the extension's JSON-string event form.
//!
//! ```sh
//! BrokerList=127.0.0.1:9092 OutputTopic=topic cargo run --example http_to_kafka_headers
//! curl 'http://127.0.0.1:7071/api/event?message=hi'
//! curl 'http://127.0.0.1:7071/api/json_event?message=hi'
//! ```

use bindings::prelude::*;

#[derive(Outputs)]
struct Typed {
    #[kafka_output(topic = "%OutputTopic%", broker_list = "BrokerList")]
    event: KafkaEvent<String>,
    response: HttpResponse,
}

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn event(request: HttpRequest) -> Typed {
    let message = request.query("message").unwrap_or("hello").to_owned();
    Typed {
        event: KafkaEvent::new(message).header("test", "rust"),
        response: HttpResponse::ok().body("Ok"),
    }
}

#[derive(Outputs)]
struct FromJson {
    #[kafka_output(topic = "%OutputTopic%", broker_list = "BrokerList")]
    event: String,
    response: HttpResponse,
}

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn json_event(request: HttpRequest) -> Result<FromJson, FunctionError> {
    let message = request.query("message").unwrap_or("hello");
    // The form code ported from other languages sends: Offset and Topic are ignored.
    let event = serde_json::json!({
        "Offset": 0, "Partition": 0, "Topic": "ignored", "Timestamp": "2022-04-09T03:20:06.591Z",
        "Value": message, "Headers": [{ "Key": "test", "Value": "rust" }]
    });
    Ok(FromJson {
        event: event.to_string(),
        response: HttpResponse::ok().body("Ok"),
    })
}

#[tokio::main]
async fn main() -> Result<(), bindings::Error> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    Host::builder()
        .settings(Settings::from_env_and_local_file()?)
        .host_config(HostConfig::from_file_or_default("host.json")?)
        .function::<event>()
        .function::<json_event>()
        .build()
        .await?
        .run_until_shutdown()
        .await
}
