//! Cross-site request forgery: every form carries `authenticity_token`, which axum_csrf
//! derives (HMAC) from a cookie of its own; a POST whose token does not match its cookie
//! is refused with 403. The cookie is encrypted and the token keyed with one secret kept in
//! the database, so a form served by one daemon is accepted by another. Cookies are
//! `SameSite=Strict` as well.

use crate::config::web::Web;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_csrf::{CsrfConfig, CsrfToken, Key, SameSite};

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
        .with_cookie_same_site(SameSite::Strict)
        .with_http_only(true)
        .with_secure(web.secure_cookies)
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

/// `Err(403)` unless the form's token matches the request's CSRF cookie.
#[allow(clippy::result_large_err)]
pub fn verify(token: &CsrfToken, form: &Form) -> Result<(), Response> {
    match form.get(FIELD) {
        Some(t) if token.verify(t).is_ok() => Ok(()),
        _ => {
            tracing::warn!("console POST refused: missing or wrong CSRF token");
            Err((
                StatusCode::FORBIDDEN,
                "CSRF 校验失败：请刷新页面后重试 (CSRF token missing or wrong)",
            )
                .into_response())
        }
    }
}
