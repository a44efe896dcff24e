use bindings::prelude::*;

// 57 characters: its poison queue would have 64, one over Azure's limit.
#[queue_trigger("orders-from-the-north-western-region-of-the-big-country12")]
async fn f(text: String) {
    let _ = text;
}

fn main() {}
