//! `#[queue_trigger("queue", ...)]`, `#[queue_output("queue", ...)]` and
//! `#[storage_account("Setting")]`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, Item, LitStr};

use crate::ctxt::{Ctxt, item_with_errors};
use crate::function::{TriggerMacro, last_segment};
use crate::options::{Options, option_names};
use crate::outputs::move_below_trigger;
use bindings_spec::{output_queue_name, queue, trigger_queue_name};

pub(crate) struct QueueTrigger;

/// The option `#[storage_account]` on a module adds to the queue triggers inside it.
const ENCLOSING: &str = "enclosing_storage_account";

/// The trigger's own options, then the tuning options `bindings_spec::queue` declares.
const OWN_OPTIONS: &[&str] = &["name", "connection", ENCLOSING];
const OPTION_NAMES: [&str; OWN_OPTIONS.len() + queue::OPTIONS.len()] =
    option_names(OWN_OPTIONS, queue::OPTIONS);

/// The output's attribute name.
pub(crate) const OUTPUT: &str = "queue_output";

/// The output's own options, then those `bindings_spec::queue` declares for it.
const OUTPUT_OWN_OPTIONS: &[&str] = &["connection", ENCLOSING];
const OUTPUT_OPTION_NAMES: [&str; OUTPUT_OWN_OPTIONS.len() + queue::OUTPUT_OPTIONS.len()] =
    option_names(OUTPUT_OWN_OPTIONS, queue::OUTPUT_OPTIONS);

