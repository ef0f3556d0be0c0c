//! The duty console over HTTP, as a duty officer, a leader and an operator use it: logging
//! in, every page, every action and every role's limits, CSRF, escaping of what came from
//! the internet, and sessions shared by two daemons on one database. A real server on
//! loopback, a real SQLite file (and PostgreSQL when `YUQING_TEST_POSTGRES` is set), time
//! from a manual clock.

use crate::common;
use yuqing::vocab::ids::IncidentId;

use chrono::{Duration, TimeZone, Utc};
use common::console::{
    first_items, logged_in, publish, site, site_with, Browser, DUTY, FIRST, FIRST_LINK, LEADER,
    OPERATOR, PASSWORD,
};
use std::process::Command;
use yuqing::vocab::clock::Clock;

fn actors(actions: &[yuqing::store::Action], action: &str) -> Vec<String> {
    actions
        .iter()
        .filter(|a| a.action == action)
        .map(|a| a.actor.clone())
        .collect()
}

#[tokio::test]
async fn with_no_users_the_login_page_says_how_to_create_one_and_nothing_logs_in() {
    let dirs = common::TempDirs::new();
    let config = dirs.config("[web]\nlisten = \"127.0.0.1:0\"\n");
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let clock = yuqing::vocab::clock::ManualClock::new(Utc::now());
    let daemon = common::start(&config, &clock).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let (addr, _) = daemon.serve_console(stop.clone()).await.unwrap().unwrap();
    let b = Browser::new(&format!("http://{addr}"));
    let p = b.get("/login").await;
    assert_eq!(p.status, 200);
    assert_has!(p.body, "yuqing user add");
    for (user, password) in [("admin", "admin"), ("admin", ""), ("root", "password")] {
        let p = b
            .post("/login", &[("username", user), ("password", password)])
            .await;
        assert_eq!(p.status, 401, "{user}/{password} logged in");
    }
    stop.cancel();
}

