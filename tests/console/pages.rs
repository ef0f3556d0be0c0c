//! The console's reading pages: items filtered and paged (and as JSON), the sources and
//! their states as the CLI names them, the report and its CSV, the briefing of a day or a
//! week, and the watchlist test for operators.

use crate::common;
use crate::common::console::{
    first_items, logged_in, site, site_with, Browser, Site, DUTY, FIRST, FIRST_LINK, LEADER,
    OPERATOR,
};

use chrono::Duration;
use std::process::Command;

#[tokio::test]
async fn the_watchlist_test_is_for_operators_and_explains_the_match() {
    let site = site(&None).await;
    let duty = logged_in(&site, DUTY).await;
    assert_eq!(duty.get("/classify").await.status, 403);
    assert!(!duty.get("/").await.body.contains("href=\"/classify\""));
    let op = logged_in(&site, OPERATOR).await;
    let p = op.get("/classify").await;
    assert_eq!(p.status, 200);
    let p = op
        .post("/classify", &[("text", "某景区发生坍塌"), ("source", "")])
        .await;
    assert_eq!(p.status, 200);
    assert_has!(p.body, "命中，最高级别 重大");
    // The --explain lines in Chinese, characters counted from 1 as people count them.
    assert!(
        p.body.contains("规则 1（第 2 行）命中")
            && p.body.contains("any &#34;坍塌&#34; 第 6–7 字「坍塌」"),
        "the --explain lines: {}",
        p.body
    );
    let p = op.post("/classify", &[("text", "景区秋色正好")]).await;
    assert_has!(p.body, "未命中");
    assert!(!p.body.contains("matched"), "{}", p.body);
}

#[tokio::test]
async fn items_filter_by_topic_source_time_and_text_page_by_page_and_as_json() {
    let mut items: Vec<(String, String, String)> = (0..60)
        .map(|k| {
            (
                format!("旅游资讯第{k}期"),
                format!("https://news.example.cn/{k}"),
                format!("n{k}"),
            )
        })
        .collect();
    items.push((FIRST.into(), FIRST_LINK.into(), "t1".into()));
    let rss: Vec<_> = items
        .iter()
        .map(|(t, l, g)| {
            (
                t.as_str(),
                l.as_str(),
                g.as_str(),
                "Tue, 24 Nov 2026 09:00:00 +0800",
            )
        })
        .collect();
    let site = site_with(&None, "", &rss).await;
    let b = logged_in(&site, LEADER).await;
    let p = b.get("/items").await;
    assert!(
        p.body.contains("共 61 条") && p.body.contains("第 1 / 2 页"),
        "{}",
        p.body
    );
    assert!(p.body.contains("href=\"/items?page=2\""));
    let p = b.get("/items?page=2").await;
    assert_eq!(p.body.matches("<li>").count(), 11);
    let p = b.get("/items?topic=scenic").await;
    assert!(p.body.contains("共 1 条") && p.body.contains("<span class=\"tag\">景区安全</span>"));
    let p = b.get("/items?q=%E7%AC%AC5%E6%9C%9F").await; // 第5期
    assert_has!(p.body, "共 1 条");
    assert!(
        p.body.contains("value=\"第5期\""),
        "the filter stays in the form"
    );
    assert!(b
        .get("/items?source=news&from=2026-11-24&to=2026-11-24")
        .await
        .body
        .contains("共 61 条"));
    assert!(b
        .get("/items?from=2026-11-25")
        .await
        .body
        .contains("共 0 条"));
    let j = b.get("/items?topic=scenic&format=json").await;
    assert!(j.header("content-type").starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_str(&j.body).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["title"], FIRST);
    assert_eq!(v["items"][0]["topics"][0], "scenic");
}

