//! The attribute and derive macros of `bindings`. Use them through the `bindings` crate.
//!
//! Each macro parses its options into a typed struct, collects every error (with spans) before
//! reporting, re-emits the user's function unchanged, and generates code that names only
//! `::bindings::__private` and `::core`. No runtime logic lives here.

mod ctxt;
mod function;
mod manual;
mod options;
#[path = "../../bindings-core/src/suggest.rs"]
mod suggest;

use proc_macro::TokenStream;

/// Marks a function as called from code: `handle.call("name", payload)`.
///
/// Options: `name = "..."` (the function's name; default the fn's name).
///
/// ```text
/// #[manual_trigger]
/// async fn greet(name: String, log: Logger) {
///     log.info(format!("hello, {name}"));
/// }
/// ```
#[proc_macro_attribute]
pub fn manual_trigger(args: TokenStream, item: TokenStream) -> TokenStream {
    function::expand::<manual::ManualTrigger>(args.into(), item.into()).into()
}
