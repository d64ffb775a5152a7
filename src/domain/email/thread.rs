//! A customer's e-mail as the desk keeps it, and the pure rules of
//! threading: the message ids it names, the `[#123]` subject token, what
//! makes it an automatic message (never answered automatically) or a bounce.

/// A file an e-mail carried.
#[derive(Clone, Debug, Default)]
pub struct IncomingFile {
    /// Its name ('' when the part had none).
    pub name: String,
    /// Its media type as declared (`image/png`).
    pub mime: String,
    /// Its Content-ID (without angle brackets), for `cid:` images.
    pub content_id: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A bounce: which of our messages could not be delivered, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bounce {
    /// The Message-ID of the message that bounced ('' when not found).
    pub original_id: String,
    /// What the server said (Diagnostic-Code or Status).
    pub reason: String,
}

/// A customer's e-mail, parsed.
#[derive(Clone, Debug, Default)]
pub struct Incoming {
    /// Message-ID without angle brackets (made from the content when the
    /// message had none, so a re-read still finds it).
    pub message_id: String,
    /// In-Reply-To ids.
    pub in_reply_to: Vec<String>,
    /// References ids, oldest first.
    pub references: Vec<String>,
    /// Subject as decoded.
    pub subject: String,
    /// Sender's address, lower case.
    pub from: String,
    /// Sender's display name ('' when none).
    pub from_name: String,
    /// To addresses, lower case.
    pub to: Vec<String>,
    /// Cc addresses, lower case.
    pub cc: Vec<String>,
    /// The text: the plain part, or text derived from the HTML.
    pub text: String,
    /// The HTML part sanitised ('' when none); `cid:` images still named so.
    pub html: String,
    /// Whether the HTML loads images from the internet (blocked until an
    /// agent asks to see them).
    pub remote_images: bool,
    /// Files, inline images included.
    pub files: Vec<IncomingFile>,
    /// An auto-reply, a bounce, a list or bulk mailing: never answered
    /// automatically.
    pub automated: bool,
    /// Set when this is a delivery failure report.
    pub bounce: Option<Bounce>,
    /// Set when the message was over the size limit and only its headers
    /// were read: its size in bytes.
    pub too_large: Option<u64>,
    /// When it was sent (the Date header; 0 when missing).
    pub sent_at: i64,
}

/// The signature of conversation `conv` in a plus address: the first 10 hex
/// digits of HMAC-SHA256(mailbox's thread key, "c<conv>").
pub fn plus_signature(key: &str, conv: i64) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()) else { return String::new() };
    mac.update(format!("c{conv}").as_bytes());
    hex::encode(mac.finalize().into_bytes())[..10].to_string()
}

/// `local+c<conv>-<signature>@domain` for the mailbox address `base`.
pub fn plus_address(base: &str, key: &str, conv: i64) -> String {
    match base.split_once('@') {
        Some((local, domain)) => format!("{local}+c{conv}-{}@{domain}", plus_signature(key, conv)),
        None => base.to_string(),
    }
}

/// The conversation a plus address names, if its signature holds.
pub fn plus_conversation(address: &str, key: &str) -> Option<i64> {
    let (local, _) = address.split_once('@')?;
    let tag = local.rsplit_once('+')?.1.strip_prefix('c')?;
    let (id, sig) = tag.split_once('-')?;
    let conv: i64 = id.parse().ok()?;
    let want = plus_signature(key, conv);
    // Constant time: a guessed signature learns nothing from the timing.
    (!want.is_empty()
        && sig.len() == want.len()
        && sig.bytes().zip(want.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0)
        .then_some(conv)
}

/// An id from a header value: angle brackets and spaces removed; '' for
/// nothing usable.
pub fn clean_id(raw: &str) -> String {
    let t = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    if t.is_empty() || t.len() > 250 || t.contains(char::is_whitespace) { String::new() } else { t.to_string() }
}

/// The conversation named by a `[#123]` token in a subject.
pub fn subject_token(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(i) = rest.find("[#") {
        let after = &rest[i + 2..];
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok();
        }
        rest = after;
    }
    None
}

