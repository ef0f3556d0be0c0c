//! SMS through Aliyun (阿里云短信) and Tencent Cloud (腾讯云短信): a template approved in the
//! provider's console, filled with the alert's incident number, level, title and
//! deadline (`params` says which, in the template's order).
//!
//! - **Aliyun `SendSms`** (API version 2017-05-25), RPC style. Followed: help.aliyun.com
//!   "签名机制" of the SMS API (alibabacloud.com/help/zh/doc-detail/252839): every
//!   parameter but `Signature`, sorted by name, each name and value percent-encoded per
//!   RFC 3986 (space `%20`, `~` kept), joined `k=v&…`; `StringToSign = "POST&%2F&" +
//!   percentEncode(that)`; `Signature = base64(HMAC-SHA1(key = AccessKeySecret + "&",
//!   StringToSign))`, sent with the others as a form. The answer's `Code` is `OK` for the
//!   whole request (per-number delivery reports need `QuerySendDetails`, not done here).
//! - **Tencent Cloud `SendSms`** (API 3.0, version 2021-01-11), signed with
//!   TC3-HMAC-SHA256. Followed: cloud.tencent.com/document/api/382/52071 (SendSms) and
//!   /document/api/382/52072 (签名方法 v3): the canonical request is `POST`, `/`, an
//!   empty query, the headers `content-type:application/json; charset=utf-8` and
//!   `host:HOST`, the signed header names `content-type;host` and hex(sha256(body)), one
//!   a line; `StringToSign` is `TC3-HMAC-SHA256`, the timestamp, `DATE/sms/tc3_request` and
//!   hex(sha256(canonical request)), one a line; the key is derived
//!   `HMAC(HMAC(HMAC("TC3" + SecretKey, date), "sms"), "tc3_request")` and the signature is
//!   the hex HMAC of StringToSign under it. The answer lists a `Code` per number in
//!   `SendStatusSet` (`Ok` when sent), which is checked number by number.
//!
//! SMS is not idempotent: a send whose outcome is unknown (a timeout, a server error, a
//! crash before the row was marked) is retried only with the row flagged `maybe_doubled`
//! and a warning logged, and a retry after some numbers got it sends to all of them again.

use super::im::{Message, Outcome};
use super::robot::{self, Request};
use crate::config::notify::{Kind, Notifier};
use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;
use std::time::Duration;

/// RFC 3986 unreserved characters stay; everything else is `%XY`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// The template variables of a message, by name.
pub fn params(msg: &Message, max_chars: usize) -> Vec<(&'static str, String)> {
    let short = |s: &str| -> String { s.chars().take(max_chars).collect() };
    let alerts = msg.alerts();
    let first = &alerts[0];
    let incident = alerts
        .iter()
        .filter_map(|a| a.incident_id.map(|i| format!("#{i}")))
        .collect::<Vec<_>>()
        .join(",");
    // 【舆情·重大】… → 舆情·重大
    let level = first
        .title
        .split_once('】')
        .map(|(l, _)| l.trim_start_matches('【').to_string())
        .unwrap_or_default();
    let title = match msg {
        Message::One(a) => a
            .title
            .split_once('：')
            .map(|(_, t)| t.to_string())
            .unwrap_or_else(|| a.title.clone()),
        Message::Digest(all) => format!("{} 条提醒", all.len()),
    };
    let deadline = first
        .lines
        .iter()
        .skip(1)
        .find(|l| l.contains("已超时") || l.contains("剩余"))
        .or(first.lines.first())
        .cloned()
        .unwrap_or_default();
    vec![
        ("incident", short(&incident)),
        ("level", short(&level)),
        ("title", short(&title)),
        ("deadline", short(&deadline)),
    ]
}

fn chosen(n: &Notifier, msg: &Message, max_chars: usize) -> Vec<(String, String)> {
    let all = params(msg, max_chars);
    let sms = n.sms.as_ref();
    sms.map(|s| s.params.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            all.iter()
                .find(|(k, _)| *k == p)
                .map(|(k, v)| (k.to_string(), v.clone()))
        })
        .collect()
}

/// A nonce for Aliyun: unique per request.
fn nonce(now: DateTime<Utc>, msg: &Message) -> String {
    use sha2::Digest;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!(
        "{}:{wall}:{n}:{:?}:{}",
        now.timestamp_millis(),
        msg.ids(),
        std::process::id()
    );
    hex::encode(&sha2::Sha256::digest(seed.as_bytes())[..16])
}

