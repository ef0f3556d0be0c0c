//! What the commands print, for whom: Chinese for the duty officer, a CSV a spreadsheet
//! reads, tab-separated text without empty columns, and help that names each argument.

use super::{collapse, collapse_polled, text, yq, yq_env, REPORT_OF_THE_DAY, SCENIC_ORDINARY};
use crate::common;

use std::process::Command;

#[tokio::test]
async fn output_for_spreadsheets_scripts_and_help() {
    let sc = collapse_polled(SCENIC_ORDINARY, &None).await;

    // Excel reads a CSV without a byte order mark as the local code page.
    let o = yq(&sc, &[&REPORT_OF_THE_DAY[..], &["--csv"]].concat());
    assert!(
        o.stdout.starts_with("\u{feff}事件编号,".as_bytes()),
        "{:?}",
        text(&o)
    );

    // No empty column after a healthy source.
    let (sources, _) = text(&yq(&sc, &["sources"]));
    assert!(
        sources.starts_with(
            "来源\t状态\t上次成功（Asia/Shanghai, UTC+08:00）\t连续失败\t下次抓取\t发现延迟（近7天 中位/95%，条数）\t错误\nnews\t正常\t2026-11-24 09:00\t0 次\t"
        ),
        "{sources}"
    );
    assert!(sources.lines().all(|l| !l.ends_with('\t')), "{sources:?}");
    assert!(
        sources.lines().nth(1).unwrap().ends_with("\t-"),
        "no error: {sources:?}"
    );

    // The help of the regrouping and press commands says what each argument is.
    let help = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(args)
            .arg("--help")
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let merge = help(&["incident", "merge"]);
    assert!(
        merge.contains("The incident that stays") && merge.contains("The incident merged in"),
        "{merge}"
    );
    let split = help(&["incident", "split"]);
    assert!(
        split.contains("The incident to split") && split.contains("The item ids to move"),
        "{split}"
    );
    let press = help(&["incident", "press"]);
    assert!(
        press.contains("--note") && press.contains("What to record about it"),
        "{press}"
    );
}

/// The English words left in `text` once what may be English is taken out: addresses,
/// commands and config keys in backticks or brackets, the zone's name, source ids and
/// the actor `yuqing`.
fn english_words(text: &str, allowed: &[&str]) -> Vec<String> {
    let strip =
        regex::Regex::new(r"https?://\S+|`[^`]*`|\[\[?[a-z_.]+\]\]?|Asia/Shanghai|UTC").unwrap();
    let stripped = strip.replace_all(text, " ");
    regex::Regex::new(r"[A-Za-z]{2,}")
        .unwrap()
        .find_iter(&stripped)
        .map(|m| m.as_str().to_string())
        .filter(|w| !allowed.contains(&w.as_str()) && w != "yuqing")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_duty_officer_reads_is_chinese() {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[
            collapse(""),
            ("另一景区栈道坍塌", "https://n.example.cn/2", "2", ""),
        ],
        "",
        &None,
    )
    .await;
    let mut seen = Vec::new();
    let mut run = |args: &[&str]| {
        let o = yq_env(&sc, args, &[("YUQING_USER", "王值班")]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{args:?}: {out}{err}");
        seen.push((args.join(" "), out));
    };
    run(&["poll"]);
    run(&["incidents"]);
    run(&["incident", "ack", "1"]);
    run(&["incident", "note", "1", "已联系景区"]);
    run(&["incident", "severity", "2", "ordinary"]);
    run(&[
        "incident",
        "release",
        "1",
        "--url",
        "https://gov.example.cn/n/1",
    ]);
    run(&["incident", "press", "1"]);
    run(&["incident", "merge", "1", "2"]);
    run(&["incident", "show", "1"]);
    run(&["incident", "show", "2"]);
    run(&["incidents", "--all"]);
    run(&["sources"]);
    run(&["obligations"]);
    run(&["report", "incidents", "--from", "2026-11-01"]);
    run(&["incident", "close", "1"]);
    run(&["incident", "show", "1"]);
    for (args, out) in &seen {
        let words = english_words(out, &["news"]);
        assert!(
            words.is_empty(),
            "`yuqing {args}` printed English {words:?}:\n{out}"
        );
    }
    // The record in `incident show` names each step in Chinese.
    let (_, shown) = seen.last().unwrap();
    for step in [
        "立案（首条信息 #1）",
        "王值班 确认接报",
        "王值班 备注（已联系景区）",
        "王值班 记录发布权威信息（https://gov.example.cn/n/1）",
        "王值班 记录召开新闻发布会",
        "王值班 合并（#2 并入（1 条信息），计时起点 ",
        "王值班 结案",
    ] {
        assert!(shown.contains(step), "{step}: {shown}");
    }
}
