//! The briefing's charts as PNG images, for mail: item volume by hour (日报) or by day
//! (周报) with the negative share, and volume by topic and by source, each bar split into
//! its negative and other items.
//!
//! Drawn by `plotters` on its bitmap backend, text by `ab_glyph` in an embedded font:
//! `data/fonts/NotoSansSC-GB2312.otf`, a subset of Noto Sans CJK SC (SIL OFL 1.1) holding
//! ASCII, GB2312 and the CJK punctuation (how it was made: `data/fonts/subset.py`). A
//! character outside it is drawn as the font's empty box; nothing fails on it. Pure: the
//! same numbers give the same bytes.

use super::briefing::{Count, Numbers};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// The embedded font (about 1.5 MB).
static FONT: &[u8] = include_bytes!("../../data/fonts/NotoSansSC-GB2312.otf");
/// The family name every text of the charts asks for.
const FAMILY: &str = "sans-serif";

/// Width of every chart, in pixels; the HTML shows them at this size (and narrower on a
/// phone).
pub const WIDTH: u32 = 720;

/// At most this many topics or sources get a bar (the tables list them all).
const MOST_BARS: usize = 10;

const OTHER: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
const NEGATIVE: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const SHARE: RGBColor = RGBColor(0xf2, 0x8e, 0x2b);
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// Which chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// By hour or by day, with the negative share as a line.
    Volume,
    Topics,
    Sources,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Volume => "volume",
            Kind::Topics => "topics",
            Kind::Sources => "sources",
        }
    }
}

/// One drawn chart.
#[derive(Debug, Clone)]
pub struct Chart {
    pub kind: Kind,
    /// What it shows, for the image's `alt` and its caption.
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub png: Vec<u8>,
}

fn register_font() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok())
}

/// The charts of a briefing: none for a period without items (the text says so).
pub fn draw(n: &Numbers) -> Vec<Chart> {
    if n.total.total == 0 || !register_font() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let volume = if n.hourly {
        "按小时信息量与负面占比"
    } else {
        "按日信息量与负面占比"
    };
    let labels: Vec<String> = n
        .by_time
        .iter()
        .map(|c| {
            // `11-23 09时` → `09时`: the day is in the title.
            c.label.rsplit(' ').next().unwrap_or(&c.label).to_string()
        })
        .collect();
    if let Some(c) = draw_volume(volume, &n.by_time, &labels) {
        out.push(c);
    }
    for (kind, title, counts) in [
        (Kind::Topics, "按专题信息量", &n.by_topic),
        (Kind::Sources, "按来源信息量", &n.by_source),
    ] {
        if counts.is_empty() {
            continue;
        }
        let title = if counts.len() > MOST_BARS {
            format!("{title}（前 {MOST_BARS} 个）")
        } else {
            title.to_string()
        };
        if let Some(c) = draw_bars(kind, &title, &counts[..counts.len().min(MOST_BARS)]) {
            out.push(c);
        }
    }
    out
}

/// Chart `kind`, `w`×`h` pixels drawn by `paint` into an RGB buffer, as PNG; None if
/// drawing failed (logged).
fn chart_of(
    kind: Kind,
    title: &str,
    (w, h): (u32, u32),
    paint: impl FnOnce(
        &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>,
) -> Option<Chart> {
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        if let Err(e) = paint(&root).and_then(|_| root.present().map_err(Into::into)) {
            tracing::warn!(chart = kind.name(), error = %e, "briefing chart not drawn");
            return None;
        }
    }
    let mut png = Vec::new();
    let mut enc = png::Encoder::new(&mut png, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    let written = enc.write_header().and_then(|mut wr| {
        wr.write_image_data(&buf)?;
        wr.finish()
    });
    match written {
        Ok(()) => Some(Chart {
            kind,
            title: title.to_string(),
            width: w,
            height: h,
            png,
        }),
        Err(e) => {
            tracing::warn!(chart = kind.name(), error = %e, "briefing chart not encoded");
            None
        }
    }
}

/// A chart on `root`, cleared to white, with `title` atop it.
fn titled<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    title: &str,
) -> Result<ChartBuilder<'a, 'b, BitMapBackend<'b>>, Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(root);
    builder.caption(title, font(17)).margin(12);
    Ok(builder)
}

/// The legend's mark for a series drawn in `color`: a small filled box.
fn swatch(color: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
}

/// Bars of counts, as both charts of counts draw them: `totals` (其他), then over them
/// `negatives` (负面), each series named in the legend by its colour.
fn negative_over_total<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    totals: impl IntoIterator<Item = Rectangle<CT::From>>,
    negatives: impl IntoIterator<Item = Rectangle<CT::From>>,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    chart
        .draw_series(totals)?
        .label("其他")
        .legend(swatch(OTHER));
    chart
        .draw_series(negatives)?
        .label("负面")
        .legend(swatch(NEGATIVE));
    Ok(())
}

