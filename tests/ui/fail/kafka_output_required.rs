use bindings::prelude::*;

#[manual_trigger]
#[kafka_output(key = "{id}")]
async fn f(text: String) -> String {
    text
}

fn main() {}
