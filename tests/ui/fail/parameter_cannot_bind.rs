use bindings::prelude::*;

#[manual_trigger]
async fn greet(name: String, count: u32) {
    let _ = (name, count);
}

fn main() {}
