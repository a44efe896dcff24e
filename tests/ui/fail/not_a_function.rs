use bindings::prelude::*;

#[manual_trigger]
struct NotAFunction;

fn main() {}
