//! Adds up the results of every test binary `cargo test` ran, for one closing line.

/// Passed / failed / ignored counts over all test binaries.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Tally {
    /// Counts a line of test output: libtest's `test result: ok. 3 passed; 0 failed; 1 ignored; …`
    /// and a custom harness's plain `name: 3 passed, 0 failed`.
    pub(crate) fn observe(&mut self, line: &str) {
        let line = line.trim();
        let counts = match line.strip_prefix("test result: ") {
            Some(rest) => rest.split_once(". ").map(|(_, counts)| counts),
            None => line.split_once(": ").map(|(_, counts)| counts),
        };
        let Some(counts) = counts else { return };
        let mut seen = Tally::default();
        let mut fields = 0;
        for part in counts.split([';', ',']) {
            let mut words = part.split_whitespace();
            let (Some(number), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => seen.passed = number,
                "failed" => seen.failed = number,
                "ignored" => seen.ignored = number,
                _ => continue,
            }
            fields += 1;
        }
        // Both "passed" and "failed" must be there: other lines with numbers are not results.
        if fields >= 2 {
            self.passed += seen.passed;
            self.failed += seen.failed;
            self.ignored += seen.ignored;
        }
    }

    /// `tests: N passed, M failed` (and the ignored count when there are any).
    pub(crate) fn summary(&self) -> String {
        let mut line = format!("tests: {} passed, {} failed", self.passed, self.failed);
        if self.ignored > 0 {
            line.push_str(&format!(" ({} ignored)", self.ignored));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_libtest_and_plain_result_lines() {
        let mut tally = Tally::default();
        for line in [
            "test result: ok. 48 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s",
            "sigterm: 1 passed, 0 failed",
            "test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1s",
            "running 9 tests",
            "services up: 2.1s",
            "test foo ... ok",
        ] {
            tally.observe(line);
        }
        assert_eq!(
            tally,
            Tally {
                passed: 52,
                failed: 2,
                ignored: 1
            }
        );
        assert_eq!(tally.summary(), "tests: 52 passed, 2 failed (1 ignored)");
        assert_eq!(Tally::default().summary(), "tests: 0 passed, 0 failed");
    }
}
