//! Reading one article page: its title, when it was published, who wrote it or which site
//! it came from, and its body as plain text.
//!
//! The body is found by `dom_smoothie`, a port of Mozilla's readability.js (what Firefox's
//! reader view uses), not by rules of our own: finding the article among menus, sidebars and
//! comments is a solved problem with a maintained solution. Around it, what Chinese news and
//! government pages need and readability does not know:
//! - the charset, decided exactly as the feed reader decides it ([`super::charset`]);
//! - the title without the site's name (`…_镕城区人民政府`, `… - 新浪财经`), preferring the
//!   page's own headline when the `<title>` contains it;
//! - the publication time from `meta` tags (`article:published_time`, `PubDate`,
//!   `publishdate`…), JSON-LD, or the visible line (`发布时间：2019-09-26 10:56`,
//!   `2019年9月26日 15:10`), see [`byline`];
//! - the byline and the site from the `作者：` and `来源：` lines and their meta tags.
//!
//! It is pure: the time zone and `now` (for relative dates) are parameters.

mod byline;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dom_query::Document;

use super::charset;
use super::page::collapse;

/// What a reader of the page would call the article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub title: String,
    /// When it was published, `None` when the page does not say in a way read with
    /// confidence.
    pub published: Option<DateTime<Utc>>,
    /// The author (`作者：`).
    pub byline: Option<String>,
    /// Where the text comes from (`来源：`), or the site's name.
    pub site: Option<String>,
    /// The body, one paragraph a line.
    pub text: String,
}

/// Why a page gives no article.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArticleError {
    #[error("not an HTML page (Content-Type `{0}`)")]
    NotHtml(String),
    #[error("no article text found on the page (an empty page, or one built by script)")]
    NoText,
    /// Reading it hit a bug (a panic, caught by the caller and logged).
    #[error("internal error while reading the article")]
    Internal,
}

/// Elements past this many are not scored for the body (a pathological page); the title,
/// time and lines are still read.
const MAX_ELEMENTS: usize = 60_000;

/// Reads the article in `body`, fetched from `url` with `content_type`. Dates without a zone
/// are read in `tz`, relative ones (`3小时前`) against `now`.
pub fn read(
    body: &[u8],
    content_type: Option<&str>,
    url: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Article, ArticleError> {
    if let Some(ct) = content_type {
        let mime = ct.split(';').next().unwrap_or_default().trim();
        let html = mime.is_empty()
            || mime.eq_ignore_ascii_case("text/html")
            || mime.eq_ignore_ascii_case("application/xhtml+xml")
            || mime.eq_ignore_ascii_case("text/plain");
        if !html {
            return Err(ArticleError::NotHtml(
                crate::vocab::text::bounded(ct, 100).into_owned(),
            ));
        }
    }
    let decoded = charset::decode(body, content_type);
    let document = Document::from(decoded.text.as_str());
    let raw_title = collapse(&document.select("head title").text());
    // Government CMSes put the headline in `div.title` or `span.Title` as often as in `h1`.
    let headlines: Vec<String> = document
        .select(
            "h1, h2, h3, [class*='title'], [class*='Title'], [id*='title'], \
             meta[property='og:title'], meta[name='ArticleTitle']",
        )
        .iter()
        .map(|h| collapse(&h.attr("content").unwrap_or_else(|| h.text())))
        .filter(|h| !h.is_empty() && h.chars().count() <= 200)
        .collect();
    let title = title(&raw_title, &headlines);
    let found = byline::Found::read(&document, &title, now, tz);

    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        max_elements_to_parse: MAX_ELEMENTS,
        ..Default::default()
    };
    let url = url::Url::parse(url).ok().map(|u| u.to_string());
    let readable = dom_smoothie::Readability::with_document(document, url.as_deref(), Some(config))
        .ok()
        .and_then(|mut r| r.parse().ok());
    let (text, readable_title, readable_byline, readable_site) = match readable {
        Some(a) => (
            trim_boilerplate(&paragraphs(&a.text_content)),
            collapse(&a.title),
            a.byline,
            a.site_name,
        ),
        None => (String::new(), String::new(), None, None),
    };
    let text = if text.is_empty() {
        found.visible_body()
    } else {
        text
    };
    if text.is_empty() {
        return Err(ArticleError::NoText);
    }
    let title = match title.is_empty() {
        true => readable_title,
        false => title,
    };
    Ok(Article {
        title,
        published: found.published,
        byline: found
            .byline
            .or(readable_byline.map(|b| unlabel(&collapse(&b))))
            .filter(|b| byline::plausible_byline(b)),
        site: found.site.or(readable_site.map(|s| collapse(&s))),
        text,
    })
}

