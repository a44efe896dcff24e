//! `#[http_trigger(methods = [...], route = "...", auth_level = "...")]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ctxt::Ctxt;
use crate::function::TriggerMacro;
use crate::options::Options;

pub(crate) struct HttpTrigger;

const METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

impl TriggerMacro for HttpTrigger {
    const ATTRIBUTE: &'static str = "http_trigger";
    const OPTIONS: &'static [&'static str] = &["name", "methods", "route", "auth_level"];

    fn attribute(
        cx: &Ctxt,
        options: &mut Options<'_>,
        _: &[syn::Attribute],
        _: &syn::Signature,
    ) -> Option<TokenStream> {
        let mut calls = Vec::new();
        if let Some(methods) = options.strings("methods") {
            let mut names = Vec::new();
            for method in methods {
                let lower = method.value.to_ascii_lowercase();
                if METHODS.contains(&lower.as_str()) {
                    names.push(lower);
                } else {
                    cx.error_at(
                        method.span,
                        format_args!(
                            "\"{}\" is not an HTTP method; use: {}",
                            method.value,
                            METHODS.join(", ")
                        ),
                    );
                }
            }
            calls.push(quote!(.methods(&[#(#names),*])));
        }
        if let Some(route) = options.string("route") {
            let value = route.value;
            calls.push(quote!(.route(#value)));
        }
        if let Some(level) = options.choice(
            "auth_level",
            &["anonymous", "function", "admin"],
            str::to_ascii_lowercase,
        ) {
            let variant = format_ident!("{}", capitalize(level.value));
            calls.push(quote!(.auth_level(::bindings::__private::AuthLevel::#variant)));
        }
        for extra in options.take_positional() {
            cx.error_spanned_by(
                extra,
                "#[http_trigger] takes named options only: methods, route, auth_level, name",
            );
        }
        Some(quote!(::bindings::__private::HttpTriggerAttribute::new() #(#calls)*))
    }

    fn attribute_type() -> TokenStream {
        quote!(::bindings::__private::HttpTriggerAttribute)
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