#[tokio::test]
async fn sources_show_unreachable_and_the_report_gives_todays_csv() {
    let site = site(&None).await;
    site.s.http.set("/news.xml", common::Response::status(500));
    site.s.clock.advance(Duration::minutes(10));
    let _ = site.s.daemon.poll_once(None).await.unwrap();
    let b = logged_in(&site, OPERATOR).await;
    let p = b.get("/sources").await;
    assert_has!(p.body, "<span class=\"state unreachable\">无法访问</span>");
    assert!(p.body.contains("500"));
    // How late its items were heard (issue 24 §4): the forum's first report was seen as
    // it was published.
    assert_has!(
        p.body,
        "<td class=\"lag\" data-label=\"发现延迟\">中位 0秒 / 95% 0秒（1 条）</td>"
    );
    let dash = b.get("/").await;
    assert!(dash.body.contains("异常来源") && dash.body.contains("无法访问"));
    // A reason in Chinese first, the raw error below it as the detail (issue 28).
    for page in [&p, &dash] {
        let reason = page
            .body
            .find("<span class=\"reason\">网站返回 HTTP 500：网站故障</span>")
            .unwrap_or_else(|| panic!("{}", page.body));
        let detail = page.body.find("HTTP 500 Internal Server Error").unwrap();
        assert!(reason < detail, "{}", page.body);
    }

    let p = b.get("/report?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(p.status, 200);
    assert_has!(p.body, "1 起事件，2 项时限");
    assert!(p.body.contains("<svg class=\"chart\""));
    assert!(p.body.contains("进行中（剩余"));
    let csv = b
        .get("/report?from=2026-11-01&to=2026-11-30&format=csv")
        .await;
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv
        .header("content-disposition")
        .contains("yuqing-report-2026-11-01-2026-11-30.csv"));
    assert!(
        csv.body.starts_with('\u{feff}'),
        "a byte order mark for Excel"
    );
    assert!(csv.body.contains("事件编号,标题,专题,级别"));
    assert_has!(csv.body, &format!("#1,{FIRST},景区安全,重大"));
    assert_eq!(
        b.get("/report?from=2026-11-30&to=2026-11-01").await.status,
        400
    );
}

/// The state of the source `id` on `/sources`: the words of its state cell.
fn source_row_state(body: &str, id: &str) -> String {
    let row = &body[body
        .find(&format!("<tr data-source=\"{id}\">"))
        .unwrap_or_else(|| panic!("no row for {id}: {body}"))..];
    let row = &row[..row.find("</tr>").unwrap()];
    let at = row.find("<span class=\"state ").unwrap();
    let cell = &row[at..];
    cell[..cell.find("</span>").unwrap() + 7].to_string()
}

/// What `yuqing sources` prints for `site`.
fn sources_cli(site: &Site) -> String {
    common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["sources", "--config"])
            .arg(&site.s.config),
    )
}

