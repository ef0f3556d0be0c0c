//! Turning fetched bytes into text, whatever the site claims about them.
//!
//! Many Chinese government sites still serve GBK (often labelled `gb2312` while using GBK-only
//! characters), some serve Big5, and their declarations are unreliable: a template says
//! `<meta charset="utf-8">` over GBK bytes, or a server adds `charset=utf-8` to everything.
//! A wrong guess turns every title into mojibake and no watchlist term matches, so an incident
//! is silently missed. We therefore follow the browsers' order (BOM, then the HTTP header,
//! then the document's own `<meta>` or XML declaration) but check the result: when the
//! declared encoding produces malformed sequences and `chardetng` finds an encoding that
//! decodes cleanly, the detector wins and the caller is told so (`How`), so the source's
//! health can report it. `gb2312` and `gbk` resolve to encoding_rs's GBK, whose decoder is
//! the GB18030 superset, so GBK-only and GB18030 characters survive.

use encoding_rs::{Encoding, GBK, UTF_8, WINDOWS_1252};

/// How far into a document to look for `<meta charset>`, as browsers do (they use 1024; CMS
/// templates put long comments and scripts first, so we look a little further).
const SNIFF_LIMIT: usize = 4096;

/// Text decoded from fetched bytes, with the evidence for the encoding used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub how: How,
    /// Malformed sequences were replaced with U+FFFD; the text is damaged.
    pub had_errors: bool,
}

/// Where the encoding came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// `charset=` in the HTTP Content-Type header.
    Header,
    /// A byte-order mark, which overrides any declaration.
    Bom,
    /// `<meta charset>` or `<meta http-equiv="Content-Type" content="…charset=…">`.
    Meta,
    /// `<?xml … encoding="…"?>`.
    XmlDecl,
    /// Nothing declared (or nothing usable); `chardetng` guessed.
    Detected,
    /// A declaration was present but the bytes are not in it; `chardetng` found an encoding
    /// that decodes them cleanly. `declared` is the label as the site wrote it.
    DetectedOverWrongDeclaration { declared: String },
    /// The first bytes are `<` (or `{`) in UTF-16 or UTF-32 with no byte-order mark (the XML
    /// specification's appendix F), or a UTF-32 mark. encoding_rs has no UTF-32, so such
    /// text is decoded here and `encoding` is UTF-8, what it is now; `name` says what it was.
    Sniffed { name: &'static str },
}

/// A declaration found in the header or the document.
struct Declared {
    label: String,
    encoding: &'static Encoding,
    how: How,
}

/// Decodes `bytes` fetched with this `Content-Type` header (if any) to text.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some(decoded) = wide(bytes) {
        return decoded;
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding,
            how: How::Bom,
            had_errors,
        };
    }

    let declarations: Vec<Declared> = content_type
        .and_then(header_charset)
        .and_then(|label| declared(label, How::Header))
        .into_iter()
        .chain(document_charset(bytes))
        .collect();

    // The first declaration that decodes cleanly wins, so a page whose header lies but
    // whose own <meta> is right is read by its <meta>.
    for declaration in &declarations {
        if let Some(text) = strict(declaration.encoding, bytes) {
            if !suspicious(declaration.encoding, bytes) {
                return Decoded {
                    text,
                    encoding: declaration.encoding,
                    how: declaration.how.clone(),
                    had_errors: false,
                };
            }
        }
    }

    let detected = detect(bytes);
    let Some(first) = declarations.into_iter().next() else {
        let (text, had_errors) = lossy(detected, bytes);
        return Decoded {
            text,
            encoding: detected,
            how: How::Detected,
            had_errors,
        };
    };
    // A single-byte encoding decodes any bytes, so a clean decode with one proves nothing.
    if detected != first.encoding && !detected.is_single_byte() {
        if let Some(text) = strict(detected, bytes) {
            return Decoded {
                text,
                encoding: detected,
                how: How::DetectedOverWrongDeclaration {
                    declared: first.label,
                },
                had_errors: false,
            };
        }
    }
    // Neither the declaration nor the detector reads it cleanly: trust the site, and say
    // the text is damaged.
    let (text, had_errors) = lossy(first.encoding, bytes);
    Decoded {
        text,
        encoding: first.encoding,
        how: first.how,
        had_errors,
    }
}

impl Decoded {
    /// The encoding's name as the bytes were: `GBK`, `UTF-16LE`, `UTF-32BE`.
    pub fn name(&self) -> &'static str {
        match self.how {
            How::Sniffed { name } => name,
            _ => self.encoding.name(),
        }
    }
}

