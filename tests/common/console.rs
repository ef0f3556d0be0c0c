//! The console's harness: a daemon in-process on a manual clock with one incident already
//! open, three people (值班员 张三, 领导 李四, 运维 王五), the console served on a free
//! loopback port, and a small cookie-keeping client that fills in each form's CSRF token
//! as a browser would.

use super::{rss, scenario, RssItem, Scenario, SCENIC_MAJOR};
use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

pub const DUTY: &str = "张三";
pub const LEADER: &str = "李四";
pub const OPERATOR: &str = "王五";
pub const PASSWORD: &str = "correct horse battery";

/// The forum's first report, published at 01:00 UTC: a major incident (release due 06:00,
/// press conference 01:00 next day).
pub const FIRST: &str = "某景区栈道坍塌 多名游客受伤";
pub const FIRST_LINK: &str = "https://bbs.example.cn/t/1";

pub struct Site {
    pub s: Scenario,
    pub url: String,
    pub shutdown: CancellationToken,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The feed's items at the start: one report.
pub fn first_items() -> Vec<RssItem<'static>> {
    vec![(FIRST, FIRST_LINK, "t1", "Tue, 24 Nov 2026 09:00:00 +0800")]
}

/// A site with `extra` config, the first report polled (incident #1 open) and the users.
pub async fn site_with(backend: &Option<String>, extra: &str, items: &[RssItem<'_>]) -> Site {
    let extra = format!("[web]\nlisten = \"127.0.0.1:0\"\n{extra}");
    let s = scenario(SCENIC_MAJOR, items, &extra, backend).await;
    for (id, r) in s.daemon.poll_once(None).await.expect("poll") {
        r.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    add_users(&s).await;
    let shutdown = CancellationToken::new();
    let (addr, _task) = s
        .daemon
        .serve_console(shutdown.clone())
        .await
        .expect("serve the console")
        .expect("the console is on");
    Site {
        s,
        url: format!("http://{addr}"),
        shutdown,
    }
}

pub async fn site(backend: &Option<String>) -> Site {
    site_with(backend, "", &first_items()).await
}

impl Site {
    /// Runs the real `yuqing` with `args` on this site's config, at the site's clock, and
    /// asserts it succeeded; its stdout and stderr.
    pub fn cli(&self, args: &[&str]) -> (String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(args)
            .arg("--config")
            .arg(&self.s.config)
            .env(
                "YUQING_NOW",
                yuqing::vocab::clock::Clock::now(&self.s.clock).to_rfc3339(),
            )
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "yuqing {args:?}: {stdout}{stderr}");
        (stdout, stderr)
    }
}

/// A console (SQLite) with two incidents of the scenic topic, where #1's stored severity is
/// one this version does not know (as a newer version might have written it) and #2 reads.
pub async fn site_where_1_cannot_be_read() -> Site {
    let mut items = first_items();
    items.push((
        "某县城老街景区围墙坍塌 暂无人员伤亡",
        "https://bbs.example.cn/t/2",
        "t2",
        "Tue, 24 Nov 2026 09:05:00 +0800",
    ));
    let site = site_with(&None, "", &items).await;
    let store = &site.s.daemon.store;
    assert_eq!(
        store.incidents(false).await.unwrap().len(),
        2,
        "two incidents"
    );
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = 1")
        .execute(store.pool())
        .await
        .unwrap();
    site
}

pub async fn add_users(s: &Scenario) {
    let hash = yuqing::web::hash_password(PASSWORD).unwrap();
    use yuqing::web::Role;
    for (name, role) in [
        (DUTY, Role::Duty),
        (LEADER, Role::Leader),
        (OPERATOR, Role::Operator),
    ] {
        assert!(s.daemon.store.add_user(name, role, &hash, 0).await.unwrap());
    }
}

/// Publishes `items` on the feed and polls it.
pub async fn publish(s: &Scenario, items: &[RssItem<'_>]) {
    s.http.set("/news.xml", super::Response::rss(rss(items)));
    for (id, r) in s.daemon.poll_once(None).await.expect("poll") {
        r.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
}

/// What a page answered.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The CSRF token of the page's first form.
    pub fn token(&self) -> Option<String> {
        let at = self.body.find("name=\"authenticity_token\" value=\"")?;
        let rest = &self.body[at + "name=\"authenticity_token\" value=\"".len()..];
        Some(rest[..rest.find('"')?].to_string())
    }
}

/// A browser without a script: keeps cookies, follows nothing by itself, remembers the
/// last page's CSRF token for the next form.
#[derive(Clone)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: Arc<Mutex<BTreeMap<String, String>>>,
    token: Arc<Mutex<Option<String>>>,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Arc::default(),
            token: Arc::default(),
        }
    }

    /// The same cookies, against another daemon's console.
    pub fn at(&self, base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            ..self.clone()
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn forget(&self, name: &str) {
        self.cookies.lock().unwrap().remove(name);
    }

    /// Sets a cookie as a page of another origin on the same site could (issue 26 §2.3).
    pub fn plant(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_string(), value.to_string());
    }

    /// The CSRF token of the last page that had a form.
    pub fn last_token(&self) -> Option<String> {
        self.token.lock().unwrap().clone()
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        let c = self.cookies.lock().unwrap();
        c.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&self, r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            let mut c = self.cookies.lock().unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                c.remove(k);
            } else {
                c.insert(k.to_string(), val.to_string());
            }
        }
        let body = r.text().await.unwrap_or_default();
        let page = Page {
            status,
            headers,
            body,
        };
        if let Some(t) = page.token() {
            *self.token.lock().unwrap() = Some(t);
        }
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Posts a form with the last page's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(path, fields, &[]).await
    }

    /// Posts a form with the last page's CSRF token added and these extra headers
    /// (`Origin`, `X-Real-IP` …).
    pub async fn post_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let token = self.token.lock().unwrap().clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("authenticity_token", token.as_str())];
        all.extend_from_slice(fields);
        self.send(path, &all, headers).await
    }

    /// Posts exactly these fields.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(path, fields, &[]).await
    }

    /// Posts the login form with this name and password (no `next`).
    pub async fn try_login(&self, name: &str, password: &str) -> Page {
        self.try_login_with(name, password, &[]).await
    }

    /// Posts the login form with this name and password and these extra headers.
    pub async fn try_login_with(
        &self,
        name: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Page {
        let fields = [("username", name), ("password", password)];
        self.post_with("/login", &fields, headers).await
    }

    async fn send(&self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.body(body).send().await.unwrap();
        self.finish(r).await
    }

    /// Logs in as `name`; panics unless the console accepted.
    pub async fn login(&self, name: &str) {
        let p = self.get("/login").await;
        assert_eq!(p.status, 200);
        let p = self
            .post(
                "/login",
                &[("username", name), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(p.status, 303, "login as {name}: {}", p.body);
    }
}

pub async fn logged_in(site: &Site, name: &str) -> Browser {
    let b = Browser::new(&site.url);
    b.login(name).await;
    b
}