/// Items whose filing is held back (a stored row that cannot be read is in the way) are
/// shown on the source's row, escaped, among the dashboard's troubled sources and by
/// `yuqing sources`, and each such item is listed on the dashboard, until they are filed.
#[tokio::test]
async fn items_held_back_show_on_the_sources_row_until_they_get_through() {
    use yuqing::vocab::clock::Clock;
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    let now = site.s.clock.now().timestamp();
    let error = "cannot file item 1 under topic scenic: incident #1: <b>catastrophic</b>";
    common::hold_filing(store, "news", 1, now, error).await;
    let b = logged_in(&site, OPERATOR).await;
    let row = |body: String| {
        let row = &body[body.find("<tr data-source=\"news\">").expect("news row")..];
        row[..row.find("</tr>").unwrap()].to_string()
    };
    let held = "<span class=\"reason held\">有条目暂未归入事件（自 2026-11-24 09:00）：\
                条目已保存，相关事件记录无法读取；请联系运维修复，修复后自动归入</span>\
                <small class=\"error-text\">cannot file item 1 under topic scenic: \
                incident #1: &#60;b&#62;catastrophic&#60;/b&#62;</small>";
    let r = row(b.get("/sources").await.body);
    assert_has!(r, held);
    assert!(!r.contains("<b>"), "{r}");
    let dash = b.get("/").await.body;
    assert_has!(dash, held);
    // The item itself, for the duty officer to judge by hand: its title, link,
    // topic, source and since when.
    let list = &dash[dash
        .find("<section class=\"held\" id=\"held\">")
        .expect("held list")..];
    let list = &list[..list.find("</section>").unwrap()];
    assert_has!(list, "暂未归入事件的信息");
    assert_has!(
        list,
        &format!("<a href=\"{}\"", common::console::FIRST_LINK)
    );
    assert_has!(list, common::console::FIRST);
    assert_has!(list, "<span class=\"tag topic\">景区安全</span>");
    assert_has!(list, "news · 自 2026-11-24 09:00 暂未归入");
    // The items list marks it too, its JSON and `yuqing items` as well.
    let items = b.get("/items").await.body;
    assert_has!(items, "<span class=\"tag held\"");
    let json: serde_json::Value =
        serde_json::from_str(&b.get("/items?format=json").await.body).unwrap();
    assert_eq!(
        json["items"][0]["held_topics"],
        serde_json::json!(["scenic"])
    );
    let cli = common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["items", "--since", "2026-11-01", "--config"])
            .arg(&site.s.config),
    );
    assert_has!(cli, "景区安全（暂未归入事件）");
    // The CLI says the same.
    let text = sources_cli(&site);
    let line = text.lines().find(|l| l.starts_with("news")).unwrap_or("");
    assert_has!(
        line,
        &format!(
            "有条目暂未归入事件（自 2026-11-24 09:00）：条目已保存，相关事件记录无法读取；\
             请联系运维修复，修复后自动归入（{error}）"
        )
    );

    // Filed (or no longer matching), it is gone.
    let mut tx = store.begin().await.unwrap();
    store.release_filing(&mut tx, 1, "scenic").await.unwrap();
    tx.commit().await.unwrap();
    let r = row(b.get("/sources").await.body);
    assert!(!r.contains("暂未归入"), "{r}");
    assert!(!b.get("/").await.body.contains("暂未归入"));
    assert!(!b.get("/items").await.body.contains("tag held"));
    let json = b.get("/items?format=json").await.body;
    assert!(!json.contains("held_topics"), "{json}");
    let text = sources_cli(&site);
    assert!(!text.contains("暂未归入"), "{text}");
}

/// Silent means what the CLI and the mail mean: a source's own `stale_after` passed with
/// nothing new. A source without one is not called silent however quiet it is.
#[tokio::test]
async fn sources_call_a_source_silent_by_its_stale_after_as_the_cli_does() {
    let quiet = common::HttpServer::start().await;
    quiet.set(
        "/weibo.xml",
        common::Response::rss(common::rss(&[(
            "市政府发布天气提示",
            "https://weibo.example/1",
            "w1",
            "",
        )])),
    );
    let extra = format!(
        "[[source]]\nid = \"weibo\"\nname = \"市政府微博\"\nkind = \"feed\"\nurl = \"{}\"\n\
         every = \"10m\"\nstale_after = \"12h\"\n",
        quiet.url("/weibo.xml")
    );
    let site = site_with(&None, &extra, &first_items()).await;
    // A day and more of the same feeds: nothing new anywhere.
    for _ in 0..5 {
        site.s.clock.advance(Duration::hours(6));
        for (id, r) in site.s.daemon.poll_once(None).await.unwrap() {
            r.unwrap_or_else(|e| panic!("{id}: {e}"));
        }
    }
    let b = logged_in(&site, OPERATOR).await;
    let p = b.get("/sources").await;
    assert_eq!(
        source_row_state(&p.body, "weibo"),
        "<span class=\"state silent\">无新内容</span>"
    );
    assert_eq!(
        source_row_state(&p.body, "news"),
        "<span class=\"state ok\">正常</span>",
        "30 hours without news but no stale_after: not silent"
    );
    // The CLI says the same.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["sources", "--json", "--config"])
        .arg(&site.s.config)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let state = |id: &str| {
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| s["state"].clone())
    };
    assert_eq!(state("weibo"), Some("silent".into()), "{json:#}");
    assert_eq!(state("news"), Some("ok".into()), "{json:#}");

    // A document that reads only after a repair is shown as read, with what was repaired.
    quiet.set(
        "/weibo.xml",
        common::Response::rss(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>\
             <title>微博</title><link>http://weibo.example/</link><description>d</description>\
             <item><title>第一条</title><link>http://weibo.example/1</link></item>\
             <item><title>错配</titel><link>http://weibo.example/2</link></item>\
             </channel></rss>"
                .to_string(),
        ),
    );
    site.s.clock.advance(Duration::minutes(10));
    for (id, r) in site.s.daemon.poll_once(None).await.unwrap() {
        r.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    let p = b.get("/sources").await;
    let row = &p.body[p.body.find("<tr data-source=\"weibo\">").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("<span class=\"state ok\">正常</span>") && row.contains("已修复后读取："),
        "{row}"
    );
    let text = sources_cli(&site);
    let line = text.lines().find(|l| l.starts_with("weibo")).unwrap_or("");
    assert!(
        line.contains("正常") && line.contains("已修复后读取："),
        "{text}"
    );
}

