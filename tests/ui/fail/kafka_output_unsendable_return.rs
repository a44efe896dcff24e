use bindings::prelude::*;

#[manual_trigger]
#[kafka_output(topic = "a", broker_list = "BrokerList")]
async fn f(text: String) -> u64 {
    text.len() as u64
}

fn main() {}