/// UTF-32 (with or without a byte-order mark) and UTF-16 without one, told by the zero bytes
/// around the first character (`<`, `{`, a space): ASCII in a wide encoding.
fn wide(bytes: &[u8]) -> Option<Decoded> {
    let b = bytes.get(..4)?;
    let (name, width, big) = match b {
        [0, 0, 0xFE, 0xFF] | [0, 0, 0, 1..=255] => ("UTF-32BE", 4, true),
        [0xFF, 0xFE, 0, 0] | [1..=255, 0, 0, 0] => ("UTF-32LE", 4, false),
        [0, 1..=255, 0, 1..=255] => ("UTF-16BE", 2, true),
        [1..=255, 0, 1..=255, 0] => ("UTF-16LE", 2, false),
        _ => return None,
    };
    let (text, had_errors) = if width == 2 {
        let encoding = if big {
            encoding_rs::UTF_16BE
        } else {
            encoding_rs::UTF_16LE
        };
        let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
        (text.into_owned(), had_errors)
    } else {
        let mut had_errors = !bytes.len().is_multiple_of(4);
        let text = bytes
            .chunks_exact(4)
            .map(|c| {
                let unit = [c[0], c[1], c[2], c[3]];
                let n = if big {
                    u32::from_be_bytes(unit)
                } else {
                    u32::from_le_bytes(unit)
                };
                char::from_u32(n).unwrap_or_else(|| {
                    had_errors = true;
                    char::REPLACEMENT_CHARACTER
                })
            })
            .collect::<String>();
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text);
        (text, had_errors)
    };
    Some(Decoded {
        text,
        encoding: UTF_8,
        how: How::Sniffed { name },
        had_errors,
    })
}

/// The text with the XML declaration's `encoding` rewritten to UTF-8 (and any BOM dropped),
/// so a feed parser that re-reads the declaration does not decode our UTF-8 as GB2312.
pub fn to_utf8_xml(decoded: &Decoded) -> String {
    let text = decoded
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or(&decoded.text);
    let start = text.len() - text.trim_start().len();
    let body = &text[start..];
    if !body.starts_with("<?xml") {
        return text.to_string();
    }
    let Some(end) = body.find("?>") else {
        return text.to_string();
    };
    let declaration = &body[..end];
    let Some((value_start, value_end)) = attribute_value(declaration, "encoding") else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.push_str(&declaration[..value_start]);
    out.push_str("UTF-8");
    out.push_str(&body[value_end..]);
    out
}

fn declared(label: &str, how: How) -> Option<Declared> {
    let mut encoding = Encoding::for_label(label.trim().as_bytes())?;
    // A document cannot be UTF-16 and still have ASCII markup we could read the label from;
    // browsers treat such a declaration as UTF-8.
    if how != How::Header
        && (encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE)
    {
        encoding = UTF_8;
    }
    Some(Declared {
        label: label.trim().to_string(),
        encoding,
        how,
    })
}

/// Decodes without replacement; `None` if any sequence is malformed.
fn strict(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
}

fn lossy(encoding: &'static Encoding, bytes: &[u8]) -> (String, bool) {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    (text.into_owned(), had_errors)
}

/// A single-byte encoding such as windows-1252 (what `iso-8859-1` means on the web) decodes
/// any byte, so it never "fails"; but Chinese servers often send it as a default over GBK.
/// Treat it as a claim to check when the bytes are not ASCII and the detector reads them as
/// a multi-byte encoding.
fn suspicious(encoding: &'static Encoding, bytes: &[u8]) -> bool {
    encoding.is_single_byte() && !bytes.is_ascii() && !detect(bytes).is_single_byte()
}

fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    // No TLD hint: a `.cn` hint would bias short Big5 pages towards GBK, and the sites we
    // watch also include `.com` forums and Taiwanese or Hong Kong media.
    let guess = detector.guess(None, true);
    // chardetng answers windows-1252 for pure ASCII; GBK is what a Chinese site would
    // have meant, and ASCII decodes the same either way.
    if bytes.is_ascii() {
        return if guess == WINDOWS_1252 { GBK } else { guess };
    }
    guess
}

/// `text/html; charset="GBK"` → `GBK`.
fn header_charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        (!value.is_empty()).then_some(value)
    })
}

