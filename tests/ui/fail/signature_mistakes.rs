// Every mistake of one attribute and signature is reported at once.
use bindings::prelude::*;

#[manual_trigger(nmae = "x", colour = "blue")]
async fn greet<T: Send>(name: impl AsRef<str>, extra: T) -> impl Send {
    let _ = (name.as_ref(), extra);
}

fn main() {}
