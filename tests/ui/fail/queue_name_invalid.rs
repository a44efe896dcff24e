use bindings::prelude::*;

#[queue_trigger("My_Queue")]
async fn f(text: String) {
    let _ = text;
}

fn main() {}