/// One paragraph a line: lines trimmed, blank ones dropped.
fn paragraphs(text: &str) -> String {
    text.lines()
        .map(collapse)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lines that end an article on Chinese news pages: what follows is shared links and
/// other articles.
const END_MARKERS: [&str; 18] = [
    "分享到",
    "分享",
    "相关阅读",
    "相关内容",
    "相关新闻",
    "相关文章",
    "相关推荐",
    "推荐阅读",
    "热门推荐",
    "热点推荐",
    "延伸阅读",
    "猜你喜欢",
    "精彩推荐",
    "APP精彩推荐",
    "更多精彩",
    "热门文章",
    "往期回顾",
    "热门评论",
];

/// What readability keeps around the article on many Chinese pages: a menu of short words
/// above it (`首页 资讯 游戏`), and below it a share bar and lists of other articles, each
/// with its date on a line of its own. Cut, but only well below the start, so a page whose
/// article is short or whose first line is `相关阅读` keeps its text.
fn trim_boilerplate(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let menu = lines.iter().take_while(|l| l.chars().count() <= 4).count();
    let start = if menu >= 3 && menu < lines.len() {
        menu
    } else {
        0
    };
    let lines = &lines[start..];
    let total: usize = lines.iter().map(|l| l.chars().count()).sum();
    let mut before = 0;
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if before >= 100 && before * 4 >= total {
            let marker = line.trim_end_matches([':', '：']);
            if END_MARKERS.contains(&marker) {
                end = i;
                break;
            }
            if BARE_DATE.is_match(line) {
                // The listed article's title is the line above its date.
                end = i.saturating_sub(1);
                break;
            }
        }
        before += line.chars().count();
    }
    let mut kept = &lines[..end];
    // Above a cut, the list's heading (`观察员`) goes too.
    while let Some((last, rest)) = kept.split_last().filter(|_| end < lines.len()) {
        if last.chars().count() > 4 || rest.is_empty() {
            break;
        }
        kept = rest;
    }
    kept.join("\n")
}

/// A line that is only a date (a listed article's): `2019-09-09`, `2019-09-0666` (a date run
/// into its view count), `09-09 10:30`.
static BARE_DATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^(?:\d{4}-)?\d{2}-\d{2}(?:\d{0,6}| \d{2}:\d{2})$").expect("bare date")
});

/// `责任编辑：张申` → `张申`: readability takes the whole line as the byline.
fn unlabel(byline: &str) -> String {
    match byline.rsplit_once(['：', ':']) {
        Some((_, name)) => name.trim().to_string(),
        None => byline.to_string(),
    }
}

/// Separators between a headline and the site's name in `<title>`.
const SEPARATORS: [&str; 10] = ["_", " - ", "-", " | ", "|", " — ", "——", " – ", "－", "丨"];

