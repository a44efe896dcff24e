//! Binding data: the named values a trigger provides (`QueueTrigger`, `DequeueCount`, a JSON payload's
//! properties, …) that other bindings use in `{name}` expressions.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// Named values from a trigger, with case-insensitive names.
///
/// ```
/// use bindings_core::BindingData;
/// use serde_json::json;
///
/// let mut data = BindingData::new();
/// data.insert("DequeueCount", 2);
/// data.extend_from_json(&json!({ "id": "o-1", "customer": { "region": "eu" } }));
/// assert_eq!(data.get("dequeuecount"), Some(&json!(2)));
/// assert_eq!(data.lookup("Customer.Region"), Some(&json!("eu")));
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct BindingData {
    /// Lower-cased name -> (name as given, value).
    entries: BTreeMap<String, (String, Value)>,
}

impl fmt::Debug for BindingData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values are message content; names are enough to debug a template.
        f.debug_set()
            .entries(self.entries.values().map(|(name, _)| name))
            .finish()
    }
}

impl BindingData {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` (replacing a value of the same name in any case).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        let name = name.into();
        self.entries
            .insert(name.to_ascii_lowercase(), (name, value.into()));
    }

    /// Adds every top-level property of a JSON object (they win over values of the same name).
    /// Anything but an object adds nothing.
    pub fn extend_from_json(&mut self, value: &Value) {
        if let Value::Object(map) = value {
            for (name, value) in map {
                self.insert(name.clone(), value.clone());
            }
        }
    }

    /// The value named `name`, in any case.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries.get(&name.to_ascii_lowercase()).map(|(_, v)| v)
    }

    /// A dotted path: `name`, `name.prop`, `name.prop.inner` (every segment case-insensitive).
    pub fn lookup(&self, path: &str) -> Option<&Value> {
        let mut segments = path.split('.');
        let mut value = self.get(segments.next()?)?;
        for segment in segments {
            value = match value {
                Value::Object(map) => map.get(segment).or_else(|| {
                    map.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(segment))
                        .map(|(_, v)| v)
                })?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// The names, as given, in case-insensitive order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.values().map(|(name, _)| name.as_str())
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
