//! Proves the test harness itself: if these fail, every story test built on `common` is
//! suspect. Mail goes through lettre over real TCP, fetches through reqwest.

use crate::common;

use std::time::Duration;

use common::{rss, HttpServer, Response, SmtpServer, TempDirs};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const WAIT: Duration = Duration::from_secs(5);

fn mailer(server: &SmtpServer) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn mailbox(s: &str) -> Mailbox {
    s.parse().expect("test mailbox")
}

fn incident_mail(subject: &str, message_id: &str) -> Message {
    let text = "事件编号：YQ-2026-0042\n主题：景区安全（重大）\n\
                5小时内须发布权威信息，截止 2026-11-24 15:30（北京时间），剩余 4小时58分。\n\
                记录发布：yuqing incident release YQ-2026-0042\n"
        .to_string();
    let html = "<p>事件编号：YQ-2026-0042</p><p>标题：&lt;景区&gt; 踩踏 &amp; 拥挤</p>".to_string();
    Message::builder()
        .from(mailbox("舆情值班 <yuqing@example.gov.cn>"))
        .to(mailbox("值班员 <duty@example.gov.cn>"))
        .cc(mailbox("deputy@example.gov.cn"))
        .subject(subject)
        .message_id(Some(message_id.to_string()))
        .in_reply_to("<YQ-2026-0042.0@yuqing.example.gov.cn>".to_string())
        .references("<YQ-2026-0042.0@yuqing.example.gov.cn>".to_string())
        .multipart(MultiPart::alternative_plain_html(text, html))
        .expect("build test mail")
}

#[tokio::test]
async fn smtp_receives_chinese_multipart_mail_from_lettre() {
    let server = SmtpServer::start().await;
    let subject = "【重大】景区踩踏：5小时内须发布权威信息";
    let mail = incident_mail(subject, "<YQ-2026-0042.1@yuqing.example.gov.cn>");
    mailer(&server).send(mail).await.expect("send over SMTP");

    let got = server
        .wait_for(|m| m.subject.contains("景区踩踏"), WAIT)
        .await
        .expect("mail arrives");
    assert_eq!(got.parse_error, None);
    assert_eq!(got.subject, subject);
    assert_eq!(got.from, "yuqing@example.gov.cn");
    assert_eq!(got.to, ["duty@example.gov.cn", "deputy@example.gov.cn"]);
    assert_eq!(
        got.message_id.as_deref(),
        Some("<YQ-2026-0042.1@yuqing.example.gov.cn>")
    );
    assert_eq!(
        got.in_reply_to.as_deref(),
        Some("<YQ-2026-0042.0@yuqing.example.gov.cn>")
    );
    assert_eq!(
        got.references.as_deref(),
        Some("<YQ-2026-0042.0@yuqing.example.gov.cn>")
    );
    assert!(got.header("From").is_some_and(|f| f.contains("舆情值班")));
    let text = got.text.expect("text/plain part");
    assert_has!(text, "5小时内须发布权威信息");
    assert_has!(text, "yuqing incident release YQ-2026-0042");
    let html = got.html.expect("text/html part");
    assert_has!(html, "&lt;景区&gt; 踩踏 &amp; 拥挤");
    // The wire form really was encoded: the raw bytes are ASCII, not UTF-8 Chinese.
    assert!(got.raw.is_ascii(), "lettre encodes non-ASCII bodies");
}

#[tokio::test]
async fn smtp_takes_messages_from_several_transports() {
    let server = SmtpServer::start().await;
    let first = mailer(&server);
    for n in 0..3 {
        let subject = format!("提醒 {n}");
        first
            .send(incident_mail(&subject, &format!("<m{n}@test>")))
            .await
            .expect("send");
    }
    mailer(&server)
        .send(incident_mail("另一连接", "<other@test>"))
        .await
        .expect("send on a second transport");

    let all = server.wait_for_count(4, WAIT).await.expect("four mails");
    assert_eq!(all.len(), 4);
    // Whether lettre's pool reuses a connection is lettre's business (it returns connections
    // to the pool in the background); two transports do mean two connections at least.
    // `smtp_session_by_hand` sends two messages on one connection deterministically.
    let subjects: Vec<_> = all.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["提醒 0", "提醒 1", "提醒 2", "另一连接"]);
    assert!(server.connections() >= 2);
    assert_ne!(all[0].connection, all[3].connection);
}

