use bindings::prelude::*;

#[manual_trigger]
#[queue_output("copies")]
async fn f(text: String) -> u32 {
    text.len() as u32
}

fn main() {}
