//! From raw RFC 5322 bytes to what the desk keeps ([`Incoming`]): decoded
//! headers (RFC 2047, every charset mail-parser knows), the text and the
//! HTML sanitised with ammonia, files with their Content-IDs, the automatic
//! and bounce marks. Never panics and never refuses: a message that cannot
//! be parsed still becomes one that says so.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

pub use crate::domain::email::html::{MAX_HTML, sanitize_html};
use crate::domain::email::thread::{self, Bounce, Incoming, IncomingFile};

/// The longest text kept from one e-mail (characters); the rest is cut with
/// a mark.
pub const MAX_TEXT: usize = 100_000;
/// The most files read from one e-mail.
pub const MAX_FILES: usize = 50;

fn addresses(a: Option<&Address>) -> Vec<(String, String)> {
    let Some(a) = a else { return vec![] };
    a.iter()
        .filter_map(|x| {
            let addr = x.address()?.trim().to_lowercase();
            if addr.is_empty() || addr.len() > 254 || addr.contains(char::is_whitespace) || !addr.contains('@') {
                return None;
            }
            Some((addr, x.name().map(|n| one_line(n, 100)).unwrap_or_default()))
        })
        .collect()
}

/// A header text on one line, without control characters, at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let t: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(max).collect();
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn ids(v: &HeaderValue) -> Vec<String> {
    let raw: Vec<String> = match v {
        HeaderValue::Text(t) => t.split_whitespace().map(str::to_string).collect(),
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => vec![],
    };
    raw.iter().map(|s| thread::clean_id(s)).filter(|s| !s.is_empty()).take(50).collect()
}

fn content_hash_id(raw: &[u8]) -> String {
    format!("{}@sem-message-id.atende", hex::encode(&Sha256::digest(raw)[..16]))
}

fn mime_of(part: &mail_parser::MessagePart) -> String {
    part.content_type()
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")).to_ascii_lowercase())
        .unwrap_or_else(|| "text/plain".into())
}

/// A delivery report's parts: the reason (Diagnostic-Code, else Status) and
/// the Message-ID of the message that bounced (from the returned message or
/// its headers).
fn report(m: &mail_parser::Message) -> Option<Bounce> {
    let mut b = Bounce::default();
    for part in &m.parts {
        let mime = mime_of(part);
        let body = String::from_utf8_lossy(part.contents()).into_owned();
        match mime.as_str() {
            "message/delivery-status" => {
                let reason = thread::field(&body, "Diagnostic-Code")
                    .or_else(|| thread::field(&body, "Status"))
                    .unwrap_or_default();
                b.reason = one_line(&reason, 300);
            }
            "message/rfc822" | "text/rfc822-headers" => {
                let id = match &part.body {
                    PartType::Message(inner) => inner.message_id().map(thread::clean_id),
                    _ => thread::field(&body, "Message-ID").map(|v| thread::clean_id(&v)),
                };
                if let Some(id) = id.filter(|i| !i.is_empty()) {
                    b.original_id = id;
                }
            }
            _ => {}
        }
    }
    (!b.reason.is_empty() || !b.original_id.is_empty()).then_some(b)
}

/// Parses one e-mail. A message mail-parser cannot read at all still gives
/// an [`Incoming`] (its id from the bytes, a text saying so).
pub fn parse(raw: &[u8]) -> Incoming {
    let Some(m) = MessageParser::default().parse(raw) else {
        return Incoming {
            message_id: content_hash_id(raw),
            text: "(mensagem de e-mail ilegível)".to_string(),
            automated: true,
            ..Default::default()
        };
    };
    let message_id =
        m.message_id().map(thread::clean_id).filter(|s| !s.is_empty()).unwrap_or_else(|| content_hash_id(raw));
    let from = addresses(m.from()).into_iter().next().unwrap_or_default();
    let to: Vec<String> = addresses(m.to()).into_iter().map(|(a, _)| a).collect();
    let cc: Vec<String> = addresses(m.cc()).into_iter().map(|(a, _)| a).collect();
    let headers = m.headers_raw();
    let mut automated = thread::automated(headers, &from.0);
    let is_report = m.content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart") && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let mut text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    if text.chars().count() > MAX_TEXT {
        text = text.chars().take(MAX_TEXT).collect::<String>() + "\n[…]";
    }
    let (html, remote_images) = match m.html_bodies().next() {
        Some(p) if p.is_text_html() => match &p.body {
            PartType::Html(h) => sanitize_html(h),
            _ => (String::new(), false),
        },
        _ => (String::new(), false),
    };
    let bounce = if is_report { report(&m) } else { None };
    let mut files = Vec::new();
    for part in m.attachments() {
        let mime = mime_of(part);
        if is_report && matches!(mime.as_str(), "message/delivery-status" | "message/rfc822" | "text/rfc822-headers") {
            continue;
        }
        if files.len() >= MAX_FILES {
            break;
        }
        let data = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
            PartType::Message(inner) => inner.raw_message().to_vec(),
            PartType::Multipart(_) => continue,
        };
        files.push(IncomingFile {
            name: part.attachment_name().map(|n| one_line(n, 200)).unwrap_or_default(),
            mime,
            content_id: part.content_id().map(thread::clean_id).filter(|s| !s.is_empty()),
            data,
        });
    }
    if bounce.is_some() || is_report {
        automated = true;
    }
    Incoming {
        message_id,
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        subject: one_line(m.subject().unwrap_or(""), 300),
        from: from.0,
        from_name: from.1,
        to,
        cc,
        text,
        html,
        remote_images,
        files,
        automated,
        bounce,
        too_large: None,
        sent_at: m.date().map(|d| d.to_timestamp()).unwrap_or(0),
    }
}

