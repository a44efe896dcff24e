// The queue trigger's options and the storage-account resolution order compile; functions stay callable.
use bindings::prelude::*;

#[queue_trigger("orders", connection = "OrdersStorage", batch_size = 8, new_batch_threshold = 4,
                max_polling_interval = "00:00:02", visibility_timeout = "00:00:30", max_dequeue_count = 3,
                message_encoding = "none", receive_visibility_timeout = "00:05:00", name = "Orders")]
async fn orders(order: String, meta: QueueMetadata, log: Logger) {
    log.info(format!("{order} ({})", meta.dequeue_count));
}

#[storage_account("FunctionLevel")]
#[queue_trigger("%InputQueue%")]
async fn above(message: QueueMessage) -> Result<(), FunctionError> {
    let _ = message.text();
    Ok(())
}

#[queue_trigger("below-queue")]
#[storage_account("FunctionLevel")]
fn below(bytes: Vec<u8>) {
    let _ = bytes;
}

#[storage_account("ModuleLevel")]
mod jobs {
    use bindings::prelude::*;

    #[queue_trigger("jobs")]
    pub async fn job(payload: Bytes) {
        let _ = payload;
    }
}

fn main() {
    let _ = below(vec![1]);
    let _host = Host::builder().function::<orders>().function::<above>().function::<below>().function::<jobs::job>();
}
