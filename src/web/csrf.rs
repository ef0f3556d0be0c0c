//! Cross-site request forgery: every form carries `authenticity_token`, and a POST whose
//! token is wrong is refused with 403.
//!
//! Logged in, the token is the session's own: a random value kept in the session's data
//! (in the database, so every daemon accepts it), made at login. A cookie alone is not
//! enough (issue 26 §2.3): a page elsewhere on the same site (another port, or a sibling
//! subdomain with `Domain=`) can plant a cookie, and with a CSRF cookie of its own and the
//! token that goes with it, its note was recorded under the logged-in user. Before login
//! (the login form) there is no session yet, and axum_csrf's token, derived from a cookie
//! of its own and keyed with one secret kept in the database, stands in.
//!
//! Every POST must also come from this origin: a `Sec-Fetch-Site` other than
//! `same-origin` (or `none`, typed by the user) or an `Origin` other than this console's is
//! refused before the handler runs (`same_origin`). Cookies are `SameSite=Strict`, and
//! behind TLS (`[web] url` is https) named `__Host-…`, which a browser keeps only from this
//! very origin, with `Secure`, `Path=/` and no `Domain`.

use super::Console;
use crate::config::web::Web;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use axum_csrf::{CsrfConfig, Key, SameSite};
use tower_sessions::Session;

/// The field every form carries.
pub const FIELD: &str = "authenticity_token";

pub fn config(secret: &str, web: &Web) -> CsrfConfig {
    use sha2::Digest;
    // axum_csrf's default is a key of its own per process: every daemon must use the same.
    let key = Key::from(&sha2::Sha512::digest(format!(
        "yuqing csrf cookie {secret}"
    )));
    CsrfConfig::default()
        .with_key(Some(key))
        .with_cookie_name("yuqing_csrf")
        .with_cookie_path("/")
        .with_prefix_with_host(web.behind_tls())
        .with_cookie_same_site(SameSite::Strict)
        .with_http_only(true)
        .with_secure(web.secure_cookies || web.behind_tls())
        .with_lifetime(time::Duration::seconds(
            i64::try_from(web.session_idle.as_secs()).unwrap_or(i64::MAX / 2),
        ))
        .with_salt(secret.to_string())
}

/// A random secret (128 bits, base64) for the first daemon to keep.
pub fn fresh_secret() -> String {
    argon2::password_hash::SaltString::generate(&mut argon2::password_hash::rand_core::OsRng)
        .as_str()
        .to_string()
}

/// A submitted form, fields in order; a field may repeat (the items to split).
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Form, Response> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| e.into_response())?;
        Ok(Form(
            url::form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

/// The session's key for its CSRF token.
pub const SESSION_KEY: &str = "csrf";

/// The token a request's forms carry: the session's own when someone is logged in, else
/// the one derived from the CSRF cookie (the login form).
#[derive(Clone)]
pub struct CsrfToken {
    cookie: axum_csrf::CsrfToken,
    session: Option<String>,
}

impl CsrfToken {
    /// The value of the forms' `authenticity_token` field.
    pub fn authenticity_token(&self) -> Result<String, axum_csrf::CsrfError> {
        match &self.session {
            Some(t) => Ok(t.clone()),
            None => self.cookie.authenticity_token(),
        }
    }
}

impl FromRequestParts<Console> for CsrfToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<CsrfToken, Response> {
        let cookie = axum_csrf::CsrfToken::from_request_parts(parts, c)
            .await
            .map_err(IntoResponse::into_response)?;
        let session = Session::from_request_parts(parts, c)
            .await
            .map_err(IntoResponse::into_response)?;
        let logged_in = session
            .get::<String>(super::auth::USER_KEY)
            .await
            .ok()
            .flatten()
            .is_some();
        let session = if logged_in {
            match session.get::<String>(SESSION_KEY).await.ok().flatten() {
                Some(t) => Some(t),
                // A session opened before tokens were kept in it gets one now.
                None => Some(new_session_token(&session).await?),
            }
        } else {
            None
        };
        Ok(CsrfToken { cookie, session })
    }
}

/// A fresh token kept in `session` (at login: a new session, a new token).
pub async fn new_session_token(session: &Session) -> Result<String, Response> {
    let t = fresh_secret();
    session
        .insert(SESSION_KEY, &t)
        .await
        .map_err(|e| super::pages::failure(&anyhow::anyhow!("{e}")))?;
    Ok(t)
}

impl IntoResponseParts for CsrfToken {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        self.cookie.into_response_parts(res)
    }
}

