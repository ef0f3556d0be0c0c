//! The duty console: a web view of the store where duty officers act and leaders look.
//!
//! Server-rendered pages (askama templates compiled into the binary), one small script of
//! our own for the live countdowns and server-sent events, SVG charts drawn here; no CDN,
//! so it works on an intranet with no internet. Every action calls the same workflow
//! functions as the command line (`incident::act`, `incident::merge`, `incident::split`),
//! each one transaction that records the logged-in user's name.
//!
//! Sessions live in the database (any daemon on it serves any user); roles are read from
//! the database on every request; every POST carries a CSRF token; every response carries
//! a strict Content-Security-Policy.

mod actions;
mod assets;
mod auth;
mod briefing;
mod charts;
mod csrf;
mod dashboard;
mod events;
mod evidence;
mod incident_page;
mod item;
mod items;
pub mod listener;
mod pages;
mod passwords;
mod report;
mod sessions;
mod sources;
mod words;

pub use auth::{hash_password, Role};
pub use passwords::problem as password_problem;

use crate::config::settings::Current;
use crate::store::Store;
use crate::vocab::clock::Clock;
use anyhow::Result;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What every handler shares.
#[derive(Clone)]
pub struct Console {
    pub store: Store,
    pub settings: Current,
    pub clock: Arc<dyn Clock>,
    csrf: axum_csrf::CsrfConfig,
    /// Moves when the store changed (new incident, item, action): `/events` tells browsers.
    changes: watch::Receiver<u64>,
    /// Ends the live streams when the daemon stops.
    shutdown: CancellationToken,
    /// The live streams of each session, ended with it.
    streams: Arc<events::Streams>,
}

impl axum::extract::FromRef<Console> for axum_csrf::CsrfConfig {
    fn from_ref(c: &Console) -> Self {
        c.csrf.clone()
    }
}

impl Console {
    /// The console over `store`, and the sender that `watch_store` moves.
    pub async fn new(
        store: Store,
        settings: Current,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Result<(Console, watch::Sender<u64>)> {
        let web = settings.get().config.web.clone();
        let secret = store.console_secret(&csrf::fresh_secret()).await?;
        let (tx, rx) = watch::channel(0);
        Ok((
            Console {
                store,
                settings,
                clock,
                csrf: csrf::config(&secret, &web),
                changes: rx,
                shutdown,
                streams: Arc::default(),
            },
            tx,
        ))
    }

    /// Every route of the console.
    pub fn router(&self) -> Router {
        let web = self.settings.get().config.web.clone();
        Router::new()
            .route("/login", get(auth::login_page).post(auth::login))
            .route("/logout", post(auth::logout))
            .route("/", get(dashboard::page))
            .route("/incidents/{id}", get(incident_page::page))
            .route("/incidents/{id}/evidence.warc.gz", get(evidence::download))
            .route("/incidents/{id}/{action}", post(actions::act))
            .route("/evidence/{id}", get(evidence::page))
            .route("/items", get(items::page))
            .route("/sources", get(sources::page))
            .route("/report", get(report::page))
            .route("/briefing", get(briefing::page))
            .route("/classify", get(pages::classify_page).post(pages::classify))
            .route("/events", get(events::stream))
            .route("/assets/{name}", get(assets::file))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                csrf::same_origin,
            ))
            .layer(sessions::layer(self.store.clone(), &web))
            .layer(axum::middleware::from_fn(pages::security_headers))
            .layer(axum::middleware::from_fn(pages::without_bidi))
            .with_state(self.clone())
    }
}

/// Serves the console on `[web] listen` until `shutdown`; `None` when it is off, or when
/// the address cannot be had (logged: the deadlines matter more than the console, so the
/// daemon runs on without it). Connections are held within `limits` (see `listener`).
pub async fn serve(
    store: Store,
    settings: Current,
    clock: Arc<dyn Clock>,
    limits: listener::Limits,
    shutdown: CancellationToken,
) -> Result<Option<(SocketAddr, tokio::task::JoinHandle<()>)>> {
    let Some(addr) = settings.get().config.web.listen else {
        return Ok(None);
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(address = %addr, error = %e, "cannot serve the console on [web] listen; running without it");
            return Ok(None);
        }
    };
    let (console, changes) = Console::new(store.clone(), settings, clock, shutdown.clone()).await?;
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(url = %format!("http://{addr}/"), "console listening");
    if store.active_user_count().await.unwrap_or(0) == 0 {
        tracing::warn!(
            "the console has no users yet: create one with `yuqing user add NAME --role duty` \
             (it asks for the password)"
        );
    }
    tokio::spawn(events::watch_store(
        store.clone(),
        console.clock.clone(),
        changes,
        shutdown.clone(),
    ));
    let app = console.router();
    Ok(Some((
        addr,
        tokio::spawn(listener::serve(listener, app, limits, shutdown, "console")),
    )))
}
