// Azure lower-cases a trigger's queue name, so an uppercase literal compiles (it polls `myqueue-items`),
// and the longest name whose poison queue fits is 56 characters. `connection = ""` is the default.
use bindings::prelude::*;

#[queue_trigger("MyQueue-Items", connection = "")]
async fn shouting(item: String) {
    let _ = item;
}

#[queue_trigger("orders-from-the-north-western-region-of-the-big-country1")]
async fn longest(item: String) {
    let _ = item;
}

fn main() {
    let _host = Host::builder().function::<shouting>().function::<longest>();
}
