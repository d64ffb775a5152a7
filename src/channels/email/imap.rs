//! The IMAP side of a mailbox: connect (TLS, STARTTLS or plain on
//! loopback), log in, select the folder, and read messages by UID. Every
//! failure is one of a few states an admin understands (wrong password,
//! server unreachable, anything else) with the server's words.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::domain::email::ImapAccess;

/// How long connecting and each command may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A byte stream the IMAP client talks over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// A logged-in session.
pub type ImapSession = Session<Box<dyn Io>>;

/// Why a mailbox could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// auth | unreachable | error.
    pub code: &'static str,
    /// What was wrong, in the server's or the system's words (never a password).
    pub detail: String,
}

impl Problem {
    pub(super) fn new(code: &'static str, detail: impl std::fmt::Display) -> Problem {
        let d: String = detail.to_string().chars().take(300).collect();
        Problem { code, detail: d }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

/// Runs one IMAP step within [`TIMEOUT`]: its error, or silence, as a
/// [`Problem`].
pub(super) async fn timed<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Problem> {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Problem::new("error", format!("{what}: {e}"))),
        Err(_) => Err(Problem::new("unreachable", format!("{what}: sem resposta em {} s", TIMEOUT.as_secs()))),
    }
}

fn tls_config() -> Arc<tokio_rustls::rustls::ClientConfig> {
    let roots = tokio_rustls::rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    Arc::new(
        tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            tokio_rustls::rustls::ClientConfig::builder()
                .with_root_certificates(tokio_rustls::rustls::RootCertStore::empty())
                .with_no_client_auth()
        }),
    )
}

async fn wrap_tls(host: &str, tcp: TcpStream) -> Result<Box<dyn Io>, Problem> {
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| Problem::new("error", format!("nome do servidor: {e}")))?;
    let tls = timed("TLS", tokio_rustls::TlsConnector::from(tls_config()).connect(name, tcp)).await?;
    Ok(Box::new(tls))
}

/// Connects and logs in.
pub async fn login(a: &ImapAccess) -> Result<ImapSession, Problem> {
    let addr = format!("{}:{}", a.host, a.port);
    let tcp = match tokio::time::timeout(TIMEOUT, TcpStream::connect(&addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(Problem::new("unreachable", format!("{addr}: {e}"))),
        Err(_) => return Err(Problem::new("unreachable", format!("{addr}: sem resposta"))),
    };
    let stream: Box<dyn Io> = match a.tls.as_str() {
        "tls" => wrap_tls(&a.host, tcp).await?,
        "starttls" => {
            let mut c = async_imap::Client::new(tcp);
            greeting(&mut c).await?;
            timed("STARTTLS", c.run_command_and_check_ok("STARTTLS", None)).await?;
            wrap_tls(&a.host, c.into_inner()).await?
        }
        _ => Box::new(tcp),
    };
    let mut client = async_imap::Client::new(stream);
    if a.tls != "starttls" {
        greeting(&mut client).await?;
    }
    match tokio::time::timeout(TIMEOUT, client.login(&a.user, &a.password)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err((e, _))) => Err(Problem::new("auth", e)),
        Err(_) => Err(Problem::new("unreachable", "LOGIN: sem resposta")),
    }
}

async fn greeting<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug>(
    c: &mut async_imap::Client<T>,
) -> Result<(), Problem> {
    match tokio::time::timeout(TIMEOUT, c.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err(Problem::new("unreachable", "o servidor fechou a conexão")),
        Ok(Err(e)) => Err(Problem::new("unreachable", e)),
        Err(_) => Err(Problem::new("unreachable", "o servidor não se apresentou")),
    }
}

/// Whether the server offers IDLE (RFC 2177), asked after login: the
/// capabilities a server lists before login may differ.
pub async fn supports_idle(s: &mut ImapSession) -> Result<bool, Problem> {
    Ok(timed("CAPABILITY", s.capabilities()).await?.has_str("IDLE"))
}

/// The folder's UIDVALIDITY once selected.
pub async fn select(s: &mut ImapSession, folder: &str) -> Result<u32, Problem> {
    let mb = timed("SELECT", s.select(folder)).await?;
    mb.uid_validity.ok_or_else(|| Problem::new("error", "o servidor não informa UIDVALIDITY"))
}

/// The UIDs above `after` with their sizes, in order.
pub async fn list_after(s: &mut ImapSession, after: u32) -> Result<Vec<(u32, u64)>, Problem> {
    let set = format!("{}:*", after.saturating_add(1));
    // Each reply is reduced to (UID, size) as it arrives: a first read of a
    // big folder never holds its whole listing's responses at once.
    let fetched: Vec<Option<(u32, u64)>> = timed("FETCH", async {
        s.uid_fetch(&set, "(UID RFC822.SIZE)")
            .await?
            .map_ok(|f| f.uid.map(|u| (u, f.size.unwrap_or(0) as u64)))
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let mut v: Vec<(u32, u64)> = fetched.into_iter().flatten().filter(|(u, _)| *u > after).collect();
    v.sort_unstable();
    v.dedup_by_key(|(u, _)| *u);
    Ok(v)
}

/// The whole messages (or, with `headers_only`, their headers) of these
/// UIDs, by UID. Reading never marks them as seen.
pub async fn fetch(s: &mut ImapSession, uids: &[u32], headers_only: bool) -> Result<Vec<(u32, Vec<u8>)>, Problem> {
    if uids.is_empty() {
        return Ok(vec![]);
    }
    let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let what = if headers_only { "(UID BODY.PEEK[HEADER])" } else { "(UID BODY.PEEK[])" };
    // Copied out of each reply as it arrives, so a batch is held once.
    let fetched: Vec<Option<(u32, Vec<u8>)>> = timed("FETCH", async {
        s.uid_fetch(&set, what)
            .await?
            .map_ok(|f| {
                let uid = f.uid?;
                let bytes = if headers_only { f.header() } else { f.body() }?;
                Some((uid, bytes.to_vec()))
            })
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let mut out: Vec<(u32, Vec<u8>)> = fetched.into_iter().flatten().collect();
    out.sort_unstable_by_key(|(u, _)| *u);
    Ok(out)
}

/// Logs out, ignoring a server that already went away.
pub async fn logout(mut s: ImapSession) {
    let _ = tokio::time::timeout(Duration::from_secs(5), s.logout()).await;
}
