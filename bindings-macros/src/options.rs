//! Typed parsing of attribute options: `#[attr("positional", key = value, list = ["a", "b"])]`.
//!
//! Each attribute lists its option names; [`Options`] reports duplicates (set-once), unknown names
//! (with "did you mean"), and values of the wrong type, all into the [`Ctxt`].

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitStr, Token};

use bindings_spec::{Kind, OptionSpec, did_you_mean, named_setting, parse_timespan};

use crate::ctxt::Ctxt;

/// An attribute's option names: its own (`name`, …) followed by those of its `bindings_spec` table.
/// `N` is their total; a wrong `N` fails the build.
pub(crate) const fn option_names<const N: usize>(
    own: &[&'static str],
    table: &[OptionSpec],
) -> [&'static str; N] {
    assert!(own.len() + table.len() == N, "N must count every option");
    let mut names = [""; N];
    let mut i = 0;
    while i < own.len() {
        names[i] = own[i];
        i += 1;
    }
    let mut j = 0;
    while j < table.len() {
        names[i + j] = table[j].rust;
        j += 1;
    }
    names
}

/// One argument as written.
enum Arg {
    Positional(Expr),
    Named(Ident, Expr),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::Named(key, input.parse()?))
        } else {
            Ok(Arg::Positional(input.parse()?))
        }
    }
}

/// A value with the span it was written at.
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// The options of one attribute, consumed by typed getters; what is left over is unknown.
pub(crate) struct Options<'a> {
    cx: &'a Ctxt,
    attribute: &'static str,
    known: &'static [&'static str],
    positional: Vec<Expr>,
    named: Vec<(Ident, Expr)>,
}

impl<'a> Options<'a> {
    /// Parses `args`; syntax errors go into `cx` (and leave no options).
    pub(crate) fn parse(
        cx: &'a Ctxt,
        attribute: &'static str,
        known: &'static [&'static str],
        args: TokenStream,
    ) -> Self {
        let mut options = Self {
            cx,
            attribute,
            known,
            positional: Vec::new(),
            named: Vec::new(),
        };
        let parsed = match Punctuated::<Arg, Token![,]>::parse_terminated.parse2(args) {
            Ok(parsed) => parsed,
            Err(error) => {
                cx.syn_error(error);
                return options;
            }
        };
        for arg in parsed {
            match arg {
                Arg::Positional(expr) => options.positional.push(expr),
                Arg::Named(key, value) => {
                    if options.named.iter().any(|(k, _)| *k == key) {
                        cx.error_spanned_by(
                            &key,
                            format_args!("`{key}` is set twice; set each option once"),
                        );
                    } else {
                        options.named.push((key, value));
                    }
                }
            }
        }
        options
    }

    fn take(&mut self, key: &str) -> Option<(Ident, Expr)> {
        debug_assert!(
            self.known.contains(&key),
            "option `{key}` is missing from the known list"
        );
        let index = self.named.iter().position(|(k, _)| k == key)?;
        Some(self.named.remove(index))
    }

    /// The string literal option `key` without taking it (for checks across options); its key's
    /// span.
    pub(crate) fn peek_string(&self, key: &str) -> Option<Spanned<String>> {
        let (ident, value) = self.named.iter().find(|(ident, _)| ident == key)?;
        Some(Spanned {
            value: lit_str(value)?.value(),
            span: ident.span(),
        })
    }

    /// A string literal option.
    pub(crate) fn string(&mut self, key: &str) -> Option<Spanned<String>> {
        let (_, value) = self.take(key)?;
        self.expect_string(key, &value)
    }

    /// A string literal, reporting other values.
    pub(crate) fn expect_string(&self, key: &str, value: &Expr) -> Option<Spanned<String>> {
        match lit_str(value) {
            Some(s) => Some(Spanned {
                value: s.value(),
                span: s.span(),
            }),
            None => {
                self.cx.error_spanned_by(
                    value,
                    format_args!("`{key}` takes a string literal, e.g. {key} = \"...\""),
                );
                None
            }
        }
    }

    /// Reports every option not taken, with a suggestion. Call after all getters.
    pub(crate) fn finish(self) {
        for (key, _) in &self.named {
            let name = key.to_string();
            let message = match did_you_mean(&name, self.known.iter().copied()) {
                Some(near) => format!(
                    "unknown option `{name}` for #[{}]; did you mean `{near}`?",
                    self.attribute
                ),
                None if self.known.is_empty() => {
                    format!("#[{}] takes no options; remove `{name}`", self.attribute)
                }
                None => format!(
                    "unknown option `{name}` for #[{}]; its options are: {}",
                    self.attribute,
                    self.known.join(", ")
                ),
            };
            self.cx.error_spanned_by(key, message);
        }
        for expr in &self.positional {
            self.cx.error_spanned_by(
                expr,
                format_args!("#[{}] takes no positional argument here", self.attribute),
            );
        }
    }
}

