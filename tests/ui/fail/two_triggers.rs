use bindings::prelude::*;

#[manual_trigger]
#[manual_trigger(name = "again")]
async fn greet(name: String) {
    let _ = name;
}

fn main() {}
