//! `[web]`: where the duty console listens and how its sessions behave.
//!
//! The console serves the store to people who log in, so, as `[daemon] metrics`, an address
//! beyond this machine must be asked for (`public = true`): the usual deployment keeps it
//! on loopback behind the agency's nginx, which adds TLS.

use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::duration::Span;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use toml::Spanned;

/// The console's address when `[web] listen` is not written.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";

#[derive(Debug, Clone)]
pub struct Web {
    /// `None` when `listen = "off"`: no console.
    pub listen: Option<SocketAddr>,
    /// Set the `Secure` flag on the session and CSRF cookies: the console is reached over
    /// TLS (nginx in front). Off by default, since a browser drops Secure cookies on plain
    /// http://127.0.0.1.
    pub secure_cookies: bool,
    /// A session unused this long expires (default 8h: a duty shift).
    pub session_idle: Span,
    /// A session this old expires however much it is used (default 12h: a shift and its
    /// handover), so a stolen or forgotten session does not last for good.
    pub session_max: Span,
    /// `[web] url`: the console's address as people reach it (through nginx), for the
    /// links in instant messages; without it, one made from `listen`.
    pub url: Option<url::Url>,
    /// `[web] trusted_proxies`: the peers (nginx) whose `X-Real-IP` names the client. From
    /// any other peer the header is ignored, so a client cannot pick the address the login
    /// throttle counts.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Web {
    /// The console is reached over TLS: `[web] url` is https. Cookies are then `Secure` and
    /// named `__Host-…`, which a browser keeps only from this very origin.
    pub fn behind_tls(&self) -> bool {
        self.url.as_ref().is_some_and(|u| u.scheme() == "https")
    }

    /// The console's address for links (`…/incidents/{id}`), ending in `/`: `url`, else
    /// `http://` + `listen` (loopback when it listens on every interface), else the default.
    pub fn console(&self) -> url::Url {
        if let Some(u) = &self.url {
            return u.clone();
        }
        let addr = match self.listen {
            Some(a) if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
            Some(a) => a.to_string(),
            None => DEFAULT_LISTEN.to_string(),
        };
        url::Url::parse(&format!("http://{addr}/"))
            .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1:8700/").expect("parses"))
    }
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: DEFAULT_LISTEN.parse().ok(),
            secure_cookies: false,
            session_idle: Span::from_secs(8 * 3600),
            session_max: Span::from_secs(12 * 3600),
            url: None,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The `[web]` table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    listen: Option<Spanned<String>>,
    public: Option<bool>,
    secure_cookies: Option<bool>,
    session_idle: Option<Spanned<Span>>,
    session_max: Option<Spanned<Span>>,
    url: Option<Spanned<String>>,
    trusted_proxies: Option<Vec<Spanned<String>>>,
}

/// Checks `[web]`; mistakes go to `errs` with their line.
pub fn check(raw: RawWeb, errs: &mut Diagnostics, path: &Path, source: &str) -> Web {
    let d = Web::default();
    let at = Diagnostic::spans_in(path, source);
    let listen = match raw.listen {
        None => d.listen,
        Some(l) if l.get_ref().trim() == "off" => None,
        Some(l) => match address(l.get_ref(), raw.public.unwrap_or(false)) {
            Ok(a) => Some(a),
            Err(msg) => {
                errs.push(at(l.span(), msg));
                None
            }
        },
    };
    // A session of under a minute would log people out mid-task: the default instead.
    let mut session = |raw: Option<Spanned<Span>>, default: Span, key: &str, doing: &str| match raw
    {
        None => default,
        Some(s) if s.get_ref().as_secs() < 60 => {
            errs.push(at(
                s.span(),
                format!(
                    "[web] {key} shorter than 1m would log people out while they {doing}; \
                         give e.g. \"{default}\""
                ),
            ));
            default
        }
        Some(s) => s.into_inner(),
    };
    let session_idle = session(raw.session_idle, d.session_idle, "session_idle", "read");
    let session_max = session(raw.session_max, d.session_max, "session_max", "work");
    let url = raw.url.and_then(|u| match url::Url::parse(u.get_ref().trim()) {
        Ok(mut parsed) if matches!(parsed.scheme(), "http" | "https") => {
            if !parsed.path().ends_with('/') {
                let p = format!("{}/", parsed.path());
                parsed.set_path(&p);
            }
            Some(parsed)
        }
        _ => {
            errs.push(at(
                u.span(),
                format!(
                    "[web] url `{}` is not an http(s) URL such as \"https://yuqing.example.gov.cn/\"",
                    u.get_ref()
                ),
            ));
            None
        }
    });
    let mut trusted_proxies = Vec::new();
    for p in raw.trusted_proxies.unwrap_or_default() {
        match p.get_ref().trim().parse::<IpAddr>() {
            Ok(ip) => trusted_proxies.push(ip),
            Err(_) => errs.push(at(
                p.span(),
                format!(
                    "[web] trusted_proxies: `{}` is not an IP address; list the addresses nginx \
                     connects from, such as [\"127.0.0.1\", \"::1\"]",
                    p.get_ref()
                ),
            )),
        }
    }
    Web {
        listen,
        secure_cookies: raw.secure_cookies.unwrap_or(false),
        session_idle,
        session_max,
        url,
        trusted_proxies,
    }
}

