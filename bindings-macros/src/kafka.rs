//! `#[kafka_output(...)]`: every option of the Kafka output, checked at compile time.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Attribute;

use crate::ctxt::Ctxt;
use crate::options::{Options, option_names};
use bindings_spec::{AuthenticationMode, Kind, OptionSpec, kafka};

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
    let topic = options.string("topic");
    let brokers = kafka::OPTIONS
        .iter()
        .find(|option| option.required())
        .map(|option| (option.rust, options.string(option.rust)));
    let mut declared: Vec<&OptionSpec> = kafka::OPTIONS.iter().filter(|o| !o.required()).collect();
    declared.sort_by_key(|option| reading_order(&option.kind));
    let calls: Vec<TokenStream> = declared
        .into_iter()
        .filter_map(|option| options.declared(option))
        .collect();
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
    let (name, brokers) = brokers.expect("the table declares the brokers");
    if brokers.is_none() {
        cx.error_at(
            span,
            format_args!(
                "#[kafka_output] needs `{name} = \"...\"` (an app setting name, \"%Setting%\" or host:port)"
            ),
        );
    }
    let (topic, brokers) = (topic?.value, brokers?.value);
    Some(quote!(::bindings::__private::KafkaOutputAttribute::new(#topic, #brokers) #(#calls)*))
}