/// The legend, at `at`, on a white ground that lets the grid show through.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(font(12))
        .draw()?;
    Ok(())
}

fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&INK)
}

/// At most `max` characters, with `…` when cut.
fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// A round upper bound for an axis of counts up to `max`.
fn ceiling(max: usize) -> u32 {
    let max = max.max(1) as u32;
    let step = match max {
        0..=5 => 1,
        6..=10 => 2,
        11..=50 => 10,
        51..=100 => 20,
        _ => 10u32.pow(max.ilog10()) / 2,
    };
    max.div_ceil(step) * step + step
}

fn draw_volume(title: &str, counts: &[Count], labels: &[String]) -> Option<Chart> {
    let n = counts.len() as u32;
    if n == 0 {
        return None;
    }
    let (w, h) = (WIDTH, 320);
    // A segmented range a..b has a slot for each of a..=b; at least two (a range of one
    // value has no width).
    let slots = n.max(2);
    let top = ceiling(counts.iter().map(|c| c.total).max().unwrap_or(0));
    // Labels at least ~44 px apart.
    let every = ((44 * n) / (WIDTH - 120)).max(1);
    chart_of(Kind::Volume, title, (w, h), |root| {
        let mut chart = titled(root, title)?
            .x_label_area_size(28)
            .y_label_area_size(44)
            .right_y_label_area_size(48)
            .build_cartesian_2d((0..slots - 1).into_segmented(), 0u32..top)?
            .set_secondary_coord(0f64..f64::from(slots), 0f64..100f64);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .y_labels(6)
            .y_desc("条")
            .x_labels(n as usize + 1)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if i % every == 0 => {
                    labels.get(*i as usize).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .label_style(font(12))
            .axis_desc_style(font(12))
            .draw()?;
        chart
            .configure_secondary_axes()
            .axis_style(INK)
            .y_labels(6)
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .y_desc("负面占比")
            .label_style(font(12))
            .axis_desc_style(font(12))
            .draw()?;
        let bar = |i: u32, v: usize, color: RGBColor| {
            let mut r = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0u32),
                    (SegmentValue::Exact(i + 1), v as u32),
                ],
                color.filled(),
            );
            r.set_margin(0, 0, 2, 2);
            r
        };
        negative_over_total(
            &mut chart,
            counts
                .iter()
                .zip(0u32..)
                .filter(|(c, _)| c.total > c.negative)
                .map(|(c, i)| bar(i, c.total, OTHER)),
            counts
                .iter()
                .zip(0u32..)
                .filter(|(c, _)| c.negative > 0)
                .map(|(c, i)| bar(i, c.negative, NEGATIVE)),
        )?;
        // The negative share of each hour or day that has items; a gap where none.
        let points: Vec<Option<(f64, f64)>> = counts
            .iter()
            .zip(0u32..)
            .map(|(c, i)| {
                (c.total > 0).then(|| {
                    (
                        f64::from(i) + 0.5,
                        c.negative as f64 * 100.0 / c.total as f64,
                    )
                })
            })
            .collect();
        let runs: Vec<Vec<(f64, f64)>> = points
            .split(Option::is_none)
            .map(|run| run.iter().flatten().copied().collect::<Vec<_>>())
            .filter(|run| run.len() > 1)
            .collect();
        chart
            .draw_secondary_series(
                runs.into_iter()
                    .map(|run| PathElement::new(run, SHARE.stroke_width(2))),
            )?
            .label("负面占比")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], SHARE.stroke_width(2)));
        chart.draw_secondary_series(
            points
                .iter()
                .flatten()
                .map(|p| Circle::new(*p, 3, SHARE.filled())),
        )?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