/// `/briefing`: yesterday's 日报 by default (here empty, said plainly), any day or week by
/// its dates, with links to the days around it and to its week; the same numbers as the
/// mail; every role may read it, nobody logged out.
#[tokio::test]
async fn the_briefing_page_shows_a_day_or_a_week_with_links_between_them() {
    let site = site(&None).await;
    assert_eq!(Browser::new(&site.url).get("/briefing").await.status, 303);
    let b = logged_in(&site, LEADER).await;
    let dash = b.get("/").await;
    assert_has!(dash.body, "<a href=\"/briefing\">简报</a>");

    // Now is 2026-11-24 09:00 in Shanghai: yesterday had nothing.
    let p = b.get("/briefing").await;
    assert_eq!(p.status, 200);
    assert_has!(
        p.body,
        "<h1>舆情日报 <small id=\"period\">2026-11-23 00:00 至 2026-11-24 00:00</small>"
    );
    assert_has!(p.body, "<p class=\"notice\" id=\"summary\">本日未监测到信息。新立案事件 0 起，结案 0 起，无超时时限。</p>");
    assert!(p.body.contains("本日未监测到信息。</p>"));
    assert!(!p.body.contains("<svg"), "no chart of nothing");
    for link in [
        "href=\"/briefing?from=2026-11-22&#38;to=2026-11-22\" id=\"prev\">前一日",
        "href=\"/briefing?from=2026-11-24&#38;to=2026-11-24\" id=\"next\">后一日",
        "href=\"/briefing?from=2026-11-23&#38;to=2026-11-29\" id=\"week\">所在周",
    ] {
        assert!(p.body.contains(link), "{link}\n{}", p.body);
    }

    // Today so far (09:10): the incident of 09:00, its item, the chart; no link into
    // tomorrow.
    site.s.clock.advance(Duration::minutes(10));
    let p = b.get("/briefing?from=2026-11-24&to=2026-11-24").await;
    assert_eq!(p.status, 200);
    assert_has!(p.body, "id=\"summary\">本日监测信息 1 条");
    assert_has!(p.body, "新立案事件 1 起");
    assert!(p.body.contains("<svg class=\"chart\""));
    assert_has!(p.body, "<td>景区安全</td><td>1</td>");
    assert_has!(
        p.body,
        &format!("<td class=\"event\"><a href=\"/incidents/1\">#1 {FIRST}</a></td>")
    );
    assert_has!(p.body, &format!("信息最多的事件为 #1「{FIRST}」1 条"));
    assert!(!p.body.contains("id=\"next\""), "{}", p.body);
    // The same paragraph as `yuqing briefing` prints for the same period.
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args([
            "briefing",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
            "--config",
        ])
        .arg(&site.s.config)
        .output()
        .unwrap();
    let cli = String::from_utf8(out.stdout).unwrap();
    let summary = cli.lines().nth(4).unwrap_or_default();
    assert!(summary.starts_with("本日监测信息 1 条"), "{cli}");

    // Last week: a 周报, the weeks around it and its last day.
    let p = b.get("/briefing?from=2026-11-16&to=2026-11-22").await;
    assert_eq!(p.status, 200);
    assert_has!(
        p.body,
        "<h1>舆情周报 <small id=\"period\">2026-11-16 00:00 至 2026-11-23 00:00</small>"
    );
    for link in [
        "href=\"/briefing?from=2026-11-09&#38;to=2026-11-15\" id=\"prev\">上一周",
        "href=\"/briefing?from=2026-11-23&#38;to=2026-11-29\" id=\"next\">下一周",
        "href=\"/briefing?from=2026-11-22&#38;to=2026-11-22\" id=\"day\">当周最后一日日报",
    ] {
        assert!(p.body.contains(link), "{link}\n{}", p.body);
    }
    // This week, up to now: by day, and what it covers said plainly.
    let p = b.get("/briefing?from=2026-11-23&to=2026-11-29").await;
    assert_eq!(p.status, 200);
    assert_has!(
        p.body,
        "<h1>舆情简报 <small id=\"period\">2026-11-23 00:00 至 2026-11-24 09:10</small>"
    );
    assert!(p.body.contains("<th>日期</th>"));
    assert!(p.body.contains("本期监测信息 1 条"));

    for bad in [
        "/briefing?from=2026-11-30&to=2026-11-01",
        "/briefing?from=23/11/2026",
        "/briefing?from=2026-12-01",
        "/briefing?from=2026-01-01&to=2026-11-01",
    ] {
        let p = b.get(bad).await;
        assert_eq!(p.status, 400, "{bad}");
        assert!(p.body.contains("日期格式为 2026-11-01"), "{bad}");
    }
    for who in [DUTY, OPERATOR] {
        assert_eq!(
            logged_in(&site, who).await.get("/briefing").await.status,
            200
        );
    }
}

