//! Randomized exponential back-off between polls of an empty queue, as the Functions host does it.

use std::time::Duration;

use bindings_spec::queue::MIN_POLLING_INTERVAL;

const RANDOMIZATION: f64 = 0.2;

/// 100 ms, ~200 ms, ~300 ms, ~500 ms, ~900 ms, … doubling (±20 %) up to the maximum; then the maximum.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    max: Duration,
    empty_polls: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Self {
            max: max.max(MIN_POLLING_INTERVAL),
            empty_polls: 0,
            rng: fastrand::Rng::new(),
        }
    }

    /// After a poll that found messages: the next empty poll starts again at the minimum.
    pub(crate) fn reset(&mut self) {
        self.empty_polls = 0;
    }

    /// The wait after an empty (or failed) poll.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let k = self.empty_polls;
        self.empty_polls = self.empty_polls.saturating_add(1);
        if k == 0 {
            return MIN_POLLING_INTERVAL.min(self.max);
        }
        let exponent = i32::try_from(k - 1).unwrap_or(i32::MAX).min(40);
        let growth = 2f64.powi(exponent) * MIN_POLLING_INTERVAL.as_secs_f64();
        let undisturbed = MIN_POLLING_INTERVAL.as_secs_f64() + growth;
        if undisturbed >= self.max.as_secs_f64() {
            return self.max;
        }
        let jitter = 1.0 - RANDOMIZATION + self.rng.f64() * 2.0 * RANDOMIZATION;
        Duration::from_secs_f64(MIN_POLLING_INTERVAL.as_secs_f64() + growth * jitter).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_roughly_doubling_with_jitter_up_to_the_maximum() {
        let mut backoff = Backoff::new(Duration::from_secs(60));
        let delays: Vec<f64> = (0..14)
            .map(|_| backoff.next_delay().as_secs_f64())
            .collect();
        let expected = [
            0.1, 0.2, 0.3, 0.5, 0.9, 1.7, 3.3, 6.5, 12.9, 25.7, 51.3, 60.0, 60.0, 60.0,
        ];
        for (i, (got, want)) in delays.iter().zip(expected).enumerate() {
            let growth = want - 0.1;
            let (low, high) = if want >= 60.0 || i == 0 {
                (want, want)
            } else {
                (0.1 + growth * 0.8, 0.1 + growth * 1.2)
            };
            assert!(
                *got >= low - 1e-9 && *got <= high + 1e-9,
                "delay {i}: {got} not in [{low}, {high}]"
            );
        }
    }

    #[test]
    fn a_poll_that_found_messages_resets_to_the_minimum() {
        let mut backoff = Backoff::new(Duration::from_secs(2));
        for _ in 0..10 {
            backoff.next_delay();
        }
        assert_eq!(backoff.next_delay(), Duration::from_secs(2));
        backoff.reset();
        assert_eq!(backoff.next_delay(), MIN_POLLING_INTERVAL);
    }

    #[test]
    fn the_maximum_is_never_below_the_minimum() {
        let mut backoff = Backoff::new(Duration::from_millis(10));
        assert_eq!(backoff.next_delay(), MIN_POLLING_INTERVAL);
        assert_eq!(backoff.next_delay(), MIN_POLLING_INTERVAL);
    }
}
