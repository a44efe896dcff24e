//! The benchmarks' results (JSON lines from `benches/bindings`) as `BENCHMARKS.md`: medians,
//! spreads, ratios against the baselines and the ones below target.

use std::fmt::Write as _;

use serde_json::Value;

use anyhow::{Error, Result};

/// Where the hand-written notes start in `BENCHMARKS.md`; everything after this line is kept
/// when the file is written again.
pub(crate) const NOTES_MARKER: &str = "<!-- notes: kept as they are by `cargo xtask bench` -->";

/// One measured figure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    pub(crate) group: String,
    pub(crate) scenario: String,
    pub(crate) unit: String,
    /// Whether a larger value is better.
    pub(crate) higher_is_better: bool,
    pub(crate) ours: Vec<f64>,
    pub(crate) baseline: Option<Vec<f64>>,
    /// Lowest acceptable ratio.
    pub(crate) target: Option<f64>,
    pub(crate) note: String,
}

/// Everything one run produced.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Results {
    pub(crate) figures: Vec<Figure>,
    /// Seconds each group took, in run order (`total` last).
    pub(crate) timings: Vec<(String, f64)>,
}

/// Median and range of some samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Summary {
    /// `None` for no samples.
    pub(crate) fn of(samples: &[f64]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let mid = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            f64::midpoint(sorted[mid - 1], sorted[mid])
        } else {
            sorted[mid]
        };
        Some(Self { median, min, max })
    }
}

impl Figure {
    /// Ours against the baseline, by median, oriented so that above 1 is better.
    pub(crate) fn ratio(&self) -> Option<f64> {
        let ours = Summary::of(&self.ours)?.median;
        let baseline = Summary::of(self.baseline.as_deref()?)?.median;
        Some(if self.higher_is_better {
            ours / baseline
        } else {
            baseline / ours
        })
    }

    /// The ratio of each repetition (ours and the baseline were measured in turn).
    pub(crate) fn ratios(&self) -> Vec<f64> {
        let Some(baseline) = &self.baseline else {
            return Vec::new();
        };
        self.ours
            .iter()
            .zip(baseline)
            .map(|(ours, baseline)| {
                if self.higher_is_better {
                    ours / baseline
                } else {
                    baseline / ours
                }
            })
            .collect()
    }

    /// Whether the ratio is below its target.
    pub(crate) fn below_target(&self) -> bool {
        matches!((self.ratio(), self.target), (Some(ratio), Some(target)) if ratio < target)
    }
}

/// Parses the result lines; blank lines are skipped, anything else malformed is an error naming
/// the line.
pub(crate) fn parse(text: &str) -> Result<Results> {
    let mut results = Results::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: &str| {
            Error::msg(format!(
                "benchmark result line {}: {why}: {line}",
                index + 1
            ))
        };
        let value: Value = serde_json::from_str(line).map_err(|err| bad(&err.to_string()))?;
        let text = |key: &str| {
            value[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("no string `{key}`")))
        };
        let numbers = |value: &Value| -> Option<Vec<f64>> {
            value.as_array()?.iter().map(Value::as_f64).collect()
        };
        match value["kind"].as_str() {
            Some("figure") => results.figures.push(Figure {
                group: text("group")?,
                scenario: text("scenario")?,
                unit: text("unit")?,
                higher_is_better: text("better")? == "higher",
                ours: numbers(&value["ours"])
                    .ok_or_else(|| bad("`ours` is not a list of numbers"))?,
                baseline: match &value["baseline"] {
                    Value::Null => None,
                    other => Some(
                        numbers(other).ok_or_else(|| bad("`baseline` is not a list of numbers"))?,
                    ),
                },
                target: value["target"].as_f64(),
                note: text("note")?,
            }),
            Some("timing") => results.timings.push((
                text("group")?,
                value["seconds"]
                    .as_f64()
                    .ok_or_else(|| bad("no number `seconds`"))?,
            )),
            _ => return Err(bad("unknown `kind`")),
        }
    }
    if results.figures.is_empty() {
        return Err(Error::msg("the benchmarks reported no figures"));
    }
    Ok(results)
}