#[tokio::test]
async fn an_incident_that_cannot_be_read_is_named_on_the_dashboard_not_a_server_error() {
    use crate::common::console::{logged_in, site_where_1_cannot_be_read, DUTY};
    // Two incidents; #1's stored severity is one this version does not know (written by a
    // newer version). The dashboard used to answer 500 for everyone: one row hid them all.
    let site = site_where_1_cannot_be_read().await;
    let duty = logged_in(&site, DUTY).await;

    let p = duty.get("/").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_has!(p.body, "#2 ");
    assert_has!(p.body, "无法读取的事件");
    assert_has!(p.body, "事件 #1 <small class=\"error-text\">");
    assert_has!(p.body, "catastrophic");
    // The incident itself says what is wrong, and that retrying will not help.
    let p = duty.get("/incidents/1").await;
    assert_eq!(p.status, 500);
    assert_has!(p.body, "这条记录无法读取");
    assert_has!(p.body, "重试无效，请联系运维修复");
    assert!(!p.body.contains("请稍后重试"), "{}", p.body);
    assert_eq!(duty.get("/incidents/2").await.status, 200);
    // `yuqing incidents` lists #2 and names #1 on stderr, as the dashboard does.
    let (stdout, stderr) = site.cli(&["incidents"]);
    assert_has!(stdout, "#2");
    assert!(!stdout.contains("#1 "), "{stdout}");
    assert_has!(stderr, "事件 #1 的记录无法读取");
    assert_has!(stderr, "catastrophic");
}

