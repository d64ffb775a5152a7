//! The SMTP side: an outbox row's e-mail built with lettre (plain text with
//! an HTML alternative, the files attached, our Message-ID and the thread's
//! headers) and handed to the queue's SMTP server.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rusqlite::{Connection, OptionalExtension};

use crate::domain::email::outgoing::Outgoing;
use crate::error::AppResult;

/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A queue's SMTP server.
#[derive(Clone)]
pub struct SmtpAccess {
    /// Server.
    pub host: String,
    /// Port.
    pub port: u16,
    /// tls | starttls | none.
    pub tls: String,
    /// Login ('' = none).
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for SmtpAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log line.
        f.debug_struct("SmtpAccess").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

/// The SMTP server of an active e-mail queue that can send.
pub fn access(conn: &Connection, queue_id: i64) -> AppResult<Option<SmtpAccess>> {
    Ok(conn
        .prepare_cached(
            "SELECT smtp_host, smtp_port, smtp_tls, smtp_user, smtp_password FROM email_mailboxes m
             WHERE queue_id = ?1 AND smtp_host <> '' AND from_address <> ''
               AND EXISTS (SELECT 1 FROM queues q WHERE q.id = m.queue_id AND q.channel = 'email' AND q.active = 1)",
        )?
        .query_row([queue_id], |r| {
            Ok(SmtpAccess {
                host: r.get(0)?,
                port: r.get::<_, i64>(1)?.clamp(1, 65535) as u16,
                tls: r.get(2)?,
                user: r.get(3)?,
                password: r.get(4)?,
            })
        })
        .optional()?)
}

/// How a delivery went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Try again later (a 4xx, the server unreachable).
    Retry(String),
    /// Refused for good (a 5xx, an address or message that cannot be).
    Fatal(String),
}

fn mailbox(name: &str, addr: &str) -> Result<Mailbox, Failure> {
    let a = addr.parse().map_err(|e| Failure::Fatal(format!("endereço inválido {addr}: {e}")))?;
    Ok(Mailbox::new((!name.is_empty()).then(|| name.to_string()), a))
}

/// Builds the e-mail with its files ((bytes, media type, name)).
pub fn build(o: &Outgoing, files: Vec<(Vec<u8>, String, String)>) -> Result<Message, Failure> {
    let mut b = Message::builder()
        .from(mailbox(&o.from_name, &o.from)?)
        .to(mailbox("", &o.to)?)
        .subject(o.subject.clone())
        .message_id(Some(format!("<{}>", o.message_id)))
        .date_now();
    if !o.reply_to.is_empty() {
        b = b.reply_to(mailbox("", &o.reply_to)?);
    }
    for c in &o.cc {
        b = b.cc(mailbox("", c)?);
    }
    // Blind copies reach the envelope only: lettre drops the Bcc header
    // from what it sends.
    for c in &o.bcc {
        b = b.bcc(mailbox("", c)?);
    }
    if !o.in_reply_to.is_empty() {
        b = b.in_reply_to(format!("<{}>", o.in_reply_to));
    }
    if !o.references.is_empty() {
        b = b.references(o.references.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" "));
    }
    let body = MultiPart::alternative_plain_html(o.text.clone(), o.html.clone());
    let built = if files.is_empty() {
        b.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for (data, mime, name) in files {
            let ct = ContentType::parse(&mime)
                .unwrap_or(ContentType::parse("application/octet-stream").map_err(|e| Failure::Fatal(e.to_string()))?);
            let part: SinglePart = Attachment::new(name).body(data, ct);
            mixed = mixed.singlepart(part);
        }
        b.multipart(mixed)
    };
    built.map_err(|e| Failure::Fatal(format!("e-mail inválido: {e}")))
}

/// A queue's connection to its SMTP server: a small pool, so a run of
/// replies reuses its connections instead of opening one per e-mail.
pub type Client = AsyncSmtpTransport<Tokio1Executor>;

/// The client for a queue's server (no connection is opened yet).
pub fn client(a: &SmtpAccess) -> Result<Client, Failure> {
    let params = || TlsParameters::new(a.host.clone()).map_err(|e| Failure::Fatal(format!("TLS: {e}")));
    let mut t =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(a.host.clone()).port(a.port).timeout(Some(TIMEOUT));
    t = match a.tls.as_str() {
        "tls" => t.tls(Tls::Wrapper(params()?)),
        "starttls" => t.tls(Tls::Required(params()?)),
        _ => t.tls(Tls::None),
    };
    if !a.user.is_empty() {
        t = t.credentials(Credentials::new(a.user.clone(), a.password.clone()));
    }
    Ok(t.build())
}

/// Hands the e-mail to the server.
pub async fn send(t: &Client, m: Message) -> Result<(), Failure> {
    match tokio::time::timeout(TIMEOUT, t.send(m)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_permanent() => Err(Failure::Fatal(short(&e))),
        Ok(Err(e)) => Err(Failure::Retry(short(&e))),
        Err(_) => Err(Failure::Retry(format!("o servidor SMTP não respondeu em {} s", TIMEOUT.as_secs()))),
    }
}

/// Connects to the server (and logs in, when a login is set) without
/// sending anything: what "Testar conexão" reports.
pub async fn check(a: &SmtpAccess) -> Result<(), Failure> {
    let t = client(a)?;
    match tokio::time::timeout(TIMEOUT, t.test_connection()).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(Failure::Retry("o servidor SMTP não respondeu como esperado".into())),
        Ok(Err(e)) => Err(Failure::Fatal(short(&e))),
        Err(_) => Err(Failure::Retry(format!("o servidor SMTP não respondeu em {} s", TIMEOUT.as_secs()))),
    }
}

fn short(e: &impl std::fmt::Display) -> String {
    e.to_string().chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_copies_are_in_the_envelope_but_in_no_header() {
        let o = Outgoing {
            message_id: "a.1@empresa.com.br".into(),
            from: "suporte@empresa.com.br".into(),
            to: "cliente@exemplo.com.br".into(),
            cc: vec!["copia@exemplo.com.br".into()],
            bcc: vec!["oculta@exemplo.com.br".into()],
            subject: "Re: Pedido [#7]".into(),
            text: "Olá".into(),
            html: "<p>Olá</p>".into(),
            ..Default::default()
        };
        let m = build(&o, vec![]).expect("builds");
        let to: Vec<String> = m.envelope().to().iter().map(|a| a.to_string()).collect();
        assert!(to.contains(&"oculta@exemplo.com.br".to_string()), "{to:?}");
        let raw = String::from_utf8_lossy(&m.formatted()).to_string();
        assert!(!raw.to_ascii_lowercase().contains("oculta@"), "{raw}");
        assert!(raw.contains("Cc: copia@exemplo.com.br"), "{raw}");
    }
}