#[tokio::test]
async fn smtp_accepts_any_auth_and_records_it() {
    let server = SmtpServer::start().await;
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
            .port(server.port())
            .credentials(Credentials::new("yuqing".into(), "密码-secret".into()))
            .authentication(vec![mechanism])
            .build();
        transport
            .send(incident_mail("认证", &format!("<{mechanism:?}@test>")))
            .await
            .expect("send with auth");
    }
    let all = server.wait_for_count(2, WAIT).await.expect("two mails");
    let mechanisms: Vec<_> = all
        .iter()
        .map(|m| m.auth.clone().expect("auth recorded"))
        .collect();
    assert_eq!(mechanisms[0].mechanism, "PLAIN");
    assert_eq!(mechanisms[1].mechanism, "LOGIN");
    for auth in mechanisms {
        assert_eq!(auth.user, "yuqing");
        assert_eq!(auth.password, "密码-secret");
    }
}

#[tokio::test]
async fn smtp_unstuffs_dots_in_data() {
    let server = SmtpServer::start().await;
    let body = "first\r\n.leading dot\r\n.\r\n..two\r\nlast\r\n".to_string();
    let mail = Message::builder()
        .from(mailbox("yuqing@example.gov.cn"))
        .to(mailbox("duty@example.gov.cn"))
        .subject("dots")
        .singlepart(SinglePart::plain(body))
        .expect("build");
    mailer(&server).send(mail).await.expect("send");
    let got = server
        .wait_for(|m| m.subject == "dots", WAIT)
        .await
        .expect("arrives");
    let text = got.text.expect("plain body").replace("\r\n", "\n");
    assert_eq!(text.trim_end(), "first\n.leading dot\n.\n..two\nlast");
    let raw = String::from_utf8_lossy(&got.raw);
    assert_has!(raw, "\r\n.\r\n..two\r\n");
}

#[tokio::test]
async fn smtp_when_down_refuses_and_comes_back() {
    let server = SmtpServer::start().await;
    server.set_down(true);
    let refused = mailer(&server)
        .send(incident_mail("停机", "<down@test>"))
        .await;
    assert!(refused.is_err(), "a down relay refuses");
    assert!(server.messages().is_empty());

    server.set_down(false);
    mailer(&server)
        .send(incident_mail("恢复", "<up@test>"))
        .await
        .expect("relay is back");
    assert!(server
        .wait_for(|m| m.subject == "恢复", WAIT)
        .await
        .is_some());
}

#[tokio::test]
async fn smtp_wait_for_wakes_on_a_later_message_and_times_out_otherwise() {
    let server = SmtpServer::start().await;
    assert!(server
        .wait_for(|_| true, Duration::from_millis(50))
        .await
        .is_none());

    let transport = mailer(&server);
    let send = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        transport
            .send(incident_mail("稍后", "<later@test>"))
            .await
            .expect("send");
    });
    let got = server.wait_for(|m| m.subject == "稍后", WAIT).await;
    assert!(got.is_some());
    send.await.expect("sender task");
}

/// Speaks SMTP by hand for the verbs lettre never sends (RSET, NOOP, HELO, errors).
#[tokio::test]
async fn smtp_session_by_hand() {
    let server = SmtpServer::start().await;
    let stream = tokio::net::TcpStream::connect((server.host(), server.port()))
        .await
        .expect("connect");
    let mut session = HandSession {
        read: BufReader::new(stream),
    };
    assert!(session.reply().await.starts_with("220"));
    assert!(
        session.cmd("MAIL FROM:<a@b>\r\n").await.starts_with("503"),
        "EHLO first"
    );
    assert!(session.cmd("HELO client\r\n").await.starts_with("250"));
    assert!(session.cmd("NOOP\r\n").await.starts_with("250"));
    assert!(session
        .cmd("MAIL FROM:<dropped@b>\r\n")
        .await
        .starts_with("250"));
    assert!(session
        .cmd("RCPT TO:<dropped@c>\r\n")
        .await
        .starts_with("250"));
    assert!(session.cmd("RSET\r\n").await.starts_with("250"));
    assert!(
        session.cmd("DATA\r\n").await.starts_with("503"),
        "RSET forgot the envelope"
    );
    assert!(session.cmd("MAIL FROM:<>\r\n").await.starts_with("250"));
    assert!(session.cmd("RCPT TO:<x@c>\r\n").await.starts_with("250"));
    assert!(session.cmd("RCPT TO:<y@c>\r\n").await.starts_with("250"));
    assert!(session.cmd("DATA\r\n").await.starts_with("354"));
    assert!(session
        .cmd("Subject: hand\r\n\r\n..stuffed\r\n.\r\n")
        .await
        .starts_with("250"));
    assert!(session.cmd("BOGUS\r\n").await.starts_with("502"));
    assert!(session
        .cmd("MAIL FROM:<again@b>\r\n")
        .await
        .starts_with("250"));
    assert!(session.cmd("RCPT TO:<z@c>\r\n").await.starts_with("250"));
    assert!(session.cmd("DATA\r\n").await.starts_with("354"));
    assert!(session
        .cmd("Subject: =?UTF-8?B?56ys5LqM5bCB?=\r\n\r\nsecond\r\n.\r\n")
        .await
        .starts_with("250"));
    assert!(session.cmd("QUIT\r\n").await.starts_with("221"));

    let all = server.messages();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].connection, all[1].connection);
    assert_eq!(all[1].to, ["z@c"]);
    assert_eq!(all[1].subject, "第二封");
    assert_eq!(all[0].from, "");
    assert_eq!(all[0].to, ["x@c", "y@c"]);
    assert_eq!(all[0].raw, b"Subject: hand\r\n\r\n.stuffed\r\n");
    assert_eq!(all[0].subject, "hand");
}

