//! tower-sessions' store over our database (`store/sessions.rs`): the session id is
//! tower-sessions' own (random, 128 bits); the data is its JSON.

use crate::config::web::Web;
use crate::store::Store;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

#[derive(Debug, Clone)]
pub struct DbSessions(pub Store);

fn backend(e: anyhow::Error) -> Error {
    Error::Backend(format!("{e:#}"))
}

fn encode(r: &Record) -> Result<String> {
    serde_json::to_string(r).map_err(|e| Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh id until one is free (a clash of 128 random bits is theory, not practice).
        loop {
            let data = encode(record)?;
            let expires = record.expiry_date.unix_timestamp();
            if self
                .0
                .create_session(&record.id.to_string(), &data, expires)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = encode(record)?;
        self.0
            .save_session(
                &record.id.to_string(),
                &data,
                record.expiry_date.unix_timestamp(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self
            .0
            .load_session(&id.to_string(), now)
            .await
            .map_err(backend)?
        {
            None => Ok(None),
            Some(data) => serde_json::from_str(&data)
                .map(Some)
                .map_err(|e| Error::Decode(e.to_string())),
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.0
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}

/// The session layer: cookie `yuqing_session` (`__Host-yuqing_session` behind TLS, so that
/// no other origin of the site can set it), HttpOnly, SameSite=Strict, Path=/, Secure
/// behind TLS, expiring after `[web] session_idle` without a request.
pub fn layer(store: Store, web: &Web) -> SessionManagerLayer<DbSessions> {
    let idle = time::Duration::seconds(i64::try_from(web.session_idle.as_secs()).unwrap_or(28800));
    SessionManagerLayer::new(DbSessions(store))
        .with_name(if web.behind_tls() {
            "__Host-yuqing_session"
        } else {
            "yuqing_session"
        })
        .with_path("/")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Strict)
        .with_secure(web.secure_cookies || web.behind_tls())
        .with_expiry(Expiry::OnInactivity(idle))
}
