//! Queue name rules: a literal name is checked at compile time by the same code that checks a
//! `%Setting%` name at start-up.

/// The longest queue name the service accepts.
const MAX_LEN: usize = 63;

/// Suffix of poison queues.
pub const POISON_SUFFIX: &str = "-poison";

/// Azure's rule: 3–63 characters; lowercase letters, digits and single dashes; starts and ends with a
/// letter or digit.
pub fn check_queue_name(name: &str) -> Result<(), &'static str> {
    if !(3..=MAX_LEN).contains(&name.len()) {
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

/// The poison queue of `queue`; none for a queue that is itself a poison queue.
pub fn poison_queue_name(queue: &str) -> Option<String> {
    (!queue.ends_with(POISON_SUFFIX)).then(|| format!("{queue}{POISON_SUFFIX}"))
}

/// A trigger's queue name as Azure takes it: lower-cased, then checked, and its poison queue
/// (`<name>-poison`) must be a valid name too. The error quotes `name` as written.
///
/// ```
/// use bindings_spec::trigger_queue_name;
///
/// assert_eq!(trigger_queue_name("MyQueue-Items").unwrap(), "myqueue-items");
/// let long = "q".repeat(60);
/// assert!(trigger_queue_name(&long).unwrap_err().contains("poison queue"));
/// ```
pub fn trigger_queue_name(name: &str) -> Result<String, String> {
    let lower = output_queue_name(name)?;
    let shown = shown(name, &lower);
    if let Some(poison) = poison_queue_name(&lower)
        && poison.len() > MAX_LEN
    {
        return Err(format!(
            "{shown} has {} characters, so its poison queue \"{poison}\" would have {}, over the \
             limit of {MAX_LEN}: use at most {} characters",
            lower.len(),
            poison.len(),
            MAX_LEN - POISON_SUFFIX.len()
        ));
    }
    Ok(lower)
}

/// An output's queue name as Azure takes it: lower-cased, then checked (for a name from binding
/// expressions, once per invocation). The error quotes `name` as written.
///
/// ```
/// use bindings_spec::output_queue_name;
///
/// assert_eq!(output_queue_name("EU-Orders").unwrap(), "eu-orders");
/// assert!(output_queue_name("eu_orders").unwrap_err().contains("\"eu_orders\""));
/// ```
pub fn output_queue_name(name: &str) -> Result<String, String> {
    let lower = name.to_lowercase();
    check_queue_name(&lower).map_err(|why| format!("{} {why}", shown(name, &lower)))?;
    Ok(lower)
}

/// `queue name "X"`, with the lower-cased name when it differs.
fn shown(name: &str, lower: &str) -> String {
    if lower == name {
        format!("queue name \"{name}\"")
    } else {
        format!("queue name \"{name}\" (lower-cased: \"{lower}\")")
    }
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

    #[test]
    fn poison_queues_have_no_poison_queue() {
        assert_eq!(
            poison_queue_name("orders").as_deref(),
            Some("orders-poison")
        );
        assert_eq!(poison_queue_name("orders-poison"), None);
    }

    #[test]
    fn a_trigger_queue_name_is_lower_cased_like_azure_does() {
        assert_eq!(
            trigger_queue_name("MyQueue-Items").unwrap(),
            "myqueue-items"
        );
        assert_eq!(trigger_queue_name("orders").unwrap(), "orders");
        let err = trigger_queue_name("My_Queue").unwrap_err();
        assert_eq!(
            err,
            "queue name \"My_Queue\" (lower-cased: \"my_queue\") may contain only lowercase letters, \
             digits and dashes"
        );
        assert_eq!(
            trigger_queue_name("a--b").unwrap_err(),
            "queue name \"a--b\" must not contain two dashes in a row"
        );
    }

    #[test]
    fn an_output_queue_name_is_lower_cased_and_may_use_63_characters() {
        assert_eq!(output_queue_name("Copies").unwrap(), "copies");
        assert_eq!(output_queue_name(&"q".repeat(63)).unwrap(), "q".repeat(63));
        assert_eq!(
            output_queue_name("eu--orders").unwrap_err(),
            "queue name \"eu--orders\" must not contain two dashes in a row"
        );
    }

    #[test]
    fn a_trigger_queue_s_poison_queue_must_fit_63_characters() {
        let longest = "q".repeat(56);
        assert_eq!(trigger_queue_name(&longest).unwrap(), longest);
        let err = trigger_queue_name(&"q".repeat(57)).unwrap_err();
        assert!(
            err.contains("has 57 characters, so its poison queue")
                && err.contains("would have 64, over the limit of 63: use at most 56 characters"),
            "{err}"
        );
        // A poison queue has no poison queue of its own, so it may use all 63.
        let poison = format!("{}-poison", "q".repeat(56));
        assert_eq!(trigger_queue_name(&poison).unwrap(), poison);
    }
}
