//! `yuqing classify`, `poll` and `items`: what a text or a source's items are, and what
//! was fetched.

use super::*;

/// `yuqing classify`: the text (or the item in its parts) and how to show its topics.
#[derive(Args, Debug)]
pub struct Classify {
    #[command(flatten)]
    pub config: ConfigArg,
    /// One JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Show which rule matched on which words, and which exclusion stopped a match.
    #[arg(long, conflicts_with = "json")]
    pub explain: bool,
    /// Classify as if the text came from this source (topics may be restricted).
    #[arg(long)]
    pub source: Option<String>,
    #[command(flatten)]
    pub parts: ItemParts,
    pub file: Option<PathBuf>,
}

/// `classify --title/--summary/--url`: the item's parts, when it is classified in them.
#[derive(Args, Debug, Clone, Default)]
pub struct ItemParts {
    /// Classify an item in its parts: this is its title, FILE (if given) its body, and
    /// each topic says where it matched (title, summary, body).
    #[arg(long)]
    pub title: Option<String>,
    /// The item's summary (with `--title` or `--url`).
    #[arg(long)]
    pub summary: Option<String>,
    /// Read the article at this URL as the body (and its title, unless `--title`).
    #[arg(long, conflicts_with = "file")]
    pub url: Option<String>,
}

impl ItemParts {
    fn given(&self) -> bool {
        self.title.is_some() || self.summary.is_some() || self.url.is_some()
    }
}

