//! A real SMTP server on loopback that records every message it accepts.
//!
//! The daemon's mail transport (lettre over TCP, `tls = "none"`) talks to this server exactly
//! as it would talk to the agency's relay, so a test sees the bytes that would have left the
//! building: the envelope, the raw message and a decoded view (subject, threading headers,
//! text and HTML bodies) made with `mailparse`. `set_down(true)` turns the relay away with
//! 421, to play an outage.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Credentials a client presented with AUTH; the server accepts any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub mechanism: String,
    pub user: String,
    pub password: String,
}

/// One message as the server received it, and as a mail client would show it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), without the angle brackets.
    pub from: String,
    /// Envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The message after dot-unstuffing, CRLF line ends as sent.
    pub raw: Vec<u8>,
    /// Which connection (0, 1, …) carried it, to tell reuse from reconnects.
    pub connection: usize,
    /// AUTH given on that connection, if any.
    pub auth: Option<Auth>,
    /// Every header of the top-level part, values RFC 2047-decoded.
    pub headers: Vec<(String, String)>,
    /// Decoded `Subject`, empty when absent.
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    /// The first `text/plain` part, transfer encoding and charset decoded.
    pub text: Option<String>,
    /// The first `text/html` part, decoded likewise.
    pub html: Option<String>,
    /// Set when `mailparse` could not read the message at all.
    pub parse_error: Option<String>,
}

impl ReceivedMail {
    /// The first header with this name (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn parse(
        from: String,
        to: Vec<String>,
        raw: Vec<u8>,
        connection: usize,
        auth: Option<Auth>,
    ) -> Self {
        let mut mail = ReceivedMail {
            from,
            to,
            raw,
            connection,
            auth,
            headers: Vec::new(),
            subject: String::new(),
            message_id: None,
            in_reply_to: None,
            references: None,
            text: None,
            html: None,
            parse_error: None,
        };
        match mailparse::parse_mail(&mail.raw) {
            Ok(parsed) => {
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.get_key(), h.get_value()))
                    .collect();
                let mut text = None;
                let mut html = None;
                collect_bodies(&parsed, &mut text, &mut html);
                mail.headers = headers;
                mail.text = text;
                mail.html = html;
            }
            Err(e) => mail.parse_error = Some(e.to_string()),
        }
        mail.subject = mail.header("Subject").unwrap_or_default().to_string();
        mail.message_id = mail.header("Message-ID").map(str::to_string);
        mail.in_reply_to = mail.header("In-Reply-To").map(str::to_string);
        mail.references = mail.header("References").map(str::to_string);
        mail
    }
}

/// Depth-first: the first text/plain and the first text/html that are not attachments.
fn collect_bodies(
    part: &mailparse::ParsedMail<'_>,
    text: &mut Option<String>,
    html: &mut Option<String>,
) {
    if part.subparts.is_empty() {
        let attachment =
            part.get_content_disposition().disposition == mailparse::DispositionType::Attachment;
        if attachment {
            return;
        }
        let slot = match part.ctype.mimetype.to_ascii_lowercase().as_str() {
            "text/plain" => text,
            "text/html" => html,
            _ => return,
        };
        if slot.is_none() {
            *slot = part.get_body().ok();
        }
        return;
    }
    for sub in &part.subparts {
        collect_bodies(sub, text, html);
    }
}

struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    /// Bumped after each stored message; `wait_for` sleeps on it.
    count: watch::Sender<usize>,
    down: AtomicBool,
    connections: AtomicUsize,
}

