//! What every page shares: who is looking and as of when (`Viewer`), the frame (title,
//! navigation, who is logged in, the logout form), the security headers, the error pages;
//! and the watchlist test page.

use super::auth::User;
use super::csrf::CsrfToken;
use super::csrf::Posted;
use super::Console;
use crate::config::settings::Settings;
use crate::store::IncidentRow;
use crate::vocab::ids::IncidentId;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::sync::Arc;

/// Who is looking, and as of when: the logged-in user, the token their forms carry, one
/// snapshot of the settings (a reload halfway through a page does not mix two), their
/// time zone, and the instant the page shows. Every page's handler takes one; a request
/// without a session is sent to log in first (`User`).
pub struct Viewer {
    pub user: User,
    pub token: CsrfToken,
    pub settings: Arc<Settings>,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

impl Viewer {
    /// `user` with `token`, as of now: for a form's answer, whose token was checked
    /// (`Posted`).
    pub fn new(c: &Console, user: User, token: CsrfToken) -> Viewer {
        let settings = c.settings.get();
        Viewer {
            user,
            token,
            tz: settings.config.daemon.timezone,
            settings,
            now: c.clock.now(),
        }
    }

    /// The frame of a page titled `title`, under the navigation entry `nav`.
    pub fn layout(&self, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout::new(title, &self.user, &self.token, nav)
    }

    /// The local date now.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }
}

impl FromRequestParts<Console> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Viewer, Response> {
        let user = User::from_request_parts(parts, c).await?;
        let token = CsrfToken::from_request_parts(parts, c).await?;
        Ok(Viewer::new(c, user, token))
    }
}

/// The frame around a page.
pub struct Layout {
    pub title: String,
    /// Logged-in user's name and role in Chinese; `None` on the login page.
    pub user: Option<(String, &'static str)>,
    pub is_operator: bool,
    /// For the logout form.
    pub token: String,
    /// Which navigation entry is current: `/`, `/items`, …
    pub nav: &'static str,
}

impl Layout {
    pub fn anonymous(title: &str) -> Layout {
        Layout {
            title: title.into(),
            user: None,
            is_operator: false,
            token: String::new(),
            nav: "",
        }
    }

    fn new(title: impl Into<String>, user: &User, token: &CsrfToken, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            user: Some((user.name.clone(), user.role.zh())),
            is_operator: user.can_classify(),
            token: token.authenticity_token().unwrap_or_default(),
            nav,
        }
    }
}

/// Pages carry no bidi overrides (U+202A–202E, U+2066–2069): a title from the web could
/// otherwise show `gnp.exe` as `exe.png` (`vocab::text::without_bidi`). Templates escape
/// markup, not these, so the whole HTML page is filtered on its way out.
pub async fn without_bidi(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Pages are rendered whole in memory (askama) before they reach this point: collecting
    // the body costs no more memory, and no size may turn a page into an empty 500 (an
    // incident of 920 items with 2 KB titles once did, at a limit of 16 MiB). The pages
    // keep themselves small by showing long lists a page at a time.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "console page could not be read back");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let page = match std::str::from_utf8(&bytes) {
        Ok(text) => match crate::vocab::text::without_bidi(text) {
            std::borrow::Cow::Borrowed(_) => bytes,
            std::borrow::Cow::Owned(clean) => clean.into(),
        },
        Err(_) => bytes,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}

/// Strict CSP (scripts, styles, images, connections only from the console itself; no
/// inline script, no framing), and the usual companions.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    message: String,
}

/// A date as forms and links carry it, `2026-11-01` (white space around it ignored).
pub fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A link to `path` with `pairs` as its query, each encoded.
pub fn href<'a>(path: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(pairs);
    format!("{path}?{}", query.finish())
}

/// Why a page could not be shown, by cause: something broke (the store, mostly: a 500,
/// logged, `failure`) or what was asked for is not there (a 404 saying so). Handlers answer
/// `Answer` and use `?` (axum's `anyhow-error-response` example) instead of a `match` at
/// every call.
pub enum PageError {
    Failed(anyhow::Error),
    NotFound(String),
}