/// Aliyun's signature of `params` (without `Signature`).
pub fn aliyun_signature(secret: &str, params: &[(String, String)]) -> String {
    use hmac::{Hmac, Mac};
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    let to_sign = format!("POST&%2F&{}", percent_encode(&canonical.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes any key length");
    mac.update(to_sign.as_bytes());
    robot::base64(&mac.finalize().into_bytes())
}

/// Tencent's TC3-HMAC-SHA256 `Authorization` header for `body` sent to `host`.
pub fn tc3_authorization(
    secret_id: &str,
    secret_key: &str,
    host: &str,
    body: &str,
    timestamp: i64,
) -> String {
    use sha2::Digest;
    let date = DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:{host}\n\ncontent-type;host\n{}",
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    );
    let scope = format!("{date}/sms/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
    );
    let k_date = robot::hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = robot::hmac_sha256(&k_date, b"sms");
    let k_signing = robot::hmac_sha256(&k_service, b"tc3_request");
    let signature = hex::encode(robot::hmac_sha256(&k_signing, to_sign.as_bytes()));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
    )
}

pub fn request(
    n: &Notifier,
    url: url::Url,
    secret: Option<&str>,
    msg: &Message,
    now: DateTime<Utc>,
) -> Result<Request, String> {
    let sms = n
        .sms
        .as_ref()
        .ok_or("an SMS notifier without its SMS settings")?;
    let secret = secret.ok_or_else(|| format!("{} needs `secret`", n.kind.as_str()))?;
    match n.kind {
        Kind::AliyunSms => {
            let template: serde_json::Map<String, serde_json::Value> = chosen(n, msg, 35)
                .into_iter()
                .map(|(k, v)| (k, json!(v)))
                .collect();
            let mut params: Vec<(String, String)> = [
                ("AccessKeyId", sms.key_id.clone()),
                ("Action", "SendSms".into()),
                ("Format", "JSON".into()),
                ("PhoneNumbers", n.mention_mobiles.join(",")),
                ("RegionId", "cn-hangzhou".into()),
                ("SignName", sms.sign_name.clone()),
                ("SignatureMethod", "HMAC-SHA1".into()),
                ("SignatureNonce", nonce(now, msg)),
                ("SignatureVersion", "1.0".into()),
                ("TemplateCode", sms.template.clone()),
                (
                    "TemplateParam",
                    serde_json::Value::Object(template).to_string(),
                ),
                ("Timestamp", now.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                ("Version", "2017-05-25".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            let signature = aliyun_signature(secret, &params);
            params.push(("Signature".into(), signature));
            let body: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect();
            Ok(Request {
                url,
                headers: vec![(
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                )],
                body: body.join("&"),
            })
        }
        Kind::TencentSms => {
            let phones: Vec<String> = n
                .mention_mobiles
                .iter()
                .map(|m| {
                    if m.starts_with('+') {
                        m.clone()
                    } else {
                        format!("+86{m}")
                    }
                })
                .collect();
            let values: Vec<String> = chosen(n, msg, 20).into_iter().map(|(_, v)| v).collect();
            let body = json!({
                "PhoneNumberSet": phones,
                "SmsSdkAppId": sms.app_id.clone().unwrap_or_default(),
                "SignName": sms.sign_name,
                "TemplateId": sms.template,
                "TemplateParamSet": values,
            })
            .to_string();
            let host = match (url.host_str(), url.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                (None, _) => return Err("the SMS url has no host".into()),
            };
            let ts = now.timestamp();
            let auth = tc3_authorization(&sms.key_id, secret, &host, &body, ts);
            Ok(Request {
                url,
                headers: vec![
                    (
                        "Content-Type".into(),
                        "application/json; charset=utf-8".into(),
                    ),
                    ("Authorization".into(), auth),
                    ("X-TC-Action".into(), "SendSms".into()),
                    ("X-TC-Timestamp".into(), ts.to_string()),
                    ("X-TC-Version".into(), "2021-01-11".into()),
                    ("X-TC-Region".into(), sms.region.clone()),
                ],
                body,
            })
        }
        _ => Err("not an SMS notifier".into()),
    }
}

fn throttle(code: &str) -> bool {
    code.contains("LIMIT_CONTROL")
        || code.starts_with("Throttling")
        || code.starts_with("LimitExceeded")
        || code == "RequestLimitExceeded"
}

fn transient(code: &str) -> bool {
    code.starts_with("isp.")
        || code.starts_with("InternalError")
        || code == "ServiceUnavailable"
        || code == "SignatureNonceUsed"
}

pub fn outcome(kind: Kind, status: u16, body: &str) -> Outcome {
    let said = format!("HTTP {status} {}", super::im::truncate(body, 800));
    let answer = Some(said.clone());
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    if status >= 500 && json.is_null() {
        return Outcome::Retry {
            error: format!("{} HTTP {status}", kind.zh()),
            answer,
            pause: None,
            unknown: true,
        };
    }
    let classify = |code: &str, msg: &str| -> Outcome {
        let error = format!("{} {code} {msg}", kind.zh());
        if throttle(code) {
            Outcome::Retry {
                error,
                answer: answer.clone(),
                pause: Some(Duration::from_secs(60)),
                unknown: false,
            }
        } else if transient(code) {
            Outcome::Retry {
                error,
                answer: answer.clone(),
                pause: None,
                unknown: true,
            }
        } else {
            Outcome::Permanent {
                error,
                answer: answer.clone(),
            }
        }
    };
    match kind {
        Kind::AliyunSms => {
            let code = json.get("Code").and_then(|c| c.as_str()).unwrap_or("");
            let msg = json.get("Message").and_then(|c| c.as_str()).unwrap_or("");
            match code {
                "OK" => Outcome::Delivered {
                    answer: said.clone(),
                },
                "" => Outcome::Unexpected {
                    error: format!("阿里云短信 HTTP {status} without a Code"),
                    answer,
                },
                code => classify(code, msg),
            }
        }
        _ => {
            let resp = &json["Response"];
            if let Some(err) = resp.get("Error") {
                let code = err.get("Code").and_then(|c| c.as_str()).unwrap_or("?");
                let msg = err.get("Message").and_then(|c| c.as_str()).unwrap_or("");
                return classify(code, msg);
            }
            let Some(set) = resp.get("SendStatusSet").and_then(|s| s.as_array()) else {
                return Outcome::Unexpected {
                    error: format!("腾讯云短信 HTTP {status} without SendStatusSet"),
                    answer,
                };
            };
            // Number by number: all sent, or the first failure decides.
            let failed: Vec<(String, String)> = set
                .iter()
                .filter(|s| s.get("Code").and_then(|c| c.as_str()) != Some("Ok"))
                .map(|s| {
                    (
                        s["PhoneNumber"].as_str().unwrap_or("?").to_string(),
                        s["Code"].as_str().unwrap_or("?").to_string(),
                    )
                })
                .collect();
            if failed.is_empty() {
                return Outcome::Delivered {
                    answer: said.clone(),
                };
            }
            let list: Vec<String> = failed.iter().map(|(p, c)| format!("{p}: {c}")).collect();
            let some_sent = failed.len() < set.len();
            match classify(&failed[0].1, &list.join("; ")) {
                Outcome::Retry {
                    error,
                    answer,
                    pause,
                    ..
                } => Outcome::Retry {
                    error,
                    answer,
                    pause,
                    // Resending reaches the numbers that already got it.
                    unknown: some_sent,
                },
                other => other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_percent_encoding_is_rfc3986() {
        assert_eq!(percent_encode("a b*~"), "a%20b%2A~");
        assert_eq!(percent_encode("文"), "%E6%96%87");
    }

    #[test]
    fn aliyun_signature_matches_an_independent_computation() {
        let p: Vec<(String, String)> = [("B", "2 3"), ("A", "1")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // python3, urllib.parse.quote(safe="-_.~") and hmac.new(b"key&", StringToSign, sha1)
        assert_eq!(aliyun_signature("key", &p), "j6GSTT9pGvM+Mip3lUa00MN19sI=");
    }

    #[test]
    fn tc3_matches_an_independent_computation() {
        let auth = tc3_authorization(
            "AKID",
            "KEY",
            "sms.tencentcloudapi.com",
            "{}",
            1_700_000_000,
        );
        assert!(
            auth.ends_with(
                "Signature=85ecead87c0bc9c79a8456705f2f2a290f7a280113fa614f75e4a62967a71c2d"
            ),
            "{auth}"
        );
        assert!(auth.contains("Credential=AKID/2023-11-14/sms/tc3_request"));
    }

    #[test]
    fn tencent_answers_are_read_number_by_number() {
        let ok = r#"{"Response":{"SendStatusSet":[{"PhoneNumber":"+8613800000000","Code":"Ok"}],"RequestId":"r"}}"#;
        assert!(matches!(
            outcome(Kind::TencentSms, 200, ok),
            Outcome::Delivered { .. }
        ));
        let partly = r#"{"Response":{"SendStatusSet":[{"PhoneNumber":"+8613800000000","Code":"Ok"},{"PhoneNumber":"+8613900000000","Code":"LimitExceeded.PhoneNumberThirtySecondLimit"}]}}"#;
        assert!(matches!(
            outcome(Kind::TencentSms, 200, partly),
            Outcome::Retry { unknown: true, .. }
        ));
        let auth =
            r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"x"}}}"#;
        assert!(matches!(
            outcome(Kind::TencentSms, 200, auth),
            Outcome::Permanent { .. }
        ));
        let limit = r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控"}"#;
        assert!(matches!(
            outcome(Kind::AliyunSms, 200, limit),
            Outcome::Retry { .. }
        ));
    }
}
