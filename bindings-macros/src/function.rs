//! The expansion shared by every trigger attribute: check the function's signature, read the
//! options, re-emit the function unchanged, and generate the registration item next to it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::ctxt::{Ctxt, item_with_errors};
use crate::options::Options;

/// A trigger attribute's own part of the expansion.
pub(crate) trait TriggerMacro {
    /// The attribute's name (`queue_trigger`).
    const ATTRIBUTE: &'static str;
    /// Every option it takes, `name` included.
    const OPTIONS: &'static [&'static str];

    /// Attributes on the same function that belong to this trigger (`storage_account`): the
    /// expansion takes them off the function and hands them to [`attribute`](Self::attribute).
    const COMPANIONS: &'static [&'static str] = &[];

    /// Reads the trigger's own options (positional ones too), its companion attributes and what it
    /// needs of the signature, and returns an expression that builds its runtime attribute value (a
    /// `::bindings::__private` type implementing `TriggerAttribute`).
    fn attribute(
        cx: &Ctxt,
        options: &mut Options<'_>,
        companions: &[syn::Attribute],
        signature: &syn::Signature,
    ) -> Option<TokenStream>;

    /// The type of that value.
    fn attribute_type() -> TokenStream;
}

/// Attribute names that are triggers: a function has exactly one.
const TRIGGERS: &[&str] = &[
    "manual_trigger",
    "queue_trigger",
    "http_trigger",
    "kafka_trigger",
];

/// The longest function name, as the Functions host allows.
const MAX_NAME_LEN: usize = 127;

pub(crate) fn expand<T: TriggerMacro>(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function = match syn::parse2::<syn::Item>(item) {
        Ok(syn::Item::Fn(function)) => function,
        Ok(other) => {
            let message = format!(
                "#[{}] goes on a function: `async fn name(...)`",
                T::ATTRIBUTE
            );
            return item_with_errors(
                &other,
                &syn::Error::new(proc_macro2::Span::call_site(), message),
            );
        }
        Err(error) => return error.to_compile_error(),
    };
    let cx = Ctxt::default();
    let mut options = Options::parse(&cx, T::ATTRIBUTE, T::OPTIONS, args);
    let name = options.string("name").filter(|name| check_name(&cx, name));
    let companions = take_attributes(&mut function, T::COMPANIONS);
    let attribute = T::attribute(&cx, &mut options, &companions, &function.sig);
    options.finish();
    let output = function_output(&cx, &mut function, &companions);
    check_other_triggers::<T>(&cx, &function);
    let signature = Signature::read(&cx, &function);
    match (cx.check(), attribute, signature) {
        (Ok(()), Some(attribute), Some(signature)) => {
            let name = name.map_or_else(|| function.sig.ident.to_string(), |n| n.value);
            let registration = registration(
                &function,
                &name,
                &attribute,
                &T::attribute_type(),
                &signature,
                output.as_ref(),
            );
            quote! { #function #registration }
        }
        (Err(error), _, _) => item_with_errors(&function, &error),
        // A part returned nothing without recording why: report it rather than emit broken code.
        _ => item_with_errors(
            &function,
            &syn::Error::new(
                function.sig.ident.span(),
                format!("#[{}] could not be expanded", T::ATTRIBUTE),
            ),
        ),
    }
}

fn check_name(cx: &Ctxt, name: &crate::options::Spanned<String>) -> bool {
    let text = &name.value;
    let valid = text.len() <= MAX_NAME_LEN
        && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        cx.error_at(
            name.span,
            format_args!(
                "\"{text}\" is not a valid function name: use letters, digits, `_` and `-`, starting with a letter, \
                 at most {MAX_NAME_LEN} characters"
            ),
        );
    }
    valid
}

/// The function-level output attribute, if any, as an expression building its runtime value.
/// `companions` are the trigger's (a `#[storage_account]` applies to a queue output too).
fn function_output(
    cx: &Ctxt,
    function: &mut ItemFn,
    companions: &[syn::Attribute],
) -> Option<TokenStream> {
    let outputs = take_attributes(function, crate::outputs::ATTRIBUTES);
    if let Some(extra) = outputs.get(1) {
        cx.error_spanned_by(
            extra,
            "a function's return value goes to one output; to send to several, return a struct with #[derive(Outputs)] whose fields carry the output attributes",
        );
    }
    outputs
        .first()
        .and_then(|attr| crate::outputs::output_attribute(cx, attr, companions))
        .map(|(value, _)| value)
}

/// Removes the attributes whose last path segment is one of `names`, returning them.
fn take_attributes(function: &mut ItemFn, names: &[&str]) -> Vec<syn::Attribute> {
    let (taken, kept) = std::mem::take(&mut function.attrs)
        .into_iter()
        .partition(|attr| {
            attr.path()
                .segments
                .last()
                .is_some_and(|s| names.iter().any(|n| s.ident == n))
        });
    function.attrs = kept;
    taken
}

fn check_other_triggers<T: TriggerMacro>(cx: &Ctxt, function: &ItemFn) {
    for attr in &function.attrs {
        let Some(last) = attr.path().segments.last() else {
            continue;
        };
        let name = last.ident.to_string();
        if TRIGGERS.contains(&name.as_str()) {
            let has = if name == T::ATTRIBUTE {
                format!("#[{name}] twice")
            } else {
                format!("#[{}] and also #[{name}]", T::ATTRIBUTE)
            };
            cx.error_spanned_by(
                attr,
                format_args!(
                    "a function has exactly one trigger, but this one has {has}; remove one of \
                     them (write a second function for the other trigger)"
                ),
            );
        }
    }
}

/// What the generated code needs from the function's signature.
struct Signature {
    params: Vec<Type>,
    output: Type,
}

