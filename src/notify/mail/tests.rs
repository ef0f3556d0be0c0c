//! The incident mails, read as the duty officer reads them.

use super::*;
use chrono::TimeZone;

fn sample() -> (IncidentRow, ItemRow, Vec<DeadlineRow>) {
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 24, 2, 30, 0)
        .unwrap()
        .timestamp();
    let incident = IncidentRow {
        title: "某景区发生踩踏\r\nBcc: evil@example.com <script>".into(),
        ..crate::notify::fixtures::incident(7, t0)
    };
    let item = ItemRow {
        id: 1,
        source_id: "forum".into(),
        guid: "g".into(),
        link: Some("https://bbs.example.cn/t/1?a=1&b=<2>".into()),
        title: "某景区发生踩踏\r\nBcc: evil@example.com <script>".into(),
        summary: String::new(),
        published_at: Some(t0),
        fetched_at: t0,
        topics: Default::default(),
        tone: None,
        signature: None,
    };
    let dl = |id, kind: &str, h: i64| {
        crate::notify::fixtures::deadline(id, 7, kind.parse().unwrap(), t0 + h * 3600)
    };
    (
        incident,
        item,
        vec![dl(1, "release", 5), dl(2, "press_conference", 24)],
    )
}

/// The view of `incident` the tests read, as of its opening: three items, the first from
/// 本地论坛, no matched words, nobody owning it yet, in Shanghai time.
fn view<'a>(
    incident: &'a IncidentRow,
    first: &'a ItemRow,
    deadlines: &'a [DeadlineRow],
) -> IncidentView<'a> {
    static NOBODY: std::sync::LazyLock<crate::rules::escalation::People> =
        std::sync::LazyLock::new(Default::default);
    IncidentView {
        incident,
        first,
        source_name: "本地论坛",
        items: 3,
        deadlines,
        evidence: &[],
        owners: &[],
        people: &NOBODY,
        tz: chrono_tz::Asia::Shanghai,
        now: crate::vocab::clock::from_secs(incident.opened_at),
    }
}

/// The tags of `html`: what a mail reader obeys. Text is escaped, so a `<` opens a tag.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|t| &t[..t.find('>').unwrap_or(t.len())])
        .collect()
}

