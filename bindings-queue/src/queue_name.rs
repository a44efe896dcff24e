//! Queue name rules. Shared with `bindings-macros` through `#[path]`, so a literal name is checked at
//! compile time by the same code that checks a `%Setting%` name at start-up.

/// Azure's rule: 3–63 characters; lowercase letters, digits and single dashes; starts and ends with a
/// letter or digit.
pub fn check_queue_name(name: &str) -> Result<(), &'static str> {
    if !(3..=63).contains(&name.len()) {
        return Err("must be 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may contain only lowercase letters, digits and dashes");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must start and end with a letter or digit");
    }
    if name.contains("--") {
        return Err("must not contain two dashes in a row");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_follow_azure_s_rules() {
        for good in ["abc", "orders-in", "q12", &"a".repeat(63)] {
            assert_eq!(check_queue_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("ab", "3 to 63"),
            (&"a".repeat(64) as &str, "3 to 63"),
            ("Orders", "lowercase"),
            ("my_queue", "lowercase"),
            ("-abc", "start and end"),
            ("abc-", "start and end"),
            ("a--b", "two dashes"),
        ] {
            assert!(check_queue_name(bad).unwrap_err().contains(why), "{bad}");
        }
    }
}