/// The XML declaration's encoding, or else the first `<meta>` charset near the top.
fn document_charset(bytes: &[u8]) -> Option<Declared> {
    let head = &bytes[..bytes.len().min(SNIFF_LIMIT)];
    // Labels are ASCII, so reading the head as Latin-1 keeps byte offsets and never fails.
    let head: String = head.iter().map(|&b| char::from(b)).collect();
    let trimmed = head.trim_start();
    if trimmed.starts_with("<?xml") {
        if let Some(end) = trimmed.find("?>") {
            let declaration = &trimmed[..end];
            if let Some((s, e)) = attribute_value(declaration, "encoding") {
                if let Some(found) = declared(&declaration[s..e], How::XmlDecl) {
                    return Some(found);
                }
            }
        }
    }
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<meta") {
        let tag_start = from + at;
        let tag_end = lower[tag_start..]
            .find('>')
            .map_or(lower.len(), |e| tag_start + e);
        let tag = &lower[tag_start..tag_end];
        if let Some(label) = meta_charset(tag) {
            // Take the label from the original (same offsets), keeping its case for reports.
            let offset = tag_start + (label.as_ptr() as usize - tag.as_ptr() as usize);
            let original = &head[offset..offset + label.len()];
            if let Some(found) = declared(original, How::Meta) {
                return Some(found);
            }
        }
        from = tag_end;
    }
    None
}

