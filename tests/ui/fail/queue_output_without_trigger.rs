use bindings::prelude::*;

#[queue_output("copies")]
async fn f(text: String) -> String {
    text
}

fn main() {}
