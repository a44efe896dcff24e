use bindings::prelude::*;

// A literal queue name is checked like Azure checks it.
#[manual_trigger]
#[queue_output("my_copies")]
async fn bad_name(text: String) -> String {
    text
}

// Unknown options get a suggestion; values are checked against the option table.
#[manual_trigger]
#[queue_output("copies", conection = "Storage", message_encoding = "utf8")]
async fn bad_options(text: String) -> String {
    text
}

// The queue comes first.
#[manual_trigger]
#[queue_output(connection = "Storage")]
async fn no_queue(text: String) -> String {
    text
}

#[derive(Outputs)]
struct Fanout {
    #[queue_output("a--b")]
    copies: Vec<String>,
}

fn main() {}
