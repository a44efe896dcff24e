//! What the fuzz targets share: the "never echoes a secret" check.

/// Values shorter than this are not checked: a short value can be part of a message's own text.
pub const MIN_SECRET_LEN: usize = 8;

/// Whether `secret` is echoed: `shown` (what the code printed for an input holding `secret`)
/// contains it, while `shown_redacted` (what it printed for the same input with `secret`
/// replaced) does not — so it came from the input, not from the message's fixed text.
pub fn echoes(secret: &str, shown: &str, shown_redacted: &str) -> bool {
    secret.len() >= MIN_SECRET_LEN && shown.contains(secret) && !shown_redacted.contains(secret)
}

/// `secret` with every ASCII letter and digit replaced by `A`: the same length and punctuation,
/// so the redacted input takes the same path (still base64 or not, still a URL or not).
pub fn redacted(secret: &str) -> String {
    secret
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { 'A' } else { c })
        .collect()
}

/// Asserts that `secret` is not echoed (see [`echoes`]), naming `what` printed it.
pub fn assert_not_echoed(what: &str, secret: &str, shown: &str, shown_redacted: &str) {
    assert!(
        !echoes(secret, shown, shown_redacted),
        "{what} echoes the secret {secret:?}: {shown}"
    );
}