#[tokio::test]
async fn a_duty_officer_logs_in_sees_the_countdown_and_logs_out() {
    let site = site(&None).await;
    let b = Browser::new(&site.url);
    // Not logged in: every page sends to the login page, and says where to come back.
    let p = b.get("/incidents/1").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/login?next=%2Fincidents%2F1");
    assert_eq!(b.get("/events").await.status, 401);
    let p = b.post_raw("/incidents/1/ack", &[]).await;
    assert_eq!(
        (p.status, p.location()),
        (303, "/login"),
        "a form without a session"
    );

    let p = b.get("/login?next=%2Fincidents%2F1").await;
    let wrong = b
        .post(
            "/login",
            &[("username", DUTY), ("password", "wrong password")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("用户名或密码不正确"));
    assert!(p.body.contains("value=\"/incidents/1\""));
    let ok = b
        .post(
            "/login",
            &[
                ("username", DUTY),
                ("password", PASSWORD),
                ("next", "/incidents/1"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/incidents/1");
    let session = ok.header("set-cookie");
    assert!(
        ok.headers.get_all("set-cookie").iter().any(|c| {
            let c = c.to_str().unwrap();
            c.starts_with("yuqing_session=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Strict")
                && !c.contains("Secure")
        }),
        "{session}"
    );

    // 01:00 UTC: the release is due at 06:00, five hours left.
    let dash = b.get("/").await;
    assert_eq!(dash.status, 200);
    assert!(dash.body.contains("张三（值班员）"));
    assert!(dash.body.contains(&format!("#1 {FIRST}</a>")));
    assert_has!(dash.body, "class=\"countdown ok\"");
    assert!(dash.body.contains("剩余 5:00:00"));
    assert!(
        dash.body.contains("剩余 1天 00:00:00"),
        "press conference in 24h"
    );
    assert!(dash.body.contains("未确认"));
    // Under an hour left: coloured `soon`; past due: `overdue`.
    site.s
        .clock
        .set(Utc.with_ymd_and_hms(2026, 11, 24, 5, 30, 0).unwrap());
    let dash = b.get("/").await;
    assert_has!(
        dash.body,
        "<span class=\"countdown soon\" data-due=\"1795500000\">剩余 0:30:00</span>"
    );
    site.s
        .clock
        .set(Utc.with_ymd_and_hms(2026, 11, 24, 6, 5, 0).unwrap());
    let dash = b.get("/").await;
    assert!(dash.body.contains("class=\"countdown overdue\""));
    assert!(dash.body.contains("已超时 0:05:00"));

    let out = b.post("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(b.get("/").await.status, 303, "logged out");
}

#[tokio::test]
async fn every_page_carries_a_strict_content_security_policy() {
    let site = site(&None).await;
    let b = logged_in(&site, OPERATOR).await;
    for path in [
        "/login",
        "/",
        "/incidents/1",
        "/items",
        "/sources",
        "/report",
        "/briefing",
        "/classify",
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        let csp = p.header("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(
            !p.body.contains("<script>") && !p.body.contains(" style=\""),
            "{path}: inline script or style"
        );
        assert!(
            !p.body.contains("http://") || path == "/incidents/1" || path == "/items",
            "{path}: an outside asset"
        );
    }
    let js = b.get("/assets/console.js").await;
    assert_eq!(js.status, 200);
    assert!(js.header("content-type").starts_with("text/javascript"));
    assert!(b
        .get("/assets/console.css")
        .await
        .body
        .contains(".countdown"));
}

#[tokio::test]
async fn a_form_without_its_csrf_token_changes_nothing() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    b.get("/incidents/1").await;
    let none = b.post_raw("/incidents/1/ack", &[]).await;
    assert_eq!(none.status, 403);
    let forged = b
        .post_raw("/incidents/1/ack", &[("authenticity_token", "Zm9yZ2Vk")])
        .await;
    assert_eq!(forged.status, 403);
    // A token from another browser's cookie does not fit this one's.
    let other = logged_in(&site, DUTY).await;
    let theirs = other.get("/incidents/1").await.token().unwrap();
    let crossed = b
        .post_raw(
            "/incidents/1/ack",
            &[("authenticity_token", theirs.as_str())],
        )
        .await;
    assert_eq!(crossed.status, 403);
    // Logging in needs it too.
    let fresh = Browser::new(&site.url);
    let p = fresh
        .post_raw("/login", &[("username", DUTY), ("password", PASSWORD)])
        .await;
    assert_eq!(p.status, 403);
    let i = common::incident(&site.s.daemon.store, 1).await;
    assert!(i.acknowledged_by.is_none(), "acknowledged by a forged form");
}

backend_test!(the_duty_officer_acknowledges_and_records_the_release_and_the_cli_names_them);
async fn the_duty_officer_acknowledges_and_records_the_release_and_the_cli_names_them(
    backend: Option<String>,
) {
    let site = site(&backend).await;
    let b = logged_in(&site, DUTY).await;
    site.s.clock.advance(Duration::minutes(12));
    b.get("/incidents/1").await;
    let p = b.post("/incidents/1/ack", &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/incidents/1");
    let page = b.get("/incidents/1").await;
    assert!(
        page.body.contains("事件 #1 已由 张三 确认接报"),
        "the flash"
    );
    assert_has!(page.body, "张三（2026-11-24 09:12）");
    site.s.clock.advance(Duration::minutes(30));
    let p = b
        .post(
            "/incidents/1/release",
            &[("url", "https://www.example.gov.cn/notice/1")],
        )
        .await;
    assert_eq!(p.status, 303);
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "按时完成");
    // The timeline: who and when, for the acknowledgement and the release.
    let timeline = &page.body[page.body.find("id=\"timeline\"").unwrap()..];
    assert_has!(timeline, "<time>2026-11-24 09:12</time> <b class=\"who\">张三</b> <span class=\"what\">确认接报</span>");
    assert!(
        timeline.contains("<b class=\"who\">张三</b> <span class=\"what\">记录发布权威信息</span>")
    );
    assert!(timeline.contains("https://www.example.gov.cn/notice/1"));
    assert!(
        timeline.contains("class=\"mail\""),
        "the opening mail is on the timeline"
    );

    let store = &site.s.daemon.store;
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(actors(&list, "acknowledged"), [DUTY]);
    assert_eq!(actors(&list, "release"), [DUTY]);
    // The command line shows the same record.
    let text = common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["incident", "show", "1", "--config"])
            .arg(&site.s.config),
    );
    assert_has!(text, "张三 确认接报");
    assert_has!(
        text,
        "张三 记录发布权威信息（https://www.example.gov.cn/notice/1）"
    );
}

#[tokio::test]
async fn a_leader_sees_and_notes_but_changes_nothing_and_an_operator_only_reads_incidents() {
    let site = site(&None).await;
    let leader = logged_in(&site, LEADER).await;
    let page = leader.get("/incidents/1").await;
    assert_eq!(page.status, 200);
    // How it spread (issue 24 §3), under the heading.
    assert_has!(
        page.body,
        "<div>传播：首发 【news】 2026-11-24 09:00；来源 1 个，转载 0 条</div>"
    );
    assert!(
        !page.body.contains("id=\"do-ack\""),
        "no act buttons for a leader"
    );
    assert!(page.body.contains("id=\"do-note\""));
    for (action, fields) in [
        ("ack", vec![]),
        ("release", vec![("url", "https://www.example.gov.cn/n/1")]),
        ("press", vec![]),
        ("severity", vec![("level", "ordinary")]),
        ("close", vec![]),
        ("merge", vec![("from", "2")]),
        ("split", vec![("item", "1")]),
        ("dismiss", vec![("reason", "误报")]),
    ] {
        let p = leader
            .post(&format!("/incidents/1/{action}"), &fields)
            .await;
        assert_eq!(p.status, 403, "a leader's {action}");
    }
    let p = leader
        .post("/incidents/1/note", &[("text", "请尽快发布通报")])
        .await;
    assert_eq!(p.status, 303);

    let operator = logged_in(&site, OPERATOR).await;
    assert_eq!(operator.get("/incidents/1").await.status, 200);
    operator.get("/classify").await;
    let p = operator
        .post("/incidents/1/note", &[("text", "运维备注")])
        .await;
    assert_eq!(p.status, 403);
    let p = operator.post("/incidents/1/ack", &[]).await;
    assert_eq!(p.status, 403);

    let store = &site.s.daemon.store;
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(actors(&list, "note"), [LEADER]);
    let i = common::incident(store, 1).await;
    assert_eq!((i.status.as_str(), i.severity.as_str()), ("open", "major"));
    assert!(i.acknowledged_by.is_none());
}

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
async fn press_severity_merge_split_and_close_go_through_the_workflow() {
    let items = [
        (FIRST, FIRST_LINK, "t1", "Tue, 24 Nov 2026 09:00:00 +0800"),
        (
            "另一处山体塌方导致景区道路坍塌中断",
            "https://bbs.example.cn/t/2",
            "t2",
            "Tue, 24 Nov 2026 08:30:00 +0800",
        ),
    ];
    let site = site_with(&None, "", &items).await;
    let store = &site.s.daemon.store;
    assert_eq!(
        store.incidents(false).await.unwrap().len(),
        2,
        "two events, two incidents"
    );
    let b = logged_in(&site, DUTY).await;
    b.get("/incidents/1").await;

    let p = b
        .post("/incidents/1/press", &[("note", "市政府新闻办 10:00")])
        .await;
    assert_eq!(p.status, 303);
    let p = b
        .post("/incidents/1/severity", &[("level", "especially_major")])
        .await;
    assert_eq!(p.status, 303);
    // A refused step is shown on the page, not a failure.
    let p = b.post("/incidents/1/merge", &[("from", "1")]).await;
    assert_eq!(p.status, 303);
    assert!(b
        .get("/incidents/1")
        .await
        .body
        .contains("未执行：不能把事件 #1 并入它自己"));
    let p = b.post("/incidents/1/merge", &[("from", "#2")]).await;
    assert_eq!(p.status, 303);
    let two = common::incident(store, 2).await;
    assert_eq!(
        (two.status.as_str(), two.merged_into),
        ("merged", Some(IncidentId(1)))
    );
    let one = common::incident(store, 1).await;
    assert_eq!(one.severity, "especially_major");
    assert_eq!(
        one.clock_start,
        Utc.with_ymd_and_hms(2026, 11, 24, 0, 30, 0)
            .unwrap()
            .timestamp(),
        "the earlier clock start"
    );

    // Split item 2 back out: the new incident's page is where the officer lands.
    let p = b.post("/incidents/1/split", &[("item", "2")]).await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/incidents/3");
    let three = b.get("/incidents/3").await;
    assert_has!(three.body, "拆分自");
    let p = b.post("/incidents/3/close", &[]).await;
    assert_eq!(p.status, 303);
    let three = common::incident(store, 3).await;
    assert_eq!(three.status, "closed");
    assert_eq!(three.closed_by.as_deref(), Some(DUTY));
    let page = b.get("/incidents/3").await;
    assert!(page.body.contains("不能再处置"));
    assert!(!page.body.contains("id=\"do-ack\""));
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    for action in ["press_conference", "severity", "merged", "split"] {
        assert!(
            actors(&list, action).contains(&DUTY.to_string()),
            "{action}: {list:?}"
        );
    }
    // Closed: an action is refused with the workflow's reason.
    let p = b.post("/incidents/3/ack", &[]).await;
    assert_eq!(p.status, 303);
    assert!(b
        .get("/incidents/3")
        .await
        .body
        .contains("未执行：事件 #3 已结案"));
    // A bad URL and an unknown action.
    b.get("/incidents/1").await;
    b.post("/incidents/1/release", &[("url", "not a url")])
        .await;
    assert!(b.get("/incidents/1").await.body.contains("不是网址"));
    // Any scheme but http and https is refused (issue 26 §2.7): it would be a link.
    for hostile in [
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://gov.example.cn/n",
    ] {
        b.get("/incidents/1").await;
        b.post("/incidents/1/release", &[("url", hostile)]).await;
        let page = b.get("/incidents/1").await.body;
        assert!(
            page.contains("只接受 http:// 或 https:// 开头的链接"),
            "{hostile}: {page}"
        );
    }
    let store = &site.s.daemon.store;
    let recorded = store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        recorded.iter().all(|a| {
            let d = a.detail.as_deref().unwrap_or("");
            !d.contains("javascript:") && !d.contains("data:") && !d.contains("ftp:")
        }),
        "{recorded:#?}"
    );
    assert_eq!(b.post("/incidents/1/explode", &[]).await.status, 404);
    assert_eq!(b.get("/incidents/99").await.status, 404);
}

#[tokio::test]
async fn a_title_from_the_internet_is_shown_as_text() {
    // Escaped once more in the feed, as a site that shows the markup as text sends it: the
    // parser hands the console the title `<img src=x onerror=alert(1)> 景区坍塌`.
    let evil = "&lt;img src=x onerror=alert(1)&gt; 景区坍塌";
    let items = [(
        evil,
        "javascript:alert(2)",
        "x1",
        "Tue, 24 Nov 2026 09:00:00 +0800",
    )];
    let site = site_with(&None, "", &items).await;
    let stored = site.s.daemon.store.item(1).await.unwrap().unwrap();
    assert_eq!(stored.title, "<img src=x onerror=alert(1)> 景区坍塌");
    let b = logged_in(&site, DUTY).await;
    for path in ["/incidents/1", "/items"] {
        let p = b.get(path).await;
        assert!(!p.body.contains("<img"), "{path}: {}", p.body);
        assert!(
            p.body.contains("&#60;img src=x onerror=alert(1)&#62;")
                || p.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}: {}",
            p.body
        );
        assert!(
            !p.body.contains("javascript:"),
            "{path}: a javascript: link"
        );
    }
    // The matched words are marked, inside the escaped text.
    let p = b.get("/incidents/1").await;
    assert!(
        p.body.contains("<mark>景区</mark>") && p.body.contains("<mark>坍塌</mark>"),
        "{}",
        p.body
    );
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
    assert_has!(p.body, "<td class=\"lag\">中位 0秒 / 95% 0秒（1 条）</td>");
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
    let text = common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["sources", "--config"])
            .arg(&site.s.config),
    );
    let line = text.lines().find(|l| l.starts_with("weibo")).unwrap_or("");
    assert!(
        line.contains("正常") && line.contains("已修复后读取："),
        "{text}"
    );
}

