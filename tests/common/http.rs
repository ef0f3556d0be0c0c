//! A real HTTP server on loopback that plays the websites the daemon polls.
//!
//! Each path serves whatever the test last `set` for it (fixture bytes, a status, headers, a
//! delay), so a test "publishes" an item by replacing the feed, or takes a site down by
//! setting 503. The server honours `If-None-Match` / `If-Modified-Since` against the ETag and
//! Last-Modified it was given, answering a real 304, and logs every request so a test can
//! assert that the daemon used a conditional GET or backed off after a 429.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a path answers.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering, for timeout tests.
    pub delay: Duration,
}

impl Response {
    /// 200 with these bytes and this Content-Type (give the charset, or leave it out, as the
    /// site under test does).
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// An RSS/Atom document served as `application/rss+xml; charset=utf-8`.
    pub fn rss(body: impl Into<Vec<u8>>) -> Response {
        Response::ok("application/rss+xml; charset=utf-8", body)
    }

    /// An empty response with this status.
    pub fn status(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// 429 Too Many Requests with `Retry-After: <secs>`.
    pub fn too_many_requests(retry_after_secs: u64) -> Response {
        Response::status(429).header("Retry-After", &retry_after_secs.to_string())
    }

    /// A redirect (301, 302, 307, 308) to `location`, absolute or relative to the server.
    pub fn redirect(status: u16, location: &str) -> Response {
        Response::status(status).header("Location", location)
    }

    /// Adds a header (a second value with the same name is sent as a second line).
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets `ETag`; the server then answers 304 to a matching `If-None-Match`.
    pub fn etag(self, etag: &str) -> Response {
        self.header("ETag", etag)
    }

    /// Sets `Last-Modified` (an HTTP date); the server then answers 304 to an
    /// `If-Modified-Since` at or after it.
    pub fn last_modified(self, http_date: &str) -> Response {
        self.header("Last-Modified", http_date)
    }

    /// Compresses the body with gzip and says so in `Content-Encoding`, as most servers do
    /// for text; the body a client reads back is the original bytes.
    pub fn gzip(mut self) -> Response {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&self.body).expect("gzip into memory");
        self.body = encoder.finish().expect("gzip into memory");
        self.header("Content-Encoding", "gzip")
    }

    pub fn delay(mut self, delay: Duration) -> Response {
        self.delay = delay;
        self
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case, values as sent (lossy UTF-8).
    pub headers: Vec<(String, String)>,
    pub at: SystemTime,
    /// The status the server answered.
    pub status: u16,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request carried `If-None-Match` or `If-Modified-Since`.
    pub fn is_conditional(&self) -> bool {
        self.header("if-none-match").is_some() || self.header("if-modified-since").is_some()
    }
}

#[derive(Default)]
struct Shared {
    /// Keyed by path, or by path and query (`/list?page=2`) when a test sets one.
    routes: Mutex<HashMap<String, Response>>,
    log: Mutex<Vec<Request>>,
}

/// The running server; dropping it stops it.
pub struct HttpServer {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    serve: JoinHandle<()>,
}

impl HttpServer {
    /// Binds 127.0.0.1 on a free port. Every path answers 404 until it is `set`.
    pub async fn start() -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind HTTP test server on loopback");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HttpServer {
            addr,
            shared,
            serve,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// From now on `path` (optionally with `?query`) answers `response`.
    /// A server that answers `path` with `response` from the start (one feed, most often).
    pub async fn serving(path: &str, response: Response) -> HttpServer {
        let server = HttpServer::start().await;
        server.set(path, response);
        server
    }

    /// A server that answers `path` with an RSS feed of `items` from the start.
    pub async fn feed(path: &str, items: &[crate::common::RssItem<'_>]) -> HttpServer {
        HttpServer::serving(path, Response::rss(crate::common::rss(items))).await
    }

    pub fn set(&self, path: &str, response: Response) {
        self.shared
            .routes
            .lock()
            .expect("http routes lock")
            .insert(normalize(path), response);
    }

    /// `path` answers 404 again.
    pub fn remove(&self, path: &str) {
        self.shared
            .routes
            .lock()
            .expect("http routes lock")
            .remove(&normalize(path));
    }

    /// Requests for `path` (query ignored), oldest first.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        let path = normalize(path);
        let path = path.split('?').next().unwrap_or_default();
        self.all_requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Every request the server has seen, oldest first.
    pub fn all_requests(&self) -> Vec<Request> {
        self.shared.log.lock().expect("http log lock").clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.serve.abort();
    }
}

fn normalize(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> axum::response::Response {
    let path = uri.path().to_string();
    let query = uri.query().map(str::to_string);
    let route = {
        let routes = shared.routes.lock().expect("http routes lock");
        let with_query = query.as_ref().map(|q| format!("{path}?{q}"));
        with_query
            .and_then(|k| routes.get(&k).cloned())
            .or_else(|| routes.get(&path).cloned())
    };
    let response = match route {
        None => plain(StatusCode::NOT_FOUND, Vec::new(), Bytes::new()),
        Some(route) => {
            if !route.delay.is_zero() {
                tokio::time::sleep(route.delay).await;
            }
            respond(&route, &method, &headers)
        }
    };
    shared.log.lock().expect("http log lock").push(Request {
        method: method.to_string(),
        path,
        query,
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        at: SystemTime::now(),
        status: response.status().as_u16(),
    });
    response
}

fn respond(route: &Response, method: &Method, request: &HeaderMap) -> axum::response::Response {
    let status = StatusCode::from_u16(route.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::OK && not_modified(route, request) {
        // A 304 repeats the validators and caching headers but carries no body.
        let keep: Vec<(String, String)> = route
            .headers
            .iter()
            .filter(|(n, _)| {
                ["etag", "last-modified", "cache-control", "expires", "vary"]
                    .contains(&n.to_ascii_lowercase().as_str())
            })
            .cloned()
            .collect();
        return plain(StatusCode::NOT_MODIFIED, keep, Bytes::new());
    }
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from(route.body.clone())
    };
    plain(status, route.headers.clone(), body)
}

/// RFC 9110 §13.1: If-None-Match wins over If-Modified-Since when both are sent.
fn not_modified(route: &Response, request: &HeaderMap) -> bool {
    let header = |name: &str| request.get(name).and_then(|v| v.to_str().ok());
    if let Some(inm) = header("if-none-match") {
        let Some(etag) = route.header_value("etag") else {
            return false;
        };
        let weak = |t: &str| t.trim().trim_start_matches("W/").to_string();
        return inm
            .split(',')
            .any(|t| t.trim() == "*" || weak(t) == weak(etag));
    }
    if let (Some(ims), Some(lm)) = (
        header("if-modified-since"),
        route.header_value("last-modified"),
    ) {
        let parse = |s: &str| chrono::DateTime::parse_from_rfc2822(s.trim()).ok();
        if let (Some(ims), Some(lm)) = (parse(ims), parse(lm)) {
            return lm <= ims;
        }
    }
    false
}

fn plain(
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Bytes,
) -> axum::response::Response {
    let mut response = axum::response::Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// A server whose every page sends a head and then a byte of body every 20 ms, for ever
/// (chunked): for the fetcher's page timeout. Returns the URL of `path` on it.
pub async fn endless_server(path: &str) -> (String, JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\
                            Transfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                loop {
                    tick.tick().await;
                    if socket.write_all(b"1\r\nx\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, task)
}
