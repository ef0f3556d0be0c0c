//! The recipe of docs/sources.md, on loopback: Weibo, 人民网领导留言板 and a WeChat account
//! read through RSSHub-shaped and wewe-rss-shaped feeds, and each way such a bridge fails
//! (503, the anti-crawler 418 and 432, an empty feed once its cookie expires, the same items
//! for days) ending as `unreachable` or `silent`, with the operators mailed.

use crate::common;

use chrono::{Duration, TimeZone, Utc};
use common::{HttpServer, Response, TempDirs};
use yuqing::vocab::clock::ManualClock;

/// An RSSHub route's answer: RSS 2.0 with an atom:link to itself, CDATA descriptions, RFC
/// 822 dates in GMT, the post's URL as a guid that is not a permalink.
fn rsshub(title: &str, posts: &[(&str, &str)]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss xmlns:atom=\"http://www.w3.org/2005/Atom\" version=\"2.0\">\n<channel>\n\
         <title><![CDATA[{title}]]></title>\n<link>https://weibo.com/1234567890/</link>\n\
         <atom:link href=\"http://127.0.0.1:1200/weibo/user/1234567890\" rel=\"self\" type=\"application/rss+xml\"/>\n\
         <description><![CDATA[{title} - Powered by RSSHub]]></description>\n<generator>RSSHub</generator>\n\
         <webMaster>contact@rsshub.app (RSSHub)</webMaster>\n<language>en</language>\n<ttl>5</ttl>\n"
    );
    for (id, text) in posts {
        out.push_str(&format!(
            "<item>\n<title><![CDATA[{text}]]></title>\n<description><![CDATA[{text}<br><img src=\"https://wx1.sinaimg.cn/large/{id}.jpg\">]]></description>\n\
             <pubDate>Tue, 24 Nov 2026 0{}:30:00 GMT</pubDate>\n<guid isPermaLink=\"false\">https://weibo.com/1234567890/{id}</guid>\n\
             <link>https://weibo.com/1234567890/{id}</link>\n<author><![CDATA[市文旅局]]></author>\n</item>\n",
            id.len() % 10
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// A wewe-rss account feed: Atom.
fn wewe(entries: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <id>http://127.0.0.1:4000/feeds/MP_WXS_1234567890.atom</id>\n<title>市文旅局</title>\n\
         <updated>2026-11-24T02:00:00.000Z</updated>\n<generator>WeWe-RSS</generator>\n",
    );
    for (id, title) in entries {
        out.push_str(&format!(
            "<entry>\n<title type=\"html\"><![CDATA[{title}]]></title>\n<id>{id}</id>\n\
             <link href=\"https://mp.weixin.qq.com/s/{id}\"/>\n<updated>2026-11-24T01:00:00.000Z</updated>\n</entry>\n"
        ));
    }
    out.push_str("</feed>\n");
    out
}

fn sources_json(config: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["sources", "--json", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn states(config: &std::path::Path) -> Vec<String> {
    let json = sources_json(config);
    json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}={}",
                s["id"].as_str().unwrap(),
                s["state"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridged_platforms_are_read_and_their_failures_are_unreachable_or_silent() {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 4, 0, 0).unwrap());
    let weibo_posts = [("P1aB", "景区今日限流公告"), ("P2cDe", "冬季出行提示")];
    http.set(
        "/weibo/user/1234567890",
        Response::rss(rsshub("市文旅局的微博", &weibo_posts)),
    );
    http.set(
        "/people/liuyan/539/1",
        Response::rss(rsshub(
            "人民网领导留言板 - 市文旅局",
            &[("tid-1", "反映某景区门票收费问题")],
        )),
    );
    http.set(
        "/feeds/MP_WXS_1234567890.atom",
        Response::ok(
            "application/atom+xml; charset=utf-8",
            wewe(&[("abc", "关于发布冬季旅游线路的通知")]),
        ),
    );
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"t\"\nname = \"测试\"\nany = [\"踩踏\"]\n",
    );
    let config = dirs.config(&format!(
        r#"
[people]
operators = ["运维 <ops@example.gov.cn>"]

[[source]]
id = "weibo-wlj"
name = "市文旅局官方微博"
kind = "feed"
url = "{weibo}"
every = "10m"
stale_after = "24h"

[[source]]
id = "liuyan-wlj"
name = "人民网领导留言板·市文旅局"
kind = "feed"
url = "{liuyan}"
every = "15m"

[[source]]
id = "wechat-wlj"
name = "市文旅局微信公众号"
kind = "feed"
url = "{wechat}"
every = "30m"
"#,
        weibo = http.url("/weibo/user/1234567890"),
        liuyan = http.url("/people/liuyan/539/1"),
        wechat = http.url("/feeds/MP_WXS_1234567890.atom"),
    ));
    let d = common::start(&config, &clock).await;
    let ops = || async {
        common::mail_to(&d.store, "ops@example.gov.cn")
            .await
            .into_iter()
            .map(|m| m.subject)
            .collect::<Vec<_>>()
    };

    let polled = d.poll_once(None).await.unwrap();
    let new: Vec<usize> = polled
        .iter()
        .map(|(_, r)| r.as_ref().expect("read").new)
        .collect();
    assert_eq!(new, vec![2, 1, 1], "{polled:?}");
    let items = d.store.items(None, 0, 100).await.unwrap();
    assert!(
        items.iter().any(|i| i.title == "景区今日限流公告"
            && i.link.as_deref() == Some("https://weibo.com/1234567890/P1aB")),
        "{items:#?}"
    );
    assert!(items
        .iter()
        .any(|i| i.title == "关于发布冬季旅游线路的通知"));
    assert_eq!(
        states(&config),
        ["weibo-wlj=ok", "liuyan-wlj=ok", "wechat-wlj=ok"]
    );

    // The bridge fails in each of its ways.
    http.set("/weibo/user/1234567890", Response::status(503));
    http.set("/people/liuyan/539/1", Response::status(432));
    http.set("/feeds/MP_WXS_1234567890.atom", Response::status(418));
    for _ in 0..3 {
        clock.advance(Duration::hours(3));
        d.poll_once(None).await.unwrap();
    }
    let errors: Vec<String> = ["weibo-wlj", "liuyan-wlj", "wechat-wlj"]
        .iter()
        .map(|id| {
            let json = sources_json(&config);
            let s = json["sources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == *id)
                .unwrap()
                .clone();
            s["last_error"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        errors,
        [
            "HTTP 503 Service Unavailable",
            "HTTP 432 (non-standard status)",
            "HTTP 418 I'm a teapot"
        ]
    );
    assert_eq!(
        states(&config),
        [
            "weibo-wlj=unreachable",
            "liuyan-wlj=unreachable",
            "wechat-wlj=unreachable"
        ]
    );
    let mail = ops().await;
    assert_eq!(mail.len(), 3, "{mail:#?}");
    assert!(
        mail.iter().all(|s| s.starts_with("【舆情·信息源异常】")),
        "{mail:#?}"
    );

    // The cookie expired: RSSHub's allowEmpty route answers a well-formed empty feed.
    http.set(
        "/weibo/user/1234567890",
        Response::rss(rsshub("市文旅局的微博", &[])),
    );
    clock.advance(Duration::hours(1));
    let polled = d.poll_once(Some("weibo-wlj")).await.unwrap();
    let err = polled[0].1.as_ref().expect_err("empty is an error");
    assert!(
        err.to_string()
            .starts_with("the feed lists no entries, though it listed 2"),
        "{err}"
    );

    // A new cookie: the same two posts again and again, nothing new for a day.
    http.set(
        "/weibo/user/1234567890",
        Response::rss(rsshub("市文旅局的微博", &weibo_posts)),
    );
    clock.advance(Duration::minutes(10));
    d.poll_once(Some("weibo-wlj")).await.unwrap();
    assert_eq!(states(&config)[0], "weibo-wlj=ok");
    clock.advance(Duration::hours(14));
    d.poll_once(Some("weibo-wlj")).await.unwrap();
    assert_eq!(states(&config)[0], "weibo-wlj=silent");
    let mail = ops().await;
    assert!(
        mail.last()
            .unwrap()
            .starts_with("【舆情·信息源无新内容】市文旅局官方微博（weibo-wlj）"),
        "{mail:#?}"
    );
}

/// Bing's news search answering RSS (`format=rss`): RSS 2.0 in the `News:` namespace, the
/// story's own URL wrapped in Bing's redirect, RFC 822 dates in GMT.
fn bing_news(posts: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?><rss version=\"2.0\" \
         xmlns:News=\"https://www.bing.com:443/news/search?q=x&amp;format=rss\"><channel>\
         <title>x - 必应 资讯</title><link>https://www.bing.com:443/news/search?q=x&amp;format=rss</link>\
         <description>搜索结果</description>",
    );
    for (id, text) in posts {
        out.push_str(&format!(
            "<item><title>{text}</title><link>http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid={id}&amp;url=https%3a%2f%2fnews.example.cn%2f{id}.html</link>\
             <description>{text}……</description><pubDate>Tue, 24 Nov 2026 00:40:00 GMT</pubDate>\
             <News:Source>示例新闻网</News:Source></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

/// Issue 24 §1: keyword searches. Each term of a `[[search]]` is a source of its own
/// (`weibo/某某景区`), requested at the provider's URL with the term percent-encoded; what it
/// finds is classified like any item; `check` says what the searches cost, and `sources`
/// lists each term.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_search_term_is_a_source_of_its_own() {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let enc = |t: &str| utf8_percent_encode(t, NON_ALPHANUMERIC).to_string();
    http.set(
        &format!("/weibo/keyword/{}", enc("某某景区")),
        Response::rss(rsshub(
            "微博关键词 - 某某景区",
            &[("Q1", "某某景区玻璃栈道坍塌 多名游客受伤")],
        )),
    );
    http.set(
        &format!("/weibo/keyword/{}", enc("某市文旅局")),
        Response::rss(rsshub(
            "微博关键词 - 某市文旅局",
            &[("Q2", "某市文旅局发布冬季出行提示")],
        )),
    );
    http.set(
        &format!("/news/search?q={}&format=rss", enc("某某景区")),
        Response::rss(bing_news(&[
            ("n7", "某某景区游客投诉门票涨价"),
            ("n8", "某某景区玻璃栈道坍塌 多名游客受伤"),
        ])),
    );
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.config(&format!(
        "\n\
             [[search]]\nid = \"weibo\"\nprovider = \"rsshub-weibo\"\nbase = \"{base}\"\n\
             terms = [\"某某景区\", \"某市文旅局\"]\nevery = \"5m\"\n\n\
             [[search]]\nid = \"news\"\nurl = \"{base}/news/search?q={{q}}&format=rss\"\n\
             terms = [\"某某景区\"]\nevery = \"10m\"\n",
        base = http.url("").trim_end_matches('/'),
    ));
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap());
    let d = common::start(&config, &clock).await;
    let polled: Vec<String> = d
        .poll_once(None)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, r)| {
            r.unwrap_or_else(|e| panic!("{id}: {e}"));
            id
        })
        .collect();
    assert_eq!(
        polled,
        ["weibo/某某景区", "weibo/某市文旅局", "news/某某景区"]
    );
    let items = d.store.items(None, 0, 10).await.unwrap();
    assert_eq!(items.len(), 4, "{items:#?}");
    let incidents = d.store.incidents(false).await.unwrap();
    assert_eq!(
        incidents.len(),
        1,
        "the collapse opens an incident: {incidents:#?}"
    );

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .env("YUQING_NOW", "2026-11-24T09:00:00+08:00")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let checked = run(&["check"]);
    assert!(
        checked.contains("  weibo：2 个词，每 5m 一次，共每小时 24 次请求；http://127.0.0.1:")
            && checked.contains("  news：1 个词，每 10m 一次，共每小时 6 次请求；"),
        "{checked}"
    );
    // How it spread (issue 24 §3): the news search carried the headline first (00:40
    // GMT), Weibo re-posted it (02:30 GMT).
    let shown = run(&["incident", "show", "1"]);
    assert!(
        shown.contains("传播：首发 【news/某某景区】 2026-11-24 08:40；来源 2 个，转载 1 条")
            && shown.contains("  【weibo/某某景区】1 条，2026-11-24 10:30 至 2026-11-24 10:30"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run(&["incident", "show", "1", "--json"])).unwrap();
    assert_eq!(json["spread"]["sources"], 2, "{json}");
    assert_eq!(json["spread"]["reposts"], 1, "{json}");
    assert_eq!(json["spread"]["first_source"], "news/某某景区", "{json}");
    // The leaders' briefing names where it broke first among its main events.
    let briefing = run(&["briefing", "--from", "2026-11-24"]);
    assert_has!(
        briefing,
        "信息 2 条，来源 2 个，首发「news 搜索「某某景区」」"
    );
    let sources = run(&["sources"]);
    assert!(
        sources
            .lines()
            .any(|l| l.starts_with("weibo/某某景区\t正常")),
        "{sources}"
    );

    // A template without {q}, an unknown provider, a preset without its RSSHub: each at
    // its line.
    let bad = dirs.write(
        "bad.toml",
        format!(
            "[daemon]\nwatchlists = \"{root}/watchlists\"\nstate_dir = \"{root}/var\"\n\n\
             [[search]]\nid = \"a\"\nurl = \"http://x/search\"\nterms = [\"景区\"]\n\n\
             [[search]]\nid = \"b\"\nprovider = \"rsshub-douyin\"\nterms = [\"景区\"]\n\n\
             [[search]]\nid = \"c\"\nprovider = \"rsshub-tieba\"\nterms = [\"景区\"]\n",
            root = dirs.root().display(),
        ),
    );
    let out = common::process::check(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_has!(
        err,
        "bad.toml:7: [[search]] a: the URL `http://x/search` has no {q}"
    );
    assert_has!(err, "bad.toml:12: [[search]] b: unknown provider `rsshub-douyin`; known: rsshub-weibo, rsshub-tieba, bing-news");
    assert_has!(
        err,
        "bad.toml:17: [[search]] c: provider `rsshub-tieba` needs `base`"
    );
}

/// Issue 24 §2: one story, one item. The same Weibo post found by two search terms, the
/// same news story behind Bing's click redirect under two terms (one link carrying
/// `utm_source`), and the same text re-posted by a feed under its own link: each is one
/// item, listed with every source that found it, and the incident's spread counts them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_story_found_by_several_searches_is_one_item() {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let enc = |t: &str| utf8_percent_encode(t, NON_ALPHANUMERIC).to_string();
    let post = "某某景区玻璃栈道坍塌 多名游客受伤";
    for term in ["某某景区", "玻璃栈道"] {
        http.set(
            &format!("/weibo/keyword/{}", enc(term)),
            Response::rss(rsshub(&format!("微博关键词 - {term}"), &[("Q1", post)])),
        );
    }
    let story = "某某景区栈道坍塌事故致多人受伤 景区已停业整顿";
    // Bing under the first term: the story's URL with a tracking parameter in it.
    http.set(
        &format!("/news/search?q={}&format=rss", enc("某某景区")),
        Response::rss(bing_news(&[("n8", story)]).replace(
            "n8.html</link>",
            "n8.html%3futm_source%3dbing%26utm_medium%3drss</link>",
        )),
    );
    http.set(
        &format!("/news/search?q={}&format=rss", enc("景区坍塌")),
        Response::rss(bing_news(&[("n8", story)]).replace("tid=n8", "tid=x42")),
    );
    // A site that re-posts the story word for word under its own link.
    http.set(
        "/repost.xml",
        Response::rss(
            bing_news(&[("r1", story)])
                .replace("http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid=r1&amp;url=https%3a%2f%2fnews.example.cn%2fr1.html", "https://repost.example.cn/r1.html"),
        ),
    );
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nwatchlists = \"{root}/watchlists\"\nstate_dir = \"{root}/var\"\n\n\
             [[search]]\nid = \"weibo\"\nprovider = \"rsshub-weibo\"\nbase = \"{base}\"\n\
             terms = [\"某某景区\", \"玻璃栈道\"]\n\n\
             [[search]]\nid = \"news\"\nurl = \"{base}/news/search?q={{q}}&format=rss\"\n\
             terms = [\"某某景区\", \"景区坍塌\"]\n\n\
             [[source]]\nid = \"repost\"\nname = \"转载网\"\nkind = \"feed\"\nurl = \"{base}/repost.xml\"\n",
            root = dirs.root().display(),
            base = http.url("").trim_end_matches('/'),
        ),
    );
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap());
    let d = common::start_on(&config, std::sync::Arc::new(clock.clone())).await;
    let mut new = 0;
    // Polls run concurrently, so which source stores a story first is a race; the test
    // settles it: the re-posting feed, then the first Weibo term, then every source.
    for (round, only) in [
        (0, Some("repost")),
        (0, Some("weibo/某某景区")),
        (0, None),
        (1, None),
    ] {
        for (id, r) in d.poll_once(only).await.unwrap() {
            let r = r.unwrap_or_else(|e| panic!("{id}: {e}"));
            if round == 1 {
                assert_eq!(r.new, 0, "{id}: nothing is new the second time");
            }
            new += r.new;
        }
        if only.is_none() {
            clock.advance(Duration::minutes(10));
        }
    }
    assert_eq!(new, 2, "two stories, two items");

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .env("YUQING_NOW", "2026-11-24T11:30:00+08:00")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["items", "--json"])).unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{json:#}");
    let found_by = |title: &str| -> (String, Option<String>, Vec<String>) {
        let it = items.iter().find(|i| i["title"] == title).unwrap();
        let mut seen: Vec<String> = it["seen_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["source"].as_str().unwrap(),
                    s["link"].as_str().unwrap()
                )
            })
            .collect();
        seen.sort();
        (
            it["source"].as_str().unwrap().to_string(),
            it["link"].as_str().map(String::from),
            seen,
        )
    };
    assert_eq!(
        found_by(post),
        (
            "weibo/某某景区".to_string(),
            Some("https://weibo.com/1234567890/Q1".to_string()),
            vec!["weibo/玻璃栈道 https://weibo.com/1234567890/Q1".to_string()]
        )
    );
    // The feed was polled first; both news searches found the same story: by its text, and
    // by the link compared as the story's own, without Bing's redirect or the tracking.
    assert_eq!(
        found_by(story),
        (
            "repost".to_string(),
            Some("https://repost.example.cn/r1.html".to_string()),
            vec![
                "news/景区坍塌 https://news.example.cn/n8.html".to_string(),
                "news/某某景区 https://news.example.cn/n8.html".to_string(),
            ]
        )
    );
    // A search's own list holds what it found after another source too.
    let by_term = run(&["items", "--source", "news/景区坍塌"]);
    assert_has!(by_term, "\trepost（亦见于 news/景区坍塌、news/某某景区）\t");

    // One incident: five sources carried it; the re-post and the other Weibo term count
    // as re-posts (the same text from another source).
    let incidents = d.store.incidents(false).await.unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let shown = run(&["incident", "show", "1"]);
    assert!(
        shown.contains("来源 5 个，转载 3 条")
            && shown.contains("      亦见于 【news/景区坍塌】【news/某某景区】"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run(&["incident", "show", "1", "--json"])).unwrap();
    assert_eq!(json["spread"]["sources"], 5, "{json:#}");
    // Each search's lag counts what it found after another source too.
    let sources: serde_json::Value = serde_json::from_str(&run(&["sources", "--json"])).unwrap();
    let glass = sources["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "weibo/玻璃栈道")
        .unwrap();
    assert_eq!(glass["lag"]["n"], 1, "{glass:#}");
}

/// Issue 24 §5: `every = "auto"` polls a source that publishes often sooner than a quiet
/// one, between `every_min` and `every_max`; `check` says what it may cost, and mistakes in
/// the bounds are reported at their line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_polls_a_busy_search_sooner_than_a_quiet_one() {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let enc = |t: &str| utf8_percent_encode(t, NON_ALPHANUMERIC).to_string();
    let posts: Vec<(String, String)> = (0..10)
        .map(|i| (format!("P{i}"), format!("某某景区今日游客第{i}条动态")))
        .collect();
    let posts: Vec<(&str, &str)> = posts
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    http.set(
        &format!("/weibo/keyword/{}", enc("某某景区")),
        Response::rss(rsshub("微博关键词 - 某某景区", &posts)),
    );
    http.set(
        &format!("/weibo/keyword/{}", enc("冷门词")),
        Response::rss(rsshub("微博关键词 - 冷门词", &[])),
    );
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nwatchlists = \"{root}/watchlists\"\nstate_dir = \"{root}/var\"\n\n\
             [[search]]\nid = \"weibo\"\nprovider = \"rsshub-weibo\"\nbase = \"{base}\"\n\
             terms = [\"某某景区\", \"冷门词\"]\nevery = \"auto\"\nevery_min = \"2m\"\nevery_max = \"1h\"\n",
            root = dirs.root().display(),
            base = http.url("").trim_end_matches('/'),
        ),
    );
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
    let clock = ManualClock::new(at);
    let d = common::start_on(&config, std::sync::Arc::new(clock.clone())).await;
    for (id, r) in d.poll_once(None).await.unwrap() {
        r.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    let next = |id: &str| {
        let s = d.store.clone();
        let id = id.to_string();
        async move { s.source_state(&id).await.unwrap().next_poll - at.timestamp() }
    };
    // Ten new posts in the last quarter hour: a gap of 90 s, so polled again after
    // every_min (plus at most a tenth of jitter); nothing at all: after every_max.
    let busy = next("weibo/某某景区").await;
    let quiet = next("weibo/冷门词").await;
    assert!((120..=132).contains(&busy), "{busy}");
    assert!((3_600..=3_960).contains(&quiet), "{quiet}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&out.stdout);
    assert_has!(
        checked,
        "  weibo：2 个词，自动，每 2m 至 1h 一次，共每小时 2–60 次请求；"
    );

    let bad = dirs.write(
        "bad.toml",
        format!(
            "[daemon]\nwatchlists = \"{root}/watchlists\"\nstate_dir = \"{root}/var\"\n\n\
             [[search]]\nid = \"a\"\nprovider = \"rsshub-weibo\"\nbase = \"http://x\"\nterms = [\"景区\"]\n\
             every = \"auto\"\nevery_min = \"2h\"\nevery_max = \"1h\"\n\n\
             [[source]]\nid = \"b\"\nkind = \"feed\"\nurl = \"http://x/b.xml\"\nevery = \"5m\"\nevery_min = \"1m\"\n\n\
             [[source]]\nid = \"c\"\nkind = \"feed\"\nurl = \"http://x/c.xml\"\nevery = \"sometimes\"\n",
            root = dirs.root().display(),
        ),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_has!(
        err,
        "bad.toml:12: [[search]] a: every_min = \"2h\" is longer than every_max = \"1h\""
    );
    assert_has!(err, "bad.toml:19: source `b`: `every_min` bounds every = \"auto\"; with a fixed `every` it has no use");
    assert!(
        err.contains("invalid duration `sometimes`") && err.contains("or \"auto\""),
        "{err}"
    );
}
