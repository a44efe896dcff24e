//! Function keys: which keys open a function, read from app settings, compared in constant time.

use bindings_core::Settings;
use subtle::{Choice, ConstantTimeEq as _};

use crate::Error;

/// Who may call a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthLevel {
    /// Anyone.
    Anonymous,
    /// A function key, a host key, or the master key.
    #[default]
    Function,
    /// The master key only.
    Admin,
}

impl AuthLevel {
    /// The attribute's spellings.
    pub const VALID: &'static [&'static str] = &["anonymous", "function", "admin"];

    /// Parses `anonymous`, `function` or `admin` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "anonymous" => Some(Self::Anonymous),
            "function" => Some(Self::Function),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// The setting holding the master key (admin functions, and every other function).
pub const MASTER_KEY_SETTING: &str = "HttpMasterKey";
/// The setting holding keys that open every function-level function (comma-separated).
pub const HOST_KEYS_SETTING: &str = "HttpHostKeys";
/// The prefix of a function's own keys: `HttpFunctionKeys__<function>` (comma-separated).
pub const FUNCTION_KEYS_PREFIX: &str = "HttpFunctionKeys__";

/// The keys that open one function.
#[derive(Clone, Default)]
pub(crate) struct Keys {
    level: AuthLevel,
    accepted: Vec<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("level", &self.level)
            .field("count", &self.accepted.len())
            .finish()
    }
}

fn split(value: Option<&str>) -> Vec<String> {
    value
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Keys {
    /// The keys for `function` at `level`, or why none can open it.
    pub(crate) fn from_settings(
        settings: &Settings,
        function: &str,
        level: AuthLevel,
    ) -> Result<Self, Error> {
        let master = split(settings.get(MASTER_KEY_SETTING));
        let accepted = match level {
            AuthLevel::Anonymous => Vec::new(),
            AuthLevel::Admin => master,
            AuthLevel::Function => {
                let mut keys = split(settings.get(&format!("{FUNCTION_KEYS_PREFIX}{function}")));
                keys.extend(split(settings.get(HOST_KEYS_SETTING)));
                keys.extend(master);
                keys
            }
        };
        if level != AuthLevel::Anonymous && accepted.is_empty() {
            let settings = match level {
                AuthLevel::Admin => format!("`{MASTER_KEY_SETTING}`"),
                _ => format!(
                    "`{FUNCTION_KEYS_PREFIX}{function}`, `{HOST_KEYS_SETTING}` or `{MASTER_KEY_SETTING}`"
                ),
            };
            return Err(Error::NoKeys {
                function: function.to_owned(),
                level: if level == AuthLevel::Admin {
                    "admin"
                } else {
                    "function"
                },
                settings,
            });
        }
        Ok(Self { level, accepted })
    }

    /// Whether `presented` (from `x-functions-key` or `?code=`) opens the function.
    pub(crate) fn allows(&self, presented: Option<&str>) -> bool {
        if self.level == AuthLevel::Anonymous {
            return true;
        }
        let Some(presented) = presented else {
            return false;
        };
        // Check every key, without stopping early, so timing says nothing about which matched.
        let found = self.accepted.iter().fold(Choice::from(0), |found, key| {
            found | key.as_bytes().ct_eq(presented.as_bytes())
        });
        found.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_documented_settings() {
        let settings = Settings::new()
            .with("HttpFunctionKeys__orders", "fk1, fk2")
            .with(HOST_KEYS_SETTING, "hk")
            .with(MASTER_KEY_SETTING, "mk");
        let function = Keys::from_settings(&settings, "orders", AuthLevel::Function).unwrap();
        for key in ["fk1", "fk2", "hk", "mk"] {
            assert!(function.allows(Some(key)), "{key}");
        }
        assert!(!function.allows(Some("nope")));
        assert!(!function.allows(None));
        let admin = Keys::from_settings(&settings, "orders", AuthLevel::Admin).unwrap();
        assert!(admin.allows(Some("mk")));
        assert!(!admin.allows(Some("fk1")));
        assert!(
            Keys::from_settings(&settings, "x", AuthLevel::Anonymous)
                .unwrap()
                .allows(None)
        );
    }

    #[test]
    fn a_protected_function_without_keys_is_a_start_up_error() {
        let err = Keys::from_settings(&Settings::new(), "orders", AuthLevel::Function)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("HttpFunctionKeys__orders") && err.contains("HttpMasterKey"),
            "{err}"
        );
        let err = Keys::from_settings(&Settings::new(), "orders", AuthLevel::Admin)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`HttpMasterKey`"), "{err}");
    }

    #[test]
    fn comparison_needs_equal_bytes() {
        let keys = Keys {
            level: AuthLevel::Admin,
            accepted: vec!["secret".into(), "other".into()],
        };
        assert!(keys.allows(Some("secret")) && keys.allows(Some("other")));
        for wrong in ["secres", "secret ", "secre", "", "SECRET"] {
            assert!(!keys.allows(Some(wrong)), "{wrong:?}");
        }
        assert!(!keys.allows(None));
        assert!(
            !format!("{keys:?}").contains("secret"),
            "Debug never prints keys"
        );
    }
}
