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
//! - Aliyun SendSms (RPC): the form's `Signature` is recomputed (sorted parameters,
//!   RFC 3986 encoding, `POST&%2F&…`, HMAC-SHA1 under `secret&`); `Timestamp` within 15
//!   minutes, `SignatureNonce` never reused; `Code` `OK` or `SignatureDoesNotMatch`.
//! - Tencent SendSms (TC3-HMAC-SHA256): the `Authorization` header is recomputed from the
//!   Host, the body and `X-TC-Timestamp` (within 5 minutes); one `SendStatusSet` entry per
//!   number, `Ok` unless the test set a failure for that number.
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
    AliyunSms,
    TencentSms,
}

/// One request the emulator received, and what it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub at_ms: i64,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    pub raw: String,
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
    /// SMS: nonces seen (Aliyun), and numbers that fail with a code (Tencent).
    nonces: Vec<String>,
    failing_numbers: Vec<(String, String)>,
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
            nonces: Vec::new(),
            failing_numbers: Vec::new(),
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
            Service::AliyunSms | Service::TencentSms => format!("http://{}/", self.addr),
        }
    }

    /// Tencent: this number's status is `code` instead of `Ok`.
    pub fn fail_number(&self, number: &str, code: &str) {
        self.inner
            .lock()
            .unwrap()
            .failing_numbers
            .push((number.into(), code.into()));
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

/// RFC 3986 percent-encoding, written out (not the crate's).
fn rfc3986(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// Aliyun's answer to a form, and the form as JSON for the test to read.
fn aliyun(s: &mut Inner, body: &[u8], now_ms: i64) -> (i64, String, serde_json::Value) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut signed: Vec<&(String, String)> =
        pairs.iter().filter(|(k, _)| k != "Signature").collect();
    signed.sort();
    let canonical: Vec<String> = signed
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect();
    let to_sign = format!("POST&%2F&{}", rfc3986(&canonical.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{}&", s.secret).as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let expected = b64(&mac.finalize().into_bytes());
    let ts = get("Timestamp")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.timestamp_millis());
    let nonce = get("SignatureNonce").unwrap_or_default();
    let json: serde_json::Value = pairs
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let (code, message) = if get("AccessKeyId").as_deref() != Some(s.key.as_str()) {
        (
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    } else if get("Signature") != Some(expected) {
        (
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        )
    } else if ts.is_none_or(|t| (now_ms - t).abs() > 900_000) {
        (
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        )
    } else if nonce.is_empty() || s.nonces.contains(&nonce) {
        (
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
    } else {
        s.nonces.push(nonce);
        ("OK", "OK")
    };
    let n = if code == "OK" { 0 } else { 1 };
    let answer = serde_json::json!({"Code": code, "Message": message, "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"});
    (n, answer.to_string(), json)
}

/// Tencent's answer to a request.
fn tencent(s: &Inner, headers: &HeaderMap, body: &[u8], now_ms: i64) -> (i64, String) {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let ts: i64 = h("x-tc-timestamp").parse().unwrap_or(0);
    let date = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        h("content-type"),
        h("host"),
        sha256_hex(body)
    );
    let scope = format!("{date}/sms/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{ts}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k = hmac256(format!("TC3{}", s.secret).as_bytes(), date.as_bytes());
    let k = hmac256(&k, b"sms");
    let k = hmac256(&k, b"tc3_request");
    let sig = hex::encode(hmac256(&k, to_sign.as_bytes()));
    let expected = format!(
        "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=content-type;host, Signature={sig}",
        s.key
    );
    let error = |code: &str, msg: &str| {
        (1, serde_json::json!({"Response": {"Error": {"Code": code, "Message": msg}, "RequestId": "r"}}).to_string())
    };
    if h("x-tc-action") != "SendSms" {
        return error("InvalidAction", "no such action");
    }
    if (now_ms / 1000 - ts).abs() > 300 {
        return error("AuthFailure.SignatureExpire", "signature expired");
    }
    if h("authorization") != expected {
        return error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated.",
        );
    }
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let set: Vec<serde_json::Value> = json["PhoneNumberSet"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let p = p.as_str().unwrap_or("");
            let code = s
                .failing_numbers
                .iter()
                .find(|(n, _)| n == p)
                .map(|(_, c)| c.as_str())
                .unwrap_or("Ok");
            serde_json::json!({"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": p, "Fee": 1, "SessionContext": "", "Code": code, "Message": if code == "Ok" {"send success"} else {"failed"}, "IsoCode": "CN"})
        })
        .collect();
    let all_ok = set.iter().all(|e| e["Code"] == "Ok");
    (
        if all_ok { 0 } else { 1 },
        serde_json::json!({"Response": {"SendStatusSet": set, "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}).to_string(),
    )
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
        raw: String::from_utf8_lossy(&body).into_owned(),
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
    if service == Service::AliyunSms {
        let (code, text, form) = aliyun(&mut s, &body, now_ms);
        record.code = code;
        record.body = form;
        s.received.push(record);
        return (axum::http::StatusCode::OK, text);
    }
    if service == Service::TencentSms {
        let (code, text) = tencent(&s, &headers, &body, now_ms);
        record.code = code;
        s.received.push(record);
        return (axum::http::StatusCode::OK, text);
    }
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
            } else if ts.is_none_or(|t| (now_ms - t).abs() > 3_600_000) || expected != q("sign") {
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
            } else if ts.is_none_or(|t| (now_s - t).abs() > 3600)
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
        Service::Webhook | Service::AliyunSms | Service::TencentSms => (0, "ok"),
    };
    record.code = code;
    s.received.push(record);
    (axum::http::StatusCode::OK, answer(service, code, msg))
}