/// The headline: a heading of the page (or its `og:title`) that the `<title>` contains is
/// taken as written; otherwise the `<title>` without its trailing site names; otherwise
/// the first heading (empty when there is none: the caller asks readability).
fn title(raw: &str, headlines: &[String]) -> String {
    let best = headlines
        .iter()
        .filter(|h| h.chars().count() >= 4 && raw.contains(h.as_str()))
        .max_by_key(|h| h.chars().count());
    if let Some(h) = best {
        return strip_site(h);
    }
    if !raw.is_empty() {
        return strip_site(raw);
    }
    headlines.first().cloned().unwrap_or_default()
}

/// `关于……的通告_镕城区人民政府` → `关于……的通告`: trailing segments after a separator are
/// dropped while what stays is the longer part (a site's name is short; a headline that
/// itself contains ` - ` keeps its first half only if that half is the longer).
fn strip_site(title: &str) -> String {
    let mut kept = title.trim();
    loop {
        let cut = SEPARATORS
            .iter()
            .filter_map(|s| kept.rfind(s).map(|i| (i, s.len())))
            .max_by_key(|(i, _)| *i);
        let Some((at, len)) = cut else { break };
        let (head, tail) = (kept[..at].trim(), kept[at + len..].trim());
        if head.chars().count() < 4 || head.chars().count() <= tail.chars().count() {
            break;
        }
        // A bare `-` is a separator only before a name (`…-新华网`), not in `1-10月` or a date.
        if &kept[at..at + len] == "-" && tail.contains(|c: char| c.is_ascii_digit()) {
            break;
        }
        kept = head;
    }
    kept.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_come_off_the_title() {
        for (raw, want) in [
            (
                "关于镕城区供水管网改造期间临时停水的通告_镕城区人民政府",
                "关于镕城区供水管网改造期间临时停水的通告",
            ),
            (
                "最强“中国芯”本月商用 华为抢跑5G芯片大战_新浪科技_新浪网",
                "最强“中国芯”本月商用 华为抢跑5G芯片大战",
            ),
            ("苹果回应违反劳动法 - 观察者网", "苹果回应违反劳动法"),
            (
                "通告 - 镕城区人民政府门户网站",
                "通告 - 镕城区人民政府门户网站",
            ),
            ("No separator here", "No separator here"),
            (
                "法国全国大罢工再次严重影响交通-新华网",
                "法国全国大罢工再次严重影响交通",
            ),
            (
                "1-10月德清县固定资产投资结构趋稳趋优",
                "1-10月德清县固定资产投资结构趋稳趋优",
            ),
            ("2019年工作报告-2019-09-07", "2019年工作报告-2019-09-07"),
        ] {
            assert_eq!(strip_site(raw), want, "{raw}");
        }
    }

    #[test]
    fn a_heading_the_title_contains_wins() {
        let headlines = vec!["首页".to_string(), "关于临时停水的通告".to_string()];
        assert_eq!(
            title("关于临时停水的通告_镕城区人民政府", &headlines),
            "关于临时停水的通告"
        );
        assert_eq!(title("", &headlines), "首页");
    }

    #[test]
    fn menus_share_bars_and_lists_of_other_articles_are_cut() {
        let body = "很长的正文第一段，".repeat(20);
        let page = format!(
            "首页\n资讯\n游戏\n{body}\n第二段写完了。\n分享到：\n另一篇文章\n2019-09-0666\n{body}"
        );
        assert_eq!(trim_boilerplate(&page), format!("{body}\n第二段写完了。"));
        let listed = format!("{body}\n观察员\n另一篇文章的标题\n2019-09-09\n又一篇\n2019-09-09");
        assert_eq!(trim_boilerplate(&listed), body);
        assert_eq!(trim_boilerplate("相关阅读\n正文"), "相关阅读\n正文");
        assert_eq!(unlabel("责任编辑：张申"), "张申");
    }

    #[test]
    fn a_feed_is_not_an_article() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let e = read(
            b"<rss/>",
            Some("application/rss+xml"),
            "http://a.cn/",
            now,
            Tz::UTC,
        )
        .unwrap_err();
        assert_eq!(e, ArticleError::NotHtml("application/rss+xml".into()));
    }
}
