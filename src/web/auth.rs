//! Who is logged in, and what their role lets them do.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults, OWASP's minimum);
//! the user and their role are read from the database on every request, so a disabled user
//! or a changed password ends their sessions at once. Login attempts are counted in the
//! store before the password is checked, per name and per address, and slowed by growing
//! waits (see `Limit`); each failure is logged.

use super::csrf::CsrfToken;
use super::csrf::{self, Posted};
use super::pages::{self, Answer, Layout};
use super::Console;
use crate::store::{Claim, UserRow};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

pub use crate::vocab::role::Role;

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the name is unknown, so that the answer takes as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy, never a password").unwrap_or_default())
}

/// The person making the request, read from their session and the users table.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub role: Role,
}

impl User {
    pub fn can_act(&self) -> bool {
        self.role == Role::Duty
    }
    pub fn can_note(&self) -> bool {
        matches!(self.role, Role::Duty | Role::Leader)
    }
    pub fn can_classify(&self) -> bool {
        self.role == Role::Operator
    }
}

pub(super) const USER_KEY: &str = "user";
/// The session holds a stamp of the password hash it was opened with: a new password (a
/// new salt, so a new hash) ends every session opened before, even within the second.
pub(super) const STAMP_KEY: &str = "stamp";
/// When the session was opened (UTC seconds): it ends `[web] session_max` later, however
/// much it is used.
pub(super) const SINCE_KEY: &str = "since";

