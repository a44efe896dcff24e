use bindings::prelude::*;

#[derive(serde::Serialize)]
struct Order {
    id: String,
}

#[queue_trigger("orders-in")]
#[queue_output("{queueTrigger}-copies", connection = "Copies", message_encoding = "none")]
async fn copy(text: String) -> String {
    text
}

#[manual_trigger]
#[queue_output("%OutputQueue%")]
async fn many(text: String) -> Result<Vec<Json<Order>>, FunctionError> {
    Ok(vec![Json(Order { id: text })])
}

#[manual_trigger]
#[queue_output("later")]
async fn delayed(text: String) -> Option<QueueMessageOut<Bytes>> {
    Some(QueueMessageOut::new(Bytes::from(text)).visibility_delay(std::time::Duration::from_secs(5)))
}

#[storage_account("OrdersStorage")]
mod orders {
    use bindings::prelude::*;

    #[derive(Outputs)]
    pub struct Split {
        #[queue_output("big-orders")]
        big: Vec<Vec<u8>>,
        #[queue_output("small-orders")]
        small: Option<&'static str>,
    }

    #[storage_account("Other")]
    #[queue_trigger("orders")]
    #[queue_output("seen")]
    pub async fn seen(text: String) -> String {
        text
    }

    #[manual_trigger]
    pub async fn split(text: String) -> Split {
        Split {
            big: vec![text.into_bytes()],
            small: None,
        }
    }
}

fn main() {
    let _ = Host::builder()
        .function::<copy>()
        .function::<many>()
        .function::<delayed>()
        .function::<orders::seen>()
        .function::<orders::split>();
}