/// The hand-written notes of an existing `BENCHMARKS.md`: the marker line and all after it.
pub(crate) fn kept_notes(text: &str) -> String {
    text.find(NOTES_MARKER)
        .map(|at| text[at..].to_owned())
        .unwrap_or_default()
}

/// What the report says about the run itself.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) machine: String,
    pub(crate) date: String,
    pub(crate) command: String,
    /// The chart's path relative to the report.
    pub(crate) chart: String,
    /// Kept notes (see [`kept_notes`]); empty for a new file.
    pub(crate) notes: String,
}

/// `12 345` for large values, three significant digits for small ones.
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    if value.abs() >= 1000.0 {
        let digits = format!("{:.0}", value.abs());
        let mut grouped = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push('\u{202f}');
            }
            grouped.push(digit);
        }
        let sign = if value < 0.0 { "-" } else { "" };
        format!("{sign}{grouped}")
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// `median unit (min–max, n=5)`, or just the value for a single sample.
fn cell(samples: &[f64], unit: &str) -> String {
    match Summary::of(samples) {
        None => "–".to_owned(),
        Some(summary) if samples.len() == 1 => format!("{} {unit}", number(summary.median)),
        Some(summary) => format!(
            "{} {unit} ({}–{}, n={})",
            number(summary.median),
            number(summary.min),
            number(summary.max),
            samples.len()
        ),
    }
}

/// Group titles, in report order (a group not listed here is reported after them, under its name).
const GROUPS: [(&str, &str); 10] = [
    ("kafka", "Kafka output throughput"),
    ("kafka-trigger", "Kafka trigger throughput"),
    ("queue", "Queue trigger throughput"),
    ("queue-output", "Queue output: queue -> queue forwarding"),
    ("e2e", "End to end: queue -> function -> Kafka"),
    ("idle", "Idle cost"),
    ("footprint", "Footprint"),
    ("scaling", "Scaling"),
    ("fleet", "Fleet: replicas on one queue and one topic"),
    ("telemetry", "What metrics and tracing cost"),
];

