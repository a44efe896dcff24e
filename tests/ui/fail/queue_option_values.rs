// Every bad value of one attribute, reported at once.
use bindings::prelude::*;

#[queue_trigger("orders", batch_size = 64, max_dequeue_count = 0, message_encoding = "utf8",
                max_polling_interval = "2 seconds", visibility_timeout = 30, bacth_size = 1)]
async fn f(text: String) {
    let _ = text;
}

fn main() {}
