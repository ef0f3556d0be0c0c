//! Loopback emulators of the instant-message services, written from their documentation
//! independently of the daemon's code: each checks the signature and the timestamp's
//! freshness as the vendor documents, enforces the byte and rate limits, and answers with
//! the documented error codes (HTTP 200 and a code in the JSON, as the real ones do).
//!
//! - WeCom group robot: key in the query (93000 when wrong), text ≤ 2048 bytes and markdown
//!   ≤ 4096 bytes (40058 over), 20 a rolling minute (45009 over).
//! - DingTalk custom robot: `timestamp` (ms, within an hour) and `sign` (URL-decoded
//!   base64 HMAC-SHA256 of `timestamp\nsecret` under the secret) in the query, 310000 when
//!   wrong; 20 a minute, and over it 130101 for the next 10 minutes whatever is sent.
//! - Feishu custom bot: `timestamp` (s, within an hour) and `sign` (base64 HMAC-SHA256 of
//!   nothing under `timestamp\nsecret`) in the body, 19021 when wrong; 5 a second and 100 a
//!   minute (11232 over); body ≤ 20 KB.
//! - Webhook: records the `Idempotency-Key`, answers 200.
//!
//! Time is the test's clock, so a manual clock moves the emulator's minute too.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use base64::Engine;
use hmac::{Hmac, Mac};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use yuqing::vocab::clock::Clock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Wecom,
    Dingtalk,
    Feishu,
    Webhook,
}

/// One request the emulator received, and what it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub at_ms: i64,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    pub raw_len: usize,
    /// The code answered (0: accepted).
    pub code: i64,
}

impl Received {
    /// The message's text as a person sees it.
    pub fn text(&self) -> String {
        let b = &self.body;
        [
            &b["markdown"]["content"],
            &b["text"]["content"],
            &b["markdown"]["text"],
            &b["content"]["text"],
        ]
        .iter()
        .find_map(|v| v.as_str())
        .map(|s| s.to_string())
        .unwrap_or_else(|| b.to_string())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Inner {
    service: Service,
    key: String,
    secret: String,
    clock: Arc<dyn Clock>,
    received: Vec<Received>,
    /// Answer 502 to everything (the service is down).
    down: bool,
    /// DingTalk: throttled until (ms).
    penalty_until: i64,
    /// Wait this long before answering (to kill the daemon mid-request).
    delay: std::time::Duration,
    /// Requests that arrived, answered or not.
    arrivals: usize,
}

#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Mutex<Inner>>,
    addr: std::net::SocketAddr,
}

impl Emulator {
    /// Starts one on loopback. `key` is the robot's key/token in its URL, `secret` its
    /// signing secret.
    pub async fn start(
        service: Service,
        key: &str,
        secret: &str,
        clock: Arc<dyn Clock>,
    ) -> Emulator {
        let inner = Arc::new(Mutex::new(Inner {
            service,
            key: key.into(),
            secret: secret.into(),
            clock,
            received: Vec::new(),
            down: false,
            penalty_until: 0,
            delay: std::time::Duration::ZERO,
            arrivals: 0,
        }));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Emulator { inner, addr }
    }

    /// The URL to configure, as the vendor gives it (the key in it).
    pub fn url(&self) -> String {
        let key = self.inner.lock().unwrap().key.clone();
        match self.inner.lock().unwrap().service {
            Service::Wecom => format!("http://{}/cgi-bin/webhook/send?key={key}", self.addr),
            Service::Dingtalk => format!("http://{}/robot/send?access_token={key}", self.addr),
            Service::Feishu => format!("http://{}/open-apis/bot/v2/hook/{key}", self.addr),
            Service::Webhook => format!("http://{}/hook", self.addr),
        }
    }

    pub fn set_down(&self, down: bool) {
        self.inner.lock().unwrap().down = down;
    }