impl Signature {
    fn read(cx: &Ctxt, function: &ItemFn) -> Option<Self> {
        let sig = &function.sig;
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &sig.generics,
                "trigger functions cannot be generic: the host calls them with concrete types",
            );
        }
        if let Some(unsafety) = &sig.unsafety {
            cx.error_spanned_by(unsafety, "trigger functions cannot be `unsafe`");
        }
        if let Some(variadic) = &sig.variadic {
            cx.error_spanned_by(variadic, "trigger functions cannot be variadic");
        }
        let mut params = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => cx.error_spanned_by(
                    receiver,
                    "trigger functions are free functions, not methods: move it out of the `impl` block",
                ),
                FnArg::Typed(typed) => {
                    if contains_impl_trait(&typed.ty) {
                        cx.error_spanned_by(&typed.ty, "parameters are bound by type: write a concrete type, not `impl Trait`");
                    }
                    params.push((*typed.ty).clone());
                }
            }
        }
        let output = match &sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => {
                if contains_impl_trait(ty) {
                    cx.error_spanned_by(ty, "name the return type: the host converts it by type, so `impl Trait` cannot be used");
                }
                (**ty).clone()
            }
        };
        (!cx.has_errors()).then_some(Self { params, output })
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::visit_type(&mut finder, ty);
    finder.0
}

/// The hidden item next to the function: a type of the same name (types and functions live in
/// different namespaces) implementing `FunctionDef`, so `.function::<name>()` registers it.
fn registration(
    function: &ItemFn,
    name: &str,
    attribute: &TokenStream,
    attribute_type: &TokenStream,
    signature: &Signature,
    output_attribute: Option<&TokenStream>,
) -> TokenStream {
    let ident = &function.sig.ident;
    let vis = &function.vis;
    let args: Vec<_> = (0..signature.params.len())
        .map(|i| format_ident!("__arg{i}"))
        .collect();
    let binds = signature.params.iter().zip(&args).map(|(ty, arg)| {
        quote_spanned! {ty.span()=>
            let #arg = <#ty as ::bindings::__private::FromInvocation<__Trigger>>::from_invocation(&mut __invocation)
                .map_err(::bindings::__private::FunctionError::into_binding_error)?;
        }
    });
    let call = if function.sig.asyncness.is_some() {
        quote!(#ident(#(#args),*).await)
    } else {
        quote!(#ident(#(#args),*))
    };
    let output = &signature.output;
    // With an output attribute the return value is sent there; otherwise the return type itself
    // says what happens (`()`, `Result`, a trigger's reply, a `#[derive(Outputs)]` struct).
    let (declare, plan, finish) = match output_attribute {
        Some(attribute) => (
            quote!(let __output = __builder.outputs().declare(#attribute);),
            quote!(__builder.plan::<()>()),
            quote_spanned! {output.span()=>
                __invocation.send(__output, __value)?;
                __invocation.finish::<()>(&__plan, ())
            },
        ),
        None => (
            TokenStream::new(),
            quote_spanned! {output.span()=> __builder.plan::<#output>() },
            quote_spanned! {output.span()=> __invocation.finish::<#output>(&__plan, __value) },
        ),
    };
    let doc = format!(
        "Registers function `{name}` with a host: `Host::builder().function::<{ident}>()`."
    );
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, missing_debug_implementations, unreachable_pub)]
        #vis struct #ident {}

        #[allow(clippy::all, clippy::pedantic, unused_qualifications)]
        const _: () = {
            #[automatically_derived]
            impl ::bindings::__private::FunctionDef for #ident {
                fn describe() -> ::bindings::__private::Function {
                    type __Trigger = <#attribute_type as ::bindings::__private::TriggerAttribute>::Trigger;
                    let mut __builder = ::bindings::__private::Function::builder(#name, #attribute);
                    #declare
                    let __plan = #plan;
                    __builder.handler(move |mut __invocation: ::bindings::__private::Invocation<__Trigger>| {
                        let __plan = ::core::clone::Clone::clone(&__plan);
                        async move {
                            #(#binds)*
                            let __value = #call;
                            #finish
                        }
                    })
                }
            }
        };
    }
}

/// Whether the function takes a whole batch (a parameter `Vec<item>`, written with any path). Such
/// a function cannot also take one `what`'s payload: a parameter of one of the `singles` types (or
/// another `Vec`) is an error.
pub(crate) fn batch_mode(
    cx: &Ctxt,
    signature: &syn::Signature,
    item: &str,
    singles: &[&str],
    what: &str,
) -> bool {
    let types: Vec<&Type> = signature
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let is_batch = |ty: &Type| is_vec_of(ty, item);
    if !types.iter().any(|ty| is_batch(ty)) {
        return false;
    }
    for ty in types {
        let name = last_segment(ty)
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if singles.contains(&name.as_str()) || (name == "Vec" && !is_batch(ty)) {
            cx.error_spanned_by(
                ty,
                format_args!(
                    "this function takes the whole batch (`Vec<{item}>`), so there is no single {what} to bind \
                     here; read each {what}'s body and metadata from the batch"
                ),
            );
        }
    }
    true
}

/// The last segment of a type's path (`Vec` of `std::vec::Vec<T>`).
pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) => path.path.segments.last(),
        _ => None,
    }
}

/// `Vec<item>`, written with any path.
fn is_vec_of(ty: &Type, item: &str) -> bool {
    let Some(segment) = last_segment(ty).filter(|s| s.ident == "Vec") else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return false;
    };
    matches!(args.args.first(), Some(syn::GenericArgument::Type(inner)) if last_segment(inner).is_some_and(|s| s.ident == item))
}
