//! The article's byline: when it was published, by whom, from which source.
//!
//! Chinese news and government pages say it in one of three places, read in this order:
//! 1. `meta` tags: `article:published_time` (Open Graph), `PubDate`/`ContentSource`/`Author`
//!    (the TRS and Hanweb CMSes of government sites), `publishdate`, `ptime`, `DC.date`…;
//! 2. JSON-LD (`datePublished`, `author`);
//! 3. the visible line under the headline: `发布时间：2019-09-26 10:56　来源：某某局　作者：张三`,
//!    or a bare `2019-09-07 13:43:45　来源: 中国经营报`, or `2019年9月26日 15:10`.
//!
//! A labelled date (`发布时间：`) anywhere wins over an unlabelled one, which is taken only
//! below the headline and only with a time of day (a bare date in a sidebar is too often
//! another article's). A date read with doubt is no date: the caller then shows none.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dom_query::Document;
use regex::Regex;

use crate::fetch::feed::date;
use crate::fetch::page::collapse;

/// What the page says about itself besides its body.
#[derive(Debug, Clone, Default)]
pub(super) struct Found {
    pub published: Option<DateTime<Utc>>,
    pub byline: Option<String>,
    pub site: Option<String>,
    /// The page's visible text, one block a line (scripts and styles left out).
    lines: Vec<String>,
}

/// `meta` names and properties that hold the publication time, lower case, best first.
const DATE_META: [&str; 20] = [
    // Sina's and others' Weibo card: the time the page shows, where `article:published_time`
    // can be a later re-publication.
    "weibo:article:create_at",
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "article:published",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "publishtime",
    "publish_time",
    "firstpublishedtime",
    "ptime",
    "datepublished",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "og:release_date",
    "date",
];

/// Where the text comes from.
const SOURCE_META: [&str; 4] = ["contentsource", "source", "og:site_name", "sitename"];
const AUTHOR_META: [&str; 2] = ["article:author", "author"];

/// `2019-09-26`, `2019/9/26`, `2019.09.26`, `2019年9月26日`, with an optional time.
const DATE: &str = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}\s*[:：时点]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2}\s*秒?)?(?:\s*分)?)?";

/// `发布时间：2019-09-26 10:56`: the labels of the publication time, strongest first.
static LABELLED: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    let strong =
        format!(r"(?:发布|发表|发稿|发文|上传|刊发|首发)(?:时间|日期)\s*[:：]?\s*({DATE})");
    let weak = format!(r"(?:时间|日期|更新于|发布于)\s*[:：]?\s*({DATE})");
    [
        Regex::new(&strong).expect("strong date label"),
        Regex::new(&weak).expect("weak date label"),
    ]
});

/// A date with a time of day, unlabelled.
static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}\s*[:：时点]\s*\d{2}(?:\s*[:：分]\s*\d{2})?")
        .expect("unlabelled date and time")
});

/// `来源：新华网`, `作者：张三`: the value runs to a space or the next label.
static SOURCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:来源|来自|稿源|信息来源|文章来源)\s*[:：]\s*([^\s|｜:：]{1,40})")
        .expect("source label")
});
static AUTHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:作者|撰稿|撰文)\s*[:：]\s*([^\s|｜:：]{1,40})").expect("author label")
});

/// Labels that can follow a value without a space (`来源：新华网作者：张三`).
const NEXT_LABELS: [&str; 12] = [
    "作者",
    "来源",
    "发布",
    "时间",
    "日期",
    "编辑",
    "责任编辑",
    "浏览",
    "点击",
    "字号",
    "阅读",
    "分享",
];