    pub fn set_delay(&self, delay: std::time::Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    pub fn arrivals(&self) -> usize {
        self.inner.lock().unwrap().arrivals
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// The messages it accepted.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.code == 0)
            .collect()
    }

    /// The most it accepted in any rolling minute.
    pub fn busiest_minute(&self) -> usize {
        let at: Vec<i64> = self.accepted().iter().map(|r| r.at_ms).collect();
        at.iter()
            .map(|t| at.iter().filter(|u| **u >= *t && **u < t + 60_000).count())
            .max()
            .unwrap_or(0)
    }
}

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn answer(service: Service, code: i64, msg: &str) -> String {
    match service {
        Service::Feishu => serde_json::json!({"code": code, "msg": msg, "data": {}}).to_string(),
        _ => serde_json::json!({"errcode": code, "errmsg": msg}).to_string(),
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (axum::http::StatusCode, String) {
    let delay = {
        let mut s = inner.lock().unwrap();
        s.arrivals += 1;
        s.delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut s = inner.lock().unwrap();
    let now_ms = s.clock.now().timestamp_millis();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let query = uri.query().unwrap_or("").to_string();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let q = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut record = Received {
        at_ms: now_ms,
        query: query.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: json.clone(),
        raw_len: body.len(),
        code: 0,
    };
    if s.down {
        record.code = -502;
        s.received.push(record);
        return (
            axum::http::StatusCode::BAD_GATEWAY,
            "<html>502 Bad Gateway</html>".into(),
        );
    }
    let accepted_last = |s: &Inner, window: i64| {
        s.received
            .iter()
            .filter(|r| r.code == 0 && r.at_ms > now_ms - window)
            .count()
    };
    let service = s.service;
    let (code, msg): (i64, &str) = match service {
        Service::Wecom => {
            let content_len = |k: &str| json[k]["content"].as_str().map(|c| c.len());
            if q("key").as_deref() != Some(s.key.as_str()) {
                (93000, "invalid webhook url")
            } else if content_len("text").is_some_and(|l| l > 2048)
                || content_len("markdown").is_some_and(|l| l > 4096)
            {
                (40058, "content exceed max length")
            } else if accepted_last(&s, 60_000) >= 20 {
                (45009, "api freq out of limit")
            } else {
                (0, "ok")
            }
        }
        Service::Dingtalk => {
            let ts: Option<i64> = q("timestamp").and_then(|t| t.parse().ok());
            let expected = ts.map(|t| {
                b64(&hmac256(
                    s.secret.as_bytes(),
                    format!("{t}\n{}", s.secret).as_bytes(),
                ))
            });
            if q("access_token").as_deref() != Some(s.key.as_str()) {
                (300001, "token is not exist")
            } else if ts.map_or(true, |t| (now_ms - t).abs() > 3_600_000) || expected != q("sign") {
                (
                    310000,
                    "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
                )
            } else if now_ms < s.penalty_until {
                (130101, "send too fast, exceed 20 times per minute")
            } else if accepted_last(&s, 60_000) >= 20 {
                s.penalty_until = now_ms + 600_000;
                (130101, "send too fast, exceed 20 times per minute")
            } else {
                (0, "ok")
            }
        }
        Service::Feishu => {
            let ts: Option<i64> = json["timestamp"].as_str().and_then(|t| t.parse().ok());
            let expected = ts.map(|t| b64(&hmac256(format!("{t}\n{}", s.secret).as_bytes(), b"")));
            let now_s = now_ms / 1000;
            if !uri.path().ends_with(&s.key) {
                (
                    19001,
                    "param invalid: incoming webhook access token invalid",
                )
            } else if ts.map_or(true, |t| (now_s - t).abs() > 3600)
                || expected.as_deref() != json["sign"].as_str()
            {
                (
                    19021,
                    "sign match fail or timestamp is not within one hour from current time",
                )
            } else if body.len() > 20 * 1024 {
                (9499, "Bad Request")
            } else if accepted_last(&s, 1_000) >= 5 || accepted_last(&s, 60_000) >= 100 {
                (
                    11232,
                    "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]",
                )
            } else {
                (0, "success")
            }
        }
        Service::Webhook => (0, "ok"),
    };
    record.code = code;
    s.received.push(record);
    (axum::http::StatusCode::OK, answer(service, code, msg))
}
