use bindings::prelude::*;

#[manual_trigger(name = "9 lives!")]
async fn greet(name: String) {
    let _ = name;
}

fn main() {}
