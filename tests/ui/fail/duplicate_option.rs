use bindings::prelude::*;

#[manual_trigger(name = "a", name = "b")]
async fn greet(name: String) {
    let _ = name;
}

fn main() {}
