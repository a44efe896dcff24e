use bindings::prelude::*;

#[manual_trigger]
#[kafka_output(topic = "a", broker_list = "BrokerList")]
#[kafka_output(topic = "b", broker_list = "BrokerList")]
async fn f(text: String) -> String {
    text
}

fn main() {}