/// The running server; dropping it stops accepting connections.
pub struct SmtpServer {
    port: u16,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl SmtpServer {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP test server on loopback");
        let port = listener.local_addr().expect("local addr").port();
        let (count, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            count,
            down: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        SmtpServer {
            port,
            shared,
            accept,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `[mail]` section of a config that sends here (no TLS), for more keys to follow.
    pub fn mail_section(&self) -> String {
        format!(
            "[mail]\ntransport = \"smtp\"\nfrom = \"舆情值班 <yuqing@example.gov.cn>\"\n\
             smtp = {{ host = \"127.0.0.1\", port = {}, tls = \"none\" }}\n",
            self.port
        )
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared
            .messages
            .lock()
            .expect("smtp messages lock")
            .clone()
    }

    /// How many TCP connections have been accepted (including refused ones while down).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// While down, new connections get `421` in the greeting and open ones get `421` on their
    /// next command; both are then closed, as a relay that is shutting down does.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// The first message (already received or arriving within `timeout`) that satisfies
    /// `pred`. Wakes on each new message rather than polling.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&ReceivedMail) -> bool,
        timeout: Duration,
    ) -> Option<ReceivedMail> {
        // Subscribe before looking, so a message stored in between still wakes us.
        let mut rx = self.shared.count.subscribe();
        let search = async {
            loop {
                if let Some(found) = self.messages().into_iter().find(|m| pred(m)) {
                    return Some(found);
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        };
        tokio::time::timeout(timeout, search).await.ok().flatten()
    }

    /// Waits until at least `n` messages have arrived; returns them all.
    pub async fn wait_for_count(&self, n: usize, timeout: Duration) -> Option<Vec<ReceivedMail>> {
        let mut rx = self.shared.count.subscribe();
        let arrived = tokio::time::timeout(timeout, async {
            rx.wait_for(|count| *count >= n).await.is_ok()
        })
        .await;
        match arrived {
            Ok(true) => Some(self.messages()),
            _ => None,
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst);
        let shared = shared.clone();
        tokio::spawn(async move {
            // A client that hangs up mid-session is not the server's failure; drop quietly.
            let _ = Session::new(id, shared).run(stream).await;
        });
    }
}

struct Session {
    id: usize,
    shared: Arc<Shared>,
    greeted: bool,
    auth: Option<Auth>,
    from: Option<String>,
    to: Vec<String>,
}

const DOWN: &[u8] = b"421 4.3.2 Service not available, closing transmission channel\r\n";

impl Session {
    fn new(id: usize, shared: Arc<Shared>) -> Self {
        Session {
            id,
            shared,
            greeted: false,
            auth: None,
            from: None,
            to: Vec::new(),
        }
    }

    fn down(&self) -> bool {
        self.shared.down.load(Ordering::SeqCst)
    }

    async fn run(mut self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        if self.down() {
            write.write_all(DOWN).await?;
            return write.shutdown().await;
        }
        write
            .write_all(b"220 localhost ESMTP yuqing-test\r\n")
            .await?;
        let mut line = Vec::new();
        loop {
            line.clear();
            if read.read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            if self.down() {
                write.write_all(DOWN).await?;
                return write.shutdown().await;
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            let (verb, arg) = match text.split_once(' ') {
                Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
                None => (text.to_ascii_uppercase(), ""),
            };
            match verb.as_str() {
                "EHLO" => {
                    self.greeted = true;
                    self.reset();
                    write
                        .write_all(
                            b"250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n\
                              250-SIZE 52428800\r\n250 AUTH PLAIN LOGIN\r\n",
                        )
                        .await?;
                }
                "HELO" => {
                    self.greeted = true;
                    self.reset();
                    write.write_all(b"250 localhost\r\n").await?;
                }
                "AUTH" => {
                    let reply = self.auth(arg, &mut read, &mut write).await?;
                    write.write_all(reply).await?;
                }
                "MAIL" => {
                    let reply: &[u8] = if !self.greeted {
                        b"503 5.5.1 Say EHLO first\r\n"
                    } else if self.from.is_some() {
                        b"503 5.5.1 Sender already given\r\n"
                    } else if let Some(addr) = path_arg(arg, "FROM:") {
                        self.from = Some(addr);
                        b"250 2.1.0 OK\r\n"
                    } else {
                        b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
                    };
                    write.write_all(reply).await?;
                }
                "RCPT" => {
                    let reply: &[u8] = if self.from.is_none() {
                        b"503 5.5.1 Need MAIL first\r\n"
                    } else if let Some(addr) = path_arg(arg, "TO:") {
                        self.to.push(addr);
                        b"250 2.1.5 OK\r\n"
                    } else {
                        b"501 5.5.4 Syntax: RCPT TO:<address>\r\n"
                    };
                    write.write_all(reply).await?;
                }
                "DATA" => {
                    if self.from.is_none() || self.to.is_empty() {
                        write
                            .write_all(b"503 5.5.1 Need MAIL and RCPT first\r\n")
                            .await?;
                        continue;
                    }
                    write
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let Some(raw) = read_data(&mut read).await? else {
                        return Ok(());
                    };
                    self.store(raw);
                    write.write_all(b"250 2.0.0 OK queued\r\n").await?;
                }
                "RSET" => {
                    self.reset();
                    write.write_all(b"250 2.0.0 OK\r\n").await?;
                }
                "NOOP" => write.write_all(b"250 2.0.0 OK\r\n").await?,
                "VRFY" => write.write_all(b"252 2.1.5 Cannot VRFY\r\n").await?,
                "QUIT" => {
                    write.write_all(b"221 2.0.0 Bye\r\n").await?;
                    return write.shutdown().await;
                }
                _ => {
                    write
                        .write_all(b"502 5.5.2 Command not recognized\r\n")
                        .await?
                }
            }
        }
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }

    fn store(&mut self, raw: Vec<u8>) {
        let mail = ReceivedMail::parse(
            self.from.take().unwrap_or_default(),
            std::mem::take(&mut self.to),
            raw,
            self.id,
            self.auth.clone(),
        );
        let mut messages = self.shared.messages.lock().expect("smtp messages lock");
        messages.push(mail);
        let n = messages.len();
        drop(messages);
        self.shared.count.send_replace(n);
    }

    /// AUTH PLAIN (initial response or after `334`) and AUTH LOGIN; any credentials pass.
    async fn auth(
        &mut self,
        arg: &str,
        read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
        write: &mut tokio::net::tcp::OwnedWriteHalf,
    ) -> std::io::Result<&'static [u8]> {
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((m, i)) => (m.to_ascii_uppercase(), Some(i.trim().to_string())),
            None => (arg.to_ascii_uppercase(), None),
        };
        let auth = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(i) => i,
                    None => {
                        write.write_all(b"334 \r\n").await?;
                        read_line(read).await?
                    }
                };
                let decoded = base64_decode(&response).unwrap_or_default();
                let mut fields = decoded.split(|b| *b == 0).skip(1);
                let user = fields.next().unwrap_or_default();
                let password = fields.next().unwrap_or_default();
                Auth {
                    mechanism,
                    user: String::from_utf8_lossy(user).into_owned(),
                    password: String::from_utf8_lossy(password).into_owned(),
                }
            }
            "LOGIN" => {
                let user = match initial {
                    Some(i) => i,
                    None => {
                        write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                        read_line(read).await?
                    }
                };
                write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                let password = read_line(read).await?;
                let text = |s: &str| {
                    String::from_utf8_lossy(&base64_decode(s).unwrap_or_default()).into_owned()
                };
                Auth {
                    mechanism,
                    user: text(&user),
                    password: text(&password),
                }
            }
            _ => return Ok(b"504 5.5.4 Unrecognized authentication type\r\n"),
        };
        self.auth = Some(auth);
        Ok(b"235 2.7.0 Authentication successful\r\n")
    }
}

async fn read_line(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<String> {
    let mut line = Vec::new();
    read.read_until(b'\n', &mut line).await?;
    Ok(String::from_utf8_lossy(&line).trim().to_string())
}

/// Reads DATA lines up to the lone `.`, removing the dot that the client added in front of
/// every line starting with one (RFC 5321 §4.5.2). `None` if the client hung up first.
async fn read_data(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(raw));
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        raw.extend_from_slice(unstuffed);
    }
}

/// `FROM:<a@b> SIZE=…` → `a@b`; the empty reverse path `<>` gives `""`.
fn path_arg(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_string())
}

/// Standard base64 with padding, enough for AUTH exchanges.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
