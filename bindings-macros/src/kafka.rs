//! `#[kafka_output(...)]`: every option of the Kafka output, checked at compile time.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{Attribute, Item};

use crate::ctxt::{Ctxt, item_with_errors};
use crate::options::Options;
use bindings_spec::{Acks, AuthenticationMode, Compression, Partitioner, Protocol};

/// The attribute's name.
pub(crate) const ATTRIBUTE: &str = "kafka_output";

const OPTIONS: &[&str] = &[
    "topic",
    "broker_list",
    "key",
    "avro_schema",
    "avro_key_schema",
    "schema_registry_url",
    "schema_registry_username",
    "schema_registry_password",
    "max_message_bytes",
    "batch_size",
    "enable_idempotence",
    "message_timeout_ms",
    "request_timeout_ms",
    "max_retries",
    "linger_ms",
    "compression",
    "acks",
    "partitioner",
    "protocol",
    "authentication_mode",
    "username",
    "password",
    "ssl_ca_location",
    "ssl_certificate_location",
    "ssl_key_location",
    "ssl_key_password",
    "ssl_ca_pem",
    "ssl_certificate_pem",
    "ssl_key_pem",
    "ssl_certificate_and_key_pem",
    "https_ca_location",
    "https_ca_pem",
    "metadata_max_age_ms",
    "socket_keepalive_enable",
    "librdkafka_debug",
];

/// The options of OAUTHBEARER, which this build cannot do: the extension's spellings and the short
/// ones. Each is refused with `AuthenticationMode::unsupported("OAuthBearer")`.
const OAUTH_BEARER: &[&str] = &[
    "oauth_bearer_method",
    "oauth_bearer_client_id",
    "oauth_bearer_client_secret",
    "oauth_bearer_scope",
    "oauth_bearer_token_endpoint_url",
    "oauth_bearer_extensions",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_scope",
    "oauth_token_endpoint_url",
];

/// Plain string options (may hold `%Setting%` references).
const TEXT: &[&str] = &[
    "key",
    "avro_schema",
    "avro_key_schema",
    "schema_registry_url",
    "schema_registry_username",
    "ssl_ca_location",
    "ssl_certificate_location",
    "ssl_key_location",
    "ssl_ca_pem",
    "ssl_certificate_pem",
    "https_ca_location",
    "https_ca_pem",
    "librdkafka_debug",
];

/// Credentials: the name of the app setting that holds each (`Name` or `%Name%`), never a literal.
const SECRETS: &[&str] = &[
    "username",
    "password",
    "ssl_key_password",
    "ssl_key_pem",
    "ssl_certificate_and_key_pem",
    "schema_registry_password",
];

/// The one literal a credential may be: Event Hubs' SASL username.
const EVENT_HUBS_USERNAME: &str = "$ConnectionString";

/// Whole numbers with librdkafka's ranges.
const NUMBERS: &[(&str, u64, u64)] = &[
    ("max_message_bytes", 1_000, 1_000_000_000),
    ("batch_size", 1, 1_000_000),
    ("message_timeout_ms", 0, 2_147_483_647),
    ("request_timeout_ms", 1, 900_000),
    ("max_retries", 0, 2_147_483_647),
    ("linger_ms", 0, 900_000),
    ("metadata_max_age_ms", 1, 86_400_000),
];

const FLAGS: &[&str] = &["enable_idempotence", "socket_keepalive_enable"];