#[tokio::test]
async fn a_disabled_user_or_a_changed_password_ends_the_session() {
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    let b = logged_in(&site, DUTY).await;
    assert_eq!(b.get("/").await.status, 200);
    store.disable_user(DUTY, 10).await.unwrap();
    assert_eq!(b.get("/").await.status, 303);
    let p = b.get("/login").await;
    let p2 = b
        .post("/login", &[("username", DUTY), ("password", PASSWORD)])
        .await;
    assert_eq!(
        (p.status, p2.status),
        (200, 401),
        "a disabled user cannot log in"
    );

    let leader = logged_in(&site, LEADER).await;
    let hash = yuqing::web::hash_password("another long password").unwrap();
    store.set_password(LEADER, &hash, 20).await.unwrap();
    assert_eq!(leader.get("/").await.status, 303);
}

#[tokio::test]
async fn repeated_failed_logins_wait_longer_each_time_on_the_clock() {
    let site = site(&None).await;
    let b = Browser::new(&site.url);
    b.get("/login").await;
    let guess = || b.post("/login", &[("username", DUTY), ("password", "guess")]);
    // Three attempts are checked at once; the fourth must wait a second, unchecked.
    for _ in 0..3 {
        assert_eq!(guess().await.status, 401);
    }
    let p = guess().await;
    assert_eq!(p.status, 429, "{}", p.body);
    assert_has!(p.body, "请 1 秒后再试");
    assert_eq!(p.header("retry-after"), "1");
    // A second later one more is checked, and then the wait is two seconds.
    let clock = &site.s.clock;
    clock.set(clock.now() + Duration::seconds(1));
    assert_eq!(guess().await.status, 401);
    assert_eq!(guess().await.status, 429);
    clock.set(clock.now() + Duration::seconds(2));
    // The real user, once the wait is over, gets in; their count starts again.
    let ok = b
        .post("/login", &[("username", DUTY), ("password", PASSWORD)])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
}

