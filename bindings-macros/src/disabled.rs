//! Stand-ins for the attributes of a disabled cargo feature of `bindings`: each says which feature
//! to enable, and re-emits the item unchanged so the rest of the file still type-checks in an IDE.

use proc_macro2::{Span, TokenStream};

/// `#[attribute]` used while feature `feature` of `bindings` is off.
pub(crate) fn expand(attribute: &str, feature: &str, item: TokenStream) -> TokenStream {
    let message = format!(
        "#[{attribute}] needs the `{feature}` feature of `bindings`; enable it in Cargo.toml: \
         bindings = {{ version = \"…\", features = [\"{feature}\"] }} (it is on by default unless \
         `default-features = false`)"
    );
    let mut out = syn::Error::new(Span::call_site(), message).into_compile_error();
    out.extend(item);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn names_the_feature_and_keeps_the_item() {
        let out = expand(
            "kafka_output",
            "kafka",
            quote!(
                fn f() {}
            ),
        )
        .to_string();
        assert!(
            out.contains("#[kafka_output] needs the `kafka` feature of `bindings`"),
            "{out}"
        );
        assert!(out.contains("features = [\\\"kafka\\\"]"), "{out}");
        assert!(out.ends_with("fn f () { }"), "{out}");
    }
}
