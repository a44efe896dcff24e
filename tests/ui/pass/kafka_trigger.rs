// Every parameter type and option form of #[kafka_trigger] compiles, with outputs fed by its
// binding data.
use bindings::prelude::*;

#[derive(serde::Deserialize, serde::Serialize)]
struct Order {
    id: String,
}

#[kafka_trigger(topic = "%InputTopic%", broker_list = "BrokerList", consumer_group = "$Default",
                ordering = "key", max_concurrency = 8, lag_threshold = 500,
                retry_strategy = "exponential_backoff", max_retry_count = 4,
                minimum_interval = "00:00:01", maximum_interval = "00:00:30",
                dead_letter_topic = "orders-failed", auto_offset_reset = "latest",
                session_timeout_ms = 30000, protocol = "SaslSsl", authentication_mode = "ScramSha512",
                username = "KafkaUser", password = "%KafkaPassword%")]
#[kafka_output(topic = "{Topic}-copy", broker_list = "BrokerList", key = "{Key}")]
async fn copy(order: Json<Order>, record: KafkaRecord, log: Logger) -> Json<Order> {
    log.info(format!("{} at {}", order.id, record.position()));
    order
}

#[kafka_trigger(topic = "orders", broker_list = "BrokerList", consumer_group = "batch",
                max_batch_size = 16, subscriber_interval_in_seconds = 2, dead_letter_topic = "")]
#[queue_output("orders-seen")]
async fn batch(records: Vec<KafkaRecord>) -> Vec<String> {
    records.iter().map(KafkaRecord::position).collect()
}

#[kafka_trigger(topic = "orders", broker_list = "BrokerList", consumer_group = "bytes")]
async fn bytes(raw: Vec<u8>, shared: Bytes, context: FunctionContext) -> Result<(), FunctionError> {
    if raw.len() != shared.len() {
        return Err(FunctionError::poison(format!("{} differs", context.invocation_id())));
    }
    Ok(())
}

fn main() {
    let _ = Host::builder()
        .function::<copy>()
        .function::<batch>()
        .function::<bytes>();
}
