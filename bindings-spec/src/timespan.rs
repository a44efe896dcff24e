//! .NET `TimeSpan` strings, as host.json writes durations.

use std::fmt;
use std::time::Duration;

/// Why a string is not a .NET `TimeSpan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSpanError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for TimeSpanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a TimeSpan ({}); write `hh:mm:ss`, `d.hh:mm:ss` or `hh:mm:ss.fff`, e.g. \"00:00:30\"",
            self.input, self.reason
        )
    }
}

impl std::error::Error for TimeSpanError {}

/// Parses a .NET `TimeSpan` string into a [`Duration`].
///
/// Accepted forms, as `TimeSpan.Parse` reads them: `d` (whole days), `hh:mm`, `hh:mm:ss`, `d.hh:mm:ss`,
/// each with an optional fraction of a second of up to 7 digits (`hh:mm:ss.fffffff`). Hours are 0–23,
/// minutes and seconds 0–59. Negative spans are refused: every duration in host.json is a length of time.
///
/// ```
/// use std::time::Duration;
/// use bindings_spec::parse_timespan;
///
/// assert_eq!(parse_timespan("00:00:02").unwrap(), Duration::from_secs(2));
/// assert_eq!(parse_timespan("1.00:00:00").unwrap(), Duration::from_secs(86_400));
/// assert_eq!(parse_timespan("00:00:00.5").unwrap(), Duration::from_millis(500));
/// assert!(parse_timespan("00:61:00").is_err());
/// ```
pub fn parse_timespan(input: &str) -> Result<Duration, TimeSpanError> {
    let fail = |reason| TimeSpanError {
        input: input.to_owned(),
        reason,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(fail("it is empty"));
    }
    if text.starts_with('-') {
        return Err(fail("negative durations are not allowed"));
    }
    if !text.contains(':') {
        let days =
            parse_number(text, u64::MAX).ok_or_else(|| fail("expected a whole number of days"))?;
        return days
            .checked_mul(86_400)
            .map(Duration::from_secs)
            .ok_or_else(|| fail("too large"));
    }
    let mut parts = text.split(':');
    let first = parts.next().unwrap_or_default();
    let (days, hours) = match first.split_once('.') {
        Some((d, h)) => (
            parse_number(d, u64::MAX).ok_or_else(|| fail("days must be a whole number"))?,
            h,
        ),
        None => (0, first),
    };
    let hours = parse_number(hours, 23).ok_or_else(|| fail("hours must be 0 to 23"))?;
    let minutes = parts
        .next()
        .and_then(|m| parse_number(m, 59))
        .ok_or_else(|| fail("minutes must be 0 to 59"))?;
    let (seconds, nanos) = match parts.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, fraction) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            let seconds = parse_number(whole, 59).ok_or_else(|| fail("seconds must be 0 to 59"))?;
            let nanos = match fraction {
                None => 0,
                Some(f) => {
                    parse_fraction(f).ok_or_else(|| fail("the fraction must be 1 to 7 digits"))?
                }
            };
            (seconds, nanos)
        }
    };
    if parts.next().is_some() {
        return Err(fail("too many `:` parts"));
    }
    let total = days
        .checked_mul(86_400)
        .and_then(|s| s.checked_add(hours * 3_600 + minutes * 60 + seconds))
        .ok_or_else(|| fail("too large"))?;
    Ok(Duration::new(total, nanos))
}

/// Formats a duration the way .NET prints a `TimeSpan` (`[d.]hh:mm:ss[.fffffff]`), for messages.
pub fn format_timespan(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let body = format!(
        "{:02}:{:02}:{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    );
    let body = if days > 0 {
        format!("{days}.{body}")
    } else {
        body
    };
    match duration.subsec_nanos() / 100 {
        0 => body,
        ticks => format!("{body}.{ticks:07}"),
    }
}

fn parse_number(text: &str, max: u64) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n <= max)
}

fn parse_fraction(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 7 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: u32 = text.parse().ok()?;
    Some(digits * 10u32.pow(9 - u32::try_from(text.len()).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_form_dotnet_writes() {
        let cases = [
            ("00:00:02", Duration::from_secs(2)),
            ("00:01:00", Duration::from_secs(60)),
            ("01:00", Duration::from_secs(3_600)),
            ("23:59:59", Duration::from_secs(86_399)),
            ("1.00:00:00", Duration::from_secs(86_400)),
            (
                "2.03:04:05",
                Duration::from_secs(2 * 86_400 + 3 * 3_600 + 4 * 60 + 5),
            ),
            ("00:00:00.500", Duration::from_millis(500)),
            ("00:00:00.1234567", Duration::from_nanos(123_456_700)),
            ("7", Duration::from_secs(7 * 86_400)),
            ("  00:00:10 ", Duration::from_secs(10)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_timespan(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_out_of_range_and_malformed_values() {
        for (text, reason) in [
            ("", "empty"),
            ("-00:00:01", "negative"),
            ("24:00:00", "hours"),
            ("00:60:00", "minutes"),
            ("00:00:60", "seconds"),
            ("00:00:00.12345678", "fraction"),
            ("00:00:00.", "fraction"),
            ("1:2:3:4", "too many"),
            ("abc", "days"),
            ("1.x:00:00", "hours"),
            ("00:00:1e3", "seconds"),
            ("99999999999999999999", "days"),
        ] {
            let err = parse_timespan(text).expect_err(text).to_string();
            assert!(err.contains(reason), "{text}: {err}");
            assert!(err.contains("hh:mm:ss"), "{err}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["00:00:02", "1.02:03:04", "00:00:00.5000000"] {
            assert_eq!(format_timespan(parse_timespan(text).unwrap()), text);
        }
    }
}
