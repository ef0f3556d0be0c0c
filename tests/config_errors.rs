//! What `yuqing check` tells an operator about config values that would load but could
//! never work: mail to nobody, impossible timings, a missing working-day calendar.

use crate::common;

use common::TempDirs;
use std::process::Command;

const WATCHLIST: &str = "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nany = [\"坍塌\"]\n";
const MESSAGES: &str = "[[topic]]\nid = \"messages\"\nname = \"市长信箱留言\"\n\
                        obligation = \"netizen_message_reply\"\nany = [\"留言\"]\n";

/// Runs `yuqing check` on a config of `[daemon]` lines plus `rest`, with `watchlist` as
/// the only watchlist file: (exit code, stdout, stderr).
fn check(daemon: &str, rest: &str, watchlist: &str) -> (i32, String, String) {
    let dirs = TempDirs::new();
    dirs.write("watchlists/w.toml", watchlist);
    let config = dirs.config(&format!("{daemon}\n{rest}",));
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["check", "--config"])
        .arg(&config)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run yuqing check");
    let text = |b: Vec<u8>| {
        String::from_utf8_lossy(&b).replace(&format!("{}/", dirs.root().display()), "")
    };
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn an_empty_duty_list_fails_check_at_its_line() {
    let (code, _, err) = check("", "\n[people]\nduty = []\n", WATCHLIST);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(
            "yuqing.toml:7: [people] duty is empty: every new incident would be mailed to nobody"
        ),
        "{err}"
    );
    let (code, _, err) = check(
        "",
        "\n[people]\nduty = [\"duty@x.cn\"]\nleaders = []\n\n[escalation.major]\nbreach = [\"leaders\"]\n",
        WATCHLIST,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("yuqing.toml:11: [escalation.major] breach reaches nobody"),
        "{err}"
    );
}

#[test]
fn a_missing_calendar_is_an_error_at_its_key_when_working_days_are_counted() {
    // A topic owes a reply within 5 working days: the folder is needed.
    let (code, _, err) = check("calendar = \"no/such/folder\"", "", MESSAGES);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(
            "yuqing.toml:4: [daemon] calendar: folder `no/such/folder` does not exist, and \
             topic `messages` (obligation) counts working days on it"
        ),
        "{err}"
    );
    // Nothing counts working days: the folder may be missing.
    let (code, out, err) = check("calendar = \"no/such/folder\"", "", WATCHLIST);
    assert_eq!(code, 0, "{out}{err}");
    assert_has!(out, "：检查通过（");
}

#[test]
fn impossible_timings_fail_check_with_every_line() {
    let (code, _, err) = check(
        "stuck_after = \"0s\"\nlease = \"0s\"",
        "\n[mail]\nretry_min = \"2h\"\n\n[deadlines]\nmajor_release = \"6h\"\n\n[surge]\nitems = 0\n",
        WATCHLIST,
    );
    assert_eq!(code, 2, "{err}");
    for line in [
        "yuqing.toml:4: [daemon] stuck_after",
        "yuqing.toml:5: [daemon] lease",
        "yuqing.toml:8: [mail] retry_min (2h) is longer than retry_max (1h)",
        "yuqing.toml:11: [deadlines] major_release = \"6h\" is looser than the statutory 5h",
        "yuqing.toml:14: [surge] items = 0",
    ] {
        assert!(
            err.lines().any(|l| l.starts_with(line)),
            "missing {line:?} in\n{err}"
        );
    }
}

#[test]
fn a_topic_restricted_to_an_unknown_source_points_at_its_sources_line_and_lists_the_known_ids() {
    let topic = "[[topic]]\nid = \"messages\"\nname = \"市长信箱留言\"\nany = [\"留言\"]\n\
                 sources = [\"mayor-mailbox\"]\n";
    let (code, _, err) = check(
        "",
        "\n[[source]]\nid = \"hotline-12345\"\nkind = \"feed\"\nurl = \"https://x.example.cn/a.xml\"\n",
        topic,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "watchlists/w.toml:5: topic `messages` is restricted to source `mayor-mailbox`"
        ) && err.contains("(known: hotline-12345)"),
        "{err}"
    );
}

