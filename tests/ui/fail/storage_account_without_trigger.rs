use bindings::prelude::*;

#[storage_account("Somewhere")]
async fn f(text: String) {
    let _ = text;
}

#[storage_account(Somewhere)]
mod m {}

fn main() {}
