// Every bad value of one attribute, reported at once.
use bindings::prelude::*;

#[manual_trigger]
#[kafka_output(topic = "t", broker_list = "BrokerList", protocol = "tls", authentication_mode = "scram",
               compression = "brotli", max_message_bytes = 10, enable_idempotence = "yes", brokerlist = "x")]
async fn f(text: String) -> String {
    text
}

fn main() {}