/// A handler's answer: the page, or why there is none.
pub type Answer = Result<Response, PageError>;

impl<E: Into<anyhow::Error>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError::Failed(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Failed(e) => failure(&e),
            PageError::NotFound(what) => error_page(StatusCode::NOT_FOUND, &what),
        }
    }
}

/// The incident `id`, or the 404 saying there is none.
pub async fn incident(c: &Console, id: i64) -> Result<IncidentRow, PageError> {
    c.store
        .incident(c.store.pool(), IncidentId(id))
        .await?
        .ok_or_else(|| PageError::NotFound(format!("没有编号为 #{id} 的事件。")))
}

/// 500, logged with the cause; the page says only that something failed, or, for a
/// stored row this version cannot read, which row and that retrying will not help.
pub fn failure(e: &anyhow::Error) -> Response {
    tracing::error!(error = %format!("{e:#}"), "console request failed");
    let message = if crate::store::unreadable(e) {
        format!(
            "这条记录无法读取（可能由较新版本写入）：{}。重试无效，请联系运维修复；已记录日志。",
            crate::vocab::text::error_chain(e)
        )
    } else {
        "服务器出错，已记录日志；请稍后重试。".to_string()
    };
    error_page(StatusCode::INTERNAL_SERVER_ERROR, &message)
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        layout: Layout::anonymous("出错"),
        message: message.into(),
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(_) => (status, message.to_string()).into_response(),
    }
}

/// `body` as a file to save, named `name`.
pub fn attachment(name: &str, content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub fn forbidden(what: &str) -> Response {
    error_page(StatusCode::FORBIDDEN, &format!("您的角色无权{what}。"))
}

// ---------------------------------------------------------------------------------------
// /classify: the watchlist test (operators)

#[derive(Template, WebTemplate)]
#[template(path = "classify.html")]
struct ClassifyPage {
    layout: Layout,
    authenticity_token: String,
    text: String,
    source: String,
    sources: Vec<String>,
    result: Option<Explained>,
}

struct Explained {
    severity: Option<&'static str>,
    topics: Vec<ExplainedTopic>,
    untouched: usize,
}

struct ExplainedTopic {
    id: String,
    name: String,
    matched: Option<&'static str>,
    summary: String,
    /// The words each rule found, as `--explain` prints them.
    words: String,
}

pub async fn classify_page(v: Viewer) -> Response {
    render_classify(v, String::new(), String::new(), None)
}

pub async fn classify(
    State(c): State<Console>,
    user: User,
    Posted { token, form }: Posted,
) -> Response {
    if !user.can_classify() {
        return forbidden("测试监测词表（仅运维）");
    }
    let v = Viewer::new(&c, user, token);
    let text = form.get("text").unwrap_or("").to_string();
    let source = form.get("source").unwrap_or("").to_string();
    let e = v
        .settings
        .classifier
        .explain(&text, Some(source.as_str()).filter(|s| !s.is_empty()));
    let result = Explained {
        severity: e.classification.severity.map(|s| s.zh()),
        topics: e
            .topics
            .iter()
            .map(|t| ExplainedTopic {
                id: t.id.clone(),
                name: t.name.clone(),
                matched: t.matched.map(|s| s.zh()),
                summary: t.summary_zh(),
                words: t
                    .rules
                    .iter()
                    .flat_map(|r| r.found.iter().map(|w| w.zh()))
                    .collect::<Vec<_>>()
                    .join("；"),
            })
            .collect(),
        untouched: e.untouched,
    };
    render_classify(v, text, source, Some(result))
}

fn render_classify(v: Viewer, text: String, source: String, result: Option<Explained>) -> Response {
    if !v.user.can_classify() {
        return forbidden("测试监测词表（仅运维）");
    }
    let page = ClassifyPage {
        layout: v.layout("词表测试", "/classify"),
        authenticity_token: v.token.authenticity_token().unwrap_or_default(),
        text,
        source,
        sources: v
            .settings
            .config
            .sources
            .iter()
            .map(|s| s.id.clone())
            .collect(),
        result,
    };
    (v.token, page).into_response()
}