/// An expression building the runtime attribute (`KafkaOutputAttribute`) from `attr`'s options.
pub(crate) fn output_attribute(cx: &Ctxt, attr: &Attribute) -> Option<TokenStream> {
    let args = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let mut options = Options::parse(cx, ATTRIBUTE, OPTIONS, args);
    let topic = options.string("topic");
    let brokers = options.string("broker_list");
    let mut calls = Vec::new();
    for key in TEXT {
        if let Some(text) = options.string(key) {
            let method = format_ident!("{key}");
            let value = text.value;
            calls.push(quote!(.#method(#value)));
        }
    }
    for key in SECRETS {
        let literal = (*key == "username").then_some(EVENT_HUBS_USERNAME);
        if let Some(text) = options.credential(key, literal) {
            let method = format_ident!("{key}");
            let value = text.value;
            calls.push(quote!(.#method(#value)));
        }
    }
    for (key, min, max) in NUMBERS {
        if let Some(n) = options.int(key, *min, *max) {
            let method = format_ident!("{key}");
            let value = u32::try_from(n.value).expect("ranges fit u32");
            calls.push(quote!(.#method(#value)));
        }
    }
    for key in FLAGS {
        if let Some(flag) = options.bool(key) {
            let method = format_ident!("{key}");
            let value = flag.value;
            calls.push(quote!(.#method(#value)));
        }
    }
    /// A choice option; `$unsupported` gives the reason for values refused on purpose.
    macro_rules! choice {
        ($key:literal, $ty:ident) => {
            choice!($key, $ty, |_: &str| -> Option<&'static str> { None })
        };
        ($key:literal, $ty:ident, $unsupported:expr) => {
            if let Some(text) = options.string($key) {
                match ($ty::parse(&text.value), $unsupported(&text.value)) {
                    (Some(value), _) => {
                        let method = format_ident!($key);
                        let variant = format_ident!("{}", format!("{value:?}"));
                        let ty = format_ident!(stringify!($ty));
                        calls.push(quote!(.#method(::bindings::__private::#ty::#variant)));
                    }
                    (None, Some(why)) => cx.error_at(text.span, format_args!("`{}`: {why}", $key)),
                    (None, None) => cx.error_at(
                        text.span,
                        format_args!(
                            "\"{}\" is not a valid `{}`; use one of: {} (any case; `_` and `-` optional)",
                            text.value,
                            $key,
                            $ty::VALID.join(", ")
                        ),
                    ),
                }
            }
        };
    }
    choice!("compression", Compression);
    choice!("acks", Acks);
    choice!("partitioner", Partitioner);
    choice!("protocol", Protocol);
    choice!(
        "authentication_mode",
        AuthenticationMode,
        AuthenticationMode::unsupported
    );
    if let Some(why) = AuthenticationMode::unsupported("OAuthBearer") {
        options.refuse(OAUTH_BEARER, why);
    }
    options.finish();
    let span = attr
        .path()
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span());
    if topic.is_none() {
        cx.error_at(
            span,
            "#[kafka_output] needs `topic = \"...\"` (a name, \"%Setting%\" or \"{bindingData}\")",
        );
    }
    if brokers.is_none() {
        cx.error_at(span, "#[kafka_output] needs `broker_list = \"...\"` (an app setting name, \"%Setting%\" or host:port)");
    }
    let (topic, brokers) = (topic?.value, brokers?.value);
    Some(quote!(::bindings::__private::KafkaOutputAttribute::new(#topic, #brokers) #(#calls)*))
}

/// `#[kafka_output]` expanded on its own: above a function's trigger it moves below it (the trigger
/// takes it); anywhere else it is a mistake.
pub(crate) fn expand_standalone(args: &TokenStream, item: TokenStream) -> TokenStream {
    match syn::parse2::<Item>(item) {
        Ok(Item::Fn(mut function)) => {
            let position = function.attrs.iter().position(|a| {
                a.path()
                    .segments
                    .last()
                    .is_some_and(|s| s.ident.to_string().ends_with("_trigger"))
            });
            let Some(index) = position else {
                return item_with_errors(
                    &function,
                    &syn::Error::new(
                        Span::call_site(),
                        "#[kafka_output] needs a trigger on the same function (#[queue_trigger(...)], \
                         #[http_trigger(...)], #[manual_trigger]); its return value is what is sent",
                    ),
                );
            };
            let trigger = function.attrs.remove(index);
            function.attrs.insert(0, trigger);
            function
                .attrs
                .insert(1, syn::parse_quote!(#[kafka_output(#args)]));
            function.into_token_stream()
        }
        Ok(other) => item_with_errors(
            &other,
            &syn::Error::new(
                Span::call_site(),
                "#[kafka_output] goes on a triggered function",
            ),
        ),
        Err(error) => error.to_compile_error(),
    }
}
