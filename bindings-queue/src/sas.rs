//! Shared access signatures: appending a SAS token to a request URL.

use url::Url;

/// A SAS token as written in a setting, without its optional leading `?` and surrounding spaces.
pub(crate) fn normalize(token: &str) -> &str {
    token.trim().trim_start_matches('?').trim()
}

/// Appends the SAS `token` (leading `?` optional) to `url`'s query, after any query it has.
pub(crate) fn append(url: &mut Url, token: &str) {
    let token = normalize(token);
    if token.is_empty() {
        return;
    }
    let query = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{token}"),
        _ => token.to_owned(),
    };
    url.set_query(Some(&query));
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str =
        "sv=2022-11-02&ss=q&srt=sco&sp=r&se=2030-01-01T00%3A00%3A00Z&sig=a%2Bb%2F%3D";

    #[test]
    fn appends_to_a_url_without_query() {
        let mut url = Url::parse("http://127.0.0.1:10001/devstoreaccount1/q").unwrap();
        append(&mut url, &format!("?{TOKEN}"));
        assert_eq!(url.query(), Some(TOKEN));
        let sig = url.query_pairs().find(|(k, _)| k == "sig").unwrap().1;
        assert_eq!(sig, "a+b/=");
    }

    #[test]
    fn appends_after_an_existing_query() {
        let mut url =
            Url::parse("https://a.queue.core.windows.net/q/messages?numofmessages=2").unwrap();
        append(&mut url, TOKEN);
        assert_eq!(
            url.query(),
            Some(format!("numofmessages=2&{TOKEN}").as_str())
        );
    }

    #[test]
    fn empty_token_changes_nothing() {
        let mut url = Url::parse("https://a.queue.core.windows.net/q").unwrap();
        append(&mut url, " ? ");
        assert_eq!(url.query(), None);
        assert_eq!(normalize(" ?sv=1 "), "sv=1");
    }
}
