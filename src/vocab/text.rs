//! Text from the web, made harmless where people read it.
//!
//! A title is whatever a site sent. Printed raw to a terminal, `ESC ] 0 ; … BEL` retitles
//! the window and other escapes rewrite the screen; in mail, on the console or in a
//! terminal, the bidi overrides (U+202A–202E, U+2066–2069) reorder what is shown, so
//! `gnp.exe` behind U+202E reads as `exe.png` (issue 16). Every output edge passes text
//! through these functions; what is stored and what `--json` prints stay exact.

use std::borrow::Cow;

/// `text` as a link people may be sent to: an absolute `http` or `https` URL with a host,
/// nothing else (issue 26 §2.7: `javascript:alert(1)` parses as a URL too, and a release
/// link is shown as a link in the console and in mail).
pub fn http_link(text: &str) -> Option<url::Url> {
    let u = url::Url::parse(text.trim()).ok()?;
    (matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
        .then_some(u)
}

/// The bidi embeddings, overrides and isolates: LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` without bidi controls, so it shows in the order it is stored.
pub fn without_bidi(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_bidi_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|c| !is_bidi_control(*c)).collect())
}

/// `text` for a terminal: bidi controls removed, and every control character other than a
/// line break or a tab (ESC, NUL, BEL, backspace, carriage return, DEL, C1) shown as `�`,
/// so that something was there stays visible and nothing reaches the terminal as a command.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter(|c| !is_bidi_control(*c))
            .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// The longest start of `text` within `max` bytes that ends on a character boundary. Every
/// cut of text in yuqing is made here: a field of a feed entry, an error text, a robot's
/// message, a line of mail.
pub fn head(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` within `max` bytes: as it is when it fits, else its [`head`] and then `mark`
/// (`…` and the link to the incident, say), the mark counted within `max` and always kept.
pub fn cut<'a>(text: &'a str, max: usize, mark: &str) -> Cow<'a, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!(
        "{}{mark}",
        head(text, max.saturating_sub(mark.len()))
    ))
}

/// `text` cut to at most `max` bytes on a character boundary; a cut text ends with
/// `… (N bytes in all)`, so a reader knows it was cut and how much there was. For error
/// texts that are stored or logged: a megabyte URL must not become a megabyte log line.
pub fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!(
        "{}… ({} bytes in all)",
        head(text, max),
        text.len()
    ))
}

/// Text from the web on one line, for a subject, a header or a list: control characters
/// and runs of white space become one space, and a text over `max` characters is cut
/// there and ends with `…`.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() > max {
        let mut cut: String = flat.chars().take(max).collect();
        cut.push('…');
        cut
    } else {
        flat
    }
}

/// An error and its causes on one line, `a: b: c`, each said once: a cause whose text the
/// message before it already ends with is left out (sqlx's decode error repeats its
/// source, so `{:#}` read `unknown severity …: unknown severity …`).
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_chain_says_each_cause_once() {
        #[derive(Debug)]
        struct Decode(&'static str);
        impl std::fmt::Display for Decode {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "error decoding column \"severity\": {}", self.0)
            }
        }
        impl std::error::Error for Decode {}
        let inner = anyhow::anyhow!("unknown severity `x`");
        let outer = anyhow::Error::new(Decode("unknown severity `x`"));
        assert_eq!(
            error_chain(&outer.context("cannot file item 3")),
            "cannot file item 3: error decoding column \"severity\": unknown severity `x`"
        );
        assert_eq!(
            error_chain(&inner.context("a").context("b")),
            "b: a: unknown severity `x`"
        );
    }

    #[test]
    fn a_link_is_http_or_https_and_nothing_else() {
        for good in [
            "https://www.gov.cn/xinwen/1.html",
            "http://10.0.0.1:8080/a?b=c",
        ] {
            assert!(http_link(good).is_some(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "ftp://example.cn/x",
            "//evil.example/",
            "www.gov.cn",
            "http://",
            "",
        ] {
            assert!(http_link(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn escapes_and_controls_are_shown_not_obeyed() {
        assert_eq!(
            for_terminal("标题\u{1b}]0;pwned\u{7}尾\u{0}\u{8}\r"),
            "标题\u{FFFD}]0;pwned\u{FFFD}尾\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(for_terminal("a\u{9b}31m"), "a\u{FFFD}31m", "C1 CSI");
        assert_eq!(for_terminal("a\tb\nc"), "a\tb\nc");
        assert!(matches!(for_terminal("景区安全"), Cow::Borrowed(_)));
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary_and_say_so() {
        assert_eq!(bounded("short", 10), "short");
        // 景 is three bytes: a cut at 4 bytes keeps one character, never half of one.
        assert_eq!(bounded("景区踩踏", 4), "景… (12 bytes in all)");
        let huge = "a".repeat(1 << 20);
        assert!(bounded(&huge, 1000).len() < 1100);
    }

    #[test]
    fn bidi_controls_are_dropped() {
        assert_eq!(without_bidi("report\u{202E}gnp.exe"), "reportgnp.exe");
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{2066}', '\u{2067}', '\u{2068}',
            '\u{2069}',
        ] {
            assert_eq!(without_bidi(&format!("a{c}b")), "ab", "{:04X}", c as u32);
            assert_eq!(for_terminal(&format!("a{c}b")), "ab");
        }
        // The marks that only hint a direction are not overrides; they stay.
        assert_eq!(without_bidi("a\u{200F}b"), "a\u{200F}b");
    }

    #[test]
    fn a_cut_ends_on_a_character_with_its_mark_within_the_limit() {
        let text = "景".repeat(1000); // 3000 bytes
        let c = cut(&text, 2048, "…\nhttp://h/incidents/1");
        assert!(c.len() <= 2048, "{}", c.len());
        assert!(c.ends_with("…\nhttp://h/incidents/1"));
        assert!(c.starts_with("景景"));
        assert_eq!(cut("短", 2048, "…x"), "短");
        assert_eq!(head("a景", 3), "a");
        assert_eq!(head("a景", 4), "a景");
        assert_eq!(head("a景", 99), "a景");
        assert_eq!(bounded("a景b", 3), "a… (5 bytes in all)");
    }

    #[test]
    fn one_line_flattens_and_cuts_by_characters() {
        assert_eq!(one_line("  景区\n\t踩踏\u{7}事件  ", 100), "景区 踩踏 事件");
        assert_eq!(one_line("景区踩踏事件", 4), "景区踩踏…");
        assert_eq!(one_line("景区踩踏", 4), "景区踩踏");
    }
}