#[test]
fn one_check_reports_every_mistake_in_every_section_and_file() {
    // Five mistakes in four places: a type error in [daemon], a TOML syntax error in
    // [mail], an unknown key in one [[source]], a phone for an address nobody lists, and
    // a broken topic in the watchlist, whose other topic is still checked.
    let rest = "\n[mail]\nfrom = \"yuqing <yq@x.cn>\nsmtp = \"x\"\n\
                \n[people]\nduty = [\"值班 <duty@x.cn>\"]\n\
                \n[people.phones]\n\"nobody@x.cn\" = \"010-1234 5678\"\n\
                \n[[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"http://a.example.cn/rss\"\nevry = \"5m\"\n\
                \n[[source]]\nid = \"b\"\nkind = \"feed\"\nurl = \"http://b.example.cn/rss\"\n";
    let watchlist = "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nany = \"坍塌\"\n\n\
                     [[topic]]\nid = \"fire\"\nname = \"火灾\"\nany = [\"起火\"]\nseverity = \"huge\"\n";
    let (code, out, err) = check("tick = 5", rest, watchlist);
    assert_eq!(code, 2, "{out}{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(".toml:")).collect();
    for (at, says) in [
        ("yuqing.toml:4: ", "tick"),
        ("yuqing.toml:7: ", ""),
        (
            "yuqing.toml:14: ",
            "[people.phones] `nobody@x.cn` is not an address",
        ),
        ("yuqing.toml:20: ", "evry"),
        ("w.toml:4: ", ""),
        ("w.toml:10: ", "huge"),
    ] {
        assert!(
            lines.iter().any(|l| l.contains(at) && l.contains(says)),
            "missing {at}…{says} in one run:\n{err}"
        );
    }
    // A phone for a listed address is taken, and a bad number is named.
    let (code, _, err) = check(
        "",
        "\n[people]\nduty = [\"值班 <duty@x.cn>\"]\n\n[people.phones]\n\"Duty@x.cn\" = \"call me\"\n",
        WATCHLIST,
    );
    assert_eq!(code, 2, "{err}");
    assert_has!(
        err,
        "yuqing.toml:10: [people.phones] `call me` is not a telephone number"
    );
    let (code, out, err) = check(
        "",
        "\n[people]\nduty = [\"值班 <duty@x.cn>\"]\n\n[people.phones]\n\"Duty@x.cn\" = \"010-6512 3456 转 8\"\n",
        WATCHLIST,
    );
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn job_recipients_are_roles_or_addresses_that_reach_someone() {
    let jobs = |to: &str| {
        format!(
            "\n[jobs]\ndaily_briefing = \"0 8 * * *\"\nweekly_briefing = \"30 8 * * Mon\"\n\n\
             [jobs.to]\n{to}\n"
        )
    };
    // Line 11 is the first line after [jobs.to].
    let (code, _, err) = check(
        "",
        &jobs("daily_briefing = [\"leaders\", \"boss\"]"),
        WATCHLIST,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(
            "yuqing.toml:11: [jobs.to] daily_briefing: `boss` is neither a role (duty, leaders, \
             principal, operators, office) nor a mail address"
        ),
        "{err}"
    );
    let (code, _, err) = check(
        "",
        &format!(
            "{}\n[people]\nleaders = []\n",
            jobs("weekly_briefing = [\"leaders\"]")
        ),
        WATCHLIST,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(
            "yuqing.toml:11: [jobs.to] weekly_briefing reaches nobody ([people] leaders empty)"
        ),
        "{err}"
    );
    let (code, _, err) = check("", &jobs("daily_briefing = [\"notify:wecom\"]"), WATCHLIST);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(
            "yuqing.toml:11: [jobs.to] daily_briefing: `notify:wecom`: scheduled reports go by \
             mail only"
        ),
        "{err}"
    );
    let (code, _, err) = check("", &jobs("monthly_briefing = [\"leaders\"]"), WATCHLIST);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("yuqing.toml:11:") && err.contains("monthly_briefing"),
        "{err}"
    );
    // Written: that list; left out: leaders and principal. `check` says whom each job mails.
    let (code, out, err) = check(
        "",
        &jobs("daily_briefing = [\"principal\", \"宣传科 <xck@example.gov.cn>\"]"),
        WATCHLIST,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("定时任务（[jobs]）：\n  daily_briefing \"0 8 * * *\" to principal+")
            && out.contains("xck@example.gov.cn"),
        "{out}"
    );
    assert_has!(
        out,
        "  weekly_briefing \"30 8 * * Mon\" to leaders+principal\n"
    );
}