impl Found {
    /// Reads the meta tags, JSON-LD and visible lines of `document`, which is left as it
    /// was except that its scripts and styles are removed (readability removes them too).
    pub fn read(document: &Document, headline: &str, now: DateTime<Utc>, tz: Tz) -> Found {
        let zone = Some((now, tz));
        let meta = Meta::read(document);
        let ld = json_ld(document);
        document
            .select("script, style, noscript, template")
            .remove();
        let lines: Vec<String> = document
            .select("body")
            .iter()
            .next()
            .map(|b| b.formatted_text().to_string())
            .unwrap_or_default()
            .lines()
            .map(collapse)
            .filter(|l| !l.is_empty())
            .collect();

        let from_meta = DATE_META
            .iter()
            .filter_map(|name| meta.get(name))
            .find_map(|v| date::parse(v, zone).map(|t| (t, v.contains(':'))));
        let from_ld = ld
            .date
            .as_deref()
            .and_then(|d| date::parse(d, zone).map(|t| (t, d.contains(':'))));
        let (visible, visible_day) = visible_date(&lines, headline, now, tz);
        let day_of = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
        let published = match from_meta.or(from_ld) {
            Some((t, true)) => Some(t),
            // A day without its time (`publishdate` = `2019-06-15`): the page's own line of
            // the same day gives the time (`2019年06月15日08:18`).
            Some((day, false)) => {
                Some(visible.filter(|v| day_of(*v) == day_of(day)).unwrap_or(day))
            }
            // Baidu's `pubDate` is the last update on some sites (`最后更新`): below what the
            // page shows, above a bare day.
            None => visible
                .or_else(|| ld.baidu_date.as_deref().and_then(|d| date::parse(d, zone)))
                .or(visible_day),
        };

        let site = first_value(&lines, &SOURCE)
            .or_else(|| SOURCE_META.iter().find_map(|n| meta.get(n)).map(collapse));
        let byline = first_value(&lines, &AUTHOR)
            .or(ld.author)
            .or_else(|| AUTHOR_META.iter().find_map(|n| meta.get(n)).map(collapse))
            .filter(|a| plausible_byline(a));
        Found {
            published,
            byline,
            site: site.filter(|s| !s.is_empty()),
            lines,
        }
    }

    /// The page's whole visible text, when readability found no article in it.
    pub fn visible_body(&self) -> String {
        self.lines.join("\n")
    }
}

/// The publication time shown on the page: a labelled one anywhere, else the first date
/// with a time of day on or below the headline's line; and apart, a day alone at the start
/// of one of the four lines under the headline (`2019年09月11日 · 作者`).
fn visible_date(
    lines: &[String],
    headline: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let zone = Some((now, tz));
    for label in LABELLED.iter() {
        let found = lines
            .iter()
            .filter_map(|l| label.captures(l))
            .find_map(|c| date::parse(&c[1], zone));
        if found.is_some() {
            return (found, None);
        }
    }
    let headline_at = match headline.is_empty() {
        true => None,
        false => lines.iter().position(|l| l.contains(headline)),
    };
    let below = &lines[headline_at.unwrap_or(0)..];
    let with_time = below
        .iter()
        .filter_map(|l| DATE_TIME.find(l))
        .find_map(|m| date::parse(m.as_str(), zone));
    let day = match headline_at {
        None => None,
        Some(_) => below
            .iter()
            .take(4)
            .filter_map(|l| DAY.find(l))
            .find_map(|m| date::parse(m.as_str(), zone)),
    };
    (with_time, day)
}

/// A date without a time, at the start of a line.
static DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?").expect("a day")
});

/// Whether an author's name looks like one: templates leave placeholders (`name,
/// email@gmail.com`) and lists in `author`, and a CMS its user number (`104363`).
pub(super) fn plausible_byline(a: &str) -> bool {
    !a.is_empty()
        && a.chars().count() <= 30
        && !a.contains(['@', ','])
        && !a.chars().all(|c| c.is_ascii_digit())
}

