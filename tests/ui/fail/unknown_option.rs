use bindings::prelude::*;

#[manual_trigger(nmae = "greet")]
async fn greet(name: String) {
    let _ = name;
}

fn main() {}