/// `BENCHMARKS.md` for `results`.
pub(crate) fn markdown(results: &Results, run: &Run) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Benchmarks\n\n\
         Written by `{}` from its own measurements; do not edit above the notes marker (the notes \
         below it are kept). Every comparison ran in the same process and run, alternating ours and \
         the baseline; values are medians with the min–max spread over the repetitions (n). \
         Ratio = ours / baseline by median (above 1: ours is faster).\n",
        run.command
    );
    let _ = writeln!(md, "| Machine | Date | Command |\n|---|---|---|");
    let _ = writeln!(
        md,
        "| {} | {} | `{}` |\n",
        run.machine, run.date, run.command
    );
    let _ = writeln!(md, "![ours / baseline per comparison]({})\n", run.chart);
    let mut unlisted: Vec<&str> = Vec::new();
    for figure in &results.figures {
        let group = figure.group.as_str();
        if !GROUPS.iter().any(|(g, _)| *g == group) && !unlisted.contains(&group) {
            unlisted.push(group);
        }
    }
    let sections = GROUPS
        .iter()
        .copied()
        .chain(unlisted.iter().map(|group| (*group, *group)));
    for (group, title) in sections {
        let figures: Vec<&Figure> = results
            .figures
            .iter()
            .filter(|f| f.group == group)
            .collect();
        if figures.is_empty() {
            continue;
        }
        let _ = writeln!(md, "## {title}\n");
        let _ = writeln!(
            md,
            "| Scenario | Ours | Baseline | Ratio | Target | Notes |\n|---|---|---|---|---|---|"
        );
        for figure in figures {
            let baseline = figure
                .baseline
                .as_deref()
                .map_or_else(|| "–".to_owned(), |samples| cell(samples, &figure.unit));
            let ratio = figure.ratio().map_or_else(
                || "–".to_owned(),
                |ratio| {
                    let mark = if figure.below_target() { " ⚠" } else { "" };
                    format!("{ratio:.3}{mark}")
                },
            );
            let target = figure
                .target
                .map_or_else(|| "–".to_owned(), |target| format!("≥ {target}"));
            let _ = writeln!(
                md,
                "| {} | {} | {baseline} | {ratio} | {target} | {} |",
                figure.scenario,
                cell(&figure.ours, &figure.unit),
                figure.note
            );
        }
        md.push('\n');
    }
    let below: Vec<&Figure> = results
        .figures
        .iter()
        .filter(|f| f.below_target())
        .collect();
    md.push_str("## Below target\n\n");
    if below.is_empty() {
        md.push_str("Every ratio meets its target.\n\n");
    } else {
        for figure in below {
            let _ = writeln!(
                md,
                "- {}: ratio {:.3}, target ≥ {}",
                figure.scenario,
                figure.ratio().unwrap_or(f64::NAN),
                figure.target.unwrap_or(f64::NAN)
            );
        }
        md.push_str("\nWhere the time goes, and what was tried: see the notes below.\n\n");
    }
    if !results.timings.is_empty() {
        md.push_str("## Time taken\n\n");
        let parts: Vec<String> = results
            .timings
            .iter()
            .map(|(group, seconds)| format!("{group} {seconds:.0}s"))
            .collect();
        let _ = writeln!(
            md,
            "{} (plus the release build and the services' start).\n",
            parts.join(", ")
        );
    }
    if run.notes.is_empty() {
        let _ = writeln!(md, "{NOTES_MARKER}\n\n## Notes\n\n(None yet.)");
    } else {
        md.push_str(&run.notes);
        if !run.notes.ends_with('\n') {
            md.push('\n');
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = r#"
{"kind":"figure","group":"kafka","scenario":"k","unit":"msg/s","better":"higher","ours":[90,100,80],"baseline":[100,100,100],"target":0.95,"note":"n"}
{"kind":"figure","group":"idle","scenario":"i","unit":"req/min","better":"lower","ours":[3.5],"baseline":null,"target":null,"note":"m"}
{"kind":"timing","group":"kafka","seconds":12.5}
"#;

    #[test]
    fn parses_summarises_and_flags_ratios_below_target() {
        let results = parse(LINES).unwrap();
        assert_eq!(results.figures.len(), 2);
        assert_eq!(results.timings, vec![("kafka".to_owned(), 12.5)]);
        let kafka = &results.figures[0];
        assert_eq!(
            Summary::of(&kafka.ours),
            Some(Summary {
                median: 90.0,
                min: 80.0,
                max: 100.0
            })
        );
        assert_eq!(kafka.ratio(), Some(0.9));
        assert!(kafka.below_target());
        assert_eq!(kafka.ratios(), vec![0.9, 1.0, 0.8]);
        assert_eq!(results.figures[1].ratio(), None);
        assert!(!results.figures[1].below_target());
        assert_eq!(Summary::of(&[1.0, 4.0, 2.0, 3.0]).unwrap().median, 2.5);
    }

    #[test]
    fn a_malformed_line_is_named() {
        let err = parse("{\"kind\":\"figure\"}").unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("group"), "{err:#}");
        assert!(parse("").is_err());
    }

    #[test]
    fn the_report_keeps_the_notes_and_lists_what_is_below_target() {
        let results = parse(LINES).unwrap();
        let old = format!("# Benchmarks\nold table\n{NOTES_MARKER}\n\n## Notes\n\nprofiled: x\n");
        let run = Run {
            machine: "cpu (2 cores)".to_owned(),
            date: "2026-01-01 00:00 UTC".to_owned(),
            command: "cargo xtask bench".to_owned(),
            chart: "docs/benchmarks.svg".to_owned(),
            notes: kept_notes(&old),
        };
        let md = markdown(&results, &run);
        assert!(md.contains("| cpu (2 cores) | 2026-01-01 00:00 UTC | `cargo xtask bench` |"));
        assert!(md.contains(
            "| k | 90.0 msg/s (80.0–100, n=3) | 100 msg/s (100–100, n=3) | 0.900 ⚠ | ≥ 0.95 | n |"
        ));
        assert!(md.contains("- k: ratio 0.900, target ≥ 0.95"));
        assert!(md.contains("| i | 3.50 req/min | – | – | – | m |"));
        assert!(md.ends_with("profiled: x\n"));
        assert!(!md.contains("old table"));
    }

    #[test]
    fn numbers_are_grouped_and_rounded() {
        assert_eq!(number(1_234_567.4), "1\u{202f}234\u{202f}567");
        assert_eq!(number(123.4), "123");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(f64::NAN), "–");
    }
}