fn draw_bars(kind: Kind, title: &str, counts: &[Count]) -> Option<Chart> {
    let n = counts.len() as u32;
    let (w, h) = (WIDTH, 70 + 30 * n.max(1));
    let most = counts.iter().map(|c| c.total).max().unwrap_or(0).max(1);
    // Room on the right of the longest bar for its numbers.
    let right = (most as f64 * 1.45).ceil() as u32 + 1;
    chart_of(kind, title, (w, h), |root| {
        let mut chart = titled(root, title)?
            .x_label_area_size(0)
            .y_label_area_size(170)
            .build_cartesian_2d(0u32..right, (0..n.max(2) - 1).into_segmented())?;
        // The largest at the top.
        let row = |k: usize| n - 1 - k as u32;
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(INK)
            .y_labels(n as usize + 1)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i < n => counts
                    .get((n - 1 - i) as usize)
                    .map(|c| short(&c.label, 11))
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(font(13))
            .draw()?;
        let bar = |y: u32, v: usize, color: RGBColor| {
            let mut r = Rectangle::new(
                [
                    (0u32, SegmentValue::Exact(y)),
                    (v as u32, SegmentValue::Exact(y + 1)),
                ],
                color.filled(),
            );
            r.set_margin(5, 5, 0, 0);
            r
        };
        negative_over_total(
            &mut chart,
            counts
                .iter()
                .enumerate()
                .map(|(k, c)| bar(row(k), c.total, OTHER)),
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.negative > 0)
                .map(|(k, c)| bar(row(k), c.negative, NEGATIVE)),
        )?;
        let anchor = Pos::new(HPos::Left, VPos::Center);
        chart.draw_series(counts.iter().enumerate().map(|(k, c)| {
            Text::new(
                format!(
                    " {} 条，负面 {}（{}）",
                    super::briefing::thousands(c.total),
                    super::briefing::thousands(c.negative),
                    c.share()
                ),
                (c.total as u32, SegmentValue::CenterOf(row(k))),
                font(12).pos(anchor),
            )
        }))?;
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ceilings_are_round_and_above_the_tallest() {
        assert_eq!(ceiling(0), 2);
        assert_eq!(ceiling(3), 4);
        assert_eq!(ceiling(9), 12);
        assert_eq!(ceiling(37), 50);
        assert_eq!(ceiling(87), 120);
        assert_eq!(ceiling(1234), 2000);
        assert_eq!(short("一二三四五", 5), "一二三四五");
        assert_eq!(short("一二三四五六", 5), "一二三四…");
    }

    fn numbers(topic: &str, source: &str, items: usize) -> Numbers {
        use crate::store::ItemTally;
        use chrono::TimeZone;
        use chrono_tz::Asia::Shanghai;
        let from = Shanghai
            .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
            .unwrap()
            .with_timezone(&chrono::Utc);
        let tallies: Vec<ItemTally> = (0..items)
            .map(|k| ItemTally {
                fetched_at: from.timestamp() + 600 * k as i64,
                source_id: "s".into(),
                topics: crate::store::Topics(vec!["t".into()]),
                tone: (k % 3 == 0).then_some(crate::classify::tone::ToneLabel::Negative),
                n: 1,
            })
            .collect();
        let names = |id: &str, name: &str| {
            std::collections::BTreeMap::from([(id.to_string(), name.to_string())])
        };
        super::super::briefing::compute(&super::super::briefing::Input {
            from,
            to: from + chrono::Duration::days(1),
            now: from + chrono::Duration::days(2),
            tz: Shanghai,
            items: &tallies,
            topic_names: &names("t", topic),
            source_names: &names("s", source),
            incidents: &[],
            first_sources: &Default::default(),
            duties: vec![],
            failing: vec![],
            unreadable: vec![],
        })
    }

    fn size(png: &[u8]) -> (u32, u32) {
        let r = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .expect("a PNG");
        (r.info().width, r.info().height)
    }

    #[test]
    fn three_pngs_of_the_stated_size_and_the_same_bytes_each_time() {
        let n = numbers("景区安全", "人民网（留言板）", 40);
        let charts = draw(&n);
        let kinds: Vec<Kind> = charts.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [Kind::Volume, Kind::Topics, Kind::Sources]);
        for c in &charts {
            assert!(c.png.starts_with(b"\x89PNG\r\n\x1a\n"));
            assert_eq!(size(&c.png), (c.width, c.height), "{}", c.title);
            // Text was drawn: far more than the few colours of bars and axes.
            assert!(c.png.len() > 4_000, "{} is {} bytes", c.title, c.png.len());
        }
        assert_eq!(charts[0].title, "按小时信息量与负面占比");
        let again = draw(&n);
        assert!(charts.iter().zip(&again).all(|(a, b)| a.png == b.png));
        // Nothing to count, nothing to draw.
        assert!(draw(&numbers("景区安全", "人民网", 0)).is_empty());
    }

    #[test]
    fn characters_outside_the_font_do_not_fail_the_chart() {
        // 𠀀 (CJK extension B), 堃 and 喆 (not in GB2312), an emoji, Korean, a bidi
        // override, a very long name.
        let odd = "𠀀堃喆😀한국어\u{202e}".repeat(8);
        let charts = draw(&numbers(&odd, &odd, 5));
        assert_eq!(charts.len(), 3);
        for c in &charts {
            assert_eq!(size(&c.png), (c.width, c.height));
        }
        // One hour, one topic, one source: one bar each.
        let mut one = numbers("景区安全", "人民网", 3);
        one.by_time.truncate(1);
        assert_eq!(draw(&one).len(), 3);
    }
}
