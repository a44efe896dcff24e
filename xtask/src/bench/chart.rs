//! `docs/benchmarks.svg`: one bar per side-by-side comparison, ours / baseline by median, with the
//! repetitions' range as a whisker, the target as a tick and 1.0 as a line. Plain SVG, written by
//! hand (no plotting dependency).

use std::fmt::Write as _;

use crate::bench::report::{Figure, Results, Summary};

const WIDTH: f64 = 980.0;
const LABEL_WIDTH: f64 = 520.0;
const ROW: f64 = 24.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 40.0;
const RIGHT: f64 = 30.0;
const MET: &str = "#3a7d44";
const MISSED: &str = "#d0782a";

/// The chart of every figure with a baseline.
pub(crate) fn svg(results: &Results) -> String {
    let figures: Vec<&Figure> = results
        .figures
        .iter()
        .filter(|figure| figure.ratio().is_some())
        .collect();
    let highest = figures
        .iter()
        .flat_map(|figure| figure.ratios().into_iter().chain(figure.ratio()))
        .fold(1.2_f64, f64::max);
    let scale_max = (highest * 5.0).ceil() / 5.0;
    let plot = WIDTH - LABEL_WIDTH - RIGHT;
    let x = |ratio: f64| LABEL_WIDTH + plot * (ratio / scale_max).clamp(0.0, 1.0);
    #[allow(clippy::cast_precision_loss)]
    let height = TOP + BOTTOM + ROW * figures.len() as f64;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="20" font-size="15" font-weight="bold">bindings / hand-written baseline (median; whisker: min–max of the repetitions; tick: target)</text>"#
    );
    // Grid and axis labels every 0.2.
    let mut tick = 0.0;
    while tick <= scale_max + 1e-9 {
        let at = x(tick);
        let colour = if (tick - 1.0).abs() < 1e-9 {
            "#444"
        } else {
            "#ddd"
        };
        let _ = writeln!(
            svg,
            r#"<line x1="{at:.1}" y1="{TOP}" x2="{at:.1}" y2="{:.1}" stroke="{colour}"/>"#,
            height - BOTTOM
        );
        let _ = writeln!(
            svg,
            r#"<text x="{at:.1}" y="{:.1}" text-anchor="middle">{tick:.1}</text>"#,
            height - BOTTOM + 16.0
        );
        tick += 0.2;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">ours / baseline</text>"#,
        LABEL_WIDTH + plot / 2.0,
        height - 6.0
    );
    for (index, figure) in figures.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let top = TOP + ROW * index as f64;
        let middle = top + ROW / 2.0;
        let ratio = figure.ratio().unwrap_or(0.0);
        let colour = if figure.below_target() { MISSED } else { MET };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL_WIDTH - 8.0,
            middle + 4.0,
            escape(&short_label(&figure.scenario))
        );
        let _ = writeln!(
            svg,
            r#"<rect x="{LABEL_WIDTH}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#,
            top + 4.0,
            x(ratio) - LABEL_WIDTH,
            ROW - 8.0
        );
        if let Some(spread) = Summary::of(&figure.ratios()) {
            let _ = writeln!(
                svg,
                r#"<line x1="{:.1}" y1="{middle:.1}" x2="{:.1}" y2="{middle:.1}" stroke="black"/>"#,
                x(spread.min),
                x(spread.max)
            );
        }
        if let Some(target) = figure.target {
            let _ = writeln!(
                svg,
                r##"<line x1="{at:.1}" y1="{:.1}" x2="{at:.1}" y2="{:.1}" stroke="#c00" stroke-width="2"/>"##,
                top + 1.0,
                top + ROW - 1.0,
                at = x(target)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="11">{ratio:.2}</text>"#,
            (x(ratio) + 4.0).min(WIDTH - RIGHT),
            middle + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The scenario without its group's prefix (`Kafka output throughput: `).
fn short_label(scenario: &str) -> String {
    scenario
        .split_once(": ")
        .map_or(scenario, |(_, rest)| rest)
        .to_owned()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::parse;

    #[test]
    fn draws_one_bar_per_comparison() {
        let results = parse(
            r#"{"kind":"figure","group":"kafka","scenario":"Kafka output throughput: mock, 1 msg <x>","unit":"msg/s","better":"higher","ours":[80,90],"baseline":[100,100],"target":0.95,"note":""}
{"kind":"figure","group":"idle","scenario":"idle","unit":"req/min","better":"lower","ours":[3],"baseline":null,"target":null,"note":""}"#,
        )
        .unwrap();
        let svg = svg(&results);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches(&format!(r#"fill="{MISSED}""#)).count(), 1);
        assert!(svg.contains("mock, 1 msg &lt;x&gt;"));
        assert!(!svg.contains(">idle<"));
    }
}
