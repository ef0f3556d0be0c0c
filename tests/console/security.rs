//! Who may use the console, and what nobody else can make it do. Logging in and the
//! session it opens: the login page with no users yet, wrong passwords waiting longer each
//! time (counted in the store, so two hundred guesses at once or a restarted daemon change
//! nothing), one office behind one address, a proxy's `X-Real-IP` trusted only when
//! configured, where `next` may lead, the cookies behind TLS, and sessions that end at
//! their lifetime, on logout, on a new password or a disabled user, shared by two daemons
//! on one database. Then a hostile page or feed: it cannot run a script (a strict content
//! security policy on every page, a title from the internet shown as text), nor post a
//! form for the duty officer (a CSRF token bound to the session, a planted cookie, a post
//! from another origin).

use crate::common;
use crate::common::console::{
    first_items, logged_in, site, site_with, Browser, DUTY, FIRST, LEADER, OPERATOR, PASSWORD,
};
use yuqing::vocab::ids::IncidentId;

use chrono::{Duration, TimeZone, Utc};
use yuqing::vocab::clock::Clock;

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
        let p = b.try_login(user, password).await;
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
    let wrong = b.try_login(DUTY, "wrong password").await;
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
async fn a_disabled_user_or_a_changed_password_ends_the_session() {
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    let b = logged_in(&site, DUTY).await;
    assert_eq!(b.get("/").await.status, 200);
    store.disable_user(DUTY, 10).await.unwrap();
    assert_eq!(b.get("/").await.status, 303);
    let p = b.get("/login").await;
    let p2 = b.try_login(DUTY, PASSWORD).await;
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
    let guess = || b.try_login(DUTY, "guess");
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
    let ok = b.try_login(DUTY, PASSWORD).await;
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
    let p = other.try_login(DUTY, PASSWORD).await;
    assert_eq!(
        p.status, 429,
        "{backend:?}: another daemon forgot the count"
    );
    // Once the wait is over, the real user gets in.
    site.s.clock.set(site.s.clock.now() + Duration::seconds(1));
    let p = other.try_login(DUTY, PASSWORD).await;
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
            let p = b.try_login(LEADER, "typo").await;
            assert_eq!(p.status, 401, "typo {i}");
        }
        let name = [DUTY, LEADER, OPERATOR][i % 3];
        let p = b.try_login(name, PASSWORD).await;
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
                .try_login_with(&name, "guess", &[("x-real-ip", "203.0.113.9")])
                .await;
            assert_eq!(p.status, if n < 10 { 401 } else { 429 }, "guess {n}");
        }
        // The real user, from another address, is not held up by it unless the header
        // was not trusted (then both are the proxy's 127.0.0.1).
        let p = b
            .try_login_with(DUTY, PASSWORD, &[("x-real-ip", "198.51.100.2")])
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
        .try_login_with(DUTY, PASSWORD, &[("origin", "https://yq.example.gov.cn")])
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
        b.get("/incidents/1").await;
        let p = b
            .post_with("/incidents/1/note", &[("text", "备注")], &headers)
            .await;
        assert_eq!(p.status, status, "{headers:?}: {}", p.body);
    }
    // The login form too.
    let anon = Browser::new(&site.url);
    anon.get("/login").await;
    let p = anon
        .try_login_with(DUTY, PASSWORD, &[("origin", "http://evil.example")])
        .await;
    assert_eq!(p.status, 403);
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
