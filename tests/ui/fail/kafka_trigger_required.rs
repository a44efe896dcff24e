use bindings::prelude::*;

#[kafka_trigger(ordering = "key")]
async fn f(text: String) {
    let _ = text;
}

fn main() {}