#[tokio::test]
async fn a_report_names_an_incident_it_cannot_read_and_counts_the_others() {
    use crate::common::console::{logged_in, site_where_1_cannot_be_read, LEADER};
    // As above: #1's stored severity is unknown to this version. The compliance report used
    // to answer 500 for the whole period; now it counts #2, and says above the table, in the
    // CSV and in the CLI's output that #1 is not counted and why.
    let site = site_where_1_cannot_be_read().await;
    let leader = logged_in(&site, LEADER).await;

    let p = leader.get("/report?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_has!(p.body, "1 起事件，2 项时限");
    assert_has!(p.body, yuqing::notify::report::UNREADABLE);
    assert_has!(p.body, "事件 #1 <small class=\"error-text\">");
    assert_has!(p.body, "catastrophic");
    assert_has!(p.body, "<td>#2</td>");
    let csv = leader
        .get("/report?from=2026-11-01&to=2026-11-30&format=csv")
        .await;
    assert_eq!(csv.status, 200);
    assert_has!(csv.body, "\n#2,");
    // Quoted: the reason quotes the column's name.
    assert_has!(csv.body, "\n#1,\"（记录无法读取，未计入：");
    assert_has!(csv.body, ",无法读取,");

    let (stdout, stderr) = site.cli(&[
        "report",
        "incidents",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    ]);
    assert_has!(stdout, "\n#2\t");
    assert_has!(stdout, "\n#1\t（记录无法读取，未计入：");
    assert_has!(stdout, "另 1 起无法读取、未计入");
    assert_has!(stderr, "事件 #1 的记录无法读取");
}

/// The console with incident #1, whose item 1 has a stored tone this version does not
/// know (a newer version wrote it), and the duty officer logged in.
async fn item_1_cannot_be_read() -> (
    crate::common::console::Site,
    crate::common::console::Browser,
) {
    use crate::common::console::{logged_in, site, DUTY};
    let site = site(&None).await;
    sqlx::query("UPDATE items SET tone = 'furious' WHERE id = 1")
        .execute(site.s.daemon.store.pool())
        .await
        .unwrap();
    let duty = logged_in(&site, DUTY).await;
    (site, duty)
}

#[tokio::test]
async fn an_item_that_cannot_be_read_is_named_on_its_incidents_page() {
    // Item 1's stored tone is one this version does not know (a newer version wrote it).
    // The incident's page, where the duty officer acknowledges and records the release,
    // used to answer 500; now it shows, and names the item with why.
    // The site is kept: dropping it stops the console.
    let (_site, duty) = item_1_cannot_be_read().await;
    let p = duty.get("/incidents/1").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_has!(
        p.body,
        "信息 1 无法读取（可能由较新版本写入），请联系运维修复"
    );
    assert_has!(p.body, "unknown tone `furious`");
    // What the duty officer came for is there: acknowledging and recording the release.
    assert_has!(p.body, "action=\"/incidents/1/ack\"");
    assert_has!(p.body, "action=\"/incidents/1/release\"");
}

#[tokio::test]
async fn an_item_that_cannot_be_read_is_named_in_the_item_list_and_its_search() {
    // The site is kept: dropping it stops the console.
    let (_site, duty) = item_1_cannot_be_read().await;
    // The list, and a search that finds it: each used to answer 500.
    for path in ["/items", "/items?q=%E5%9D%8D%E5%A1%8C"] {
        let p = duty.get(path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        assert_has!(
            p.body,
            "信息 1 无法读取（可能由较新版本写入），请联系运维修复"
        );
        assert_has!(p.body, "unknown tone `furious`");
        assert!(!p.body.contains("没有符合条件的信息"), "{}", p.body);
    }
    let p = duty.get("/items?format=json").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let v: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(v["unreadable"][0]["id"], 1, "{v}");
    assert_has!(v["unreadable"][0]["error"].as_str().unwrap(), "furious");
}
