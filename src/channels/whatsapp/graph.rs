//! The Graph API calls Atende makes for a WhatsApp number: send a message,
//! read the phone number (the connection check). Errors are sorted into
//! "try again later" and "will not work", with a pt-BR reason for agents.

use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

use crate::domain::whatsapp::Credentials;
use crate::domain::whatsapp::templates::Listed;

/// Longest wait for Meta to answer one call.
const TIMEOUT: Duration = Duration::from_secs(20);

fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(TIMEOUT)
                .user_agent(concat!("Atende/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("http client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Why a call did not work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not taken this time (rate limit, Meta down, no connection before the
    /// request was sent): safe to try again, after `after` seconds if said.
    Retry {
        /// What happened, for the agent (pt-BR).
        reason: String,
        /// Retry-After, when Meta gave one.
        after: Option<i64>,
    },
    /// Refused for good (bad token, closed window, invalid number…).
    Fatal {
        /// What happened, for the agent (pt-BR).
        reason: String,
        /// Meta's error code, when it gave one.
        code: Option<i64>,
    },
    /// The request may have reached Meta but no answer came: not known
    /// whether it was taken (the outbox reconciles by the status callbacks).
    Unknown {
        /// What happened.
        reason: String,
    },
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: GraphError,
}

#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Deserialize, Default)]
struct ErrorData {
    #[serde(default)]
    details: String,
}

/// The pt-BR reason for a Meta error code (the code and Meta's text follow).
pub fn reason_for(code: Option<i64>, meta_text: &str) -> String {
    let what = match code {
        Some(190) => "token de acesso inválido ou expirado",
        Some(131047) => "janela de 24 horas fechada: só um modelo aprovado pode ser enviado",
        Some(131026) => "mensagem não entregável (número sem WhatsApp ou versão antiga)",
        Some(131051) => "tipo de mensagem não suportado",
        Some(131052) | Some(131053) => "falha ao baixar ou enviar a mídia",
        Some(130429) => "limite de mensagens por segundo do número atingido",
        Some(131056) => "muitas mensagens seguidas para o mesmo cliente",
        Some(131048) => "limite de envio atingido (qualidade do número)",
        Some(131000) | Some(1) | Some(2) => "erro temporário da Meta",
        Some(100) => "parâmetro inválido",
        Some(368) | Some(131031) => "conta bloqueada pela Meta",
        Some(133010) => "número não registrado na Cloud API",
        _ => "erro da API do WhatsApp",
    };
    match (code, meta_text.trim()) {
        (Some(c), "") => format!("{what} (código {c})"),
        (Some(c), t) => format!("{what} (código {c}: {})", t.chars().take(200).collect::<String>()),
        (None, "") => what.to_string(),
        (None, t) => format!("{what}: {}", t.chars().take(200).collect::<String>()),
    }
}

fn retryable(code: Option<i64>) -> bool {
    matches!(code, Some(130429) | Some(131056) | Some(131000) | Some(1) | Some(2) | Some(4) | Some(80007))
}

async fn failure_of(resp: reqwest::Response) -> Failure {
    let status = resp.status();
    let after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let body: ErrorBody = resp.json().await.unwrap_or_default();
    let e = body.error;
    let text = match e.error_data {
        Some(d) if !d.details.is_empty() => d.details,
        _ => e.message,
    };
    let reason = reason_for(e.code, &text);
    if status.as_u16() == 429 || status.is_server_error() || retryable(e.code) {
        Failure::Retry { reason, after }
    } else {
        Failure::Fatal { reason, code: e.code }
    }
}

fn transport(e: &reqwest::Error) -> Failure {
    if e.is_connect() {
        Failure::Retry { reason: "sem conexão com a API do WhatsApp".into(), after: None }
    } else if e.is_timeout() {
        Failure::Unknown { reason: "a API do WhatsApp não respondeu a tempo".into() }
    } else {
        Failure::Unknown { reason: "a conexão com a API do WhatsApp caiu".into() }
    }
}

fn url(c: &Credentials, path: &str) -> String {
    format!("{}/{}/{}", c.graph_base.trim_end_matches('/'), c.graph_version, path)
}

#[derive(Deserialize)]
struct SendReply {
    #[serde(default)]
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

/// Sends one message body (the documented JSON) from the number; returns
/// Meta's id of the message (wamid).
pub async fn send(c: &Credentials, payload: &str) -> Result<String, Failure> {
    let client = client().map_err(|reason| Failure::Retry { reason, after: None })?;
    let resp = client
        .post(url(c, &format!("{}/messages", c.phone_number_id)))
        .bearer_auth(&c.access_token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_string())
        .send()
        .await
        .map_err(|e| transport(&e))?;
    if !resp.status().is_success() {
        return Err(failure_of(resp).await);
    }
    let reply: SendReply =
        resp.json().await.map_err(|_| Failure::Unknown { reason: "resposta da API do WhatsApp ilegível".into() })?;
    reply
        .messages
        .into_iter()
        .next()
        .map(|m| m.id)
        .ok_or(Failure::Unknown { reason: "a API do WhatsApp não devolveu o id da mensagem".into() })
}

#[derive(Deserialize)]
struct PhoneReply {
    #[serde(default)]
    display_phone_number: String,
    #[serde(default)]
    verified_name: String,
}

/// What the connection check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The number answers: its display number and verified name.
    Ok(String, String),
    /// Something is wrong: state code (bad_token | bad_id | unreachable |
    /// error) and the reason in pt-BR.
    Wrong(&'static str, String),
}

/// Reads the phone number from the Graph API.
pub async fn check(c: &Credentials) -> Check {
    let client = match client() {
        Ok(cl) => cl,
        Err(e) => return Check::Wrong("error", e),
    };
    let r = client
        .get(url(c, &c.phone_number_id))
        .query(&[("fields", "display_phone_number,verified_name")])
        .bearer_auth(&c.access_token)
        .send()
        .await;
    let resp = match r {
        Ok(r) => r,
        Err(e) if e.is_connect() || e.is_timeout() => {
            return Check::Wrong("unreachable", "sem conexão com a API do WhatsApp (rede ou endereço)".into());
        }
        Err(_) => return Check::Wrong("unreachable", "a conexão com a API do WhatsApp caiu".into()),
    };
    if resp.status().is_success() {
        return match resp.json::<PhoneReply>().await {
            Ok(p) => Check::Ok(p.display_phone_number, p.verified_name),
            Err(_) => Check::Wrong("error", "resposta da API do WhatsApp ilegível".into()),
        };
    }
    let status = resp.status().as_u16();
    let body: ErrorBody = resp.json().await.unwrap_or_default();
    let reason = reason_for(body.error.code, &body.error.message);
    match (status, body.error.code) {
        (_, Some(190)) | (401, _) => Check::Wrong("bad_token", reason),
        (_, Some(100)) | (404, _) | (400, _) => {
            Check::Wrong("bad_id", format!("id do número não encontrado ou sem acesso: {reason}"))
        }
        _ => Check::Wrong("error", reason),
    }
}

#[derive(Deserialize)]
struct MediaInfo {
    url: String,
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    file_size: Option<u64>,
}

/// Downloads a received media file: its URL (valid 5 minutes) from the media
/// id, then the bytes, both with the number's token. Refused before
/// downloading when Meta says it is larger than `limit`.
pub async fn media(c: &Credentials, media_id: &str, limit: u64) -> Result<(Vec<u8>, String), Failure> {
    let client = client().map_err(|reason| Failure::Retry { reason, after: None })?;
    if media_id.is_empty() || !media_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(Failure::Fatal { reason: "id de mídia inválido".into(), code: None });
    }
    let resp = client.get(url(c, media_id)).bearer_auth(&c.access_token).send().await.map_err(|e| transport(&e))?;
    if !resp.status().is_success() {
        return Err(failure_of(resp).await);
    }
    let info: MediaInfo = resp
        .json()
        .await
        .map_err(|_| Failure::Retry { reason: "resposta da API do WhatsApp ilegível".into(), after: None })?;
    if info.file_size.is_some_and(|s| s > limit) {
        return Err(Failure::Fatal { reason: "arquivo maior que o limite de anexos".into(), code: None });
    }
    let mut resp = client.get(&info.url).bearer_auth(&c.access_token).send().await.map_err(|e| transport(&e))?;
    if !resp.status().is_success() {
        return Err(failure_of(resp).await);
    }
    let mut data = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(&e))? {
        if (data.len() + chunk.len()) as u64 > limit {
            return Err(Failure::Fatal { reason: "arquivo maior que o limite de anexos".into(), code: None });
        }
        data.extend_from_slice(&chunk);
    }
    Ok((data, info.mime_type))
}

#[derive(Deserialize, Default)]
struct TemplatePage {
    #[serde(default)]
    data: Vec<Listed>,
    #[serde(default)]
    paging: Paging,
}

#[derive(Deserialize, Default)]
struct Paging {
    #[serde(default)]
    cursors: Cursors,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize, Default)]
