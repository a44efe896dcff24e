use bindings::prelude::*;

#[derive(Outputs)]
struct Fanout {
    #[kafka_output(topic = "orders", broker_list = "BrokerList")]
    orders: Vec<String>,
    count: u32,
}

#[manual_trigger]
async fn f(text: String) -> Fanout {
    Fanout { orders: vec![text], count: 1 }
}

fn main() {}