/// The status of `POST /login` with `password` on each of `passwords.len()` connections,
/// each sent but for its last byte, then all last bytes at once (issue 26 §2.1).
async fn guesses_at_once(url: &str, cookie: &str, token: &str, passwords: &[&str]) -> Vec<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = url.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for password in passwords {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("authenticity_token", token),
                ("username", DUTY),
                ("password", password),
                ("next", "/"),
            ])
            .finish();
        let request = format!(
            "POST /login HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let mut c = tokio::net::TcpStream::connect(&host).await.unwrap();
        let bytes = request.into_bytes();
        c.write_all(&bytes[..bytes.len() - 1]).await.unwrap();
        held.push((c, bytes[bytes.len() - 1]));
    }
    let go = std::sync::Arc::new(tokio::sync::Barrier::new(held.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for (mut c, last) in held {
        let go = go.clone();
        tasks.spawn(async move {
            go.wait().await;
            c.write_all(&[last]).await.unwrap();
            let mut answer = Vec::new();
            let _ = c.read_to_end(&mut answer).await;
            let head = String::from_utf8_lossy(&answer[..answer.len().min(12)]).to_string();
            head.get(9..12)
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or_else(|| panic!("no status: {head:?}"))
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    statuses
}

backend_test!(
    two_hundred_guesses_at_once_are_checked_only_as_far_as_the_limit,
    multi_thread
);
async fn two_hundred_guesses_at_once_are_checked_only_as_far_as_the_limit(backend: Option<String>) {
    let site = site(&backend).await;
    let b = Browser::new(&site.url);
    b.get("/login").await;
    let (cookie, token) = (b.cookie_header(), b.last_token().unwrap());
    // 200 wrong guesses at once: three are checked (the account's free attempts), the
    // rest answered 429 unchecked.
    let first = guesses_at_once(&site.url, &cookie, &token, &["guess"; 200]).await;
    let checked: Vec<u16> = first.iter().copied().filter(|s| *s != 429).collect();
    assert_eq!(checked, vec![401; 3], "{backend:?}: {first:?}");
    // Again, with the right password among them: over the limit, nobody gets in.
    let mut passwords = vec!["guess"; 199];
    passwords.insert(117, PASSWORD);
    let second = guesses_at_once(&site.url, &cookie, &token, &passwords).await;
    assert!(second.iter().all(|s| *s == 429), "{backend:?}: {second:?}");
    // The count is in the store: a restarted daemon on the database keeps it.
    let again = common::start(&site.s.config, &site.s.clock).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let (addr, _) = again.serve_console(stop.clone()).await.unwrap().unwrap();
    let other = Browser::new(&format!("http://{addr}"));
    other.get("/login").await;
    let p = other
        .post("/login", &[("username", DUTY), ("password", PASSWORD)])
        .await;
    assert_eq!(
        p.status, 429,
        "{backend:?}: another daemon forgot the count"
    );
    // Once the wait is over, the real user gets in.
    site.s.clock.set(site.s.clock.now() + Duration::seconds(1));
    let p = other
        .post("/login", &[("username", DUTY), ("password", PASSWORD)])
        .await;
    assert_eq!(p.status, 303, "{backend:?}: {}", p.body);
    stop.cancel();
}

#[tokio::test]
async fn people_logging_in_from_one_address_do_not_use_up_its_attempts() {
    // One office behind one address (or nginx without trusted_proxies): twenty logins in
    // the same second, and a few typos, never wait.
    let site = site(&None).await;
    for i in 0..20 {
        let b = Browser::new(&site.url);
        b.get("/login").await;
        if i % 5 == 0 {
            let p = b
                .post("/login", &[("username", LEADER), ("password", "typo")])
                .await;
            assert_eq!(p.status, 401, "typo {i}");
        }
        let name = [DUTY, LEADER, OPERATOR][i % 3];
        let p = b
            .post("/login", &[("username", name), ("password", PASSWORD)])
            .await;
        assert_eq!(p.status, 303, "login {i}: {}", p.body);
    }
}

#[tokio::test]
async fn x_real_ip_counts_only_from_a_trusted_proxy() {
    for (trusted, real_user_waits) in [("trusted_proxies = [\"127.0.0.1\"]\n", false), ("", true)] {
        let site = site_with(&None, trusted, &first_items()).await;
        let b = Browser::new(&site.url);
        b.get("/login").await;
        // A guesser behind nginx tries eleven names from one address: that address waits.
        for n in 0..11 {
            let name = format!("guess{n}");
            let p = b
                .post_with(
                    "/login",
                    &[
                        ("authenticity_token", &b.last_token().unwrap()),
                        ("username", &name),
                        ("password", "guess"),
                    ],
                    &[("x-real-ip", "203.0.113.9")],
                )
                .await;
            assert_eq!(p.status, if n < 10 { 401 } else { 429 }, "guess {n}");
        }
        // The real user, from another address, is not held up by it unless the header
        // was not trusted (then both are the proxy's 127.0.0.1).
        let p = b
            .post_with(
                "/login",
                &[
                    ("authenticity_token", &b.last_token().unwrap()),
                    ("username", DUTY),
                    ("password", PASSWORD),
                ],
                &[("x-real-ip", "198.51.100.2")],
            )
            .await;
        assert_eq!(
            p.status,
            if real_user_waits { 429 } else { 303 },
            "{trusted}"
        );
    }
}

backend_test!(two_daemons_on_one_database_serve_the_same_sessions_and_forms);
async fn two_daemons_on_one_database_serve_the_same_sessions_and_forms(backend: Option<String>) {
    let a = site(&backend).await;
    // A second daemon on the same config and database.
    let clock = a.s.clock.clone();
    let daemon = common::start(&a.s.config, &clock).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let (addr, _) = daemon.serve_console(stop.clone()).await.unwrap().unwrap();
    let on_a = logged_in(&a, DUTY).await;
    on_a.get("/incidents/1").await;
    let on_b = on_a.at(&format!("http://{addr}"));
    let p = on_b.get("/").await;
    assert_eq!(p.status, 200, "the session from A is known to B");
    let ta = on_a.get("/").await.token();
    let tb = on_b.get("/").await.token();
    assert_eq!(ta, tb, "one CSRF secret for both daemons");
    // The form served by A is accepted by B.
    on_a.get("/incidents/1").await;
    let p = on_b.post("/incidents/1/ack", &[]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let i = common::incident(&daemon.store, 1).await;
    assert_eq!(i.acknowledged_by.as_deref(), Some(DUTY));
    // Logged out on B, gone on A.
    on_b.get("/").await;
    assert_eq!(on_b.post("/logout", &[]).await.status, 303);
    assert_eq!(on_a.get("/").await.status, 303);
    stop.cancel();
}

#[tokio::test]
async fn a_session_ends_at_its_lifetime_however_busy() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    let clock = &site.s.clock;
    // Used every hour for 11 h 59 min: still logged in.
    for _ in 0..11 {
        clock.set(clock.now() + Duration::hours(1));
        assert_eq!(b.get("/").await.status, 200);
    }
    clock.set(clock.now() + Duration::minutes(59));
    assert_eq!(b.get("/").await.status, 200);
    // At 12 h, the default [web] session_max, it ends.
    clock.set(clock.now() + Duration::minutes(1));
    let p = b.get("/").await;
    assert_eq!((p.status, p.location()), (303, "/login?next=%2F"));
    assert_eq!(b.get("/").await.status, 303, "ended for good");
    b.login(DUTY).await;
    assert_eq!(b.get("/").await.status, 200);
}

#[tokio::test]
async fn an_expired_session_is_not_accepted() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    assert_eq!(b.get("/").await.status, 200);
    // The session row as it stands after its idle time ran out.
    let pool = site.s.daemon.store.pool();
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(b.get("/").await.status, 303);
}

#[tokio::test]
async fn events_announce_a_new_incident() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    let cookie = format!("yuqing_session={}", b.cookie("yuqing_session").unwrap());
    let mut res = reqwest::Client::new()
        .get(format!("{}/events", site.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    // Let the watcher take its first look, then a new event is reported.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let mut items = first_items();
    items.push((
        "某景区索道坍塌 游客被困",
        "https://bbs.example.cn/t/9",
        "t9",
        "Tue, 24 Nov 2026 09:00:00 +0800",
    ));
    publish(&site.s, &items).await;
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut seen = String::new();
        while let Some(chunk) = res.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: change") {
                return seen;
            }
        }
        seen
    })
    .await
    .expect("a change event within 10s");
    assert_has!(got, "event: change");
}

