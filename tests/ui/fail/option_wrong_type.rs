use bindings::prelude::*;

#[manual_trigger(name = 5)]
async fn greet(name: String) {
    let _ = name;
}

fn main() {}
