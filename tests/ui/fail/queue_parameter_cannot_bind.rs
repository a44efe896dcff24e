use bindings::prelude::*;

#[queue_trigger("orders")]
async fn f(text: String, count: u64) {
    let _ = (text, count);
}

fn main() {}