/// Every tag holds only the attributes the builders write, each value in double quotes:
/// outside the quoted values, no event handler, no second tag, no stray quote.
fn assert_obeys_nothing(what: &str, html: &str) {
    for tag in tags(html) {
        assert_eq!(tag.matches('"').count() % 2, 0, "{what}: <{tag}>");
        let outside: String = tag
            .split('"')
            .step_by(2)
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        let handler = outside
            .split(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .any(|w| w.starts_with("on") && w.len() > 2);
        assert!(
            !handler
                && !outside.contains('\'')
                && !outside.contains('`')
                && !outside.starts_with("img")
                && !outside.starts_with("script"),
            "{what}: a hostile attribute or tag <{tag}> in\n{html}"
        );
    }
}

#[test]
fn every_mail_builder_keeps_hostile_titles_and_notes_as_text() {
    const HOSTILE: &str = "某景区坍塌 http://evil.example/\"onmouseover=\"alert(1)\" \
         https://x.example/'onmouseover='alert(2)' <img src=x onerror=alert(3)> \
         http://y.example/`onmouseover=alert(4)`";
    let (incident, mut item, deadlines) = sample();
    item.title = HOSTILE.into();
    item.summary = HOSTILE.into();
    item.link = Some("https://bbs.example.cn/\"onmouseover=\"alert(5)\"".to_string());
    let duty: Vec<Mailbox> = vec!["值班员 <duty@example.gov.cn>".parse().unwrap()];
    let evidence = [HOSTILE.to_string()];
    let v = IncidentView {
        source_name: HOSTILE,
        evidence: &evidence,
        owners: &duty,
        now: crate::vocab::clock::from_secs(incident.opened_at + 7 * 3600),
        ..view(&incident, &item, &deadlines)
    };
    let post = crate::store::PostRow {
        id: 1,
        channel_id: "wechat".into(),
        guid: "p1".into(),
        title: HOSTILE.into(),
        summary: HOSTILE.into(),
        link: Some("https://mp.example.cn/\"onmouseover=\"alert(6)\"".into()),
        published_at: Some(incident.opened_at),
        first_seen: incident.opened_at,
    };
    let related = [Related {
        id: 3,
        severity: Severity::Major,
        status: IncidentStatus::Open,
        opened_at: v.now,
        link: "http://127.0.0.1:8700/incidents/3\"onmouseover=\"alert(7)\"".to_string(),
        same_item: Some(HOSTILE.to_string()),
    }];
    let history = [HOSTILE.to_string()];
    let was = crate::vocab::clock::from_secs(incident.clock_start + 600);
    let drafts = [
        ("opened", opened(&v, &duty, &related)),
        (
            "regraded",
            regraded(&v, Severity::Ordinary, Severity::Major, HOSTILE, &duty),
        ),
        (
            "new_items",
            new_items(
                &v,
                std::slice::from_ref(&item),
                0,
                &|_| HOSTILE.to_string(),
                &duty,
            ),
        ),
        ("unacknowledged", unacknowledged(&v, HOSTILE, &duty)),
        ("reminder", reminder(&v, &deadlines[0], &duty)),
        ("breached", breached(&v, &deadlines[0], true, &duty)),
        (
            "resurgence",
            resurgence(&v, &item, HOSTILE, true, &history, &duty),
        ),
        (
            "resurgence_open",
            resurgence(&v, &item, HOSTILE, false, &history, &duty),
        ),
        (
            "release_candidate",
            release_candidate(&v, HOSTILE, &post, false, &duty),
        ),
        (
            "release_recorded",
            release_candidate(&v, HOSTILE, &post, true, &duty),
        ),
        ("monitoring", monitoring(&v, v.now, &duty)),
        ("closed", closed(&v, HOSTILE, &duty)),
        ("clock_moved", clock_moved(&v, was, &item, HOSTILE, &duty)),
        ("dismissed", dismissed(&v, HOSTILE, HOSTILE, &duty)),
        ("handled", handled(&v, HOSTILE, HOSTILE, &duty)),
        ("merged", merged(&v, &incident, HOSTILE, &duty)),
        ("split", split(&v, 3, 2, HOSTILE, &duty)),
    ];
    for (what, d) in &drafts {
        assert_obeys_nothing(what, &d.html);
        assert!(!d.subject.contains('\n'), "{what}: {}", d.subject);
    }
    // The address before the quote is still a link, and the rest shows as text.
    let reopened = &drafts[6].1.html;
    assert!(
        reopened.contains(
            "<a href=\"http://evil.example/\">http://evil.example/</a>\"onmouseover=\"alert(1)\""
        ),
        "{reopened}"
    );
}

#[test]
fn linkify_escapes_the_attribute_whatever_the_address_holds() {
    assert_eq!(
        linkify("见 http://evil.example/\"onmouseover=\"alert(1)\" 。"),
        "见 <a href=\"http://evil.example/\">http://evil.example/</a>\"onmouseover=\"alert(1)\" 。"
    );
    assert_eq!(
        linkify("https://a.example/?x=1&amp;y=2"),
        "<a href=\"https://a.example/?x=1&amp;y=2\">https://a.example/?x=1&amp;y=2</a>"
    );
    assert_eq!(attribute("a\"b'c<d>`"), "a&quot;b&#39;c&lt;d&gt;&#96;");
}

#[test]
fn opening_mail_stands_alone() {
    let (incident, item, deadlines) = sample();
    let duty: Vec<Mailbox> = vec!["值班员 <duty@example.gov.cn>".parse().unwrap()];
    let v = IncidentView {
        items: 1,
        evidence: &["踩踏".to_string(), "景区".to_string()],
        owners: &duty,
        ..view(&incident, &item, &deadlines)
    };
    let d = opened(&v, &duty, &[]);
    assert!(
        !d.subject.contains('\n') && !d.subject.contains('\r'),
        "{}",
        d.subject
    );
    assert!(
        d.subject.starts_with("【舆情·重大】#7 景区安全："),
        "{}",
        d.subject
    );
    for needle in [
        "某景区发生踩踏 Bcc: evil@example.com <script>",
        "本地论坛（forum）",
        "https://bbs.example.cn/t/1?a=1&b=<2>",
        "发布时间：2026-11-24 10:30",
        "发布权威信息：2026-11-24 15:30 前，剩余 5小时",
        "召开新闻发布会：2026-11-25 10:30 前，剩余 1天",
        "yuqing incident release 7 --url",
        "命中词：踩踏、景区",
        "内容摘录：某【景区】发生【踩踏】 Bcc: evil@example.com <script>",
    ] {
        assert!(d.text.contains(needle), "missing {needle:?} in\n{}", d.text);
    }
    assert!(
        !d.html.contains("<script>"),
        "web text must be escaped in HTML"
    );
    assert!(d.html.contains("&lt;script&gt;"));
}

#[test]
fn opening_mail_marks_the_matched_words_names_whom_to_call_and_the_related_incident() {
    let (incident, mut item, deadlines) = sample();
    item.title = "市大剧院后台起火后续：剧院发布情况说明".into();
    item.summary = "据剧院消息，后台起火已于当晚扑灭，无人员伤亡。".repeat(8);
    let duty: Vec<Mailbox> = vec!["舆情值班 <Duty@example.gov.cn>".parse().unwrap()];
    let mut people = crate::rules::escalation::People::default();
    people
        .phones
        .insert("duty@example.gov.cn".into(), "010-6512 3456".into());
    let evidence = ["起火".to_string(), "大剧院".to_string()];
    let v = IncidentView {
        items: 1,
        evidence: &evidence,
        owners: &duty,
        people: &people,
        ..view(&incident, &item, &deadlines)
    };
    let related = [Related {
        id: 2,
        severity: Severity::Major,
        status: IncidentStatus::Acknowledged,
        opened_at: crate::vocab::clock::from_secs(incident.opened_at - 3600),
        link: "http://yq.example.gov.cn/incidents/2".into(),
        same_item: None,
    }];
    let d = opened(&v, &duty, &related);
    assert!(
        d.subject.ends_with("（或与 #2 为同一事件）"),
        "{}",
        d.subject
    );
    for needle in [
        "可能与 #2 为同一事件（同一专题，重大，2026-11-24 09:30 立案，已确认：http://yq.example.gov.cn/incidents/2）",
        "如是请合并：yuqing incident merge 2 7",
        "内容摘录：市【大剧院】后台【起火】后续：剧院发布情况说明｜据剧院消息，后台【起火】已于当晚扑灭",
        "责任人：舆情值班 <Duty@example.gov.cn>（电话 010-6512 3456）",
    ] {
        assert!(d.text.contains(needle), "missing {needle:?} in\n{}", d.text);
    }
    // The excerpt is bounded and says it was cut; the HTML marks and links.
    let line = d.text.lines().find(|l| l.starts_with("内容摘录")).unwrap();
    assert!(line.ends_with('…') && line.chars().count() < 200, "{line}");
    assert!(d
        .html
        .contains("<mark style=\"background:#ffe08a\">起火</mark>"));
    assert!(d.html.contains(
        "<a href=\"http://yq.example.gov.cn/incidents/2\">http://yq.example.gov.cn/incidents/2</a>"
    ));
}

#[test]
fn breach_mail_says_how_late() {
    let (incident, item, deadlines) = sample();
    let v = IncidentView {
        now: crate::vocab::clock::from_secs(deadlines[0].due_at + 600),
        ..view(&incident, &item, &deadlines)
    };
    let d = breached(&v, &deadlines[0], false, &[]);
    assert!(
        d.subject
            .starts_with("【舆情·超时】#7 发布权威信息时限已过"),
        "{}",
        d.subject
    );
    // Chinese punctuation renders as Chinese; 重大 and the overdue line stand out.
    for needle in [
        "<html lang=\"zh-CN\">",
        "<td style=\"color:#b00020;font-weight:bold\">重大",
        "<li style=\"color:#b00020;font-weight:bold\">发布权威信息",
    ] {
        assert!(d.html.contains(needle), "missing {needle:?} in\n{}", d.html);
    }
    for needle in ["已超时 10分钟", "共 3 条"] {
        assert!(d.text.contains(needle), "missing {needle:?} in\n{}", d.text);
    }
}

#[test]
fn new_items_and_reminders_of_an_unacknowledged_incident_say_how_to_acknowledge() {
    let (mut incident, item, deadlines) = sample();
    incident.acknowledged_at = None;
    let v = IncidentView {
        now: crate::vocab::clock::from_secs(deadlines[0].due_at - 1800),
        ..view(&incident, &item, &deadlines)
    };
    let ack = "确认接报：yuqing incident ack 7";
    let fresh = new_items(&v, std::slice::from_ref(&item), 0, &|s| s.to_string(), &[]);
    assert!(fresh.text.contains(ack), "{}", fresh.text);
    let soon = reminder(&v, &deadlines[0], &[]);
    assert!(soon.text.contains(ack), "{}", soon.text);
    // Once acknowledged, they do not ask again.
    let mut acked = incident.clone();
    acked.acknowledged_at = Some(incident.opened_at + 60);
    let v = IncidentView {
        incident: &acked,
        ..v
    };
    assert!(!reminder(&v, &deadlines[0], &[]).text.contains(ack));
    let fresh = new_items(&v, std::slice::from_ref(&item), 0, &|s| s.to_string(), &[]);
    assert!(!fresh.text.contains(ack));
}
