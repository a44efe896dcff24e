//! `#[derive(Outputs)]`: a return type whose fields go to several outputs (and, for fields without
//! an output attribute, to the trigger's reply).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::ctxt::Ctxt;

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
    for field in fields {
        let name = field.ident.as_ref().expect("named fields");
        let ty = &field.ty;
        let outputs: Vec<_> = field
            .attrs
            .iter()
            .filter(|a| {
                a.path()
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == crate::kafka::ATTRIBUTE)
            })
            .collect();
        if let Some(extra) = outputs.get(1) {
            cx.error_spanned_by(
                extra,
                "a field goes to one output; use one field per output",
            );
        }
        match outputs.first() {
            Some(attr) => {
                if let Some(attribute) = crate::kafka::output_attribute(&cx, attr) {
                    let slot = format_ident!("__slot_{}", name);
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
    let slot_types: Vec<TokenStream> = slots
        .iter()
        .map(|_| {
            quote!(::bindings::__private::OutputSlot<<::bindings::__private::KafkaOutputAttribute as ::bindings::__private::OutputAttribute>::Output>)
        })
        .collect();
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
