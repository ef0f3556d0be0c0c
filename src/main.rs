//! The command line of yuqing; see `yuqing --help` and the README.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use yuqing::cli;

#[derive(Parser)]
#[command(
    name = "yuqing",
    version,
    about = "舆情 monitoring with statutory response deadlines"
)]
struct Args {
    /// Log format on stderr: `text` (default) or `json`.
    #[arg(
        long,
        global = true,
        env = "YUQING_LOG_FORMAT",
        default_value = "text",
        value_parser = ["text", "json"]
    )]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run(cli::ConfigArg),
    /// Validate config, watchlists and their examples; exit 0 or list `file:line: message`.
    Check(cli::ConfigArg),
    /// Classify one text (a file, or stdin with `-` or no argument).
    Classify(cli::Classify),
    /// Fetch one page and read it as an article: title, publication time, byline, body.
    Article {
        #[command(flatten)]
        config: cli::ConfigArg,
        /// One JSON document on stdout (`url`, `final_url`, `title`, `published`, `text`).
        #[arg(long)]
        json: bool,
        url: String,
    },
    /// One polling pass over every source (or one), then exit.
    Poll {
        #[command(flatten)]
        config: cli::ConfigArg,
        #[arg(long)]
        source: Option<String>,
    },
    /// What was fetched: source, title, link, published time, topics.
    Items {
        #[command(flatten)]
        config: cli::ConfigArg,
        #[arg(long)]
        source: Option<String>,
        /// A date (`2026-11-24`), a time (RFC 3339) or a span back from now (`24h`); default 7d
        /// (with `--q`: all that is kept).
        #[arg(long)]
        since: Option<String>,
        /// Only items whose title or text holds every word of TEXT (looked up in the search
        /// index), newest first, the matches marked 【】.
        #[arg(long, value_name = "TEXT")]
        q: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Deletes the items older than `[retention] items` that no incident holds, now, keeping
    /// their counts for the briefings; then compacts the database file (SQLite).
    Prune {
        #[command(flatten)]
        config: cli::ConfigArg,
        /// Say what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Each source's health: last success, last error, failures in a row, next poll.
    Sources {
        #[command(flatten)]
        config: cli::ConfigArg,
        #[arg(long)]
        json: bool,
    },
    /// The state of every publication duty of the own channels (last post, due, at risk,
    /// missed), now or as of --at.
    Obligations {
        #[command(flatten)]
        config: cli::ConfigArg,
        /// RFC 3339, or `YYYY-MM-DD HH:MM` in the configured time zone; default now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Open incidents with their deadlines and time left.
    Incidents {
        #[command(flatten)]
        config: cli::ConfigArg,
        /// Closed incidents too.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// The duty officer's actions on one incident.
    Incident {
        #[command(subcommand)]
        action: cli::IncidentCommand,
    },
    /// The pages of incidents' items kept as evidence (WARC).
    Evidence {
        #[command(subcommand)]
        action: cli::evidence::EvidenceCommand,
    },
    /// The working-day calendar (holiday-cn files).
    Calendar {
        #[command(subcommand)]
        action: CalendarCommand,
    },
    /// The people who may log in to the console (`[web]`).
    User {
        #[command(subcommand)]
        action: cli::users::UserCommand,
    },
    /// Reports for the assessment (考核).
    Report {
        #[command(subcommand)]
        report: Report,
    },
    /// The leaders' 舆情 briefing of a period (what the daily_briefing and weekly_briefing
    /// jobs mail): volume by hour or day, topic and source with the negative share,
    /// incidents, missed deadlines, duty states, failing sources.
    Briefing {
        #[command(flatten)]
        config: cli::ConfigArg,
        /// First day (2026-11-23).
        #[arg(long)]
        from: String,
        /// Last day, included (2026-11-29); without it, the one day of --from.
        #[arg(long)]
        to: Option<String>,
        /// `text` (default) or `html` (the mail's HTML part, charts included as data: images).
        #[arg(long, default_value = "text", value_parser = ["text", "html"])]
        format: String,
    },
    /// Instant-message notifiers (`[[notify]]`).
    Notify {
        #[command(subcommand)]
        action: Notify,
    },
    /// A self-contained first look: bundled sample sources served on loopback, deadlines
    /// of seconds, each mail printed as it is sent.
    Demo {
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        seconds: Option<u64>,
        /// Keep the demo's folder (config, database, mail) when it stops.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Subcommand)]
enum Notify {
    /// Send a test message through one notifier and print the service's answer.
    Test {
        #[command(flatten)]
        config: cli::ConfigArg,
        /// The notifier's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Fetch this year's and next year's holiday-cn files from `[daemon] calendar_url`
    /// (ETag, checked, written atomically) and print what changed.
    Update(cli::ConfigArg),
}

#[derive(Subcommand)]
enum Report {
    /// Each incident opened between two dates: clock start, each deadline, when it was met,
    /// met or missed and by how much.
    Incidents {
        #[command(flatten)]
        config: cli::ConfigArg,
        /// First day (2026-11-01).
        #[arg(long)]
        from: String,
        /// Last day, included (2026-11-30); without it, up to now.
        #[arg(long)]
        to: Option<String>,
        /// CSV with a header row, for a spreadsheet.
        #[arg(long)]
        csv: bool,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Only the daemon logs what it does; a command says it in its own (Chinese) output, and
    // logs only warnings and errors beside it: the demo's mail is not interleaved with a
    // line per poll, and `incident dismiss` prints no English log line (RUST_LOG still
    // decides when it is set).
    let quiet = !matches!(args.command, Command::Run(_));
    cli::init_logging(&args.log_format, if quiet { "warn" } else { "info" });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match args.command {
            Command::Run(c) => cli::run(&c).await,
            Command::Check(c) => cli::check(&c).await,
            Command::Classify(c) => cli::classify(&c).await,
            Command::Article { config, json, url } => cli::article::read(&config, &url, json).await,
            Command::Poll { config, source } => cli::poll(&config, source.as_deref()).await,
            Command::Items {
                config,
                source,
                since,
                q,
                json,
            } => {
                cli::items(
                    &config,
                    source.as_deref(),
                    since.as_deref(),
                    q.as_deref(),
                    json,
                )
                .await
            }
            Command::Sources { config, json } => cli::sources(&config, json).await,
            Command::Prune { config, dry_run } => cli::prune(&config, dry_run).await,
            Command::Obligations { config, at, json } => {
                cli::obligations(&config, at.as_deref(), json).await
            }
            Command::Incidents { config, all, json } => cli::incidents(&config, all, json).await,
            Command::Incident { action } => cli::incident(action).await,
            Command::User { action } => cli::users::run(action).await,
            Command::Evidence { action } => cli::evidence::run(action).await,
            Command::Calendar {
                action: CalendarCommand::Update(config),
            } => cli::calendar_update(&config).await,
            Command::Report {
                report:
                    Report::Incidents {
                        config,
                        from,
                        to,
                        csv,
                    },
            } => cli::report_incidents(&config, &from, to.as_deref(), csv).await,
            Command::Briefing {
                config,
                from,
                to,
                format,
            } => cli::briefing(&config, &from, to.as_deref(), format == "html").await,
            Command::Notify {
                action: Notify::Test { config, id },
            } => cli::notify::test(&config, &id).await,
            Command::Demo { seconds, keep } => yuqing::cli::demo::run(seconds, keep).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // Each cause once: a decode error's text already ends with its source's.
            eprintln!("error: {}", yuqing::vocab::text::error_chain(&e));
            ExitCode::from(1)
        }
    }
}
