//! `#[kafka_output(...)]` and `#[kafka_trigger(...)]`: every option of the Kafka bindings, checked
//! at compile time.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Attribute;

use crate::ctxt::Ctxt;
use crate::function::TriggerMacro;
use crate::options::{Options, option_names};
use bindings_spec::{AuthenticationMode, Kind, OptionSpec, RetryStrategy, kafka};

/// The attribute's name.
pub(crate) const ATTRIBUTE: &str = "kafka_output";

/// The output's own option, then those `bindings_spec::kafka` declares.
const OWN_OPTIONS: &[&str] = &["topic"];
const OPTION_NAMES: [&str; OWN_OPTIONS.len() + kafka::OPTIONS.len()] =
    option_names(OWN_OPTIONS, kafka::OPTIONS);

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

/// The order the options are read (and their mistakes reported) in: by kind, each in table order.
fn reading_order(kind: &Kind) -> u8 {
    match kind {
        Kind::Text { .. } => 0,
        Kind::Credential { .. } => 1,
        Kind::Count { .. } => 2,
        Kind::Bool { .. } => 3,
        _ => 4,
    }
}

/// An expression building the runtime attribute (`KafkaOutputAttribute`) from `attr`'s options.
pub(crate) fn output_attribute(cx: &Ctxt, attr: &Attribute) -> Option<TokenStream> {
    let args = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let mut options = Options::parse(cx, ATTRIBUTE, &OPTION_NAMES, args);
    let span = attr
        .path()
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span());
    let topic = required(
        cx,
        &mut options,
        span,
        ATTRIBUTE,
        "topic",
        "a name, \"%Setting%\" or \"{bindingData}\"",
    );
    let (brokers, calls) = connection_and_calls(cx, &mut options, span, ATTRIBUTE, kafka::OPTIONS);
    options.finish();
    let (topic, brokers) = (topic?, brokers?);
    Some(quote!(::bindings::__private::KafkaOutputAttribute::new(#topic, #brokers) #(#calls)*))
}

/// The string option `name`, which the attribute requires (`what` says what it may be).
fn required(
    cx: &Ctxt,
    options: &mut Options<'_>,
    span: Span,
    attribute: &str,
    name: &str,
    what: &str,
) -> Option<String> {
    let value = options.string(name);
    if value.is_none() {
        cx.error_at(
            span,
            format_args!("#[{attribute}] needs `{name} = \"...\"` ({what})"),
        );
    }
    value.map(|v| v.value)
}

/// The required brokers, and the builder calls of every other option of `table`, read in
/// [`reading_order`]; the OAUTHBEARER options are refused with the reason.
fn connection_and_calls(
    cx: &Ctxt,
    options: &mut Options<'_>,
    span: Span,
    attribute: &str,
    table: &[OptionSpec],
) -> (Option<String>, Vec<TokenStream>) {
    let brokers = table
        .iter()
        .find(|option| option.required())
        .expect("the table declares the brokers");
    let brokers = required(
        cx,
        options,
        span,
        attribute,
        brokers.rust,
        "an app setting name, \"%Setting%\" or host:port",
    );
    let mut declared: Vec<&OptionSpec> = table.iter().filter(|o| !o.required()).collect();
    declared.sort_by_key(|option| reading_order(&option.kind));
    let calls: Vec<TokenStream> = declared
        .into_iter()
        .filter_map(|option| options.declared(option))
        .collect();
    if let Some(why) = AuthenticationMode::unsupported("OAuthBearer") {
        options.refuse(OAUTH_BEARER, why);
    }
    (brokers, calls)
}

/// `#[kafka_trigger(topic = "...", broker_list = "...", consumer_group = "...", ...)]`.
pub(crate) struct KafkaTrigger;

/// The trigger's own options, then those `bindings_spec::kafka` declares for it.
const TRIGGER_OWN: &[&str] = &["name", "topic", "consumer_group"];
const TRIGGER_OPTION_NAMES: [&str; TRIGGER_OWN.len() + kafka::TRIGGER_OPTIONS.len()] =
    option_names(TRIGGER_OWN, kafka::TRIGGER_OPTIONS);

impl TriggerMacro for KafkaTrigger {
    const ATTRIBUTE: &'static str = "kafka_trigger";
    const OPTIONS: &'static [&'static str] = &TRIGGER_OPTION_NAMES;

    fn attribute(
        cx: &Ctxt,
        options: &mut Options<'_>,
        _: &[Attribute],
        signature: &syn::Signature,
    ) -> Option<TokenStream> {
        let span = Span::call_site();
        let topic = required(
            cx,
            options,
            span,
            Self::ATTRIBUTE,
            "topic",
            "a name or \"%Setting%\"",
        );
        let group = required(
            cx,
            options,
            span,
            Self::ATTRIBUTE,
            "consumer_group",
            "the consumer group's name or \"%Setting%\"; Event Hubs' default is \"$Default\"",
        );
        check_retry_options(cx, options);
        check_avro_source(cx, options, signature);
        let (brokers, mut calls) =
            connection_and_calls(cx, options, span, Self::ATTRIBUTE, kafka::TRIGGER_OPTIONS);
        for extra in options.take_positional() {
            cx.error_spanned_by(
                extra,
                "#[kafka_trigger] takes named options only: topic = \"...\", broker_list = \"...\", consumer_group = \"...\"",
            );
        }
        if crate::function::batch_mode(
            cx,
            signature,
            "KafkaRecord",
            &["String", "Bytes", "Json", "KafkaRecord", "Protobuf"],
            "record",
        ) {
            calls.push(quote!(.batch()));
        }
        let (topic, brokers, group) = (topic?, brokers?, group?);
        Some(quote!(
            ::bindings::__private::KafkaTriggerAttribute::new(#topic, #brokers, #group) #(#calls)*
        ))
    }

    fn attribute_type() -> TokenStream {
        quote!(::bindings::__private::KafkaTriggerAttribute)
    }
}

/// An `Avro<T>` parameter needs a schema to decode with: `avro_schema` or a schema registry.
fn check_avro_source(cx: &Ctxt, options: &Options<'_>, signature: &syn::Signature) {
    let has_source = options.peek_string("avro_schema").is_some()
        || options.peek_string("schema_registry_url").is_some();
    for input in &signature.inputs {
        if let syn::FnArg::Typed(typed) = input
            && crate::function::last_segment(&typed.ty).is_some_and(|s| s.ident == "Avro")
            && !has_source
        {
            cx.error_spanned_by(
                &typed.ty,
                "an `Avro<T>` parameter needs the writer's schema: set `avro_schema = \"...\"` (JSON or \
                 \"%Setting%\") or `schema_registry_url` on #[kafka_trigger]",
            );
        }
    }
}

/// The interval options of one retry strategy used with the other.
fn check_retry_options(cx: &Ctxt, options: &Options<'_>) {
    let exponential = options
        .peek_string("retry_strategy")
        .and_then(|s| RetryStrategy::parse(&s.value))
        == Some(RetryStrategy::ExponentialBackoff);
    let (misplaced, strategy): (&[&str], &str) = if exponential {
        (&["delay_interval"], "exponential_backoff")
    } else {
        (
            &["minimum_interval", "maximum_interval"],
            "fixed_delay (the default)",
        )
    };
    for name in misplaced {
        if let Some(set) = options.peek_string(name) {
            cx.error_at(
                set.span,
                format_args!(
                    "`{name}` does not apply to retry_strategy = {strategy}; remove it, or set the \
                     other strategy"
                ),
            );
        }
    }
}