/// `yuqing user …` with the password on stdin; exit code and output.
fn user_cmd(
    dirs: &common::TempDirs,
    config: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> (i32, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(dirs.root())
        .arg("user")
        .args(args)
        .arg("--config")
        .arg(config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn the_first_user_is_made_on_the_command_line_and_yuqing_run_serves_the_console() {
    let dirs = common::TempDirs::new();
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\n[web]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    let (code, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_eq!(code, 0, "{out}");
    assert_has!(out, "还没有用户");

    let log = dirs.root().join("run.log");
    let mut daemon = common::process::run(dirs.root(), &config, &log);
    let mut text = String::new();
    // The hint comes just after the listening line (it reads the users first): wait for
    // both, or a slow machine reads the log between them.
    for _ in 0..150 {
        text = daemon.log_text();
        if text.contains("console listening") && text.contains("yuqing user add") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_has!(text, &format!("url=http://127.0.0.1:{port}/"));
    assert!(
        text.contains("yuqing user add NAME --role duty"),
        "the log says how to add a user: {text}"
    );
    let b = Browser::new(&format!("http://127.0.0.1:{port}"));
    assert!(b.get("/login").await.body.contains("尚未创建任何用户"));

    // Mistakes are exit 2, and add nobody.
    for (args, stdin, why) in [
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "short\n",
            "at least 8",
        ),
        // Eight spaces, the commonest password, one kind of character (issue 26 §2.9).
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "        \n",
            "only white space",
        ),
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "12345678\n",
            "most common passwords",
        ),
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "woaini1314\n",
            "most common passwords",
        ),
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "98127364\n",
            "two kinds of characters",
        ),
        (
            vec!["add", DUTY, "--role", "boss", "--password-stdin"],
            "a long password\n",
            "unknown role",
        ),
        (
            vec!["passwd", "nobody", "--password-stdin"],
            "a long password\n",
            "没有用户 `nobody`",
        ),
        (vec!["disable", "nobody"], "", "没有用户 `nobody`"),
        (vec!["role", "nobody", "leader"], "", "没有用户 `nobody`"),
        (vec!["role", DUTY, "boss"], "", "unknown role `boss`"),
    ] {
        let (code, out) = user_cmd(&dirs, &config, &args, stdin);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.contains(why), "{args:?}: {out}");
    }
    let (code, out) = user_cmd(
        &dirs,
        &config,
        &["add", DUTY, "--role", "duty", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("已添加用户") && out.contains("（duty）"),
        "{out}"
    );
    let (code, out) = user_cmd(
        &dirs,
        &config,
        &["add", DUTY, "--role", "leader", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 2, "a second 张三: {out}");
    assert!(!b.get("/login").await.body.contains("尚未创建任何用户"));
    b.login(DUTY).await;
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert_has!(home.body, "张三（值班员）");

    // A new role holds from the next request on, in the same session.
    let (code, out) = user_cmd(&dirs, &config, &["role", DUTY, "leader"], "");
    assert_eq!(code, 0, "{out}");
    assert_has!(out, "角色改为 领导（leader）");
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert_has!(home.body, "张三（领导）");
    let (_, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_has!(out, "张三\tleader\t可登录");

    // A role this version does not know (written by hand, or by a newer version) stops
    // the list with the value and the way to repair it; `user role` repairs it.
    let db = dirs.root().join("var/yuqing.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE users SET role = 'admin'")
        .execute(&pool)
        .await
        .unwrap();
    let (code, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_ne!(code, 0, "{out}");
    assert_has!(out, "unknown role `admin`");
    assert_has!(out, "yuqing user role NAME duty|leader|operator");
    assert_eq!(b.get("/").await.status, 500);
    let (code, out) = user_cmd(&dirs, &config, &["role", DUTY, "duty"], "");
    assert_eq!(code, 0, "{out}");
    assert_eq!(b.get("/").await.status, 200);
    pool.close().await;

    // A new password ends the session; disabling ends logging in.
    let (code, _) = user_cmd(
        &dirs,
        &config,
        &["passwd", DUTY, "--password-stdin"],
        "another long password\n",
    );
    assert_eq!(code, 0);
    assert_eq!(b.get("/").await.status, 303);
    let (code, _) = user_cmd(&dirs, &config, &["disable", DUTY], "");
    assert_eq!(code, 0);
    b.get("/login").await;
    let p = b
        .post(
            "/login",
            &[("username", DUTY), ("password", "another long password")],
        )
        .await;
    assert_eq!(p.status, 401);
    let (_, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_has!(out, "张三\tduty\t已停用");
    daemon.terminate();
}

#[tokio::test]
async fn a_console_beyond_loopback_must_be_asked_for() {
    let dirs = common::TempDirs::new();
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.write(
        "yuqing.toml",
        "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\n\n[web]\nlisten = \"0.0.0.0:8700\"\n",
    );
    let out = common::process::check(&config);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_has!(
        text,
        "yuqing.toml:6: [web] listen `0.0.0.0:8700` is not a loopback address"
    );
    dirs.write(
        "yuqing.toml",
        "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\n\n[web]\nlisten = \"0.0.0.0:8700\"\npublic = true\n",
    );
    let out = common::process::check(&config);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The incident page lists the mail sent about it, to whom; a row whose recipients cannot
/// be read says so instead of showing mail to nobody.
#[tokio::test]
async fn the_incident_page_names_whom_mail_went_to_and_never_shows_nobody() {
    let site = site_with(
        &None,
        "[people]\nduty = [\"值班室 <duty@x.cn>\"]\n",
        &first_items(),
    )
    .await;
    let b = logged_in(&site, DUTY).await;
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "》 致 值班室 &#60;duty@x.cn&#62;（已发送");
    sqlx::query("UPDATE outbox SET recipients = 'duty@x.cn' WHERE incident_id = 1")
        .execute(site.s.daemon.store.pool())
        .await
        .unwrap();
    let page = b.get("/incidents/1").await;
    assert_eq!(page.status, 200);
    assert_has!(page.body, "收件人记录无法读取（邮件 1，详见日志）");
    assert!(!page.body.contains("》 致 （"), "{}", page.body);
}

#[tokio::test]
async fn the_duty_officer_dismisses_a_false_positive_with_a_reason() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "id=\"do-dismiss\"");
    // No reason: refused with the workflow's words, nothing changes.
    let p = b.post("/incidents/1/dismiss", &[("reason", " ")]).await;
    assert_eq!(p.status, 303);
    assert!(b
        .get("/incidents/1")
        .await
        .body
        .contains("请说明为何判定为误报"));
    let store = &site.s.daemon.store;
    assert_eq!(common::incident(store, 1).await.status, "open");
    let p = b
        .post(
            "/incidents/1/dismiss",
            &[("reason", "艺术展览名称，非安全事件")],
        )
        .await;
    assert_eq!(p.status, 303);
    let one = common::incident(store, 1).await;
    assert_eq!(one.status, "dismissed");
    assert_eq!(one.closed_by.as_deref(), Some(DUTY));
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        actors(&list, "dismissed").contains(&DUTY.to_string()),
        "{list:?}"
    );
    let page = b.get("/incidents/1").await.body;
    assert!(
        page.contains("判定误报并撤销") && page.contains("艺术展览名称，非安全事件"),
        "the timeline says what was done and why"
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

backend_test!(every_incident_is_named_by_its_title_which_the_duty_officer_can_set);
async fn every_incident_is_named_by_its_title_which_the_duty_officer_can_set(
    backend: Option<String>,
) {
    let items = [
        (FIRST, FIRST_LINK, "t1", "Tue, 24 Nov 2026 09:00:00 +0800"),
        (
            "另一处山体塌方导致景区道路坍塌中断",
            "https://bbs.example.cn/t/2",
            "t2",
            "Tue, 24 Nov 2026 08:30:00 +0800",
        ),
    ];
    let site = site_with(&backend, "", &items).await;
    let store = &site.s.daemon.store;
    let b = logged_in(&site, DUTY).await;

    // The dashboard's cards: the title is the main line, the topic a tag beside it.
    let dash = b.get("/").await;
    assert!(
        dash.body.contains(&format!(
            "href=\"/incidents/1\" title=\"{FIRST}\">#1 {FIRST}</a>"
        )) && dash
            .body
            .contains("<span class=\"tag topic\">景区安全</span>"),
        "{}",
        dash.body
    );
    // The incident page's heading, the rename field, and the merge form naming the other
    // incident by its title.
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, &format!("<span class=\"incident-title\" id=\"incident-title\">#1 {FIRST}</span> <span class=\"tag topic\">景区安全</span>"));
    assert_has!(page.body, &format!("<title>#1 {FIRST}"));
    assert_has!(
        page.body,
        &format!("name=\"title\" id=\"title-text\" value=\"{FIRST}\" maxlength=\"100\"")
    );
    assert_has!(
        page.body,
        "<option value=\"2\">#2 另一处山体塌方导致景区道路坍塌中断（景区安全）</option>"
    );

    // The duty officer renames it; the record says who; the live marker moves, so open
    // dashboards fetch the card again.
    let before = store.change_marker().await.unwrap();
    let p = b
        .post("/incidents/1/title", &[("title", "栈道坍塌 12 名游客受伤")])
        .await;
    assert_eq!((p.status, p.location()), (303, "/incidents/1"));
    assert_ne!(store.change_marker().await.unwrap(), before);
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "事件 #1 标题改为：栈道坍塌 12 名游客受伤");
    assert!(page.body.contains("#1 栈道坍塌 12 名游客受伤</span>"));
    assert!(page.body.contains("<span class=\"what\">修改标题</span>"));
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(actors(&list, "title"), [DUTY]);
    assert!(b
        .get("/")
        .await
        .body
        .contains("#1 栈道坍塌 12 名游客受伤</a>"));

    // Too long, empty, or a note past the limit: said on the page, nothing changes.
    for (path, field, text, says) in [
        (
            "/incidents/1/title",
            "title",
            "题".repeat(101),
            "未执行：标题过长：101 个字，最多 100 个字",
        ),
        (
            "/incidents/1/title",
            "title",
            "   ".to_string(),
            "标题不能为空。",
        ),
        (
            "/incidents/1/note",
            "text",
            "注".repeat(10_001),
            "未执行：备注过长：10001 个字，最多 10000 个字",
        ),
    ] {
        let p = b.post(path, &[(field, text.as_str())]).await;
        assert_eq!(p.status, 303, "{path}");
        let page = b.get("/incidents/1").await;
        assert!(page.body.contains(says), "{path}: {}", page.body);
    }
    assert_eq!(
        common::incident(store, 1).await.title,
        "栈道坍塌 12 名游客受伤"
    );
    assert!(actors(&store.actions_of(IncidentId(1)).await.unwrap(), "note").is_empty());

    // A leader reads the title but cannot change it.
    let leader = logged_in(&site, LEADER).await;
    let page = leader.get("/incidents/1").await;
    assert!(page.body.contains("#1 栈道坍塌 12 名游客受伤</span>"));
    assert!(!page.body.contains("id=\"do-title\""));
    assert_eq!(
        leader
            .post("/incidents/1/title", &[("title", "领导改的")])
            .await
            .status,
        403
    );

    // Merged, INTO keeps its title; split, the new one takes its first item's.
    b.get("/incidents/1").await;
    assert_eq!(
        b.post("/incidents/1/merge", &[("from", "2")]).await.status,
        303
    );
    assert_eq!(
        common::incident(store, 1).await.title,
        "栈道坍塌 12 名游客受伤"
    );
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "标题仍为「栈道坍塌 12 名游客受伤」");
    let p = b.post("/incidents/1/split", &[("item", "2")]).await;
    assert_eq!(p.location(), "/incidents/3");
    let three = b.get("/incidents/3").await;
    assert_has!(three.body, "#3 另一处山体塌方导致景区道路坍塌中断</span>");
}