struct HandSession {
    read: BufReader<tokio::net::TcpStream>,
}

impl HandSession {
    /// A reply ends with the line whose code is followed by a space.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.read.read_line(&mut line).await.expect("read reply");
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return all;
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.read
            .get_mut()
            .write_all(line.as_bytes())
            .await
            .expect("write");
        self.reply().await
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("reqwest client")
}

#[tokio::test]
async fn http_serves_bytes_and_headers_as_set() {
    let server = HttpServer::start().await;
    let gbk = encoding_rs::GBK
        .encode("<p>银川市文化旅游局 通知公告</p>")
        .0;
    server.set("/list.html", Response::ok("text/html", gbk.to_vec()));
    let resp = client()
        .get(server.url("/list.html"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/html");
    assert_eq!(resp.bytes().await.expect("body").as_ref(), gbk.as_ref());

    let missing = client()
        .get(server.url("/nothing"))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn http_publishing_a_new_item_replaces_the_feed() {
    let server = HttpServer::start().await;
    let old = rss(&[("旧闻", "http://x/1", "1", "Mon, 23 Nov 2026 08:00:00 +0800")]);
    server.set("rss.xml", Response::rss(old));
    let first = client()
        .get(server.url("rss.xml"))
        .send()
        .await
        .expect("get");
    let first = first.text().await.expect("text");
    assert!(first.contains("旧闻") && !first.contains("新闻"));

    let new = rss(&[
        (
            "新闻 <踩踏> & 拥挤",
            "http://x/2?a=1&b=2",
            "2",
            "Tue, 24 Nov 2026 10:30:00 +0800",
        ),
        ("旧闻", "http://x/1", "1", "Mon, 23 Nov 2026 08:00:00 +0800"),
    ]);
    server.set("/rss.xml", Response::rss(new));
    let second = client()
        .get(server.url("/rss.xml"))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    let feed = feed_rs::parser::parse(second.as_ref()).expect("rss() builds valid RSS");
    assert_eq!(feed.entries.len(), 2);
    let title = feed.entries[0].title.as_ref().expect("title");
    assert_eq!(title.content, "新闻 <踩踏> & 拥挤");
    assert_eq!(feed.entries[0].links[0].href, "http://x/2?a=1&b=2");
    assert_eq!(server.requests("/rss.xml").len(), 2);
}

#[tokio::test]
async fn http_etag_round_trip_gives_304_and_the_log_shows_it() {
    let server = HttpServer::start().await;
    server.set("/feed", Response::rss(rss(&[])).etag("\"v1\""));
    let http = client();
    let first = http.get(server.url("/feed")).send().await.expect("get");
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().expect("etag").to_string();
    assert_eq!(etag, "\"v1\"");

    let second = http
        .get(server.url("/feed"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("conditional get");
    assert_eq!(second.status(), 304);
    assert_eq!(second.headers()["etag"], "\"v1\"");
    assert!(second.bytes().await.expect("body").is_empty());

    // The site publishes: a new ETag, so the old validator no longer matches.
    server.set("/feed", Response::rss(rss(&[])).etag("W/\"v2\""));
    let third = http
        .get(server.url("/feed"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("conditional get");
    assert_eq!(third.status(), 200);

    let log = server.requests("/feed");
    assert_eq!(log.len(), 3);
    assert!(!log[0].is_conditional());
    assert_eq!(log[1].header("If-None-Match"), Some("\"v1\""));
    assert_eq!(
        log.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 304, 200]
    );
    assert!(log[0].at <= log[1].at && log[1].at <= log[2].at);
}

#[tokio::test]
async fn http_last_modified_round_trip() {
    let server = HttpServer::start().await;
    server.set(
        "/page",
        Response::ok("text/html; charset=gbk", b"<p>x</p>".to_vec())
            .last_modified("Tue, 24 Nov 2026 02:30:00 GMT"),
    );
    let get = |since: &'static str| {
        client()
            .get(server.url("/page"))
            .header("If-Modified-Since", since)
            .send()
    };
    let same = get("Tue, 24 Nov 2026 02:30:00 GMT").await.expect("get");
    assert_eq!(same.status(), 304);
    assert_eq!(
        same.headers()["last-modified"],
        "Tue, 24 Nov 2026 02:30:00 GMT"
    );
    let older = get("Tue, 24 Nov 2026 02:29:59 GMT").await.expect("get");
    assert_eq!(older.status(), 200);
}

#[tokio::test]
async fn http_error_statuses_retry_after_and_redirects() {
    let server = HttpServer::start().await;
    server.set("/busy", Response::too_many_requests(120));
    server.set("/down", Response::status(503));
    server.set("/broken", Response::status(500));
    server.set("/old", Response::redirect(301, "/new"));
    server.set("/new", Response::ok("text/plain; charset=utf-8", "到了"));
    let http = client();

    let busy = http.get(server.url("/busy")).send().await.expect("get");
    assert_eq!(busy.status(), 429);
    assert_eq!(busy.headers()["retry-after"], "120");
    let down = http.get(server.url("/down")).send().await.expect("get");
    assert_eq!(down.status(), 503);
    let broken = http.get(server.url("/broken")).send().await.expect("get");
    assert_eq!(broken.status(), 500);

    let moved = http.get(server.url("/old")).send().await.expect("get");
    assert_eq!(moved.url().path(), "/new");
    assert_eq!(moved.text().await.expect("text"), "到了");
    assert_eq!(server.requests("/old")[0].status, 301);
    assert_eq!(server.requests("/new").len(), 1);
}

#[tokio::test]
async fn http_delay_makes_a_client_time_out() {
    let server = HttpServer::start().await;
    server.set(
        "/slow",
        Response::ok("text/plain", "late").delay(Duration::from_secs(2)),
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let err = http
        .get(server.url("/slow"))
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn http_query_specific_routes_and_request_headers_are_logged() {
    let server = HttpServer::start().await;
    server.set("/list", Response::ok("text/html", "page one"));
    server.set("/list?page=2", Response::ok("text/html", "page two"));
    let http = client();
    let one = http.get(server.url("/list")).send().await.expect("get");
    assert_eq!(one.text().await.expect("text"), "page one");
    let two = http
        .get(server.url("/list?page=2"))
        .header("User-Agent", "yuqing/0.1")
        .send()
        .await
        .expect("get");
    assert_eq!(two.text().await.expect("text"), "page two");
    let log = server.requests("/list");
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].query.as_deref(), Some("page=2"));
    assert_eq!(log[1].header("user-agent"), Some("yuqing/0.1"));
}

#[test]
fn temp_dirs_give_a_state_dir_and_take_files() {
    let dirs = TempDirs::new();
    assert!(dirs.state().is_dir());
    let config = dirs.write(
        "config/yuqing.toml",
        "[daemon]\nwatchlists = \"watchlists\"\n",
    );
    assert!(config.starts_with(dirs.root()));
    assert_eq!(
        std::fs::read_to_string(&config).expect("read back"),
        "[daemon]\nwatchlists = \"watchlists\"\n"
    );
    assert!(dirs.database_url().starts_with("sqlite://"));
    let root = dirs.root().to_path_buf();
    drop(dirs);
    assert!(!root.exists(), "removed on drop");
}

#[tokio::test]
async fn http_serves_charset_fixtures_that_decode_despite_a_lying_header() {
    let server = HttpServer::start().await;
    server.set(
        "/tzgg/index.html",
        Response::ok(
            "text/html; charset=utf-8",
            common::fixture("charset/gbk-undeclared.html"),
        ),
    );
    let resp = client()
        .get(server.url("/tzgg/index.html"))
        .send()
        .await
        .expect("get");
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.bytes().await.expect("body");
    let decoded = yuqing::fetch::charset::decode(&bytes, content_type.as_deref());
    assert_eq!(decoded.encoding, encoding_rs::GBK);
    assert!(matches!(
        decoded.how,
        yuqing::fetch::charset::How::DetectedOverWrongDeclaration { .. }
    ));
    assert!(decoded
        .text
        .contains("关于做好2026年冬季旅游景区安全生产工作的通知"));
}
