//! A forgiving XML reader for feeds, in the spirit of feedparser's "loose" parser.
//!
//! Real feeds are often not well-formed: an HTML entity XML does not define (`&nbsp;`), a
//! bare `&` in a URL, an unclosed `<br>` inside a description, a mismatched end tag, raw
//! HTML where CDATA was meant. A strict parser stops at the first of these and loses every
//! item after it. This one never stops: it builds a tree of what it could read, closes
//! what was left open, ignores end tags that match nothing, keeps unknown entities as
//! written, and lists each repair as a [`Problem`] (with its byte offset) so that the
//! source can be told its feed is damaged.

use std::borrow::Cow;

/// One element: its name as written (`dc:date`), attributes (values unescaped), child
/// elements, and its content twice: as text (descendants' text, entities decoded) and as
/// HTML (text, CDATA and child elements' markup as written), for fields that carry HTML.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
    pub html: String,
    /// Byte offset of the start tag in the document.
    start: usize,
}

impl Node {
    /// The name without its prefix: `date` for `dc:date`.
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub fn prefix(&self) -> Option<&str> {
        self.name.split_once(':').map(|(p, _)| p)
    }

    /// An attribute by its name as written (`href`, `rdf:about`, `xml:base`).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// An attribute by its local name, whatever its prefix (`about` finds `rdf:about`).
    pub fn attr_local(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.rsplit(':').next() == Some(local))
            .map(|(_, v)| v.as_str())
    }

    /// Every element below this one, depth first, in document order.
    pub fn descendants(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        fn walk<'a>(n: &'a Node, out: &mut Vec<&'a Node>) {
            for c in &n.children {
                out.push(c);
                walk(c, out);
            }
        }
        walk(self, &mut out);
        out
    }
}

/// Something the reader had to repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub offset: usize,
    pub message: String,
}

/// The document as a tree under a nameless root, the repairs made, and every `xmlns:p`
/// declaration (first one wins).
#[derive(Debug, Default)]
pub struct Doc {
    pub root: Node,
    pub problems: Vec<Problem>,
    pub prefixes: Vec<(String, String)>,
    /// The default namespace of the first element that declares one.
    pub default_ns: Option<String>,
}

impl Doc {
    pub fn namespace(&self, prefix: &str) -> Option<&str> {
        self.prefixes
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }
}

/// Elements whose content is not kept as text or HTML: the containers of a feed. Their
/// text would be a copy of the whole document.
fn is_container(local: &str) -> bool {
    matches!(
        local,
        "" | "rss" | "RDF" | "feed" | "channel" | "item" | "entry" | "html" | "body" | "head"
    )
}

/// The elements of a feed's item that hold text, never each other.
fn is_field(local: &str) -> bool {
    matches!(
        local,
        "title"
            | "link"
            | "description"
            | "pubDate"
            | "guid"
            | "author"
            | "category"
            | "comments"
            | "enclosure"
            | "source"
            | "encoded"
            | "date"
            | "creator"
            | "published"
            | "updated"
            | "summary"
            | "id"
            | "issued"
            | "modified"
    )
}

fn is_item(local: &str) -> bool {
    matches!(local, "item" | "entry")
}

/// HTML elements that are never closed; leaving one open is not worth a warning.
fn is_void(local: &str) -> bool {
    matches!(
        local.to_ascii_lowercase().as_str(),
        "br" | "img"
            | "hr"
            | "input"
            | "meta"
            | "wbr"
            | "source"
            | "col"
            | "area"
            | "base"
            | "embed"
            | "param"
            | "track"
            | "p"
            | "li"
    )
}

struct Builder<'t> {
    src: &'t str,
    stack: Vec<Node>,
    doc: Doc,
}

impl<'t> Builder<'t> {
    fn problem(&mut self, offset: usize, message: String) {
        // A document broken everywhere needs only its first repairs described.
        if self.doc.problems.len() < 100 {
            self.doc.problems.push(Problem { offset, message });
        }
    }

    fn top(&mut self) -> &mut Node {
        self.stack.last_mut().expect("the root is never popped")
    }

