//! `{name}` binding expressions: templates in binding options (a Kafka key `"{id}"`, a topic
//! `"{region}-orders"`) filled from the trigger's [`BindingData`] per invocation.

use std::fmt;

use serde_json::Value;

use crate::BindingData;

/// Why a template cannot be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{` without its `}`, or a stray `}`.
    #[error("binding expression \"{template}\" has an unbalanced `{{` or `}}`; write `{{name}}`")]
    Unbalanced {
        /// The template.
        template: String,
    },
    /// `{}`.
    #[error("binding expression \"{template}\" has an empty `{{}}`; write `{{name}}`")]
    Empty {
        /// The template.
        template: String,
    },
    /// A name the trigger did not provide.
    #[error(
        "binding expression \"{template}\": `{name}` is not in the trigger's binding data (it has: {available})"
    )]
    MissingKey {
        /// The missing name or path.
        name: String,
        /// The template.
        template: String,
        /// The names the trigger did provide, joined for display.
        available: String,
    },
    /// A name whose value is null.
    #[error("binding expression \"{template}\": `{name}` is null")]
    Null {
        /// The name or path.
        name: String,
        /// The template.
        template: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Name(String),
}

/// A parsed binding expression.
///
/// Besides the trigger's data, `{rand-guid}` / `{sys.randguid}` give a new UUID and `{DateTime}` /
/// `{sys.utcnow}` the current UTC time (RFC 3339), unless the trigger has a value of that name.
///
/// ```
/// use bindings_core::{BindingData, Template};
///
/// let template = Template::parse("{Region}-orders").unwrap();
/// let mut data = BindingData::new();
/// data.insert("region", "eu");
/// assert_eq!(template.render(&data).unwrap(), "eu-orders");
/// assert!(Template::parse("{id").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Template {
    /// Parses `text`; checks balance, not names (names are known per invocation).
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let unbalanced = || TemplateError::Unbalanced {
            template: text.to_owned(),
        };
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(unbalanced());
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(unbalanced)?;
            let name = after[..close].trim();
            if name.contains('{') {
                return Err(unbalanced());
            }
            if name.is_empty() {
                return Err(TemplateError::Empty {
                    template: text.to_owned(),
                });
            }
            parts.push(Part::Name(name.to_owned()));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self {
            source: text.to_owned(),
            parts,
        })
    }

    /// Whether the template has no `{name}` (its text is the result for every invocation).
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// The names and paths the template uses.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Name(n) => Some(n.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Fills the template from `data`. Strings are inserted as they are; numbers and booleans as JSON
    /// text; objects and arrays as JSON.
    pub fn render(&self, data: &BindingData) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Name(name) => match data.lookup(name) {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(Value::Null) => {
                        return Err(TemplateError::Null {
                            name: name.clone(),
                            template: self.source.clone(),
                        });
                    }
                    Some(other) => out.push_str(&other.to_string()),
                    None => {
                        out.push_str(&builtin(name).ok_or_else(|| TemplateError::MissingKey {
                            name: name.clone(),
                            template: self.source.clone(),
                            available: available(data),
                        })?);
                    }
                },
            }
        }
        Ok(out)
    }
}

fn builtin(name: &str) -> Option<String> {
    match name.to_ascii_lowercase().as_str() {
        "rand-guid" | "sys.randguid" => Some(uuid::Uuid::new_v4().to_string()),
        "datetime" | "sys.utcnow" => time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .ok(),
        _ => None,
    }
}

fn available(data: &BindingData) -> String {
    let names: Vec<&str> = data.names().collect();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> BindingData {
        let mut d = BindingData::new();
        d.insert("Id", "m-1");
        d.insert("DequeueCount", 3);
        d.extend_from_json(
            &json!({ "region": "eu", "order": { "Total": 9.5, "lines": [1, 2] }, "gone": null }),
        );
        d
    }

    #[test]
    fn renders_names_case_insensitively_and_nested_properties() {
        let d = data();
        let render = |t: &str| Template::parse(t).unwrap().render(&d).unwrap();
        assert_eq!(render("{id}"), "m-1");
        assert_eq!(render("{REGION}-orders"), "eu-orders");
        assert_eq!(render("{order.total}"), "9.5");
        assert_eq!(render("try {DequeueCount} of {Id}"), "try 3 of m-1");
        assert_eq!(render("{order.lines}"), "[1,2]");
        assert_eq!(render("static"), "static");
        assert_eq!(render("{ id }"), "m-1");
    }

    #[test]
    fn a_missing_name_is_an_error_naming_it_and_what_exists() {
        let err = Template::parse("{customer}-x")
            .unwrap()
            .render(&data())
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`customer`") && text.contains("\"{customer}-x\""),
            "{text}"
        );
        assert!(
            text.contains("DequeueCount, gone, Id, order, region"),
            "{text}"
        );
        let err = Template::parse("{order.missing}")
            .unwrap()
            .render(&data())
            .unwrap_err();
        assert!(
            matches!(err, TemplateError::MissingKey { ref name, .. } if name == "order.missing")
        );
        let err = Template::parse("{gone}")
            .unwrap()
            .render(&data())
            .unwrap_err();
        assert!(matches!(err, TemplateError::Null { .. }));
        let text = Template::parse("{x}")
            .unwrap()
            .render(&BindingData::new())
            .unwrap_err()
            .to_string();
        assert!(text.contains("(it has: nothing)"), "{text}");
    }

    #[test]
    fn malformed_templates_are_rejected_when_parsed() {
        for bad in ["{id", "id}", "{a{b}}", "x}{y"] {
            assert!(
                matches!(Template::parse(bad), Err(TemplateError::Unbalanced { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            Template::parse("{}"),
            Err(TemplateError::Empty { .. })
        ));
    }

    #[test]
    fn builtins_fill_in_unless_the_trigger_has_the_name() {
        let t = Template::parse("{rand-guid}").unwrap();
        let a = t.render(&BindingData::new()).unwrap();
        let b = t.render(&BindingData::new()).unwrap();
        assert_eq!(a.len(), 36);
        assert_ne!(a, b);
        let now = Template::parse("{DateTime}")
            .unwrap()
            .render(&BindingData::new())
            .unwrap();
        assert!(now.ends_with('Z') && now.contains('T'), "{now}");
        let mut d = BindingData::new();
        d.insert("DateTime", "mine");
        assert_eq!(
            Template::parse("{datetime}").unwrap().render(&d).unwrap(),
            "mine"
        );
    }

    #[test]
    fn reports_static_templates_and_names() {
        assert!(Template::parse("orders").unwrap().is_static());
        let t = Template::parse("{region}-{id}").unwrap();
        assert!(!t.is_static());
        assert_eq!(t.names().collect::<Vec<_>>(), ["region", "id"]);
        assert_eq!(t.to_string(), "{region}-{id}");
    }
}
