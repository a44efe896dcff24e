use bindings::prelude::*;

#[queue_trigger("orders")]
#[manual_trigger]
async fn f(text: String) {
    let _ = text;
}

fn main() {}