    fn text(&mut self, raw: &str, offset: usize) {
        if self.stack.len() == 1 {
            return; // outside any element: whitespace, or junk around the root
        }
        if let Some((i, c)) = raw
            .char_indices()
            .find(|&(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r') && (c as u32) < 0x20)
        {
            self.problem(
                offset + i,
                format!(
                    "the control character U+{:04X} is not allowed in XML; kept",
                    c as u32
                ),
            );
        }
        let text = unescape(raw, offset, &mut |o, m| self.problem(o, m));
        let top = self.top();
        if !is_container(top.local()) {
            top.text.push_str(&text);
            top.html.push_str(&text);
        }
    }

    fn cdata(&mut self, content: &str) {
        let top = self.top();
        if !is_container(top.local()) {
            top.text.push_str(content);
            top.html.push_str(content);
        }
    }

    fn open(&mut self, name: &str, attrs: Vec<(String, String)>, start: usize) {
        // `<title>text<link>…`: a feed's field never holds another, so an unclosed one ends
        // where the next begins; an unclosed item ends where the next item begins.
        let local = name.rsplit(':').next().unwrap_or(name);
        loop {
            let top = self.top().local().to_string();
            let sibling = (is_field(&top) && (is_field(local) || is_item(local)))
                || (is_item(&top) && is_item(local));
            if !sibling || self.stack.len() == 1 {
                break;
            }
            let open = self.top().name.clone();
            self.problem(
                start,
                format!(
                    "<{}> was not closed before <{}>",
                    printable(&open),
                    printable(name)
                ),
            );
            self.close_top(start);
        }
        for (k, v) in &attrs {
            if let Some(p) = k.strip_prefix("xmlns:") {
                if !self.doc.prefixes.iter().any(|(q, _)| q == p) {
                    self.doc.prefixes.push((p.to_string(), v.clone()));
                }
            } else if k == "xmlns" && self.doc.default_ns.is_none() {
                self.doc.default_ns = Some(v.clone());
            }
        }
        self.stack.push(Node {
            name: name.to_string(),
            attrs,
            start,
            ..Node::default()
        });
    }

    /// Closes the top element, its markup ending at `end`, into its parent.
    fn close_top(&mut self, end: usize) {
        let node = self.stack.pop().expect("never the root");
        let src = self.src;
        let parent = self.top();
        if !is_container(parent.local()) {
            parent.text.push_str(&node.text);
            parent.html.push_str(&src[node.start..end]);
        }
        parent.children.push(node);
    }

    fn end(&mut self, name: &str, start: usize, end: usize) {
        let Some(at) = self
            .stack
            .iter()
            .rposition(|n| n.name == name)
            .or_else(|| {
                self.stack
                    .iter()
                    .rposition(|n| n.name.eq_ignore_ascii_case(name))
            })
            .filter(|&i| i > 0)
        else {
            self.problem(
                start,
                format!(
                    "end tag </{}> closes no open element; ignored",
                    printable(name)
                ),
            );
            return;
        };
        while self.stack.len() > at + 1 {
            let local = self.top().local().to_string();
            if !is_void(&local) {
                let open = self.top().name.clone();
                self.problem(
                    start,
                    format!(
                        "<{}> was not closed before </{}>",
                        printable(&open),
                        printable(name)
                    ),
                );
            }
            self.close_top(start);
        }
        self.close_top(end);
    }

    fn finish(mut self) -> Doc {
        let len = self.src.len();
        if self.stack.len() > 1 {
            let open = self.stack[1].name.clone();
            self.problem(
                len,
                format!("the document ends inside <{}>", printable(&open)),
            );
        }
        while self.stack.len() > 1 {
            self.close_top(len);
        }
        self.doc.root = self.stack.pop().unwrap_or_default();
        self.doc
    }
}

/// Reads `src` into a tree, whatever its faults.
pub fn parse(src: &str) -> Doc {
    let mut b = Builder {
        src,
        stack: vec![Node::default()],
        doc: Doc::default(),
    };
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let Some(lt) = memchr(b'<', &bytes[i..]).map(|j| i + j) else {
            b.text(&src[i..], i);
            break;
        };
        if lt > i {
            b.text(&src[i..lt], i);
        }
        let rest = &src[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            match comment.find("-->") {
                Some(e) => i = lt + 4 + e + 3,
                None => {
                    b.problem(lt, "a comment is never closed".into());
                    i = bytes.len();
                }
            }
        } else if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            match cdata.find("]]>") {
                Some(e) => {
                    b.cdata(&cdata[..e]);
                    i = lt + 9 + e + 3;
                }
                None => {
                    b.problem(lt, "a CDATA section is never closed".into());
                    b.cdata(cdata);
                    i = bytes.len();
                }
            }
        } else if rest.starts_with("<!") {
            i = lt + declaration_end(rest);
        } else if rest.starts_with("<?") {
            i = match rest.find("?>") {
                Some(e) => lt + e + 2,
                None => bytes.len(),
            };
        } else if let Some(after) = rest.strip_prefix("</") {
            let name_len = name_length(after);
            let close = after.find('>');
            match close {
                Some(c) if name_len > 0 => {
                    b.end(&after[..name_len], lt, lt + 2 + c + 1);
                    i = lt + 2 + c + 1;
                }
                _ => {
                    b.problem(lt, "a stray `</` in text".into());
                    b.text("</", lt);
                    i = lt + 2;
                }
            }
        } else if name_length(&rest[1..]) > 0 {
            let name_len = name_length(&rest[1..]);
            let name = &rest[1..1 + name_len];
            match tag_end(&rest[1 + name_len..]) {
                Some((inner_len, consumed, broken)) => {
                    let inner = &rest[1 + name_len..1 + name_len + inner_len];
                    let self_closing = inner.trim_end().ends_with('/');
                    let inner = inner.trim_end().trim_end_matches('/');
                    let attrs = attributes(inner, lt, &mut |o, m| b.problem(o, m));
                    let end = lt + 1 + name_len + consumed;
                    if broken {
                        b.problem(
                            lt,
                            format!("the tag <{}> is not closed with `>`", printable(name)),
                        );
                    }
                    b.open(name, attrs, lt);
                    if self_closing {
                        b.close_top(end);
                    }
                    i = end;
                }
                None => {
                    b.problem(
                        lt,
                        format!("the tag <{}> is not closed with `>`", printable(name)),
                    );
                    b.text(&src[lt..], lt);
                    i = bytes.len();
                }
            }
        } else {
            // `a < b` in text: not markup.
            b.problem(lt, "a bare `<` in text".into());
            b.text("<", lt);
            i = lt + 1;
        }
    }
    b.finish()
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

/// The length of an XML name at the start of `s` (0 when none starts there).
fn name_length(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = if i == 0 {
            c.is_alphabetic() || c == '_' || c == ':'
        } else {
            c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.') || (c as u32) > 0x7f
        };
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Where a `<!DOCTYPE …>` (with an internal subset in brackets) or other `<!…>` ends.
fn declaration_end(rest: &str) -> usize {
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '>' if depth <= 0 => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

/// After a start tag's name: the length of the attribute text, how much to consume (up to
/// and including `>`), and whether the tag was cut short by a `<` before its `>`.
fn tag_end(s: &str) -> Option<(usize, usize, bool)> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some((i, i + 1, false)),
            (None, '<') => return Some((i, i, true)),
            _ => {}
        }
    }
    // An unbalanced quote: try again ignoring quotes, as browsers do.
    s.find('>').map(|i| (i, i + 1, false))
}