/// In a lower-cased `<meta …` tag, the label after `charset=`, which covers both
/// `<meta charset="gbk">` and `content="text/html; charset=gb2312"`.
fn meta_charset(tag: &str) -> Option<&str> {
    let at = tag.find("charset")?;
    let rest = tag[at + "charset".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.:".contains(c)))
        .unwrap_or(rest.len());
    (end > 0).then_some(&rest[..end])
}

/// Byte range of `name="value"` (or single quotes) inside an XML declaration.
fn attribute_value(declaration: &str, name: &str) -> Option<(usize, usize)> {
    let at = declaration.find(name)?;
    let after = at + name.len();
    let rest = &declaration[after..];
    let eq = rest.find('=')?;
    if !rest[..eq].trim().is_empty() {
        return None;
    }
    let value = &rest[eq + 1..];
    let skipped = value.len() - value.trim_start().len();
    let quote = value.trim_start().chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let start = after + eq + 1 + skipped + 1;
    let len = declaration[start..].find(quote)?;
    Some((start, start + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GBK_META: &[u8] = include_bytes!("../../tests/fixtures/charset/gbk-meta.html");
    const GB2312_FEED: &[u8] = include_bytes!("../../tests/fixtures/charset/gb2312-decl-feed.xml");
    const BIG5: &[u8] = include_bytes!("../../tests/fixtures/charset/big5-http-equiv.html");
    const GBK_BARE: &[u8] = include_bytes!("../../tests/fixtures/charset/gbk-undeclared.html");
    const GBK_LYING_META: &[u8] =
        include_bytes!("../../tests/fixtures/charset/gbk-meta-says-utf8.html");
    const UTF8_BOM: &[u8] = include_bytes!("../../tests/fixtures/charset/utf8-bom.html");
    const UTF8_BARE: &[u8] = include_bytes!("../../tests/fixtures/charset/utf8-undeclared.html");

    const TITLE: &str = "关于做好2026年冬季旅游景区安全生产工作的通知";

    /// Which bytes, under which `Content-Type`, are read how, in which encoding, and hold
    /// which text (cleanly: no replacement characters).
    #[test]
    fn each_page_is_read_by_the_declaration_it_can_be_trusted_by() {
        let over = |declared: &str| How::DetectedOverWrongDeclaration {
            declared: declared.into(),
        };
        // One case a line, to read down the columns.
        #[rustfmt::skip]
        let cases = [
            ("a meta charset", GBK_META, Some("text/html"), How::Meta, GBK, "主办单位：银川市文化旅游广电局"),
            ("a right header wins", GBK_META, Some("text/html; charset=\"GB2312\""), How::Header, GBK, TITLE),
            // gb2312 is read as the GBK/GB18030 superset: 喆 and 镕 are GBK only.
            ("an XML declaration of gb2312", GB2312_FEED, Some("application/rss+xml"), How::XmlDecl, GBK, "陈喆、王镕等同志参加调研"),
            ("a Big5 http-equiv", BIG5, None, How::Meta, encoding_rs::BIG5, "關於加強冬季旅遊景區安全管理工作的通知"),
            ("undeclared GBK", GBK_BARE, Some("text/html"), How::Detected, GBK, TITLE),
            ("undeclared UTF-8", UTF8_BARE, None, How::Detected, UTF_8, TITLE),
            ("a wrong UTF-8 header", GBK_BARE, Some("text/html; charset=utf-8"), over("utf-8"), GBK, TITLE),
            ("a wrong UTF-8 meta", GBK_LYING_META, None, over("utf-8"), GBK, TITLE),
            ("a wrong header, a right meta", GBK_META, Some("text/html; charset=UTF-8"), How::Meta, GBK, TITLE),
            ("a Latin-1 header over GBK", GBK_BARE, Some("text/html; charset=ISO-8859-1"), over("ISO-8859-1"), GBK, TITLE),
            ("a BOM over a stale header", UTF8_BOM, Some("text/html; charset=gbk"), How::Bom, UTF_8, TITLE),
            ("an unknown label", GBK_BARE, Some("text/html; charset=x-no-such-thing"), How::Detected, GBK, TITLE),
        ];
        for (what, bytes, content_type, how, encoding, holds) in cases {
            let d = decode(bytes, content_type);
            assert_eq!((&d.how, d.encoding), (&how, encoding), "{what}");
            assert!(
                !d.had_errors && d.text.contains(holds),
                "{what}: {}",
                d.text
            );
        }
        let d = decode(UTF8_BOM, None);
        assert!(d.text.starts_with("<!DOCTYPE html>"), "BOM removed");
    }

    #[test]
    fn to_utf8_xml_rewrites_the_declaration_for_a_utf8_parser() {
        let d = decode(GB2312_FEED, None);
        let xml = to_utf8_xml(&d);
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss"),
            "{xml}"
        );
        let feed = feed_rs::parser::parse(xml.as_bytes()).expect("feed-rs reads it");
        let title = feed.entries[0].title.as_ref().map(|t| t.content.as_str());
        assert_eq!(title, Some("市领导调研冬季旅游景区安全工作"));
    }

    #[test]
    fn to_utf8_xml_leaves_other_text_alone() {
        let html = decode(GBK_META, None);
        assert_eq!(to_utf8_xml(&html), html.text);
        let single = Decoded {
            text: "\u{feff}  <?xml version='1.0' encoding='big5' standalone='yes'?><a/>".into(),
            encoding: encoding_rs::BIG5,
            how: How::XmlDecl,
            had_errors: false,
        };
        assert_eq!(
            to_utf8_xml(&single),
            "  <?xml version='1.0' encoding='UTF-8' standalone='yes'?><a/>"
        );
        let no_encoding = Decoded {
            text: "<?xml version=\"1.0\"?><a/>".into(),
            ..single
        };
        assert_eq!(to_utf8_xml(&no_encoding), no_encoding.text);
    }

    #[test]
    fn undeclared_big5_is_detected() {
        // The Big5 fixture without its <meta>: detection alone must tell it from GBK.
        let text = String::from_utf8_lossy(BIG5).replace("charset=big5", "");
        let bytes: Vec<u8> = BIG5
            .windows(b"charset=big5".len())
            .position(|w| w == b"charset=big5")
            .map(|at| [&BIG5[..at], &BIG5[at + b"charset=big5".len()..]].concat())
            .unwrap_or_default();
        assert!(!bytes.is_empty() && !text.contains("charset=big5"));
        let d = decode(&bytes, None);
        assert_eq!(d.how, How::Detected);
        assert_eq!(d.encoding, encoding_rs::BIG5);
        assert!(d.text.contains("觀光旅遊市場聯合稽查結果公告"));
    }

    #[test]
    fn latin1_header_over_ascii_is_fine() {
        let d = decode(b"<p>plain ASCII</p>", Some("text/html; charset=iso-8859-1"));
        assert_eq!(d.how, How::Header);
        assert_eq!(d.text, "<p>plain ASCII</p>");
    }

    #[test]
    fn damaged_bytes_keep_the_declaration_and_say_so() {
        // GBK text with a lone lead byte in the middle: neither GBK nor anything else reads
        // it cleanly.
        let mut bytes = GBK_META.to_vec();
        let at = bytes.len() / 2;
        bytes.splice(at..at, [0x81, b'<']);
        let d = decode(&bytes, None);
        assert_eq!(d.encoding, GBK);
        assert!(d.had_errors);
        assert!(d.text.contains('\u{fffd}'));
    }

    #[test]
    fn header_parameters_are_parsed_leniently() {
        assert_eq!(header_charset("text/html;charset=GBK"), Some("GBK"));
        assert_eq!(
            header_charset("text/html; boundary=x; Charset = 'gb2312' "),
            Some("gb2312")
        );
        assert_eq!(header_charset("text/html; charset="), None);
        assert_eq!(header_charset("text/html"), None);
    }

    #[test]
    fn meta_far_down_is_not_read() {
        let mut page = vec![b' '; SNIFF_LIMIT];
        page.extend_from_slice(b"<meta charset=\"big5\">");
        let d = decode(&page, None);
        assert_eq!(d.how, How::Detected);
    }

    #[test]
    fn empty_input() {
        let d = decode(b"", None);
        assert_eq!(d.text, "");
        assert!(!d.had_errors);
    }
}