/// The first value of a `来源：`/`作者：` line, cut at a label that follows it unspaced.
fn first_value(lines: &[String], label: &Regex) -> Option<String> {
    lines.iter().find_map(|l| {
        let value = label.captures(l)?.get(1)?.as_str();
        let cut = NEXT_LABELS
            .iter()
            .filter_map(|n| value.find(n))
            .min()
            .unwrap_or(value.len());
        let value =
            value[..cut].trim_matches(|c: char| c.is_whitespace() || "，,。;；".contains(c));
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// The `meta` tags by lower-cased `name`, `property` or `itemprop`, first value kept.
struct Meta(Vec<(String, String)>);

impl Meta {
    fn read(document: &Document) -> Meta {
        let mut pairs = Vec::new();
        for m in document.select("meta").iter() {
            let Some(content) = m.attr("content") else {
                continue;
            };
            for key in ["name", "property", "itemprop", "http-equiv"] {
                if let Some(name) = m.attr(key) {
                    // `weibo: article:create_at` is written with a space.
                    let name: String = name.split_whitespace().collect();
                    pairs.push((name.to_ascii_lowercase(), content.trim().to_string()));
                }
            }
        }
        for t in document
            .select("time[datetime][itemprop='datePublished'], time[pubdate][datetime]")
            .iter()
        {
            if let Some(at) = t.attr("datetime") {
                pairs.push(("datepublished".into(), at.trim().to_string()));
            }
        }
        Meta(pairs)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// What JSON-LD says of the article.
#[derive(Default)]
struct LinkedData {
    date: Option<String>,
    /// `pubDate` of Baidu's JSON-LD (熊掌号), found on many Chinese sites.
    baidu_date: Option<String>,
    author: Option<String>,
}

fn json_ld(document: &Document) -> LinkedData {
    let mut out = LinkedData::default();
    for script in document.select("script[type='application/ld+json']").iter() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(script.text().trim()) else {
            continue;
        };
        walk(&value, &mut out, 0);
    }
    out
}

fn walk(value: &serde_json::Value, out: &mut LinkedData, depth: usize) {
    use serde_json::Value;
    if depth > 8 {
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| walk(v, out, depth + 1)),
        Value::Object(map) => {
            if out.date.is_none() {
                out.date = ["datePublished", "dateCreated"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(Value::as_str))
                    .map(str::to_string);
            }
            if out.baidu_date.is_none() {
                out.baidu_date = map
                    .get("pubDate")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            if out.author.is_none() {
                out.author = match map.get("author") {
                    Some(Value::String(s)) => Some(collapse(s)),
                    Some(Value::Object(a)) => a.get("name").and_then(Value::as_str).map(collapse),
                    Some(Value::Array(a)) => a
                        .iter()
                        .find_map(|a| a.get("name").and_then(Value::as_str))
                        .map(collapse),
                    _ => None,
                };
            }
            if let Some(graph) = map.get("@graph") {
                walk(graph, out, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap()
    }

    use crate::vocab::clock::beijing;

    fn found(html: &str) -> Found {
        Found::read(&Document::from(html), "标题", now(), TZ)
    }

    #[test]
    fn meta_tags_give_the_time_in_the_configured_zone_or_their_own() {
        let f =
            found(r#"<head><meta name="PubDate" content="2019-09-26 10:56"></head><body>x</body>"#);
        assert_eq!(f.published, Some(beijing(2019, 9, 26, 10, 56)));
        let f = found(
            r#"<head><meta property="article:published_time" content="2019-09-07T13:43:45+00:00"></head>"#,
        );
        assert_eq!(
            f.published,
            Some(Utc.with_ymd_and_hms(2019, 9, 7, 13, 43, 45).unwrap())
        );
    }

    #[test]
    fn json_ld_gives_the_time_and_the_author() {
        let f = found(
            r#"<script type="application/ld+json">{"@graph":[{"@type":"NewsArticle",
            "datePublished":"2019-09-26T10:56:00+08:00","author":{"name":"李明"}}]}</script>"#,
        );
        assert_eq!(f.published, Some(beijing(2019, 9, 26, 10, 56)));
        assert_eq!(f.byline.as_deref(), Some("李明"));
    }

    #[test]
    fn the_visible_lines_of_chinese_pages() {
        let f = found(
            "<body><h1>标题</h1><div>发布时间：2019-09-26 10:56　来源：镕城区水务局作者：李明</div></body>",
        );
        assert_eq!(f.published, Some(beijing(2019, 9, 26, 10, 56)));
        assert_eq!(f.site.as_deref(), Some("镕城区水务局"));
        assert_eq!(f.byline.as_deref(), Some("李明"));

        let f = found("<body><div>2019年9月26日 15:10</div><h1>标题</h1><p>2019年9月27日 08:00 来源: 人民网</p></body>");
        assert_eq!(
            f.published,
            Some(beijing(2019, 9, 27, 8, 0)),
            "below the headline"
        );
        assert_eq!(f.site.as_deref(), Some("人民网"));

        let f = found("<body><h1>标题</h1><p>今天是2026年11月24日</p></body>");
        assert_eq!(
            f.published, None,
            "a bare date unlabelled is no publication time"
        );
        let f = found("<body><h1>标题</h1><p>日期：2019-09-26</p></body>");
        assert_eq!(f.published, Some(beijing(2019, 9, 26, 0, 0)));
        let f = found("<body><h1>标题</h1><p>2019年09月11日 · 南都</p></body>");
        assert_eq!(
            f.published,
            Some(beijing(2019, 9, 11, 0, 0)),
            "a day right under the headline"
        );
        let f = found(
            "<head><meta name=publishdate content=2019-06-15></head>\
             <body><h1>标题</h1><p>2019年06月15日08:18 来源：人民网</p></body>",
        );
        assert_eq!(
            f.published,
            Some(beijing(2019, 6, 15, 8, 18)),
            "the meta day, the line's time"
        );
    }
}