/// The subject without reply and forward prefixes or our token: what a new
/// conversation is titled.
pub fn bare_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_lowercase();
        let cut = ["re:", "res:", "fw:", "fwd:", "enc:", "aw:", "wg:", "tr:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => break,
        }
    }
    let mut out = s.to_string();
    if let Some(id) = subject_token(&out) {
        out = out.replace(&format!("[#{id}]"), "");
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the headers mark an automatic message: `Auto-Submitted` other
/// than "no", `Precedence` bulk, list, junk or auto_reply, a `List-Id`, an
/// `X-Autoreply`, or a sender that is a mail system. `headers` are (name,
/// value) pairs as received.
pub fn automated<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>, from: &str) -> bool {
    let local = from.split('@').next().unwrap_or("").to_ascii_lowercase();
    if matches!(local.as_str(), "mailer-daemon" | "postmaster" | "noreply" | "no-reply" | "do-not-reply") {
        return true;
    }
    for (name, value) in headers {
        let v = value.trim().to_ascii_lowercase();
        match name.to_ascii_lowercase().as_str() {
            "auto-submitted" if v != "no" => return true,
            "precedence" if matches!(v.as_str(), "bulk" | "list" | "junk" | "auto_reply") => return true,
            "list-id" | "list-unsubscribe" | "x-autoreply" | "x-autorespond" | "x-auto-response-suppress"
                if !v.is_empty() =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// The value of `Name: value` in a block of header-like lines (a DSN's
/// delivery-status part, an attached original's headers), unfolded.
pub fn field(block: &str, name: &str) -> Option<String> {
    let mut lines = block.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((n, v)) = line.split_once(':') else { continue };
        if !n.trim().eq_ignore_ascii_case(name) {
            continue;
        }
        let mut value = v.trim().to_string();
        while let Some(next) = lines.peek() {
            if next.starts_with([' ', '\t']) {
                value.push(' ');
                value.push_str(next.trim());
                lines.next();
            } else {
                break;
            }
        }
        return Some(value);
    }
    None
}

/// An e-mail's text split into what the customer wrote now and what it
/// carries from before: the quoted history ("Em … escreveu:", "On … wrote:",
/// an Outlook "De:/From:" block, "-----Original Message-----", lines
/// starting with ">") and the signature after "-- ". The second part is
/// None when there is nothing to fold; the first is never empty.
pub fn split_quoted(text: &str) -> (&str, Option<&str>) {
    let mut offset = 0;
    let mut previous_blank = true;
    let mut own = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end_matches(['\r', '\n']);
        let trimmed = t.trim();
        let lower = trimmed.to_lowercase();
        let starts_history = t == "-- "
            || trimmed.starts_with('>')
            || lower.starts_with("-----original message")
            || lower.starts_with("-----mensagem original")
            || ((lower.starts_with("em ") || lower.starts_with("on "))
                && (lower.ends_with("escreveu:") || lower.ends_with("wrote:")))
            || (previous_blank && (lower.starts_with("de: ") || lower.starts_with("from: ")) && {
                let rest = text[offset..].to_lowercase();
                rest.contains("\nassunto:") || rest.contains("\nsubject:")
            });
        if starts_history && own {
            let rest = &text[offset..];
            return (text[..offset].trim_end(), (!rest.trim().is_empty()).then_some(rest));
        }
        previous_blank = trimmed.is_empty();
        own |= !previous_blank && !starts_history;
        offset += line.len();
    }
    (text, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_prefixes_and_ids() {
        assert_eq!(subject_token("Re: Pedido [#42] atrasado"), Some(42));
        assert_eq!(subject_token("[#] [#x] [#7]"), Some(7));
        assert_eq!(subject_token("Pedido #42"), None);
        assert_eq!(bare_subject("RE: Fwd: res: Pedido [#42]  atrasado"), "Pedido atrasado");
        assert_eq!(bare_subject("Reunião"), "Reunião");
        assert_eq!(clean_id(" <abc@x.com> "), "abc@x.com");
        assert_eq!(clean_id("<a b@x>"), "");
    }

    #[test]
    fn automatic_messages_are_recognised() {
        let h = |n: &'static str, v: &'static str| vec![(n, v)];
        assert!(automated(h("Auto-Submitted", "auto-replied").into_iter(), "a@x.com"));
        assert!(!automated(h("Auto-Submitted", "no").into_iter(), "a@x.com"));
        assert!(automated(h("Precedence", "bulk").into_iter(), "a@x.com"));
        assert!(automated(h("List-Id", "<news.x.com>").into_iter(), "a@x.com"));
        assert!(automated(std::iter::empty(), "MAILER-DAEMON@x.com"));
        assert!(!automated(h("Subject", "oi").into_iter(), "cliente@x.com"));
    }

    #[test]
    fn quoted_history_and_signatures_fold_away() {
        let t =
            "Segue a nota.\n\nEm ter., 1 de dez. de 2026 às 10:00, Suporte <s@e.com> escreveu:\n> Olá\n> tudo bem?\n";
        assert_eq!(
            split_quoted(t),
            (
                "Segue a nota.",
                Some("Em ter., 1 de dez. de 2026 às 10:00, Suporte <s@e.com> escreveu:\n> Olá\n> tudo bem?\n")
            )
        );
        let o = "Ok!\r\n\r\nDe: Suporte <s@e.com>\r\nEnviado: terça\r\nAssunto: Pedido\r\n\r\nOlá";
        assert_eq!(split_quoted(o).0, "Ok!");
        assert_eq!(split_quoted("Obrigado\n-- \nJosé\nLoja X\n"), ("Obrigado", Some("-- \nJosé\nLoja X\n")));
        assert_eq!(split_quoted("> só citação\n> nada novo"), ("> só citação\n> nada novo", None));
        assert_eq!(split_quoted("Uma linha só"), ("Uma linha só", None));
        assert_eq!(split_quoted("De: onde você é?\nSou de SP"), ("De: onde você é?\nSou de SP", None));
    }

    #[test]
    fn plus_addresses_are_signed() {
        let a = plus_address("suporte@empresa.com.br", "k1", 42);
        assert!(a.starts_with("suporte+c42-") && a.ends_with("@empresa.com.br"), "{a}");
        assert_eq!(plus_conversation(&a, "k1"), Some(42));
        assert_eq!(plus_conversation(&a, "k2"), None, "another mailbox's key");
        assert_eq!(plus_conversation(&a.replace("+c42-", "+c43-"), "k1"), None, "another conversation");
        assert_eq!(plus_conversation("suporte@empresa.com.br", "k1"), None);
    }

    #[test]
    fn fields_unfold() {
        let b = "Reporting-MTA: dns; x\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1\n  user unknown\n";
        assert_eq!(field(b, "diagnostic-code").as_deref(), Some("smtp; 550 5.1.1 user unknown"));
        assert_eq!(field(b, "status").as_deref(), Some("5.1.1"));
        assert_eq!(field(b, "x"), None);
    }
}
