//! The seed's headers sample: a Kafka event with header `test: rust`, once as a typed `KafkaEvent` and
//! once through the extension's JSON-string event form, built as the seed's C# sample builds it.
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
async fn json_event(request: HttpRequest) -> FromJson {
    let message = request.query("message").unwrap_or("hello");
    // The seed's C# sample, line for line: offset, partition and timestamp are generated at run
    // time (the partitioner picks the partition, the record is stamped when it is produced), so
    // only the value and the headers of this string are used.
    let kevent = "{ \"Offset\":364,\"Partition\":0,\"Topic\":\"kafkaeventhubtest1\",\"Timestamp\":\"2022-04-09T03:20:06.591Z\", \"Value\": \"".to_owned()
        + message
        + "\", \"Headers\": [{ \"Key\": \"test\", \"Value\": \"rust\" }] }";
    FromJson {
        event: kevent,
        response: HttpResponse::ok().body("Ok"),
    }
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