/// `address:port`, on loopback unless `public`.
fn address(text: &str, public: bool) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text.trim().parse().map_err(|_| {
        format!("[web] listen `{text}` is not an address:port such as \"{DEFAULT_LISTEN}\" (or \"off\")")
    })?;
    if !addr.ip().is_loopback() && !public {
        return Err(format!(
            "[web] listen `{text}` is not a loopback address; the console is meant to sit \
             behind nginx with TLS on this machine, so serving it beyond needs `public = true`"
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Web, Diagnostics> {
        #[derive(Deserialize)]
        struct File {
            web: RawWeb,
        }
        let f: File = toml::from_str(text).unwrap();
        let mut errs = Diagnostics::default();
        let w = check(f.web, &mut errs, Path::new("y.toml"), text);
        errs.into_result(w)
    }

    #[test]
    fn loopback_by_default_and_public_only_when_asked() {
        assert_eq!(Web::default().listen.unwrap().to_string(), DEFAULT_LISTEN);
        assert!(parse("[web]\nlisten = \"127.0.0.1:9000\"\n").is_ok());
        let e = parse("[web]\nlisten = \"0.0.0.0:8700\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("y.toml:2") && e.contains("public = true"), "{e}");
        let w = parse("[web]\nlisten = \"0.0.0.0:8700\"\npublic = true\n").unwrap();
        assert_eq!(w.listen.unwrap().to_string(), "0.0.0.0:8700");
        assert!(parse("[web]\nlisten = \"off\"\n").unwrap().listen.is_none());
        assert!(parse("[web]\nlisten = \"localhost\"\n").is_err());
    }

    #[test]
    fn links_go_to_url_else_to_listen() {
        let link = |text: &str| parse(text).unwrap().console().to_string();
        assert_eq!(link("[web]\n"), "http://127.0.0.1:8700/");
        assert_eq!(
            link("[web]\nlisten = \"127.0.0.1:9000\"\n"),
            "http://127.0.0.1:9000/"
        );
        assert_eq!(
            link("[web]\nlisten = \"0.0.0.0:9000\"\npublic = true\n"),
            "http://127.0.0.1:9000/"
        );
        assert_eq!(
            link("[web]\nurl = \"https://yq.example.gov.cn/console\"\n"),
            "https://yq.example.gov.cn/console/"
        );
        let e = parse("[web]\nurl = \"ftp://x\"\n").unwrap_err().to_string();
        assert!(e.contains("y.toml:2"), "{e}");
    }

    #[test]
    fn a_session_lives_twelve_hours_at_most_unless_told() {
        assert_eq!(Web::default().session_max.as_secs(), 12 * 3600);
        let w = parse("[web]\nsession_max = \"24h\"\n").unwrap();
        assert_eq!(w.session_max.as_secs(), 24 * 3600);
        let e = parse("[web]\nsession_max = \"10s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("y.toml:2") && e.contains("session_max"), "{e}");
    }

    #[test]
    fn trusted_proxies_are_ip_addresses_and_none_by_default() {
        assert!(Web::default().trusted_proxies.is_empty());
        let w = parse("[web]\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]\n").unwrap();
        assert_eq!(w.trusted_proxies.len(), 2);
        let e = parse("[web]\ntrusted_proxies = [\"127.0.0.1\", \"nginx.local\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("y.toml:2") && e.contains("`nginx.local` is not an IP address"),
            "{e}"
        );
    }
}
