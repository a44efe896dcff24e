use bindings::prelude::*;

#[queue_trigger("orders")]
async fn f(batch: Vec<QueueMessage>, text: String) -> BatchOutcome {
    let _ = (batch, text);
    BatchOutcome::all_succeeded()
}

fn main() {}