/// Getters for positional names, numbers, flags, choices, lists and setting references.
impl Options<'_> {
    /// The positional arguments, in order (the attribute decides how many it takes).
    pub(crate) fn take_positional(&mut self) -> Vec<Expr> {
        std::mem::take(&mut self.positional)
    }

    /// A boolean literal option.
    pub(crate) fn bool(&mut self, key: &str) -> Option<Spanned<bool>> {
        let (_, value) = self.take(key)?;
        if let Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(b), ..
        }) = &value
        {
            return Some(Spanned {
                value: b.value,
                span: b.span(),
            });
        }
        self.cx
            .error_spanned_by(&value, format_args!("`{key}` takes `true` or `false`"));
        None
    }

    /// A string option that must be one of `valid` (compared by `normalize`, which may be identity).
    /// Returns the canonical spelling from `valid`.
    pub(crate) fn choice(
        &mut self,
        key: &str,
        valid: &'static [&'static str],
        normalize: fn(&str) -> String,
    ) -> Option<Spanned<&'static str>> {
        let text = self.string(key)?;
        let wanted = normalize(&text.value);
        if let Some(found) = valid.iter().find(|v| normalize(v) == wanted) {
            return Some(Spanned {
                value: found,
                span: text.span,
            });
        }
        let hint = did_you_mean(&text.value, valid.iter().copied())
            .map_or_else(String::new, |s| format!("; did you mean \"{s}\"?"));
        self.cx.error_at(
            text.span,
            format_args!(
                "\"{}\" is not a valid `{key}`; use one of: {}{hint}",
                text.value,
                quoted(valid)
            ),
        );
        None
    }

    /// A list of string literals: `key = ["a", "b"]` (a single string is a list of one).
    pub(crate) fn strings(&mut self, key: &str) -> Option<Vec<Spanned<String>>> {
        let (_, value) = self.take(key)?;
        let elements: Vec<&Expr> = match &value {
            Expr::Array(array) => array.elems.iter().collect(),
            other => vec![other],
        };
        let strings: Vec<_> = elements
            .into_iter()
            .filter_map(|e| self.expect_string(key, e))
            .collect();
        Some(strings)
    }

    /// Refuses each option named in `keys` that is set, with `why` at its name: options Azure has and
    /// this build cannot do (they are not in the known list, so typos of them get no suggestion).
    pub(crate) fn refuse(&mut self, keys: &[&str], why: &str) {
        let cx = self.cx;
        self.named.retain(|(name, _)| {
            let refused = keys.iter().any(|key| name == key);
            if refused {
                cx.error_spanned_by(name, format_args!("`{name}`: {why}"));
            }
            !refused
        });
    }

    /// A credential: the name of the app setting that holds it, bare (`"ConfluentCloudPassword"`, as
    /// the seed's C# samples write it) or as `"%Name%"`; `literal` is the one value allowed as it is
    /// (Event Hubs' `$ConnectionString` username). Whether the setting exists is checked at start-up;
    /// here, a value that cannot be a setting's name is refused (without echoing it: it may be the
    /// secret itself).
    pub(crate) fn credential(
        &mut self,
        key: &str,
        literal: Option<&str>,
    ) -> Option<Spanned<String>> {
        let text = self.string(key)?;
        if named_setting(&text.value).is_some() || literal == Some(text.value.as_str()) {
            return Some(text);
        }
        let allowed = literal.map_or_else(String::new, |l| format!(", or \"{l}\""));
        self.cx.error_at(
            text.span,
            format_args!(
                "`{key}` must name the app setting that holds it: \"Name\" or \"%Name%\" (ASCII letters, \
                 digits, `_`, `-`, `.`, `:`){allowed}; credentials are never written in code"
            ),
        );
        None
    }
}
/// Options declared in a `bindings_spec` table.
impl Options<'_> {
    /// A table option, checked against its declaration, as the builder call that sets it
    /// (`.batch_size(8u32)`); its value type comes from the declaration's kind.
    pub(crate) fn declared(&mut self, option: &OptionSpec) -> Option<TokenStream> {
        let (value, span) = match option.kind {
            Kind::Count { .. } => {
                let n = self.count(option)?;
                (quote!(#n), n.span())
            }
            Kind::TimeSpan { .. } => {
                let text = self.string(option.rust)?;
                let nanos = self.timespan(option, &text)?;
                (
                    quote!(::core::time::Duration::from_nanos(#nanos)),
                    text.span,
                )
            }
            Kind::Choice {
                rust_type,
                variants,
                ..
            } => {
                let (index, span) = if option.loose_spelling() {
                    self.loose_choice(option)?
                } else {
                    let values = option.choices();
                    let chosen = self.choice(option.rust, values, str::to_ascii_lowercase)?;
                    (option.choice(chosen.value)?, chosen.span)
                };
                let ty = Ident::new(rust_type, span);
                let variant = Ident::new(variants[index], span);
                (quote!(::bindings::__private::#ty::#variant), span)
            }
            Kind::Bool { .. } => {
                let flag = self.bool(option.rust)?;
                let value = flag.value;
                (quote!(#value), flag.span)
            }
            Kind::Text { .. } => {
                let text = self.string(option.rust)?;
                let value = text.value;
                (quote!(#value), text.span)
            }
            Kind::Credential { literal } => {
                let text = self.credential(option.rust, literal)?;
                let value = text.value;
                (quote!(#value), text.span)
            }
            _ => {
                self.cx.error_at(
                    Span::call_site(),
                    format_args!(
                        "`{}`: this macro cannot read its kind of option",
                        option.rust
                    ),
                );
                return None;
            }
        };
        let method = Ident::new(option.rust, span);
        Some(quote!(.#method(#value)))
    }

    /// A choice spelled loosely (any case, `_` and `-` optional), as its value's index; values the
    /// option refuses on purpose are reported with why.
    fn loose_choice(&mut self, option: &OptionSpec) -> Option<(usize, Span)> {
        let key = option.rust;
        let text = self.string(key)?;
        if let Some(why) = option.refused(&text.value) {
            self.cx.error_at(text.span, format_args!("`{key}`: {why}"));
            return None;
        }
        if let Some(index) = option.choice(&text.value) {
            return Some((index, text.span));
        }
        self.cx.error_at(
            text.span,
            format_args!(
                "\"{}\" is not a valid `{key}`; use one of: {} (any case; `_` and `-` optional)",
                text.value,
                option.choices().join(", ")
            ),
        );
        None
    }

    fn count(&mut self, option: &OptionSpec) -> Option<syn::LitInt> {
        let key = option.rust;
        let (_, value) = self.take(key)?;
        let Expr::Lit(syn::ExprLit {
            lit: Lit::Int(lit), ..
        }) = &value
        else {
            self.cx.error_spanned_by(
                &value,
                format_args!("`{key}` takes a whole number, {}", option.allowed()),
            );
            return None;
        };
        let n = lit.base10_parse::<u64>().unwrap_or(u64::MAX);
        match option.check_count(n) {
            Ok(n) => Some(syn::LitInt::new(&format!("{n}u32"), lit.span())),
            Err(refusal) => {
                self.cx
                    .error_spanned_by(&value, format_args!("`{key}` = {n} {refusal}"));
                None
            }
        }
    }

    /// A `TimeSpan` string, as nanoseconds.
    fn timespan(&self, option: &OptionSpec, text: &Spanned<String>) -> Option<u64> {
        let key = option.rust;
        let refused = match parse_timespan(&text.value) {
            Ok(d) => match option.check_duration(d) {
                Ok(d) => match u64::try_from(d.as_nanos()) {
                    Ok(nanos) => return Some(nanos),
                    Err(_) => format!("`{key}` is too long"),
                },
                Err(refusal) => format!("`{key}` = \"{}\" {refusal}", text.value),
            },
            Err(e) => format!("`{key}`: {e}"),
        };
        self.cx.error_at(text.span, refused);
        None
    }
}

fn lit_str(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        _ => None,
    }
}

fn quoted(valid: &[&str]) -> String {
    valid
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    const KNOWN: &[&str] = &[
        "name",
        "batch_size",
        "enabled",
        "protocol",
        "methods",
        "password",
    ];

    #[test]
    fn typed_getters_read_their_values() {
        let cx = Ctxt::default();
        let mut o = Options::parse(
            &cx,
            "test",
            KNOWN,
            quote!(
                "pos",
                name = "x",
                batch_size = 8,
                enabled = true,
                protocol = "SASL_SSL",
                methods = ["get", "post"],
                password = "%Pw%"
            ),
        );
        assert_eq!(o.take_positional().len(), 1);
        assert_eq!(o.string("name").unwrap().value, "x");
        let batch = o.count(&bindings_spec::queue::BATCH_SIZE).unwrap();
        assert_eq!(batch.base10_parse::<u32>().unwrap(), 8);
        assert!(o.bool("enabled").unwrap().value);
        let normalize = |s: &str| s.replace(['_', '-'], "").to_ascii_lowercase();
        assert_eq!(
            o.choice("protocol", &["plaintext", "sasl_ssl"], normalize)
                .unwrap()
                .value,
            "sasl_ssl"
        );
        let methods: Vec<String> = o
            .strings("methods")
            .unwrap()
            .into_iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(methods, ["get", "post"]);
        assert_eq!(o.credential("password", None).unwrap().value, "%Pw%");
        o.finish();
        assert!(errors(cx).is_empty());
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let cx = Ctxt::default();
        let mut o = Options::parse(
            &cx,
            "test",
            KNOWN,
            quote!(
                nmae = "x",
                name = 1,
                name = "twice",
                batch_size = 64,
                enabled = "yes",
                protocol = "tls",
                password = "hunter 2",
                colour = 1
            ),
        );
        assert!(o.string("name").is_none());
        assert!(o.count(&bindings_spec::queue::BATCH_SIZE).is_none());
        assert!(o.bool("enabled").is_none());
        assert!(
            o.choice("protocol", &["plaintext", "ssl"], str::to_owned)
                .is_none()
        );
        assert!(o.credential("password", None).is_none());
        o.finish();
        let errors = errors(cx);
        let expected = [
            "`name` is set twice; set each option once",
            "`name` takes a string literal, e.g. name = \"...\"",
            "`batch_size` = 64 is out of range; use 1 to 32",
            "`enabled` takes `true` or `false`",
            "\"tls\" is not a valid `protocol`; use one of: \"plaintext\", \"ssl\"",
            "`password` must name the app setting that holds it: \"Name\" or \"%Name%\" (ASCII letters, digits, `_`, `-`, `.`, `:`); credentials are never written in code",
            "unknown option `nmae` for #[test]; did you mean `name`?",
            "unknown option `colour` for #[test]; its options are: name, batch_size, enabled, protocol, methods, password",
        ];
        assert_eq!(errors, expected);
    }

    #[test]
    fn syntax_errors_and_positionals_are_reported() {
        let cx = Ctxt::default();
        Options::parse(&cx, "test", KNOWN, quote!(name = )).finish();
        assert_eq!(errors(cx).len(), 1);
        let cx = Ctxt::default();
        Options::parse(&cx, "none", &[], quote!("x", a = 1)).finish();
        assert_eq!(
            errors(cx),
            [
                "#[none] takes no options; remove `a`",
                "#[none] takes no positional argument here"
            ]
        );
    }

    #[test]
    fn credentials_name_a_setting_bare_or_as_a_reference() {
        let cx = Ctxt::default();
        let mut o = Options::parse(
            &cx,
            "test",
            KNOWN,
            quote!(
                name = "ConfluentCloudUserName",
                password = "%ConfluentCloudPassword%"
            ),
        );
        assert_eq!(
            o.credential("name", None).unwrap().value,
            "ConfluentCloudUserName"
        );
        assert_eq!(
            o.credential("password", None).unwrap().value,
            "%ConfluentCloudPassword%"
        );
        o.finish();
        assert!(errors(cx).is_empty());
        let cx = Ctxt::default();
        let mut o = Options::parse(
            &cx,
            "test",
            KNOWN,
            quote!(name = "$ConnectionString", password = "$ConnectionString"),
        );
        assert!(o.credential("name", Some("$ConnectionString")).is_some());
        assert!(o.credential("password", None).is_none());
        o.finish();
        let errors = errors(cx);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!errors[0].contains("$ConnectionString"), "{errors:?}");
    }

    #[test]
    fn a_close_invalid_choice_gets_a_suggestion() {
        let cx = Ctxt::default();
        let mut o = Options::parse(&cx, "test", KNOWN, quote!(protocol = "plaintxt"));
        assert!(
            o.choice("protocol", &["plaintext", "ssl"], str::to_owned)
                .is_none()
        );
        o.finish();
        assert_eq!(
            errors(cx),
            [
                "\"plaintxt\" is not a valid `protocol`; use one of: \"plaintext\", \"ssl\"; did you mean \"plaintext\"?"
            ]
        );
    }
}
