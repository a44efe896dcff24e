//! "Did you mean …?" for misspelled names. Shared with `bindings-macros` through `#[path]`,
//! so compile-time and start-up checks suggest alike.

/// The candidate closest to `input` (case-insensitive edit distance), if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&input, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_close_name_only() {
        let names = ["batchSize", "maxDequeueCount", "newBatchThreshold"];
        assert_eq!(did_you_mean("batchsize", names), Some("batchSize"));
        assert_eq!(did_you_mean("batchSzie", names), Some("batchSize"));
        assert_eq!(did_you_mean("maxDequeueCont", names), Some("maxDequeueCount"));
        assert_eq!(did_you_mean("colour", names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