/// An e-mail over the size limit, of which only the headers were read: a
/// message that says so, threaded like any other.
pub fn parse_headers_only(header: &[u8], size: u64) -> Incoming {
    let mut m = parse(header);
    m.text.clear();
    m.html.clear();
    m.files.clear();
    m.too_large = Some(size);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_defused() {
        let (h, remote) = sanitize_html(
            "<script>alert(1)</script><img src=x onerror=alert(2)><iframe src=//e.vil></iframe>\
             <form action=//e.vil><input name=p></form><a href=\"javascript:alert(3)\">j</a>\
             <p style=\"color:red;position:fixed;background:url(http://t.rack/p.gif)\">ok</p>\
             <img src=\"https://t.rack/pixel.gif\"><img src=\"cid:logo@x\"><style>body{display:none}</style>",
        );
        for bad in ["<script", "onerror", "<iframe", "<form", "<input", "javascript:", "position", "url(", "<style"] {
            assert!(!h.contains(bad), "{bad} left in {h}");
        }
        assert!(h.contains("color:red"), "{h}");
        assert!(h.contains("cid:logo@x"), "{h}");
        assert!(remote, "the tracking pixel is a remote image");
        assert!(!sanitize_html("<p>oi</p>").1);
    }

    #[test]
    fn headers_charsets_and_parts() {
        let raw = "From: =?ISO-8859-1?Q?Jos=E9_da_Silva?= <Jose@Exemplo.com.br>\r\n\
            To: suporte@empresa.com.br\r\nCc: Maria <maria@exemplo.com.br>\r\n\
            Subject: =?UTF-8?B?UGVkaWRvIGF0cmFzYWRv?=\r\nMessage-ID: <m1@exemplo.com.br>\r\n\
            In-Reply-To: <o1@empresa.com.br>\r\nReferences: <o0@empresa.com.br> <o1@empresa.com.br>\r\n\
            Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            Ol=E1, meu pedido n=E3o chegou.\r\n";
        let m = parse(raw.as_bytes());
        assert_eq!(m.from, "jose@exemplo.com.br");
        assert_eq!(m.from_name, "José da Silva");
        assert_eq!(m.subject, "Pedido atrasado");
        assert_eq!(m.message_id, "m1@exemplo.com.br");
        assert_eq!(m.in_reply_to, vec!["o1@empresa.com.br"]);
        assert_eq!(m.references, vec!["o0@empresa.com.br", "o1@empresa.com.br"]);
        assert_eq!(m.cc, vec!["maria@exemplo.com.br"]);
        assert!(m.text.contains("Olá, meu pedido não chegou."), "{}", m.text);
        assert!(!m.automated);
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"Subject: x\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
        ] {
            let m = parse(raw);
            assert!(!m.message_id.is_empty());
        }
    }

    #[test]
    fn mutated_messages_never_panic() {
        use rand::{Rng, SeedableRng};
        let base = "From: =?utf-8?B?Sm9zw6k=?= <a@x.com>\r\nTo: b@y.com\r\nSubject: =?iso-8859-1?Q?Ol=E1?=\r\n\
            Message-ID: <m@x>\r\nIn-Reply-To: <o@y>\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
            --B\r\nContent-Type: multipart/alternative; boundary=\"C\"\r\n\r\n--C\r\nContent-Type: text/plain; \
            charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOl=E1 =\r\nmundo\r\n--C\r\n\
            Content-Type: text/html\r\n\r\n<p onclick=x>oi<script>y</script><img src=cid:i></p>\r\n--C--\r\n\
            --B\r\nContent-Type: image/png; name=a.png\r\nContent-ID: <i>\r\nContent-Transfer-Encoding: base64\r\n\r\n\
            iVBORw0KGgo=\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: dentro\r\n\r\ncorpo\r\n--B--\r\n";
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for _ in 0..3000 {
            let mut b = base.as_bytes().to_vec();
            for _ in 0..rng.random_range(1..12) {
                let i = rng.random_range(0..b.len());
                match rng.random_range(0..4) {
                    0 => b[i] = rng.random(),
                    1 => b.truncate(i.max(1)),
                    2 => b.insert(i, [b'=', b'-', b'\r', b'\n', b'<', b'"', 0xff][rng.random_range(0..7)]),
                    _ => {
                        let end = (i + rng.random_range(1..40)).min(b.len());
                        let chunk = b[i..end].to_vec();
                        b.splice(i..i, chunk);
                    }
                }
            }
            let m = parse(&b);
            assert!(!m.message_id.is_empty());
            assert!(!m.html.contains("<script"));
        }
    }
}
