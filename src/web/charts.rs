//! Charts as SVG drawn on the server: no script, no library, nothing fetched. Every text
//! in them is escaped here, since the templates insert the SVG as markup.

use chrono::TimeZone;
use chrono_tz::Tz;
use std::fmt::Write;

fn esc(s: &str) -> String {
    html_escape::encode_safe(s).into_owned()
}

const W: f64 = 600.0;
const H: f64 = 220.0;
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 28.0;
/// Room above the tallest column for its value.
const TOP: f64 = 22.0;

/// The start of a chart `height` high, named `title` (its accessible name); the caller
/// draws it and closes it with `</svg>`.
fn open(title: &str, height: f64) -> String {
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {height}\" role=\"img\" aria-label=\"{}\" \
        ><title>{}</title>",
        esc(title),
        esc(title)
    )
}

/// Column chart of `series` stacked per column: `columns` labels, each a list of
/// (value, CSS class) from the bottom up. `title` is the chart's accessible name.
pub fn columns(title: &str, columns: &[(String, Vec<(i64, &'static str)>)]) -> String {
    let max = columns
        .iter()
        .map(|(_, v)| v.iter().map(|(n, _)| *n).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = columns.len().max(1) as f64;
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - BOTTOM - TOP;
    let step = plot_w / n;
    let bar = (step * 0.7).clamp(1.0, 48.0);
    let mut s = open(title, H);
    // Axis and the maximum.
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\"/>\
         <text class=\"tick\" x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{max}</text>\
         <text class=\"tick\" x=\"{tx}\" y=\"{y}\" text-anchor=\"end\">0</text>",
        y = H - BOTTOM,
        x2 = W - 8.0,
        tx = LEFT - 4.0,
        ty = TOP + 5.0,
    );
    // Labels at least ~64 units apart, so that dates do not run into each other.
    let label_every = ((64.0 / step).ceil() as usize).max(1);
    for (k, (label, parts)) in columns.iter().enumerate() {
        let x = LEFT + step * k as f64 + (step - bar) / 2.0;
        let mut base = H - BOTTOM;
        let total: i64 = parts.iter().map(|(v, _)| *v).sum();
        for (v, class) in parts {
            if *v <= 0 {
                continue;
            }
            let h = plot_h * (*v as f64) / (max as f64);
            base -= h;
            let _ = write!(
                s,
                "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{base:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\"><title>{} {v}</title></rect>",
                esc(label)
            );
        }
        if total > 0 && columns.len() <= 31 {
            let _ = write!(
                s,
                "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{total}</text>",
                x + bar / 2.0,
                base - 2.0
            );
        }
        if k % label_every == 0 {
            let _ = write!(
                s,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                H - 6.0,
                esc(label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Items per hour from the clock start to `now` (at most the last 72 hours).
pub fn items_per_hour(clock_start: i64, times: &[i64], now: i64, tz: Tz) -> String {
    let first_hour = clock_start - clock_start.rem_euclid(3600);
    let last = times.iter().copied().max().unwrap_or(now).max(now);
    let hours = ((last - first_hour) / 3600 + 1).clamp(1, 72);
    let start = first_hour.max(last - last.rem_euclid(3600) - (hours - 1) * 3600);
    let mut counts = vec![0i64; hours as usize];
    for t in times {
        let k = (t - start).div_euclid(3600);
        if (0..hours).contains(&k) {
            counts[k as usize] += 1;
        }
    }
    let cols: Vec<(String, Vec<(i64, &'static str)>)> = counts
        .into_iter()
        .enumerate()
        .map(|(k, n)| {
            let at = tz
                .timestamp_opt(start + k as i64 * 3600, 0)
                .single()
                .map(|t| t.format("%H时").to_string())
                .unwrap_or_default();
            (at, vec![(n, "bar")])
        })
        .collect();
    columns("计时起点以来每小时信息数", &cols)
}

/// Horizontal bars: one per (label, count), largest first as given.
pub fn bars(rows: &[(String, i64)]) -> String {
    let rows: Vec<(String, i64, i64)> = rows.iter().map(|(l, n)| (l.clone(), *n, 0)).collect();
    stacked_bars("各来源信息数", &rows)
}

/// Horizontal bars: one per (label, total, of which negative), largest first as given;
/// the negative part red from the left.
pub fn stacked_bars(title: &str, rows: &[(String, i64, i64)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let row_h = 30.0;
    let h = (rows.len().max(1) as f64) * row_h + 8.0;
    let label_w = 190.0;
    let plot_w = W - label_w - 48.0;
    let mut s = open(title, h);
    for (k, (label, n, negative)) in rows.iter().enumerate() {
        let y = 4.0 + k as f64 * row_h;
        let w = plot_w * (*n as f64) / (max as f64);
        let short: String = label.chars().take(12).collect();
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\"><title>{} {n}</title></rect>",
            label_w - 6.0,
            y + 19.0,
            esc(&short),
            row_h - 6.0,
            esc(label),
        );
        if *negative > 0 {
            let nw = plot_w * (*negative as f64) / (max as f64);
            let _ = write!(
                s,
                "<rect class=\"overdue\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{nw:.1}\" height=\"{:.1}\"><title>{} 负面 {negative}</title></rect>",
                row_h - 6.0,
                esc(label),
            );
        }
        let _ = write!(
            s,
            "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{n}</text>",
            label_w + w + 4.0,
            y + 19.0,
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale() {
        let svg = bars(&[("<img src=x>".into(), 4), ("论坛".into(), 2)]);
        assert!(!svg.contains("<img"), "{svg}");
        assert!(svg.contains("&lt;img src=x&gt;"));
        assert!(
            svg.contains("width=\"362.0\"") && svg.contains("width=\"181.0\""),
            "{svg}"
        );
    }

    #[test]
    fn hours_count_items_from_the_clock_start() {
        let t0 = 1_763_946_000; // an hour boundary
        let svg = items_per_hour(
            t0 + 60,
            &[t0 + 100, t0 + 200, t0 + 3700],
            t0 + 7200,
            chrono_tz::Asia::Shanghai,
        );
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains(">2</text>") && svg.contains(">1</text>"));
    }
}
