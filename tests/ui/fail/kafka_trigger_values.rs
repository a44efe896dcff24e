// Every bad value of one attribute, reported at once.
use bindings::prelude::*;

#[kafka_trigger(topic = "orders", broker_list = "BrokerList", consumer_group = "g",
                ordering = "keys", max_retry_cont = 3, max_concurrency = 0,
                retry_strategy = "exponential", delay_interval = "00:00:05",
                minimum_interval = "5 seconds", password = "hunter2 is my password")]
async fn f(text: String) {
    let _ = text;
}

#[kafka_trigger(topic = "orders", broker_list = "BrokerList", consumer_group = "g",
                minimum_interval = "00:00:01")]
async fn g(record: KafkaRecord) {
    let _ = record;
}

#[kafka_trigger(topic = "orders", broker_list = "BrokerList", consumer_group = "g")]
async fn h(batch: Vec<KafkaRecord>, text: String) {
    let _ = (batch, text);
}

#[kafka_trigger(topic = "orders", broker_list = "BrokerList", consumer_group = "g")]
#[queue_trigger("orders")]
async fn two(text: String) {
    let _ = text;
}

fn main() {}