/// 403, logged with why.
fn refuse(why: &'static str) -> Response {
    refuse_with(why, "", "")
}

/// 403, logged with why and the request's `Origin` and `Host` (behind nginx, a console
/// that refuses every form wants `proxy_set_header Host $host;` or `[web] url`).
fn refuse_with(why: &'static str, origin: &str, host: &str) -> Response {
    tracing::warn!(
        why,
        origin,
        host,
        "console POST refused: possible cross-site request forgery (if this is the console's \
         own form behind a proxy, set [web] url or have the proxy pass the Host header)"
    );
    (
        StatusCode::FORBIDDEN,
        "CSRF 校验失败：请刷新页面后重试 (CSRF token missing or wrong, or sent from another site)",
    )
        .into_response()
}

/// `Err(403)` unless the form's token is the session's (logged in) or matches the
/// request's CSRF cookie (before login).
#[allow(clippy::result_large_err)]
pub fn verify(token: &CsrfToken, form: &Form) -> Result<(), Response> {
    let sent = form.get(FIELD);
    let ok = match (&token.session, sent) {
        (Some(mine), Some(t)) => same(mine.as_bytes(), t.as_bytes()),
        (None, Some(t)) => token.cookie.verify(t).is_ok(),
        (_, None) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(refuse("missing or wrong CSRF token"))
    }
}

/// A POSTed form whose token checked out ([`verify`]), and the token for the response: a
/// handler that takes one cannot forget the check.
pub struct Posted {
    pub token: CsrfToken,
    pub form: Form,
}

impl FromRequest<Console> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, c: &Console) -> Result<Posted, Response> {
        let (mut parts, body) = req.into_parts();
        let token = CsrfToken::from_request_parts(&mut parts, c).await?;
        let form = Form::from_request(Request::from_parts(parts, body), c).await?;
        verify(&token, &form)?;
        Ok(Posted { token, form })
    }
}

/// Equal, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refuses (403) a POST that a browser says came from elsewhere: `Sec-Fetch-Site` other
/// than `same-origin` or `none`, or an `Origin` that is neither `[web] url`'s nor that of
/// the `Host` the request was sent to. Without either header (a script, an old browser)
/// the token alone decides.
pub async fn same_origin(State(c): State<Console>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return refuse("Sec-Fetch-Site is not same-origin");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let url = c.settings.get().config.web.url.clone();
        let origin = origin.to_str().unwrap_or("");
        if !origin_allowed(origin, host, url.as_ref()) {
            return refuse_with("Origin is not this console", origin, host.unwrap_or(""));
        }
    }
    next.run(req).await
}

/// `origin` is `url`'s origin, or `http(s)://` and the `Host` the request was sent to.
fn origin_allowed(origin: &str, host: Option<&str>, url: Option<&url::Url>) -> bool {
    let Ok(o) = url::Url::parse(origin) else {
        return false; // "null" among others
    };
    if !matches!(o.scheme(), "http" | "https") {
        return false;
    }
    if url.is_some_and(|u| u.origin() == o.origin()) {
        return true;
    }
    host.is_some_and(|h| h.eq_ignore_ascii_case(o.authority()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_this_console_or_refused() {
        let url = url::Url::parse("https://yq.example.gov.cn/").unwrap();
        let host = Some("127.0.0.1:8700");
        assert!(origin_allowed("http://127.0.0.1:8700", host, None));
        assert!(origin_allowed(
            "https://yq.example.gov.cn",
            host,
            Some(&url)
        ));
        for other in [
            "http://127.0.0.1:9999",
            "http://evil.example",
            "https://sub.yq.example.gov.cn",
            "http://yq.example.gov.cn",
            "null",
            "",
            "file://",
        ] {
            assert!(!origin_allowed(other, host, Some(&url)), "{other}");
        }
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