#[tokio::test]
async fn a_huge_incident_page_shows_its_forms_and_its_items_and_record_a_page_at_a_time() {
    use yuqing::store::Incoming;
    use yuqing::vocab::clock::Clock;
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    // 920 items with 2 KB titles, and six notes of 650,000 characters written before notes
    // had a limit: together over 16 MiB, which once made the page an empty 500.
    let titles: Vec<String> = (0..920)
        .map(|n| format!("某景区栈道坍塌 后续 {n:03} {}", "详".repeat(680)))
        .collect();
    let guids: Vec<String> = (0..920).map(|n| format!("big-{n}")).collect();
    let incoming: Vec<Incoming> = titles
        .iter()
        .zip(&guids)
        .map(|(title, guid)| common::news_item(guid, title, None))
        .collect();
    let now = site.s.clock.now().timestamp();
    let mut tx = store.begin().await.unwrap();
    let stored = store
        .store_items(&mut tx, "news", &incoming, now)
        .await
        .unwrap();
    for s in &stored {
        let yuqing::store::Stored::New(row) = s else {
            panic!("{s:?}")
        };
        store
            .add_incident_item(&mut tx, IncidentId(1), row.id, now)
            .await
            .unwrap();
    }
    for _ in 0..6 {
        store
            .record_action(
                &mut tx,
                yuqing::vocab::ids::IncidentId(1),
                now,
                LEADER,
                yuqing::vocab::action::ActionKind::Note,
                Some(&"注".repeat(650_000)),
            )
            .await
            .unwrap();
    }
    // And 150 short ones: the record has two pages.
    for n in 0..150 {
        let note = format!("备注 {n:03}");
        store
            .record_action(
                &mut tx,
                yuqing::vocab::ids::IncidentId(1),
                now,
                LEADER,
                yuqing::vocab::action::ActionKind::Note,
                Some(&note),
            )
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let b = logged_in(&site, DUTY).await;
    let page = b.get("/incidents/1").await;
    assert_eq!(
        page.status,
        200,
        "{}",
        &page.body[..page.body.len().min(500)]
    );
    assert!(page.body.len() < 2 << 20, "{} bytes", page.body.len());
    for form in [
        "do-title",
        "do-ack",
        "do-release",
        "do-note",
        "do-close",
        "do-dismiss",
    ] {
        assert!(page.body.contains(&format!("id=\"{form}\"")), "{form}");
    }
    assert!(
        page.body.contains("相关信息（921 条）</h2>")
            && page
                .body
                .contains("<nav class=\"pager\"><span>第 1/10 页，共 921 条</span>"),
        "{}",
        &page.body[..2000]
    );
    assert!(page
        .body
        .contains("<a href=\"/incidents/1?items=2#items\">下一页</a>"));
    // The record opens on its latest page.
    assert!(page.body.contains("备注 149") && !page.body.contains("备注 000"));
    assert!(page
        .body
        .contains("<a href=\"/incidents/1?record=1#timeline\">上一页</a>"));
    // The forms come before the lists: however long they are, the actions are at the top.
    assert!(
        page.body.find("id=\"do-close\"").unwrap() < page.body.find("id=\"timeline\"").unwrap()
    );
    // The last page of items, and the first of the record.
    let last = b.get("/incidents/1?items=10&record=1").await;
    assert_eq!(last.status, 200);
    assert!(last.body.len() < 2 << 20, "{} bytes", last.body.len());
    assert!(last.body.contains("<span class=\"what\">立案</span>"));
    assert!(last.body.contains("备注 000") && !last.body.contains("备注 149"));
    // A note stored before the limit is cut on the page, and says where it is whole.
    assert_eq!(
        last.body
            .matches("（共 650000 字，全文见 yuqing incident show 1）")
            .count(),
        6
    );
    assert!(last.body.contains("后续 919"), "the last item");
    assert!(!last.body.contains("后续 000 "), "not the first");
    assert!(last.body.contains("第 10/10 页"));
    // Out of range, or not a number: the nearest page, never an error.
    assert_eq!(b.get("/incidents/1?items=999").await.status, 200);
    assert_eq!(b.get("/incidents/1?items=x&record=-1").await.status, 200);
    // The note form still works on it.
    let p = b.post("/incidents/1/note", &[("text", "已分页查看")]).await;
    assert_eq!(p.status, 303);
    assert!(
        actors(&store.actions_of(IncidentId(1)).await.unwrap(), "note").contains(&DUTY.to_string())
    );
}

#[tokio::test]
async fn next_after_login_stays_on_the_console_whatever_it_holds() {
    let site = site(&None).await;
    // A tab or newline in `next` (issue 26 §2.6): a browser drops them, so `/\t/evil`
    // would be `//evil`; a newline made a 500 after the session was created.
    for (next, to) in [
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/\r\nSet-Cookie: planted=1", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/incidents/1?from=mail", "/incidents/1?from=mail"),
    ] {
        let b = Browser::new(&site.url);
        let form = b.get(&format!("/login?next={}", urlencode(next))).await;
        assert!(
            form.body
                .contains(&format!("name=\"next\" value=\"{}\"", html_attr(to))),
            "{next:?}: {}",
            form.body
        );
        let p = b
            .post(
                "/login",
                &[("username", DUTY), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!((p.status, p.location()), (303, to), "{next:?}: {}", p.body);
        assert_eq!(b.get("/").await.status, 200, "{next:?}: logged in");
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&#34;")
}

#[tokio::test]
async fn a_planted_csrf_cookie_and_its_token_record_nothing() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    b.get("/incidents/1").await;
    // A page elsewhere on the site (another port, a sibling subdomain) gets a CSRF cookie
    // and token of its own, plants the cookie in the duty officer's browser and posts.
    let evil = Browser::new(&site.url);
    let token = evil.get("/login").await.token().unwrap();
    b.plant("yuqing_csrf", &evil.cookie("yuqing_csrf").unwrap());
    let p = b
        .post_raw(
            "/incidents/1/note",
            &[("authenticity_token", &token), ("text", "planted note")],
        )
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    let actions = site.s.daemon.store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a.detail.as_deref() != Some("planted note")),
        "{actions:#?}"
    );
    // The page's own token, bound to the session, still works whatever the cookie.
    let own = b.get("/incidents/1").await.token().unwrap();
    assert_ne!(own, token);
    let p = b
        .post_raw(
            "/incidents/1/note",
            &[("authenticity_token", &own), ("text", "own note")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_whatever_its_token() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    let here = site.url.clone();
    for (headers, status) in [
        (vec![("origin", "http://127.0.0.1:1")], 403),
        (vec![("origin", "null")], 403),
        (vec![("sec-fetch-site", "same-site")], 403),
        (vec![("sec-fetch-site", "cross-site")], 403),
        (
            vec![("origin", here.as_str()), ("sec-fetch-site", "same-origin")],
            303,
        ),
        (vec![], 303),
    ] {
        let token = b.get("/incidents/1").await.token().unwrap();
        let p = b
            .post_with(
                "/incidents/1/note",
                &[("authenticity_token", &token), ("text", "备注")],
                &headers,
            )
            .await;
        assert_eq!(p.status, status, "{headers:?}: {}", p.body);
    }
    // The login form too.
    let anon = Browser::new(&site.url);
    let token = anon.get("/login").await.token().unwrap();
    let p = anon
        .post_with(
            "/login",
            &[
                ("authenticity_token", &token),
                ("username", DUTY),
                ("password", PASSWORD),
            ],
            &[("origin", "http://evil.example")],
        )
        .await;
    assert_eq!(p.status, 403);
}

#[tokio::test]
async fn behind_tls_the_cookies_are_host_only() {
    let site = site_with(
        &None,
        "url = \"https://yq.example.gov.cn/\"\n",
        &first_items(),
    )
    .await;
    let b = Browser::new(&site.url);
    let p = b.get("/login").await;
    let cookies: Vec<String> = p
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .collect();
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("__Host-yuqing_csrf="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    assert!(
        csrf.contains("Secure") && csrf.contains("Path=/") && !csrf.contains("Domain"),
        "{csrf}"
    );
    let ok = b
        .post_with(
            "/login",
            &[
                ("authenticity_token", &p.token().unwrap()),
                ("username", DUTY),
                ("password", PASSWORD),
            ],
            &[("origin", "https://yq.example.gov.cn")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let session = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-yuqing_session="))
        .expect("a __Host- session cookie");
    assert!(
        session.contains("Secure") && session.contains("Path=/") && !session.contains("Domain"),
        "{session}"
    );
    assert_eq!(b.get("/").await.status, 200);
}

/// `/events` with `b`'s session cookie.
async fn events_of(site: &common::console::Site, b: &Browser) -> reqwest::Response {
    let r = reqwest::Client::new()
        .get(format!("{}/events", site.url))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r
}

/// Whether the stream ends within `within` (it sends nothing but keep-alives meanwhile).
async fn ends_within(mut r: reqwest::Response, within: std::time::Duration) -> bool {
    tokio::time::timeout(within, async { while let Ok(Some(_)) = r.chunk().await {} })
        .await
        .is_ok()
}

#[tokio::test]
async fn live_streams_end_with_their_session_and_a_session_holds_only_a_few() {
    use std::time::Duration as Wait;
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    // Logout here: the stream ends at once.
    let b = logged_in(&site, DUTY).await;
    let live = events_of(&site, &b).await;
    b.get("/").await;
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    assert!(
        ends_within(live, Wait::from_secs(3)).await,
        "outlived logout"
    );
    // Expired, or the user disabled: within the recheck.
    let b = logged_in(&site, LEADER).await;
    let live = events_of(&site, &b).await;
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(
        ends_within(live, Wait::from_secs(12)).await,
        "outlived expiry"
    );
    let b = logged_in(&site, OPERATOR).await;
    let live = events_of(&site, &b).await;
    store.disable_user(OPERATOR, 10).await.unwrap();
    assert!(
        ends_within(live, Wait::from_secs(12)).await,
        "outlived disable"
    );
    // One session opening stream after stream: its oldest end, the newest stay.
    let b = logged_in(&site, DUTY).await;
    let mut streams = Vec::new();
    for _ in 0..8 {
        streams.push(events_of(&site, &b).await);
    }
    let newest = streams.split_off(2);
    for (i, s) in streams.into_iter().enumerate() {
        assert!(ends_within(s, Wait::from_secs(3)).await, "stream {i} kept");
    }
    assert_eq!(newest.len(), 6);
}
