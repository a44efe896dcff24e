use bindings::prelude::*;

#[queue_trigger(connection = "Storage")]
async fn f(text: String) {
    let _ = text;
}

fn main() {}