/// Issue 28: a one-word typo in the starter scenic-safety watchlist (multi-byte text above
/// it, a second mistake after it) once panicked inside the diagnostics and killed the
/// daemon; it must read as `file:line: unknown field` like any config typo.
#[test]
fn a_typo_in_a_chinese_watchlist_is_a_line_not_a_panic() {
    let starter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("watchlists/scenic-safety.toml"),
    )
    .unwrap();
    // The typo under the first [[topic]], and a broken value in a later rule.
    let typo = starter.replacen(
        "severity = \"major\"\n",
        "severity = \"major\"\nseverty = \"major\"\n",
        1,
    );
    assert_ne!(typo, starter, "the starter watchlist changed shape");
    let typo_line = typo.lines().position(|l| l.starts_with("severty")).unwrap() + 1;
    let (code, out, err) = check("", "", &typo);
    assert_eq!(code, 2, "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_has!(err, &format!("w.toml:{typo_line}: unknown field `severty`"));
    // Two mistakes, each below Chinese text, each at its own line.
    let both = format!("{typo}\n[[topic]]\nid = \"x\"\nname = \"某某石窟\"\nany = 3\n");
    let any_line = both.lines().count();
    let (code, out, err) = check("", "", &both);
    assert_eq!(code, 2, "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_has!(err, &format!("w.toml:{typo_line}: "));
    assert_has!(err, &format!("w.toml:{any_line}: "));
}

mod fuzzed {
    //! The diagnostics path fuzzed with multi-byte text in every kind of operator file:
    //! the config (with its `[[channel]]`s), each starter watchlist and a holiday-cn
    //! calendar. Whatever the edit, loading gives diagnostics at lines of the file, never a
    //! panic (issue 28: a span of one text once sliced another inside a character).

    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    fn starter(relative: &str) -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
    }

    /// Edits an operator might make by mistake, many of them in Chinese.
    const SNIPPETS: &[&str] = &[
        "\nseverty = \"major\"\n",
        "\n名称 = \"石窟\"\n",
        "石",
        "\"",
        "[[",
        "]\n",
        "\n[[topic]]\nid = \"石窟\"\nany = 3\n",
        "\n[[channel]]\nid = \"公众号\"\nevry = \"每周\"\n",
        "= \"未闭合\n",
        "\n[daemon]\ntick = \"五秒\"\n",
        "，",
        "\u{feff}",
        "{\"date\": \"二〇二六\"}",
        ",",
        "𠀀",
    ];

    fn edited(text: &str, at: usize, cut: usize, snippet: &str) -> String {
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let start = bounds[at % bounds.len()];
        let end = bounds[(at % bounds.len() + cut).min(bounds.len() - 1)];
        format!("{}{}{}", &text[..start], snippet, &text[end..])
    }

    fn lines_ok(text: &str, diags: &yuqing::vocab::diagnostic::Diagnostics) {
        let lines = text.lines().count() + 1;
        for d in &diags.0 {
            let _ = d.to_string();
            if let Some(line) = d.line {
                assert!(line >= 1 && line <= lines, "line {line} of {lines}: {d}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn a_watchlist_edit_is_diagnosed_not_a_panic(
            file in prop::sample::select(vec![
                "scenic-safety.toml", "relics.toml", "hotels.toml", "3-emergencies.toml",
            ]),
            at in 0usize..20_000, cut in 0usize..40, snippet in prop::sample::select(SNIPPETS),
            again in 0usize..20_000,
        ) {
            let text = edited(&starter(&format!("watchlists/{file}")), at, cut, snippet);
            let text = edited(&text, again, 0, snippet);
            if let Err(diags) = yuqing::classify::watchlist::parse_file(Path::new(file), &text) {
                lines_ok(&text, &diags);
            }
        }

        #[test]
        fn a_config_edit_is_diagnosed_not_a_panic(
            at in 0usize..40_000, cut in 0usize..40, snippet in prop::sample::select(SNIPPETS),
            again in 0usize..40_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let text = edited(&starter("config/yuqing.toml"), at, cut, snippet);
            let text = edited(&text, again, 0, snippet);
            let path = dir.path().join("yuqing.toml");
            std::fs::write(&path, &text).unwrap();
            if let Err(diags) = yuqing::config::load(&path) {
                lines_ok(&text, &diags);
            }
        }

        #[test]
        fn a_calendar_edit_is_diagnosed_not_a_panic(
            at in 0usize..20_000, cut in 0usize..40, snippet in prop::sample::select(SNIPPETS),
        ) {
            let text = edited(&starter("config/calendar/2026.json"), at, cut, snippet);
            let files = [(PathBuf::from("calendar/2026.json"), text.clone())];
            if let Err(diags) = yuqing::rules::calendar::Calendar::from_files(&files) {
                lines_ok(&text, &diags);
            }
        }
    }
}