/// `a="1" b='2' c=3 d` → pairs, values unescaped.
fn attributes(s: &str, at: usize, problem: &mut dyn FnMut(usize, String)) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let n = name_length(rest);
        if n == 0 {
            // junk such as a stray quote: skip one character
            let skip = rest.chars().next().map_or(1, char::len_utf8);
            rest = rest[skip..].trim_start();
            continue;
        }
        let name = &rest[..n];
        rest = rest[n..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (raw, remaining) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                    Some(e) => (&after[1..1 + e], &after[1 + e + 1..]),
                    None => (&after[1..], ""),
                },
                _ => {
                    problem(
                        at,
                        format!("the value of `{}` is not quoted", printable(name)),
                    );
                    let e = after
                        .find(|c: char| c.is_whitespace())
                        .unwrap_or(after.len());
                    (&after[..e], &after[e..])
                }
            };
            rest = remaining.trim_start();
            unescape(raw, at, problem).into_owned()
        } else {
            String::new()
        };
        out.push((name.to_string(), value));
    }
    out
}

/// Decodes character and entity references. The five XML entities and numeric references
/// are always known; an HTML entity (`&nbsp;`, `&eacute;`) is decoded as browsers and
/// feedparser do, and reported; anything else stays as written, and is reported.
pub fn unescape<'a>(
    raw: &'a str,
    at: usize,
    problem: &mut dyn FnMut(usize, String),
) -> Cow<'a, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after
            .char_indices()
            .take(40)
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '#'))
            .filter(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        let offset = at + (raw.len() - rest.len()) + amp;
        let Some(end) = end.filter(|&e| e > 0) else {
            problem(offset, "a bare `&` (not an entity); kept".into());
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..end];
        let decoded: Option<String> = match name {
            "amp" => Some("&".into()),
            "lt" => Some("<".into()),
            "gt" => Some(">".into()),
            "quot" => Some("\"".into()),
            "apos" => Some("'".into()),
            n if n.starts_with('#') => {
                let num = &n[1..];
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse::<u32>().ok(),
                };
                code.and_then(char::from_u32)
                    .filter(|&c| c != '\0')
                    .map(String::from)
            }
            n => {
                let entity = format!("&{n};");
                let html = html_escape::decode_html_entities(&entity);
                let known = html != entity;
                problem(
                    offset,
                    if known {
                        format!("the HTML entity &{n}; is not defined in XML; read as HTML")
                    } else {
                        format!("undefined entity &{}; kept as written", printable(n))
                    },
                );
                known.then(|| html.into_owned())
            }
        };
        match decoded {
            Some(d) => out.push_str(&d),
            None => {
                out.push('&');
                out.push_str(name);
                out.push(';');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Text from the document made safe to put in a one-line message: control characters (a
/// NUL among them) shown as `\u{0}`, at most 40 characters.
pub fn printable(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatched_and_unclosed_tags_are_repaired_and_reported() {
        let doc = parse("<rss><channel><item><title>a</titel></item><item><title>b<br></title></item></channel></rss>");
        let rss = &doc.root.children[0];
        let items: Vec<&Node> = rss
            .descendants()
            .into_iter()
            .filter(|n| n.local() == "item")
            .collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].children[0].text, "a");
        assert_eq!(items[1].children[0].text, "b");
        assert_eq!(doc.problems.len(), 2, "{:?}", doc.problems);
        assert!(doc.problems[0].message.contains("</titel>"));
        assert!(doc.problems[1].message.contains("<title> was not closed"));
    }

    #[test]
    fn entities_are_decoded_or_kept_and_reported() {
        let mut problems = Vec::new();
        let mut p = |_: usize, m: String| problems.push(m);
        assert_eq!(
            unescape("a &amp; b &#x41;&#66; &nbsp;", 0, &mut p),
            "a & b AB \u{a0}"
        );
        assert_eq!(unescape("&foo; & x", 0, &mut p), "&foo; & x");
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn html_keeps_child_markup_and_text_drops_it() {
        let doc = parse("<d>x <b>y</b> &lt;z&gt; <![CDATA[<i>w</i>]]></d>");
        let d = &doc.root.children[0];
        assert_eq!(d.text, "x y <z> <i>w</i>");
        assert_eq!(d.html, "x <b>y</b> <z> <i>w</i>");
        assert!(doc.problems.is_empty());
    }

    #[test]
    fn a_nul_in_a_name_is_shown_escaped() {
        assert_eq!(printable("a\0b"), "a\\u{0}b");
    }
}
