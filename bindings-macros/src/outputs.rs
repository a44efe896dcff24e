//! `#[derive(Outputs)]`: a return type whose fields go to several outputs (and, for fields without
//! an output attribute, to the trigger's reply).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Item, ItemFn};

use crate::ctxt::{Ctxt, item_with_errors};

/// The output attributes: on a triggered function (its return value) or on a `#[derive(Outputs)]`
/// field.
pub(crate) const ATTRIBUTES: &[&str] = &[crate::kafka::ATTRIBUTE, crate::queue::OUTPUT];

/// Whether `attr` is one of [`ATTRIBUTES`].
pub(crate) fn is_output(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| ATTRIBUTES.iter().any(|name| s.ident == name))
}

/// An output attribute as an expression building its runtime value, and that value's type.
/// `companions` are the function's `#[storage_account]` attributes (none for a field).
pub(crate) fn output_attribute(
    cx: &Ctxt,
    attr: &Attribute,
    companions: &[Attribute],
) -> Option<(TokenStream, TokenStream)> {
    let name = attr.path().segments.last()?.ident.to_string();
    if name == crate::kafka::ATTRIBUTE {
        let value = crate::kafka::output_attribute(cx, attr)?;
        Some((value, quote!(::bindings::__private::KafkaOutputAttribute)))
    } else {
        let value = crate::queue::output_attribute(cx, attr, companions)?;
        Some((value, quote!(::bindings::__private::QueueOutputAttribute)))
    }
}

/// An output attribute expanded on its own (`#[queue_output]`): above a function's trigger it moves
/// below it (the trigger takes it); anywhere else it is a mistake.
pub(crate) fn expand_standalone(
    attribute: &str,
    args: &TokenStream,
    item: TokenStream,
) -> TokenStream {
    let ident = syn::Ident::new(attribute, Span::call_site());
    match syn::parse2::<Item>(item) {
        Ok(Item::Fn(mut function)) => {
            if move_below_trigger(&mut function, syn::parse_quote!(#[#ident(#args)])) {
                function.into_token_stream()
            } else {
                let message = format!(
                    "#[{attribute}] needs a trigger on the same function (#[queue_trigger(...)], \
                     #[http_trigger(...)], #[manual_trigger]); its return value is what is sent"
                );
                item_with_errors(&function, &syn::Error::new(Span::call_site(), message))
            }
        }
        Ok(other) => {
            let message = format!(
                "#[{attribute}] goes on a triggered function, or on a field of a #[derive(Outputs)] struct"
            );
            item_with_errors(&other, &syn::Error::new(Span::call_site(), message))
        }
        Err(error) => error.to_compile_error(),
    }
}

/// Puts `function`'s trigger attribute first and `attribute` right after it, so that the trigger
/// expands first and takes `attribute`; `false` if the function has no trigger.
pub(crate) fn move_below_trigger(function: &mut ItemFn, attribute: Attribute) -> bool {
    let position = function.attrs.iter().position(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().ends_with("_trigger"))
    });
    let Some(index) = position else {
        return false;
    };
    let trigger = function.attrs.remove(index);
    function.attrs.insert(0, trigger);
    function.attrs.insert(1, attribute);
    true
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let cx = Ctxt::default();
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
            _ => {
                cx.error_spanned_by(
                    &input.ident,
                    "#[derive(Outputs)] needs a struct with named fields",
                );
                Vec::new()
            }
        },
        _ => {
            cx.error_spanned_by(
                &input.ident,
                "#[derive(Outputs)] goes on a struct whose fields are the outputs",
            );
            Vec::new()
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[derive(Outputs)] structs cannot be generic",
        );
    }
    let mut declares = Vec::new();
    let mut slots = Vec::new();
    let mut sends = Vec::new();
    let mut replies = Vec::new();
    let mut reply_bounds = Vec::new();
    let mut slot_types = Vec::new();
    for field in fields {
        let name = field.ident.as_ref().expect("named fields");
        let ty = &field.ty;
        let outputs: Vec<_> = field.attrs.iter().filter(|a| is_output(a)).collect();
        if let Some(extra) = outputs.get(1) {
            cx.error_spanned_by(
                extra,
                "a field goes to one output; use one field per output",
            );
        }
        match outputs.first() {
            Some(attr) => {
                if let Some((attribute, attribute_type)) = output_attribute(&cx, attr, &[]) {
                    let slot = format_ident!("__slot_{}", name);
                    slot_types.push(quote!(::bindings::__private::OutputSlot<<#attribute_type as ::bindings::__private::OutputAttribute>::Output>));
                    declares.push(quote!(let #slot = __outputs.declare(#attribute);));
                    slots.push(slot.clone());
                    let index = syn::Index::from(slots.len() - 1);
                    sends.push(
                        quote_spanned! {ty.span()=> __sink.send(__plan.#index, self.#name)?; },
                    );
                }
            }
            None => {
                replies.push(quote_spanned! {ty.span()=>
                    ::bindings::__private::ReplyPart::<__T>::into_reply(self.#name, __sink);
                });
                reply_bounds
                    .push(quote_spanned! {ty.span()=> #ty: ::bindings::__private::ReplyPart<__T> });
            }
        }
    }
    if let Err(error) = cx.check() {
        return error.to_compile_error();
    }
    let ident = &input.ident;
    quote! {
        #[allow(clippy::all, clippy::pedantic)]
        const _: () = {
            #[automatically_derived]
            impl<__T: ::bindings::__private::Trigger> ::bindings::__private::FunctionReturn<__T> for #ident
            where
                #ident: ::core::marker::Send,
                #(#reply_bounds,)*
            {
                type Plan = ( #(#slot_types,)* );

                fn plan(__outputs: &mut ::bindings::__private::OutputDeclarations) -> Self::Plan {
                    #(#declares)*
                    ( #(#slots,)* )
                }

                fn complete(
                    self,
                    __plan: &Self::Plan,
                    __sink: &mut ::bindings::__private::ReturnSink<__T>,
                ) -> ::core::result::Result<(), ::bindings::__private::FunctionError> {
                    let _ = &__plan;
                    #(#sends)*
                    #(#replies)*
                    ::core::result::Result::Ok(())
                }
            }
        };
    }
}