/// An expression building the runtime attribute (`QueueOutputAttribute`) from `attr`'s options;
/// `companions` are the function's `#[storage_account]` attributes, if it has any.
pub(crate) fn output_attribute(
    cx: &Ctxt,
    attr: &Attribute,
    companions: &[Attribute],
) -> Option<TokenStream> {
    let args = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let mut options = Options::parse(cx, OUTPUT, &OUTPUT_OPTION_NAMES, args);
    let queue = output_queue(cx, &mut options, attr);
    let mut calls = account_calls(cx, &mut options, companions);
    calls.extend(
        queue::OUTPUT_OPTIONS
            .iter()
            .filter_map(|option| options.declared(option)),
    );
    options.finish();
    let queue = queue?;
    Some(quote!(::bindings::__private::QueueOutputAttribute::new(#queue) #(#calls)*))
}

/// The builder calls choosing the storage account, shared by the trigger and the output:
/// `connection`, the function's `#[storage_account]` (`companions`) and the enclosing module's.
fn account_calls(
    cx: &Ctxt,
    options: &mut Options<'_>,
    companions: &[Attribute],
) -> Vec<TokenStream> {
    let mut calls = Vec::new();
    if let Some(connection) = options.string("connection") {
        let value = &connection.value;
        calls.push(quote!(.connection(#value)));
    }
    for attr in companions {
        if let Some(account) = storage_account_argument(cx, attr) {
            calls.push(quote!(.storage_account(#account)));
        }
    }
    if let Some(account) = options.string(ENCLOSING) {
        let value = &account.value;
        calls.push(quote!(.enclosing_storage_account(#value)));
    }
    calls
}

/// The output's positional queue name: a literal without `%Setting%` or `{bindingData}` is checked
/// now; the others at start-up or per invocation.
fn output_queue(cx: &Ctxt, options: &mut Options<'_>, attr: &Attribute) -> Option<String> {
    let mut positional = options.take_positional().into_iter();
    let Some(first) = positional.next() else {
        cx.error_spanned_by(
            attr,
            "#[queue_output] needs the queue's name first: #[queue_output(\"orders\")], \
             #[queue_output(\"%QueueSetting%\")] or #[queue_output(\"{region}-orders\")]",
        );
        return None;
    };
    for extra in positional {
        cx.error_spanned_by(extra, "#[queue_output] takes one positional argument, the queue name; name the others: `key = value`");
    }
    let name = options.expect_string("queue name", &first)?;
    if !name.value.contains(['%', '{', '}'])
        && let Err(problem) = output_queue_name(&name.value)
    {
        cx.error_at(name.span, format_args!("{problem} (Azure's rule)"));
        return None;
    }
    Some(name.value)
}

impl TriggerMacro for QueueTrigger {
    const ATTRIBUTE: &'static str = "queue_trigger";
    const OPTIONS: &'static [&'static str] = &OPTION_NAMES;
    const COMPANIONS: &'static [&'static str] = &["storage_account"];

    fn attribute(
        cx: &Ctxt,
        options: &mut Options<'_>,
        companions: &[Attribute],
        signature: &syn::Signature,
    ) -> Option<TokenStream> {
        let queue = queue_name(cx, options);
        let mut calls = Vec::new();
        if batch_mode(cx, signature) {
            calls.push(quote!(.batch()));
        }
        if binds_json(signature) {
            calls.push(quote!(.json_payload()));
        }
        calls.extend(account_calls(cx, options, companions));
        calls.extend(
            queue::OPTIONS
                .iter()
                .filter_map(|option| options.declared(option)),
        );
        let queue = queue?;
        Some(quote!(::bindings::__private::QueueTriggerAttribute::new(#queue) #(#calls)*))
    }

    fn attribute_type() -> TokenStream {
        quote!(::bindings::__private::QueueTriggerAttribute)
    }
}

/// Whether the function takes the whole received batch (`Vec<QueueMessage>`). Such a function
/// cannot also take a single message's payload.
fn batch_mode(cx: &Ctxt, signature: &syn::Signature) -> bool {
    crate::function::batch_mode(
        cx,
        signature,
        "QueueMessage",
        &["String", "Bytes", "Json", "QueueMessage", "QueueMetadata"],
        "message",
    )
}

/// Whether a parameter is `Json<T>` (written with any path): then a JSON body's properties are
/// binding data, as for Azure's POCO parameters.
fn binds_json(signature: &syn::Signature) -> bool {
    signature.inputs.iter().any(|input| {
        matches!(input, syn::FnArg::Typed(typed) if last_segment(&typed.ty).is_some_and(|s| s.ident == "Json"))
    })
}

/// The positional queue name: a literal checked now, or a `%Setting%` reference checked at start-up.
/// Either is lower-cased at start-up, as Azure does; stable Rust has no way for a macro to emit a
/// note, so an uppercase literal is accepted silently (the runtime logs nothing either, like Azure).
fn queue_name(cx: &Ctxt, options: &mut Options<'_>) -> Option<String> {
    let mut positional = options.take_positional().into_iter();
    let Some(first) = positional.next() else {
        cx.error_at(
            proc_macro2::Span::call_site(),
            "#[queue_trigger] needs the queue's name first: #[queue_trigger(\"orders\")] or #[queue_trigger(\"%QueueSetting%\")]",
        );
        return None;
    };
    for extra in positional {
        cx.error_spanned_by(extra, "#[queue_trigger] takes one positional argument, the queue name; name the others: `key = value`");
    }
    let name = options.expect_string("queue name", &first)?;
    if !name.value.contains('%')
        && let Err(problem) = trigger_queue_name(&name.value)
    {
        cx.error_at(name.span, format_args!("{problem} (Azure's rule)"));
        return None;
    }
    Some(name.value)
}

/// `#[storage_account("Setting")]`'s setting name.
fn storage_account_argument(cx: &Ctxt, attr: &Attribute) -> Option<String> {
    match attr.parse_args::<LitStr>() {
        Ok(lit) if !lit.value().is_empty() => Some(lit.value()),
        _ => {
            cx.error_spanned_by(
                attr,
                "write #[storage_account(\"SettingName\")]: the app setting holding the connection",
            );
            None
        }
    }
}

/// `#[storage_account("X")]` on its own: on a module, it passes `X` to every `#[queue_trigger]` inside
/// (not into nested modules with their own); on a function, it waits for that function's trigger.
pub(crate) fn expand_storage_account(args: TokenStream, item: TokenStream) -> TokenStream {
    let parsed = syn::parse2::<Item>(item);
    let account = match syn::parse2::<LitStr>(args) {
        Ok(lit) if !lit.value().is_empty() => lit,
        _ => {
            let message =
                "write #[storage_account(\"SettingName\")]: the app setting holding the connection";
            return match parsed {
                Ok(item) => error(&item, message),
                Err(e) => e.to_compile_error(),
            };
        }
    };
    match parsed {
        Ok(Item::Mod(mut module)) => {
            if let Some((_, items)) = &mut module.content {
                add_enclosing_account(items, &account);
                module.into_token_stream()
            } else {
                error(
                    &module,
                    "#[storage_account] on a module needs the module's items inline (`mod m { ... }`)",
                )
            }
        }
        Ok(Item::Fn(mut function)) => {
            // Above the trigger: put the trigger first so it runs first and takes this attribute.
            if move_below_trigger(
                &mut function,
                syn::parse_quote!(#[storage_account(#account)]),
            ) {
                function.into_token_stream()
            } else {
                error(
                    &function,
                    "#[storage_account] needs a #[queue_trigger(...)] on the same function",
                )
            }
        }
        Ok(other) => error(
            &other,
            "#[storage_account] goes on a queue-triggered function or on a module of them",
        ),
        Err(error) => error.to_compile_error(),
    }
}

fn error(item: &impl ToTokens, message: &str) -> TokenStream {
    item_with_errors(
        item,
        &syn::Error::new(proc_macro2::Span::call_site(), message),
    )
}

fn add_enclosing_account(items: &mut [Item], account: &LitStr) {
    for item in items {
        match item {
            Item::Fn(function) => add_to_queue_bindings(&mut function.attrs, account),
            Item::Struct(outputs) => {
                for field in &mut outputs.fields {
                    add_to_queue_bindings(&mut field.attrs, account);
                }
            }
            Item::Mod(inner) if !has_storage_account(&inner.attrs) => {
                if let Some((_, items)) = &mut inner.content {
                    add_enclosing_account(items, account);
                }
            }
            _ => {}
        }
    }
}

/// Adds `enclosing_storage_account` to every `#[queue_trigger(...)]` and `#[queue_output(...)]` of
/// `attrs`.
fn add_to_queue_bindings(attrs: &mut [Attribute], account: &LitStr) {
    for attr in attrs {
        let is_queue_binding = attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "queue_trigger" || s.ident == OUTPUT);
        if let (true, syn::Meta::List(list)) = (is_queue_binding, &mut attr.meta) {
            let tokens = &list.tokens;
            list.tokens = quote!(#tokens, enclosing_storage_account = #account);
        }
    }
}

fn has_storage_account(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "storage_account")
    })
}
