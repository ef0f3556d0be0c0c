//! The console in a real browser: headless Chromium driven through chromedriver. A duty
//! officer logs in, watches a countdown tick, acknowledges and records the release and
//! sees the timeline name them; a leader cannot act even by posting the form by hand; a
//! hostile title shows as text; the dashboard shows a new incident without a reload.
//! Screenshots at 1366×900 and 390×844 go to `target/screenshots/`.
//!
//! Chromium missing is a failure, never a pass: install `chromium chromium-driver
//! fonts-noto-cjk` (`.ci/run` does).

use crate::common;
use yuqing::vocab::ids::IncidentId;

use common::console::{first_items, publish, site, site_with, Site, DUTY, LEADER, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// chromedriver on a free port, killed when dropped. It and its Chromium keep their
/// temporary files (profiles, `org.chromium.Chromium.*`) in `tmp`, removed with it, so a
/// test run leaves nothing in /tmp.
struct Driver {
    child: Child,
    port: u16,
    tmp: Option<tempfile::TempDir>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(tmp) = self.tmp.take() {
            // Chromium may still be letting go of its profile for a moment.
            for _ in 0..20 {
                if std::fs::remove_dir_all(tmp.path()).is_ok() || !tmp.path().exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

async fn driver() -> Driver {
    let bin = [
        "chromedriver",
        "/usr/bin/chromedriver",
        "/usr/lib/chromium/chromedriver",
    ]
    .into_iter()
    .find(|b| Command::new(b).arg("--version").output().is_ok())
    .unwrap_or_else(|| {
        panic!(
            "BROWSER TESTS CANNOT RUN: chromedriver is not installed. Install Chromium: \
                 `apt-get install -y chromium chromium-driver fonts-noto-cjk` (.ci/run does)"
        )
    });
    let port = common::free_port();
    let tmp = tempfile::TempDir::new().expect("a temporary folder for Chromium");
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("BROWSER TESTS CANNOT RUN: cannot start {bin}: {e}"));
    let d = Driver {
        child,
        port,
        tmp: Some(tmp),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("BROWSER TESTS CANNOT RUN: chromedriver did not listen on port {port} within 10s");
}

async fn browser(d: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1366,900", "--lang=zh-CN", "--hide-scrollbars"]}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .unwrap_or_else(|e| panic!("BROWSER TESTS CANNOT RUN: Chromium did not start: {e}"))
}

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Screenshots of the current page at desktop and phone sizes, back to desktop after.
async fn screenshots(c: &Client, name: &str) {
    for (w, h) in [(390, 844), (1366, 900)] {
        // The window holds the browser's frame too: grow it until the page has w×h.
        c.set_window_size(w, h).await.unwrap();
        let inner = c
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap();
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(w as u64) as u32,
            inner[1].as_u64().unwrap_or(h as u64) as u32,
        );
        c.set_window_size(w + w.saturating_sub(iw), h + h.saturating_sub(ih))
            .await
            .unwrap();
        // The layout settles on the next frame.
        let _ = c
            .execute_async(
                "requestAnimationFrame(() => requestAnimationFrame(arguments[0]))",
                vec![],
            )
            .await;
        let png = c.screenshot().await.unwrap();
        std::fs::write(shots_dir().join(format!("{name}-{w}x{h}.png")), png).unwrap();
    }
}

async fn login(c: &Client, site: &Site, name: &str) {
    c.goto(&format!("{}/", site.url)).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("who"))
        .await
        .unwrap_or_else(|e| panic!("{name} is not logged in: {e}"));
}

async fn text(c: &Client, css: &str) -> String {
    text_until(c, css, |_| true).await
}

/// The text of `css` once `done` holds, found afresh on every try: the page may still be
/// navigating after a form's POST, and live updates (`/events`) replace parts of it, so an
/// element found a moment ago can be gone. Gives up after 10 s with what it last read.
async fn text_until(c: &Client, css: &str, done: impl Fn(&str) -> bool) -> String {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if done(&t) {
                    return t;
                }
                last = t;
            }
        }
        if std::time::Instant::now() > until {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks `what`, found afresh on every try for the same reason as [`text_until`]: a live
/// update can replace the element between finding and clicking it (a stale reference).
/// Fails after 10 s with the last error.
async fn click(c: &Client, what: Locator<'_>) {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let tried = match c.find(what).await {
            Ok(e) => e.click().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match tried {
            Ok(()) => return,
            Err(e) if std::time::Instant::now() > until => panic!("click {what:?}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test]
async fn a_duty_officer_logs_in_watches_the_countdown_and_records_ack_and_release() {
    let d = driver().await;
    let site = site(&None).await;
    let c = browser(&d).await;
    c.goto(&format!("{}/", site.url)).await.unwrap();
    screenshots(&c, "login").await;
    login(&c, &site, DUTY).await;
    let seen = text_until(&c, "#who", |t| t.contains("张三")).await;
    assert_has!(seen, "张三");

    // The countdown ticks in the page: from the server's 01:00 the release is 5h away.
    let first = text(&c, "#incidents .countdown").await;
    assert!(
        first.starts_with("剩余 4:59") || first == "剩余 5:00:00",
        "{first}"
    );
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let later = text(&c, "#incidents .countdown").await;
    assert_ne!(first, later, "the countdown did not move");
    screenshots(&c, "dashboard").await;

    c.find(Locator::Css("a.title"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("do-ack")).await.unwrap();
    c.find(Locator::Id("do-ack"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let flash = text_until(&c, "#flash", |t| t.contains("已由 张三 确认接报")).await;
    assert_has!(flash, "事件 #1 已由 张三 确认接报");
    c.find(Locator::Id("release-url"))
        .await
        .unwrap()
        .send_keys("https://www.example.gov.cn/notice/1")
        .await
        .unwrap();
    c.find(Locator::Id("do-release"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let timeline = text_until(&c, "#timeline", |t| t.contains("张三 记录发布权威信息")).await;
    assert_has!(timeline, "张三 确认接报");
    assert_has!(timeline, "张三 记录发布权威信息");
    let seen = text_until(&c, "#acknowledged", |t| t.contains("张三")).await;
    assert_has!(seen, "张三");
    screenshots(&c, "incident").await;
    // The folded actions (severity, merge, split, 误报), opened and scrolled into view.
    c.find(Locator::Css("details.more > summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.execute(
        "document.querySelector('details.more').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    assert!(c
        .find(Locator::Id("do-dismiss"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    screenshots(&c, "incident-more").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_leader_cannot_act_even_by_posting_the_form() {
    let d = driver().await;
    let site = site(&None).await;
    let c = browser(&d).await;
    login(&c, &site, LEADER).await;
    c.goto(&format!("{}/incidents/1", site.url)).await.unwrap();
    assert!(
        c.find(Locator::Id("do-ack")).await.is_err(),
        "an ack button for a leader"
    );
    // The same request the duty officer's button sends, with a valid CSRF token.
    let status = c
        .execute_async(
            "const done = arguments[0];
             const token = document.querySelector('[name=authenticity_token]').value;
             fetch('/incidents/1/ack', {method: 'POST', credentials: 'same-origin',
                   body: new URLSearchParams({authenticity_token: token}), redirect: 'manual'})
               .then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    // A note is a leader's to add.
    c.find(Locator::Id("note-text"))
        .await
        .unwrap()
        .send_keys("请宣传部门跟进")
        .await
        .unwrap();
    c.find(Locator::Id("do-note"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let seen = text_until(&c, "#timeline", |t| t.contains("李四 备注 请宣传部门跟进")).await;
    assert_has!(seen, "李四 备注 请宣传部门跟进");
    let i = common::incident(&site.s.daemon.store, 1).await;
    assert!(i.acknowledged_by.is_none());
    screenshots(&c, "incident-leader").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_hostile_title_shows_as_text() {
    let d = driver().await;
    let items = [(
        "&lt;img src=x onerror=alert(1)&gt; 景区坍塌",
        "https://bbs.example.cn/t/x",
        "x1",
        "Tue, 24 Nov 2026 09:00:00 +0800",
    )];
    let site = site_with(&None, "", &items).await;
    let c = browser(&d).await;
    login(&c, &site, DUTY).await;
    c.goto(&format!("{}/incidents/1", site.url)).await.unwrap();
    let title = text(&c, "#items .item-title").await;
    assert_eq!(title, "<img src=x onerror=alert(1)> 景区坍塌");
    assert!(c
        .find_all(Locator::Css("#items img"))
        .await
        .unwrap()
        .is_empty());
    assert!(c.get_alert_text().await.is_err(), "an alert ran");
    c.goto(&format!("{}/items", site.url)).await.unwrap();
    let seen = text_until(&c, "#itemlist", |t| {
        t.contains("<img src=x onerror=alert(1)>")
    })
    .await;
    assert_has!(seen, "<img src=x onerror=alert(1)>");
    assert!(c.get_alert_text().await.is_err(), "an alert ran");
    screenshots(&c, "items").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_shows_a_new_incident_without_a_reload() {
    let d = driver().await;
    let site = site(&None).await;
    let c = browser(&d).await;
    login(&c, &site, DUTY).await;
    c.wait()
        .for_element(Locator::Css("html[data-events=on]"))
        .await
        .unwrap();
    c.execute("window.sameDocument = 'yes';", vec![])
        .await
        .unwrap();
    // The optional tone and desktop notification, turned on by a click.
    c.find(Locator::Id("alerts-on"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let seen = text_until(&c, "#alerts-on", |t| t.contains("已开启")).await;
    assert_has!(seen, "已开启");
    assert_eq!(
        c.find_all(Locator::Css("[data-incident]"))
            .await
            .unwrap()
            .len(),
        1
    );
    // Let the store watcher take its first look before anything changes.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut items = first_items();
    items.push((
        "西山景区观景台坍塌 道路封闭",
        "https://bbs.example.cn/t/9",
        "t9",
        "Tue, 24 Nov 2026 09:00:00 +0800",
    ));
    publish(&site.s, &items).await;
    let open = site.s.daemon.store.incidents(false).await.unwrap();
    assert_eq!(open.len(), 2, "a second incident opened");
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("[data-incident=\"2\"]"))
        .await
        .expect("incident #2 on the dashboard within 15s");
    let same = c
        .execute("return window.sameDocument;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!("yes"), "the page was reloaded");
    let on = c
        .execute("return localStorage.getItem('yuqing-alerts');", vec![])
        .await
        .unwrap();
    assert_eq!(on, json!("on"), "the choice is kept for the next visit");
    let seen = text_until(&c, "#incidents", |t| t.contains("#2 西山景区观景台坍塌")).await;
    assert_has!(seen, "#2 西山景区观景台坍塌 道路封闭");
    screenshots(&c, "dashboard-two").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_operator_tests_a_watchlist_and_reads_sources_and_the_report() {
    use yuqing::vocab::clock::Clock;
    let d = driver().await;
    let site = site(&None).await;
    site.s.http.set("/news.xml", common::Response::status(503));
    site.s.clock.advance(chrono::Duration::minutes(10));
    let _ = site.s.daemon.poll_once(None).await.unwrap();
    // An item whose filing an unreadable incident row holds back, still waiting.
    let now = site.s.clock.now().timestamp();
    let held = "cannot file item 1 under topic scenic: incident #1 cannot be read: \
                unknown severity `catastrophic`";
    common::hold_filing(&site.s.daemon.store, "news", 1, now - 300, held).await;
    let c = browser(&d).await;
    login(&c, &site, common::console::OPERATOR).await;
    c.goto(&format!("{}/sources", site.url)).await.unwrap();
    let seen = text_until(&c, "#health", |t| t.contains("无法访问")).await;
    assert_has!(seen, "无法访问");
    assert_has!(seen, "有条目暂未归入事件");
    screenshots(&c, "sources").await;
    // The dashboard lists the source among those in trouble, with the same words.
    c.goto(&site.url).await.unwrap();
    let seen = text_until(&c, "body", |t| t.contains("暂未归入事件")).await;
    assert_has!(seen, "有条目暂未归入事件");
    assert_has!(seen, "暂未归入事件的信息");
    screenshots(&c, "dashboard-held").await;
    // The items list marks the waiting item.
    c.goto(&format!("{}/items", site.url)).await.unwrap();
    let seen = text_until(&c, "body", |t| t.contains("暂未归入事件")).await;
    assert_has!(seen, "暂未归入事件");
    screenshots(&c, "items-held").await;
    c.goto(&format!(
        "{}/report?from=2026-11-01&to=2026-11-30",
        site.url
    ))
    .await
    .unwrap();
    let seen = text_until(&c, "#report", |t| t.contains("景区安全")).await;
    assert_has!(seen, "景区安全");
    screenshots(&c, "report").await;
    c.goto(&format!("{}/classify", site.url)).await.unwrap();
    c.find(Locator::Id("classify-text"))
        .await
        .unwrap()
        .send_keys("某景区玻璃栈道发生坍塌，多名游客受伤")
        .await
        .unwrap();
    c.find(Locator::Id("do-classify"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("explain")).await.unwrap();
    let seen = text_until(&c, "#explain", |t| t.contains("命中")).await;
    assert_has!(seen, "命中");
    screenshots(&c, "classify").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_leader_reads_the_briefing_and_moves_to_the_week() {
    let d = driver().await;
    let site = site(&None).await;
    let c = browser(&d).await;
    login(&c, &site, LEADER).await;
    // 09:10: the incident of 09:00 and its item are in today's briefing so far.
    site.s.clock.advance(chrono::Duration::minutes(10));
    c.goto(&format!(
        "{}/briefing?from=2026-11-24&to=2026-11-24",
        site.url
    ))
    .await
    .unwrap();
    let seen = text_until(&c, "#summary", |t| t.contains("本日监测信息")).await;
    assert!(seen.starts_with("本日监测信息 1 条"), "{seen}");
    let topics = text(&c, "#by-topic").await;
    assert_has!(topics, "景区安全");
    screenshots(&c, "briefing").await;
    c.find(Locator::Id("week"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The week so far, by day.
    let head = text_until(&c, "h1", |t| t.contains("2026-11-23 00:00")).await;
    assert!(
        head.starts_with("舆情简报 2026-11-23 00:00 至 2026-11-24 09:10"),
        "{head}"
    );
    screenshots(&c, "briefing-week").await;
    c.close().await.unwrap();
}

/// Three incidents of one topic told apart by their titles: the duty officer renames one on
/// its page, another is renamed elsewhere and the open dashboard follows without a reload,
/// and the briefing names each. Screenshots of the three pages at both sizes.
#[tokio::test]
async fn incidents_of_one_topic_are_told_apart_by_their_titles() {
    let d = driver().await;
    let long = "南山景区玻璃栈道坍塌 多名游客坠落受伤 景区已暂停开放 当地应急管理部门和消防救援人员正在现场处置 \
                伤者已送往市人民医院救治 事故原因正在调查中 景区管理方表示将全力配合调查并做好善后工作 目前现场秩序已基本恢复";
    let mut items = first_items();
    items.push((
        "西山景区观景台坍塌 道路封闭",
        "https://bbs.example.cn/t/9",
        "t9",
        "Tue, 24 Nov 2026 08:40:00 +0800",
    ));
    items.push((
        long,
        "https://bbs.example.cn/t/10",
        "t10",
        "Tue, 24 Nov 2026 08:50:00 +0800",
    ));
    let site = site_with(&None, "", &items).await;
    assert_eq!(site.s.daemon.store.incidents(false).await.unwrap().len(), 3);
    let c = browser(&d).await;
    login(&c, &site, DUTY).await;

    // The duty officer names #1 on its page.
    c.goto(&format!("{}/incidents/1", site.url)).await.unwrap();
    let field = c.find(Locator::Id("title-text")).await.unwrap();
    field.clear().await.unwrap();
    field
        .send_keys("栈道坍塌 12 名游客受伤 3 人重伤")
        .await
        .unwrap();
    c.find(Locator::Id("do-title"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let head = text_until(&c, "#incident-title", |t| t.contains("3 人重伤")).await;
    assert_eq!(head, "#1 栈道坍塌 12 名游客受伤 3 人重伤");
    let timeline = text_until(&c, "#timeline", |t| t.contains("修改标题")).await;
    assert_has!(timeline, "张三 修改标题 栈道坍塌 12 名游客受伤 3 人重伤");
    screenshots(&c, "titles-incident").await;

    // The dashboard: each card headed by its title, the topic a tag.
    c.goto(&format!("{}/", site.url)).await.unwrap();
    c.wait()
        .for_element(Locator::Css("html[data-events=on]"))
        .await
        .unwrap();
    c.execute("window.sameDocument = 'yes';", vec![])
        .await
        .unwrap();
    let cards = text(&c, "#incidents").await;
    for t in [
        "#1 栈道坍塌 12 名游客受伤 3 人重伤",
        "#2 西山景区观景台坍塌 道路封闭",
        "#3 南山景区玻璃栈道坍塌",
    ] {
        assert!(cards.contains(t), "{t}: {cards}");
    }
    // Renamed from the command line: the open dashboard follows (server-sent events).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let cfg = site.s.daemon.settings.get().config.clone();
    yuqing::incident::act(
        &site.s.daemon.store,
        &cfg,
        yuqing::vocab::ids::IncidentId(2),
        &yuqing::incident::Step::Title("西山观景台坍塌 环山路封闭".into()),
        "李值班",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let cards = text_until(&c, "[data-incident=\"2\"] a.title", |t| {
        t.contains("环山路")
    })
    .await;
    assert_eq!(cards, "#2 西山观景台坍塌 环山路封闭");
    let same = c
        .execute("return window.sameDocument;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!("yes"), "the page was reloaded");
    screenshots(&c, "titles-dashboard").await;

    // The briefing of the day so far names them too.
    site.s.clock.advance(chrono::Duration::minutes(10));
    c.goto(&format!(
        "{}/briefing?from=2026-11-24&to=2026-11-24",
        site.url
    ))
    .await
    .unwrap();
    let opened = text_until(&c, "#opened", |t| t.contains("#3")).await;
    for t in [
        "#1 栈道坍塌 12 名游客受伤 3 人重伤",
        "#2 西山观景台坍塌 环山路封闭",
        "#3 南山景区玻璃栈道坍塌",
    ] {
        assert!(opened.contains(t), "{t}: {opened}");
    }
    screenshots(&c, "titles-briefing").await;
    c.close().await.unwrap();
}

/// An incident of 250 items with 2 KB titles: the page shows the forms first, 100 items a
/// page with links to the others, and the split form lists only this page's items.
#[tokio::test]
async fn a_large_incident_shows_its_items_a_page_at_a_time() {
    use yuqing::store::{Incoming, Stored};
    use yuqing::vocab::clock::Clock;
    let d = driver().await;
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    let titles: Vec<String> = (0..249)
        .map(|n| {
            format!(
                "某景区栈道坍塌 后续报道 {n:03} {}",
                "现场情况仍在核实中".repeat(75)
            )
        })
        .collect();
    let guids: Vec<String> = (0..249).map(|n| format!("big-{n}")).collect();
    let incoming: Vec<Incoming> = titles
        .iter()
        .zip(&guids)
        .map(|(title, guid)| common::news_item(guid, title, Some("https://bbs.example.cn/t/big")))
        .collect();
    let now = site.s.clock.now().timestamp();
    let mut tx = store.begin().await.unwrap();
    for s in store
        .store_items(&mut tx, "news", &incoming, now)
        .await
        .unwrap()
    {
        let Stored::New(row) = s else { panic!("{s:?}") };
        store
            .add_incident_item(&mut tx, IncidentId(1), row.id, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let c = browser(&d).await;
    login(&c, &site, DUTY).await;
    c.goto(&format!("{}/incidents/1", site.url)).await.unwrap();
    let head = text_until(&c, "#items", |t| !t.is_empty()).await;
    assert_has!(head, "后续报道 098");
    assert!(
        !head.contains("后续报道 099"),
        "the second page's first item: {head}"
    );
    click(&c, Locator::LinkText("下一页")).await;
    let second = text_until(&c, "#items", |t| t.contains("后续报道 099")).await;
    assert_has!(second, "后续报道 099");
    assert!(
        c.find(Locator::Id("do-close")).await.is_ok(),
        "the forms stay"
    );
    click(&c, Locator::Css("details.more > summary")).await;
    let split = c.find_all(Locator::Css("label.check")).await.unwrap().len();
    assert_eq!(split, 100, "the split form lists this page's items");
    screenshots(&c, "incident-large").await;
    c.execute("document.getElementById('items').scrollIntoView();", vec![])
        .await
        .unwrap();
    screenshots(&c, "incident-large-items").await;
    // 350 more: /items counts ten pages of 50 past the first and says there are more.
    let guids: Vec<String> = (0..350).map(|n| format!("more-{n}")).collect();
    let more: Vec<Incoming> = guids
        .iter()
        .map(|guid| common::news_item(guid, guid, None))
        .collect();
    let mut tx = store.begin().await.unwrap();
    store
        .store_items(&mut tx, "news", &more, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    c.goto(&format!("{}/items", site.url)).await.unwrap();
    let head = text_until(&c, "h1", |t| t.contains("条")).await;
    assert_has!(head, "550 条以上");
    let pager = text(&c, "nav.pager").await;
    assert_has!(pager, "第 1 / 11+ 页");
    screenshots(&c, "items-more").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_tab_in_next_does_not_take_the_browser_off_the_console() {
    // Issue 26 §2.6: `Location: /\t/evil.example` is read by a browser as `//evil.example`.
    let d = driver().await;
    let site = site(&None).await;
    let c = browser(&d).await;
    c.goto(&format!("{}/login?next=%2F%09%2Fevil.example%2F", site.url))
        .await
        .unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(DUTY)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Wherever the redirect went, the page has left /login within 10 s.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let mut at = c.current_url().await.unwrap();
    while at.path() == "/login" && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        at = c.current_url().await.unwrap();
    }
    let console = url::Url::parse(&site.url).unwrap();
    assert_eq!(
        (at.host_str(), at.port()),
        (console.host_str(), console.port()),
        "the browser went to {at}"
    );
    assert_eq!(at.path(), "/", "{at}");
    c.close().await.unwrap();
}

/// Issue 23 §6: the incident page shows what became of each item's page; the archived text
/// opens as plain text, the page's own script never runs.
#[tokio::test]
async fn a_duty_officer_reads_an_items_archived_text() {
    let d = driver().await;
    let article = common::HttpServer::serving(
        "/p/1.html",
        common::Response::ok(
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>某景区栈道坍塌</title>\
             <script>alert('archived')</script></head><body><article><h1>某景区栈道坍塌 多名游客受伤</h1>\
             <p>今日上午9时许，某景区观景栈道一段发生坍塌，多名游客受伤，已送医救治。</p>\
             <p>景区管理方表示，事发栈道已封闭，正在核实情况并配合调查；网友留言称&lt;img src=x onerror=alert(1)&gt;。</p>\
             <p>据现场游客介绍，坍塌时栈道上约有二十人，部分游客自行撤离。</p></article></body></html>",
        ),
    )
    .await;
    let link = article.url("/p/1.html");
    let site = site_with(
        &None,
        "",
        &[(
            common::console::FIRST,
            &link,
            "t1",
            "Tue, 24 Nov 2026 09:00:00 +0800",
        )],
    )
    .await;
    let gate = yuqing::fetch::politeness::HostGate::new(2, Duration::ZERO);
    site.s.daemon.keep_evidence(&gate).await.unwrap();
    let c = browser(&d).await;
    login(&c, &site, DUTY).await;
    c.goto(&format!("{}/incidents/1", site.url)).await.unwrap();
    let ev = text(&c, "#items .evidence").await;
    assert!(ev.starts_with("证据：原帖在线"), "{ev}");
    c.find(Locator::Css("#items .evidence"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    screenshots(&c, "incident-evidence").await;
    c.find(Locator::Css("#items .evidence a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let shown = text_until(&c, "pre.archived", |t| t.contains("多名游客受伤")).await;
    assert_has!(shown, "<img src=x onerror=alert(1)>");
    assert!(c
        .find_all(Locator::Css("pre.archived img"))
        .await
        .unwrap()
        .is_empty());
    assert!(c.get_alert_text().await.is_err(), "an alert ran");
    screenshots(&c, "evidence-text").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_incident_row_that_cannot_be_read_is_named_on_the_dashboard() {
    let d = driver().await;
    let site = common::console::site_where_1_cannot_be_read().await;
    let c = browser(&d).await;
    login(&c, &site, DUTY).await;
    let seen = text_until(&c, "body", |t| t.contains("无法读取的事件")).await;
    assert_has!(seen, "#2 某县城老街景区围墙坍塌");
    assert_has!(seen, "catastrophic");
    screenshots(&c, "dashboard-unreadable").await;
    c.goto(&format!("{}/incidents/1", site.url)).await.unwrap();
    let seen = text_until(&c, "body", |t| t.contains("无法读取")).await;
    assert_has!(seen, "重试无效，请联系运维修复");
    screenshots(&c, "incident-unreadable").await;
    // The month's report counts #2 and says above its table that #1 is not counted.
    c.goto(&format!(
        "{}/report?from=2026-11-01&to=2026-11-30",
        site.url
    ))
    .await
    .unwrap();
    let seen = text_until(&c, "body", |t| t.contains("本报表不完整")).await;
    assert_has!(seen, "1 起事件");
    assert_has!(seen, "事件 #1");
    screenshots(&c, "report-unreadable").await;
    // #2's item cannot be read either: its page still opens, and names the item.
    sqlx::query("UPDATE items SET tone = 'furious' WHERE id = 2")
        .execute(site.s.daemon.store.pool())
        .await
        .unwrap();
    c.goto(&format!("{}/incidents/2", site.url)).await.unwrap();
    let seen = text_until(&c, "body", |t| t.contains("信息 2 无法读取")).await;
    assert_has!(seen, "furious");
    screenshots(&c, "incident-item-unreadable").await;
    // The item list too: #1's item is listed, #2's named.
    c.goto(&format!("{}/items", site.url)).await.unwrap();
    let seen = text_until(&c, "body", |t| t.contains("信息 2 无法读取")).await;
    assert_has!(seen, "某景区栈道坍塌");
    screenshots(&c, "items-unreadable").await;
    c.close().await.unwrap();
}