pub async fn classify(args: &Classify) -> Result<ExitCode> {
    let c = &args.config;
    let source = args.source.as_deref();
    let settings = or_exit!(load_settings(c));
    if let Some(id) = source {
        let known: Vec<&str> = settings
            .config
            .sources
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        or_exit!(known_source(c, id, &known));
    }
    if args.parts.given() {
        return classify_parts(&settings, args).await;
    }
    let text = match args.file.as_deref() {
        Some(p) if p != Path::new("-") => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        _ => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read stdin")?;
            s
        }
    };
    let classifier: &Classifier = &settings.classifier;
    if args.explain {
        out!("{}", classifier.explain(&text, source));
    } else {
        let result = classifier.classify(&text, source);
        if args.json {
            jsonln!("{}", serde_json::to_string_pretty(&result)?);
        } else if result.topics.is_empty() {
            outln!("no topic matched");
        } else {
            for t in &result.topics {
                let words: Vec<String> = t
                    .evidence
                    .iter()
                    .map(|e| format!("{}@{}..{}", e.term, e.start, e.end))
                    .collect();
                outln!("{}\t{}\t{}\t{}", t.id, t.name, t.severity, words.join(" "));
            }
        }
        if !args.json {
            let t = result.tone;
            outln!("语气\t{}\t{:+.2}", t.label.zh(), t.score);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `classify` of an item in its parts: the title and summary as given, the body from FILE
/// (`-` for stdin) or from the article at `--url`, whose title stands in for a missing
/// `--title`. Each topic says where it matched.
async fn classify_parts(settings: &Settings, args: &Classify) -> Result<ExitCode> {
    let (json_out, explain, source) = (args.json, args.explain, args.source.as_deref());
    let given = &args.parts;
    let mut title = given.title.clone().unwrap_or_default();
    let summary = given.summary.clone().unwrap_or_default();
    let body = match (&given.url, args.file.as_deref()) {
        (Some(url), _) => match article::fetch(&settings.config, url).await? {
            Ok((_, a)) => {
                if given.title.is_none() {
                    title = a.title;
                }
                a.text
            }
            Err(code) => return Ok(code),
        },
        (None, Some(p)) if p != Path::new("-") => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        (None, Some(_)) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read stdin")?;
            s
        }
        (None, None) => String::new(),
    };
    let parts = crate::classify::Parts {
        title: &title,
        summary: &summary,
        body: &body,
    };
    let classifier: &Classifier = &settings.classifier;
    if explain {
        out!("{}", classifier.explain_parts(&parts, source));
        return Ok(ExitCode::SUCCESS);
    }
    let result = classifier.classify_parts(&parts, source);
    if json_out {
        // The plain `classify --json` shape, each topic with `found_in` and `body_only`.
        let mut value = serde_json::to_value(&result.classification)?;
        if let Some(topics) = value["topics"].as_array_mut() {
            for (t, m) in topics.iter_mut().zip(&result.matches) {
                t["found_in"] = serde_json::to_value(&m.found_in)?;
                t["body_only"] = m.body_only.into();
            }
        }
        jsonln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    if result.matches.is_empty() {
        outln!("no topic matched");
    }
    for m in &result.matches {
        let places: Vec<&str> = m.found_in.iter().map(|p| p.zh()).collect();
        let only = if m.body_only {
            "（仅因正文）"
        } else {
            ""
        };
        outln!(
            "{}\t{}\t{}\t{}{only}",
            m.id,
            m.name,
            m.severity,
            places.join("、")
        );
    }
    let t = result.classification.tone;
    outln!("语气\t{}\t{:+.2}", t.label.zh(), t.score);
    Ok(ExitCode::SUCCESS)
}

pub async fn poll(c: &ConfigArg, only: Option<&str>) -> Result<ExitCode> {
    let settings = or_exit!(load_settings(c));
    if let Some(id) = only {
        // An own channel is polled like a source (`poll --source weibo-wenlv`).
        let known: Vec<&str> = settings.config.polled().map(|p| p.id).collect();
        or_exit!(known_source(c, id, &known));
    }
    let daemon = Daemon::start(c.config.clone(), settings, Arc::new(CommandClock)).await?;
    let results = daemon.poll_once(only).await?;
    let now = CommandClock.now();
    let tz = daemon.settings.get().config.daemon.timezone;
    let mut failed = false;
    let mut overdue = Vec::new();
    for (id, r) in results {
        match r {
            Ok(r) if r.not_modified => outln!("{id}：无更新（服务器答复未修改）"),
            Ok(r) => {
                outln!(
                    "{id}：抓取 {} 条，新信息 {} 条，命中专题 {} 条，新立案 {} 起，并入已有事件 {} 条",
                    r.fetched,
                    r.new,
                    r.matched,
                    r.opened.len(),
                    r.joined.len()
                );
                overdue.extend(r.opened);
            }
            Err(e) => {
                failed = true;
                outln!("{id}：抓取失败：{e}");
            }
        }
    }
    // Items published days ago open incidents whose clock started then: their breach
    // mail goes out with the opening mail, and this says why.
    for id in overdue {
        let Some(i) = daemon.store.incident(daemon.store.pool(), id).await? else {
            continue;
        };
        for d in daemon.store.deadlines_of(daemon.store.pool(), id).await? {
            if let DeadlineState::Missed { overdue_by, .. } = d.state(&i, now) {
                outln!(
                    "事件 #{id} 立案时已超时：{}应于 {} 前完成（计时起点是首条信息的发布时间 {}），\
                     已超时 {}；超时通报随立案通知一并发出",
                    d.what(),
                    local(from_secs(d.due_at), tz),
                    local(from_secs(i.clock_start), tz),
                    zh_span(overdue_by)
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A span back from now (`24h`), or a time as `vocab::clock::parse_typed` reads it.
fn parse_since(text: &str, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(span) = text.parse::<crate::vocab::duration::Span>() {
        return Some(now - span.chrono());
    }
    parse_typed(text, tz).map(|t| t.at)
}

pub async fn items(
    c: &ConfigArg,
    source: Option<&str>,
    since: Option<&str>,
    text: Option<&str>,
    json_out: bool,
) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let query = match text {
        None => None,
        Some(t) => match crate::store::SearchQuery::parse(t) {
            Some(q) => Some(q),
            None => {
                eprintln!("error: --q `{t}`: nothing to search for (write a word, e.g. --q 踩踏)");
                return Ok(ExitCode::from(2));
            }
        },
    };
    if let Some(id) = source {
        let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        or_exit!(known_source(c, id, &known));
    }
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    let since = match since {
        None if query.is_some() => None,
        None => Some(now - chrono::Duration::days(7)),
        Some(s) => match parse_since(s, now, tz) {
            Some(t) => Some(t),
            None => {
                eprintln!("error: --since `{s}`: write a date (2026-11-24), an RFC 3339 time or a span (24h)");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let rows = match &query {
        None => {
            store
                .items(source, since.map_or(0, secs), ITEMS_SHOWN)
                .await?
        }
        Some(q) => {
            let filter = crate::store::ItemFilter {
                source: source.map(str::to_string),
                since: since.map(secs),
                ..Default::default()
            };
            store.search_items(&filter, q, ITEMS_SHOWN, 0).await?.rows
        }
    };
    let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
    let sightings = store.sightings(store.pool(), &ids).await?;
    let held = store.held_filings().await?;
    if json_out {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|i| {
                let mut item = serde_json::to_value(i.json(&sightings, &held, tz))?;
                item["marks"] = json!(query.as_ref().map(|q| json!({
                    "title": q.marks(&i.title),
                    "summary": q.marks(&i.summary),
                })));
                Ok(item)
            })
            .collect::<Result<_>>()?;
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&json!({ "items": items }))?
        );
    } else {
        // Topic names as people know them; ids when the watchlists cannot be read.
        let names = crate::classify::watchlist::load_dir(&config.daemon.watchlists)
            .map(|w| w.topics)
            .unwrap_or_default();
        let name_of = |id: &str| {
            names
                .iter()
                .find(|t| t.id == id)
                .map_or_else(|| id.to_string(), |t| t.name.clone())
        };
        outln!(
            "编号\t抓取时间（{}）\t来源\t发布时间\t标题\t链接\t专题\t语气",
            zone(tz)
        );
        for i in &rows {
            let mut topics: Vec<String> = i.topics.iter().map(|t| name_of(t)).collect();
            // A topic its filing waits under: no clock runs for it yet.
            for h in held.iter().filter(|h| h.item_id == i.id) {
                let name = name_of(&h.topic_id);
                if let Some(t) = topics.iter_mut().find(|t| **t == name) {
                    t.push_str("（暂未归入事件）");
                }
            }
            let tone = i.tone.map_or_else(
                || "-".into(),
                |t| format!("{} {:+.2}", t.label.zh(), t.score),
            );
            // The other sources that carried it, after its own (issue 24 §2).
            let also: Vec<&str> = sightings
                .iter()
                .filter(|s| s.item_id == i.id)
                .map(|s| s.source_id.as_str())
                .collect();
            let source = if also.is_empty() {
                i.source_id.clone()
            } else {
                format!("{}（亦见于 {}）", i.source_id, also.join("、"))
            };
            outln!(
                "{}\t{}\t{source}\t{}\t{}\t{}\t{}\t{tone}",
                i.id,
                local(from_secs(i.fetched_at), tz),
                i.published_at
                    .map(|t| local(from_secs(t), tz))
                    .unwrap_or_else(|| "-".into()),
                match &query {
                    Some(q) => bracket(&i.title, &q.marks(&i.title)),
                    None => i.title.clone(),
                },
                i.link.as_deref().unwrap_or("-"),
                if topics.is_empty() {
                    "-".to_string()
                } else {
                    topics.join("、")
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// At most this many items are listed by `yuqing items`.
const ITEMS_SHOWN: i64 = 1000;

/// `text` with the char ranges `marks` put in 【】.
fn bracket(text: &str, marks: &[(usize, usize)]) -> String {
    let mut out = String::new();
    for (k, c) in text.chars().enumerate() {
        if marks.iter().any(|&(s, _)| s == k) {
            out.push('【');
        }
        out.push(c);
        if marks.iter().any(|&(_, e)| e == k + 1) {
            out.push('】');
        }
    }
    out
}