struct Cursors {
    #[serde(default)]
    after: String,
}

/// The most pages of templates one synchronisation reads (100 each).
pub const TEMPLATE_PAGES: usize = 50;

/// Lists the account's message templates, every page (`paging.next` is
/// followed through its `after` cursor on our own base URL, so the token
/// never goes elsewhere).
pub async fn templates(c: &Credentials) -> Result<Vec<Listed>, Failure> {
    if c.waba_id.is_empty() {
        return Err(Failure::Fatal { reason: "falta o id da conta do WhatsApp Business (WABA)".into(), code: None });
    }
    let client = client().map_err(|reason| Failure::Retry { reason, after: None })?;
    let mut out = Vec::new();
    let mut after = String::new();
    for _ in 0..TEMPLATE_PAGES {
        let mut q = vec![
            ("fields", "id,name,language,status,category,components,parameter_format,rejected_reason"),
            ("limit", "100"),
        ];
        if !after.is_empty() {
            q.push(("after", after.as_str()));
        }
        let resp = client
            .get(url(c, &format!("{}/message_templates", c.waba_id)))
            .query(&q)
            .bearer_auth(&c.access_token)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        if !resp.status().is_success() {
            return Err(failure_of(resp).await);
        }
        let page: TemplatePage = resp
            .json()
            .await
            .map_err(|_| Failure::Unknown { reason: "resposta da API do WhatsApp ilegível".into() })?;
        out.extend(page.data);
        match page.paging.next {
            Some(_) if !page.paging.cursors.after.is_empty() && page.paging.cursors.after != after => {
                after = page.paging.cursors.after;
            }
            _ => return Ok(out),
        }
    }
    Err(Failure::Fatal {
        reason: format!("mais de {} modelos: sincronização interrompida", TEMPLATE_PAGES * 100),
        code: None,
    })
}

#[derive(Deserialize)]
struct Uploaded {
    id: String,
}

/// Uploads a file for a message (`POST /{phone-number-id}/media`, multipart)
/// and returns its media id.
pub async fn upload_media(c: &Credentials, data: Vec<u8>, mime: &str, name: &str) -> Result<String, Failure> {
    let client = client().map_err(|reason| Failure::Retry { reason, after: None })?;
    let part = reqwest::multipart::Part::bytes(data)
        .file_name(name.to_string())
        .mime_str(mime)
        .map_err(|_| Failure::Fatal { reason: "tipo de arquivo inválido".into(), code: None })?;
    let form = reqwest::multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", mime.to_string())
        .part("file", part);
    let resp = client
        .post(url(c, &format!("{}/media", c.phone_number_id)))
        .bearer_auth(&c.access_token)
        .multipart(form)
        .send()
        .await
        .map_err(|e| transport(&e))?;
    if !resp.status().is_success() {
        return Err(failure_of(resp).await);
    }
    let up: Uploaded = resp
        .json()
        .await
        .map_err(|_| Failure::Retry { reason: "resposta da API do WhatsApp ilegível".into(), after: None })?;
    Ok(up.id)
}