pub(super) fn stamp(password_hash: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(password_hash.as_bytes())[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A session opened at `since` (UTC seconds) has lived its `[web] session_max` at `now`.
pub(super) fn too_old(c: &Console, since: i64, now: i64) -> bool {
    now - since >= c.settings.get().config.web.session_max.as_secs() as i64
}

/// `u` may go on using a session opened with the password stamped `stamped`: not
/// disabled since, nor their password changed.
pub(super) fn still_admitted(u: &UserRow, stamped: Option<&str>) -> bool {
    u.disabled_at.is_none() && stamped == Some(&*stamp(&u.password_hash))
}

impl FromRequestParts<Console> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<User, Response> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let is_get = parts.method == axum::http::Method::GET;
        let events = parts.uri.path() == "/events";
        let to_login = || {
            if events {
                (StatusCode::UNAUTHORIZED, "请先登录 (log in first)").into_response()
            } else if is_get {
                Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response()
            } else {
                // A form sent after the session expired: log in again, then go on.
                Redirect::to("/login").into_response()
            }
        };
        let session = Session::from_request_parts(parts, c)
            .await
            .map_err(|e| e.into_response())?;
        let name: Option<String> = session.get(USER_KEY).await.ok().flatten();
        let Some(name) = name else {
            return Err(to_login());
        };
        let stamped: Option<String> = session.get(STAMP_KEY).await.ok().flatten();
        let now = c.clock.now().timestamp();
        let since: i64 = match session.get(SINCE_KEY).await.ok().flatten() {
            Some(t) => t,
            None => {
                // Opened before sessions had a lifetime: it starts now.
                let _ = session.insert(SINCE_KEY, now).await;
                now
            }
        };
        if too_old(c, since, now) {
            tracing::info!(user = %name, "console session ended: older than [web] session_max");
            let _ = session.flush().await;
            return Err(to_login());
        }
        let row = match c.store.user(&name).await {
            Ok(r) => r,
            Err(e) => return Err(pages::failure(&e.context(crate::vocab::role::REPAIR))),
        };
        match row {
            Some(u) if still_admitted(&u, stamped.as_deref()) => {
                let role = u.role;
                // Someone is logged in on this connection: the listener keeps it longest.
                if let Some(peer) = parts.extensions.get::<super::listener::Peer>() {
                    peer.logged_in();
                }
                Ok(User { name: u.name, role })
            }
            _ => {
                let _ = session.flush().await;
                Err(to_login())
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Only a path on this site (issue 26 §2.6): `next` must parse as a relative reference
/// whose target is on this origin, else `/`. Browsers drop tabs and newlines inside a URL,
/// so `/<TAB>/evil.example` is read as `//evil.example`: any control character, white
/// space or backslash is refused outright, and what is returned is the reference as
/// `url` serializes it, so it is always a valid `Location`.
fn local_path(next: Option<&str>) -> String {
    const HERE: &str = "http://console.invalid/";
    let Some(n) = next else {
        return "/".into();
    };
    if !n.starts_with('/')
        || n.starts_with("//")
        || n.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return "/".into();
    }
    let Ok(base) = url::Url::parse(HERE) else {
        return "/".into();
    };
    match base.join(n) {
        Ok(u) if u.origin() == base.origin() => u[url::Position::BeforePath..].to_string(),
        _ => "/".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Throttling

/// How logins are slowed (issue 26). Every attempt is counted in the store before its
/// password is checked (`Store::claim_login_attempt`), once for the account and once for
/// the address, so concurrent guesses cannot outrun the count, a restart does not clear it
/// and all daemons share it. Past a few free attempts each key must wait longer before its
/// next attempt is checked; an attempt that comes too soon is answered 429 unchecked. The
/// account's wait stays short, so guesses from elsewhere slow the real user down but never
/// lock them out for long; an address's wait grows to a quarter of an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts checked without a wait.
    pub free: i64,
    /// The longest wait, in seconds.
    pub max_wait: i64,
}

/// Per account: three attempts, then 1 s, 2 s, 4 s … up to a minute between attempts.
pub const PER_ACCOUNT: Limit = Limit {
    free: 3,
    max_wait: 60,
};
/// Per address: ten attempts, then 1 s, 2 s, 4 s … up to 15 minutes between attempts.
pub const PER_ADDRESS: Limit = Limit {
    free: 10,
    max_wait: 15 * 60,
};
/// A count whose last attempt is this old starts again.
pub(super) const FORGET_AFTER: i64 = 15 * 60;

impl Limit {
    /// Seconds to wait after the `n`-th attempt: none within the free ones, then doubling
    /// from one second.
    pub fn wait_after(self, n: i64) -> i64 {
        if n < self.free {
            0
        } else {
            let doublings = u32::try_from(n - self.free).unwrap_or(u32::MAX).min(30);
            (1i64 << doublings).min(self.max_wait)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Pages

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    error: Option<String>,
    no_users: bool,
    authenticity_token: String,
}

#[derive(serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn login_page(
    State(c): State<Console>,
    token: CsrfToken,
    Query(q): Query<Next>,
) -> Response {
    render_login(
        &c,
        token,
        local_path(q.next.as_deref()),
        None,
        StatusCode::OK,
    )
    .await
}

async fn render_login(
    c: &Console,
    token: CsrfToken,
    next: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let no_users = c.store.active_user_count().await.unwrap_or(0) == 0;
    let authenticity_token = token.authenticity_token().unwrap_or_default();
    let page = LoginPage {
        layout: Layout::anonymous("登录"),
        next,
        error,
        no_users,
        authenticity_token,
    };
    (status, token, page).into_response()
}

/// The client's address: the peer's, or, when the peer is one of `[web] trusted_proxies`
/// (nginx in front), the `X-Real-IP` it sets. From any other peer the header is ignored: a
/// client must not choose the address the throttle counts.
fn client_address(peer: SocketAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if trusted.contains(&peer.ip()) {
        if let Some(ip) = headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}

pub async fn login(
    State(c): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    session: Session,
    Posted { token, form }: Posted,
) -> Answer {
    let name = form.get("username").unwrap_or("").trim().to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let next = local_path(form.get("next"));
    let trusted = c.settings.get().config.web.trusted_proxies.clone();
    let address = client_address(peer, &headers, &trusted);
    let (by_name, by_addr) = (format!("user:{name}"), format!("addr:{address}"));
    let now = c.clock.now().timestamp();
    // Counted before the check, the address first: an address that must wait does not move
    // the account's count.
    for (key, limit) in [(&by_addr, PER_ADDRESS), (&by_name, PER_ACCOUNT)] {
        match c
            .store
            .claim_login_attempt(key, now, FORGET_AFTER, &|n| limit.wait_after(n))
            .await?
        {
            Claim::Granted(_) => {}
            Claim::Wait { until } => {
                let wait = (until - now).max(1);
                tracing::warn!(user = %name, address = %address, key = %key, wait, "console login refused unchecked: too many attempts");
                let mut r = render_login(
                    &c,
                    token,
                    next,
                    Some(format!("登录尝试过于频繁，请 {wait} 秒后再试。")),
                    StatusCode::TOO_MANY_REQUESTS,
                )
                .await;
                if let Ok(v) = wait.to_string().parse() {
                    r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
                }
                return Ok(r);
            }
        }
    }
    let user = c
        .store
        .user(&name)
        .await?
        .filter(|u| u.disabled_at.is_none());
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_string());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    match user {
        Some(u) if ok => {
            // The name's count starts again; the address gets its attempt back, so that
            // people logging in do not use up the attempts of an office behind one
            // address (failures still count there).
            c.store.clear_login_attempts(&by_name).await?;
            c.store
                .refund_login_attempt(&by_addr, &|n| PER_ADDRESS.wait_after(n))
                .await?;
            // A new id at login: a session id planted before cannot be ridden.
            session
                .cycle_id()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let _ = session.insert(USER_KEY, &u.name).await;
            let _ = session.insert(STAMP_KEY, stamp(&u.password_hash)).await;
            let _ = session.insert(SINCE_KEY, c.clock.now().timestamp()).await;
            // The forms' token belongs to this session: a token or cookie planted before
            // cannot be ridden either.
            if let Err(r) = csrf::new_session_token(&session).await {
                return Ok(r);
            }
            tracing::info!(user = %u.name, role = %u.role, address = %address, "console login");
            Ok((token, Redirect::to(&next)).into_response())
        }
        _ => {
            tracing::warn!(user = %name, address = %address, "console login failed");
            Ok(render_login(
                &c,
                token,
                next,
                Some("用户名或密码不正确。".into()),
                StatusCode::UNAUTHORIZED,
            )
            .await)
        }
    }
}

pub async fn logout(
    State(c): State<Console>,
    session: Session,
    // Only a form with this session's token logs out.
    _: Posted,
) -> Response {
    // The session's live streams end with it (on other daemons within `events::RECHECK`).
    if let Some(id) = session.id() {
        c.streams.end(&id.to_string());
    }
    let _ = session.flush().await;
    Redirect::to("/login").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_address_behind_nginx_is_its_x_real_ip_and_only_from_a_trusted_proxy() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-real-ip", "203.0.113.7".parse().unwrap());
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        let nginx: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap()];
        assert_eq!(client_address(local, &h, &nginx).to_string(), "203.0.113.7");
        assert_eq!(
            client_address(remote, &h, &nginx).to_string(),
            "198.51.100.1"
        );
        // Loopback is not trusted unless listed: a local client cannot choose its address.
        assert_eq!(client_address(local, &h, &[]).to_string(), "127.0.0.1");
        assert_eq!(
            client_address(local, &Default::default(), &nginx).to_string(),
            "127.0.0.1"
        );
    }

    #[test]
    fn waits_grow_after_the_free_attempts_up_to_the_limit() {
        let waits: Vec<i64> = (1..=10).map(|n| PER_ACCOUNT.wait_after(n)).collect();
        assert_eq!(waits, vec![0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(PER_ADDRESS.wait_after(9), 0);
        assert_eq!(PER_ADDRESS.wait_after(10), 1);
        assert_eq!(PER_ADDRESS.wait_after(40), 900);
        assert_eq!(PER_ADDRESS.wait_after(i64::MAX), 900);
    }

    #[test]
    fn next_is_only_a_local_path() {
        assert_eq!(local_path(Some("/incidents/3")), "/incidents/3");
        assert_eq!(
            local_path(Some("/items?topic=scenic&q=%E6%99%AF")),
            "/items?topic=scenic&q=%E6%99%AF"
        );
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: a=b",
            "/\\evil.example",
            "/ /evil.example",
            "\t//evil.example",
            "/\u{0}",
            "/\u{3000}/evil.example",
            "evil.example",
            "",
        ] {
            assert_eq!(local_path(Some(hostile)), "/", "{hostile:?}");
        }
        // What is kept is a valid header value: non-ASCII is percent-encoded.
        assert_eq!(
            local_path(Some("/items?q=景区")),
            "/items?q=%E6%99%AF%E5%8C%BA"
        );
        assert_eq!(local_path(None), "/");
    }
}
