//! The offset a partition may commit: one past the highest offset below which every record read
//! has completed (succeeded or gone to the dead-letter topic), whatever order they completed in.

use std::collections::VecDeque;

/// The records of one partition read and not yet committable, in offset order.
#[derive(Debug, Default)]
pub(crate) struct Offsets {
    pending: VecDeque<(i64, bool)>,
    /// The highest offset tracked so far.
    last: Option<i64>,
}

impl Offsets {
    /// A record read at `offset`. Offsets arrive in increasing order; one that does not (a record
    /// delivered again while its first copy is tracked) is refused: `false`.
    pub(crate) fn track(&mut self, offset: i64) -> bool {
        if self.last.is_some_and(|last| offset <= last) {
            return false;
        }
        self.last = Some(offset);
        self.pending.push_back((offset, false));
        true
    }

    /// The record at `offset` completed. Returns the offset to commit if it moved: one past the
    /// last of the completed records at the front.
    pub(crate) fn complete(&mut self, offset: i64) -> Option<i64> {
        if let Ok(i) = self.pending.binary_search_by_key(&offset, |(o, _)| *o) {
            self.pending[i].1 = true;
        }
        let mut next = None;
        while let Some(&(front, true)) = self.pending.front() {
            self.pending.pop_front();
            next = Some(front + 1);
        }
        next
    }

    /// How many records are read and not committable.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_the_contiguous_completed_prefix() {
        let mut offsets = Offsets::default();
        for o in [10, 11, 12, 14] {
            assert!(offsets.track(o));
        }
        assert!(!offsets.track(12), "delivered again");
        assert_eq!(offsets.complete(11), None, "10 still runs");
        assert_eq!(offsets.complete(14), None);
        assert_eq!(offsets.complete(10), Some(12), "10 and 11 done");
        assert_eq!(offsets.len(), 2);
        assert_eq!(
            offsets.complete(12),
            Some(15),
            "12, then 14 (13 was never read)"
        );
        assert_eq!(offsets.len(), 0);
        assert_eq!(offsets.complete(99), None, "unknown offsets change nothing");
        assert!(!offsets.track(14), "still refused once completed");
        assert!(offsets.track(15));
    }
}
