//! "Did you mean …?" for misspelled names: the macros and the runtime suggest alike.

/// The candidate closest to `input` (case-insensitive edit distance), if it is close enough to be a likely typo.
///
/// ```
/// use bindings_spec::did_you_mean;
///
/// assert_eq!(did_you_mean("batchSzie", ["batchSize", "maxDequeueCount"]), Some("batchSize"));
/// assert_eq!(did_you_mean("colour", ["batchSize"]), None);
/// ```
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&input, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance over chars, counting a swap of two neighbours as one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_close_name_only() {
        let names = ["batchSize", "maxDequeueCount", "newBatchThreshold"];
        assert_eq!(did_you_mean("batchsize", names), Some("batchSize"));
        assert_eq!(did_you_mean("batchSzie", names), Some("batchSize"));
        assert_eq!(
            did_you_mean("maxDequeueCont", names),
            Some("maxDequeueCount")
        );
        assert_eq!(did_you_mean("colour", names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(did_you_mean("nmae", ["name", "queue"]), Some("name"));
    }
}
