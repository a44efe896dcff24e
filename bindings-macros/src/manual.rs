//! `#[manual_trigger]`: a function the application calls.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::function::TriggerMacro;
use crate::options::Options;

pub(crate) struct ManualTrigger;

impl TriggerMacro for ManualTrigger {
    const ATTRIBUTE: &'static str = "manual_trigger";
    const OPTIONS: &'static [&'static str] = &["name"];

    fn attribute(
        _: &Ctxt,
        _: &mut Options<'_>,
        _: &[syn::Attribute],
        _: &syn::Signature,
    ) -> Option<TokenStream> {
        Some(quote!(::bindings::__private::ManualTrigger::new()))
    }

    fn attribute_type() -> TokenStream {
        quote!(::bindings::__private::ManualTrigger)
    }
}
