//! `yuqing calendar update`: this year's and next year's holiday-cn files from
//! `[daemon] calendar_url`, on loopback: an ETag round trip, an atomic write, the changes
//! listed day by day, an empty placeholder for next year refused, a failure keeping the copy.

use crate::common;

use chrono::Datelike;
use common::{HttpServer, Response, TempDirs};
use std::process::Command;

fn year_file(year: i32, days: &[(&str, &str, bool)], papers: bool) -> String {
    let days: Vec<String> = days
        .iter()
        .map(|(md, name, off)| {
            format!(r#"{{"name":"{name}","date":"{year}-{md}","isOffDay":{off}}}"#)
        })
        .collect();
    let papers = if papers {
        format!(r#""http://www.gov.cn/zhengce/content/{year}-11/10/content_1.htm""#)
    } else {
        String::new()
    };
    format!(
        r#"{{"$schema":"https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/schema.json","year":{year},"papers":[{papers}],"days":[{}]}}"#,
        days.join(",")
    )
}

fn update(config: &std::path::Path) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["calendar", "update", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    (
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.code().unwrap_or(-1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_update_fetches_checks_and_writes_this_and_next_year() {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .year();
    let next = year + 1;
    // A Saturday in October: a make-up working day (调休) first, then a day off.
    let saturday = (1..=7)
        .map(|d| chrono::NaiveDate::from_ymd_opt(year, 10, d).unwrap())
        .find(|d| d.weekday() == chrono::Weekday::Sat)
        .unwrap()
        .format("%m-%d")
        .to_string();
    let sat = saturday.as_str();
    let this_year = year_file(
        year,
        &[("01-01", "元旦", true), (sat, "国庆节", false)],
        true,
    );
    http.set(
        &format!("/holiday-cn/{year}.json"),
        Response::ok("application/json", this_year.clone()).etag("\"v1\""),
    );
    // holiday-cn keeps an empty placeholder for next year until the schedule is announced.
    http.set(
        &format!("/holiday-cn/{next}.json"),
        Response::ok("application/json", year_file(next, &[], false)),
    );
    let calendar = dirs.root().join("calendar");
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nstate_dir = \"{root}/var\"\ncalendar = \"{cal}\"\ncalendar_url = \"{url}\"\n",
            root = dirs.root().display(),
            cal = calendar.display(),
            url = http.url("/holiday-cn/"),
        ),
    );

    let (out, code) = update(&config);
    assert_eq!(code, 0, "{out}");
    assert_has!(out, &format!("{year} 年：新增"));
    assert_has!(out, &format!("{next} 年：尚未发布"));
    assert_eq!(
        std::fs::read_to_string(calendar.join(format!("{year}.json"))).unwrap(),
        this_year
    );
    assert!(
        !calendar.join(format!("{next}.json")).exists(),
        "a placeholder is not read as a year with no holidays"
    );

    // Again: the ETag is sent back, 304, nothing changes.
    let (out, code) = update(&config);
    assert_eq!(code, 0, "{out}");
    assert_has!(out, &format!("{year} 年：无变化"));
    let sent = http.requests(&format!("/holiday-cn/{year}.json"));
    assert_eq!(sent.last().unwrap().header("if-none-match"), Some("\"v1\""));

    // The State Council moves a day; next year is announced.
    http.set(
        &format!("/holiday-cn/{year}.json"),
        Response::ok(
            "application/json",
            year_file(
                year,
                &[("01-01", "元旦", true), (sat, "国庆节", true)],
                true,
            ),
        )
        .etag("\"v2\""),
    );
    http.set(
        &format!("/holiday-cn/{next}.json"),
        Response::ok(
            "application/json",
            year_file(next, &[("01-01", "元旦", true)], true),
        ),
    );
    let (out, code) = update(&config);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{year} 年：已更新，1 处变化"))
            && out.contains(&format!("{year}-{sat} 国庆节 上班 → 休息")),
        "{out}"
    );
    assert_has!(out, &format!("{next} 年：新增"));
    assert!(calendar.join(format!("{next}.json")).exists());

    // A failing server keeps the copy and says so, exit 1.
    http.set(&format!("/holiday-cn/{year}.json"), Response::status(500));
    let before = std::fs::read_to_string(calendar.join(format!("{year}.json"))).unwrap();
    let (out, code) = update(&config);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{year} 年：更新失败")) && out.contains("HTTP 500"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(calendar.join(format!("{year}.json"))).unwrap(),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(&calendar)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// From 1 December, next year's calendar still missing: the operators are mailed once,
/// not on every turn, not again after a restart, and not at all before December or once
/// the file is there. On a manual clock in Asia/Shanghai.
#[tokio::test]
async fn operators_are_mailed_once_when_next_years_calendar_is_missing_in_december() {
    use chrono::TimeZone;
    use yuqing::vocab::clock::ManualClock;
    let dirs = TempDirs::new();
    let calendar = dirs.root().join("calendar");
    std::fs::create_dir_all(&calendar).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/calendar/2026.json"),
        calendar.join("2026.json"),
    )
    .unwrap();
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"t\"\nname = \"测试\"\nany = [\"踩踏\"]\n",
    );
    let config = dirs.config(&format!(
        "\
             calendar = \"{cal}\"\n\n[people]\noperators = [\"运维 <ops@example.gov.cn>\"]\n",
        cal = calendar.display(),
    ));
    let sh = |m: u32, d: u32, h: u32| {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let missing = |d: &yuqing::daemon::scheduler::Daemon| {
        let store = d.store.clone();
        async move { common::mail(&store, "calendar_missing").await }
    };
    // 30 November: not yet.
    let clock = ManualClock::new(sh(11, 30, 23));
    let d = common::start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    assert!(missing(&d).await.is_empty());

    // 1 December, 00:00 local: once, however many turns.
    clock.set(sh(12, 1, 0));
    d.housekeeping().await.unwrap();
    d.housekeeping().await.unwrap();
    let mail = missing(&d).await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert!(mail[0].recipients.contains("ops@example.gov.cn"));
    assert_eq!(
        mail[0].subject,
        "【舆情·工作日历缺失】尚无 2027 年节假日安排，工作日期限将按周一至周五计算"
    );
    let body = &mail[0].body_text;
    assert!(
        body.contains(&calendar.display().to_string())
            && body.contains("2027.json")
            && body.contains("calendar_url"),
        "{body}"
    );

    // A restart a week later does not send it again.
    drop(d);
    clock.set(sh(12, 8, 9));
    let d = common::start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(missing(&d).await.len(), 1);

    // With 2027 added, a new deployment on the same day hears nothing.
    std::fs::write(
        calendar.join("2027.json"),
        year_file(2027, &[("01-01", "元旦", true)], true),
    )
    .unwrap();
    drop(d);
    std::fs::remove_dir_all(dirs.root().join("var")).unwrap();
    let d = common::start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    assert!(missing(&d).await.is_empty());
}
