use bindings::prelude::*;

#[kafka_output(topic = "a", broker_list = "BrokerList")]
async fn f(text: String) -> String {
    text
}

fn main() {}
