//! A feed or list page often carries only a title; with `body = "SELECTOR"` the daemon
//! reads each new item's own page (in whatever charset it is) and classifies that text too.

use crate::common;

use chrono::{TimeZone, Utc};
use common::{rss, HttpServer, Response, TempDirs};
use yuqing::vocab::clock::ManualClock;
use yuqing::vocab::ids::IncidentId;

#[tokio::test]
async fn the_item_page_is_read_once_and_classified() {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    http.set(
        "/board.xml",
        Response::rss(rss(&[("游客反映情况", &http.url("/t/1.html"), "t1", "")])),
    );
    let page = "<html><head><meta charset=\"gbk\"></head><body><div class=\"nav\">首页 景区</div>\
                <div class=\"content\">今天下午示例山景区发生踩踏，多名游客受伤。</div></body></html>";
    let (gbk, _, _) = encoding_rs::GBK.encode(page);
    http.set("/t/1.html", Response::ok("text/html", gbk.into_owned()));
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"踩踏\"]\nall = [\"景区\"]\n",
    );
    let config = dirs.config(&format!(
            "\n\
             [[source]]\nid = \"board\"\nkind = \"feed\"\nurl = \"{url}\"\nbody = \"div.content\"\n",
            url = http.url("/board.xml")
    ));
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap());
    let d = common::start(&config, &clock).await;

    let r = d.poll_once(None).await.unwrap();
    assert_eq!(
        r[0].1.as_ref().unwrap().opened,
        vec![IncidentId(1)],
        "the body text matched: {r:?}"
    );
    let item = d.store.item(1).await.unwrap().unwrap();
    assert_eq!(item.summary, "今天下午示例山景区发生踩踏，多名游客受伤。");

    // Known items are not fetched again.
    d.poll_once(None).await.unwrap();
    assert_eq!(http.requests("/t/1.html").len(), 1);
}
