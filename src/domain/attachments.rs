//! Files sent in conversations (anexos), stored inside the database.
//!
//! Metadata lives in `attachments`, the bytes in `attachment_data` (one row
//! per file, read back with SQLite's incremental blob I/O so a download is
//! streamed in small chunks and never held whole in memory).
//!
//! Only known file types are accepted; the type is decided from the name's
//! extension (never from what the browser claims), and images and PDFs must
//! also start with their format's signature. Only plain images, audio and
//! video are ever shown inline; everything else downloads as an attachment.

use std::io::{Read, Write};
use std::path::PathBuf;

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};

use super::conversations::{self as conv, insert_message};
use super::users::User;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// Hard cap on an upload body, whatever the settings say (MB).
pub const MAX_FILE_MB: i64 = 100;
/// Longest file name kept.
pub const MAX_NAME: usize = 200;
/// Bytes read from the database per chunk of a download.
pub const CHUNK: usize = 64 * 1024;

/// A file attached to a message (metadata only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Id.
    pub id: i64,
    /// The message it came with.
    pub message_id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// File name as sent (cleaned of paths and control characters).
    pub name: String,
    /// Media type decided from the extension.
    pub mime: String,
    /// Size in bytes.
    pub size: i64,
}

impl Attachment {
    /// Whether the browser may show it inline (image, audio, video preview).
    pub fn inline(&self) -> bool {
        inline(&self.mime)
    }

    /// "image", "audio", "video" for previews, else "file".
    pub fn preview(&self) -> &'static str {
        if !self.inline() {
            "file"
        } else if self.mime.starts_with("image/") {
            "image"
        } else if self.mime.starts_with("audio/") {
            "audio"
        } else {
            "video"
        }
    }
}

/// Accepted extensions and the media type each is served as.
const TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("heic", "image/heic"),
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("webm", "video/webm"),
    ("ogv", "video/ogg"),
    ("mov", "video/quicktime"),
    ("3gp", "video/3gpp"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("wav", "audio/wav"),
    ("m4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("amr", "audio/amr"),
    ("weba", "audio/webm"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("rtf", "application/rtf"),
    ("doc", "application/msword"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xls", "application/vnd.ms-excel"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt", "application/vnd.ms-powerpoint"),
    ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("odp", "application/vnd.oasis.opendocument.presentation"),
    ("zip", "application/zip"),
];

/// Types a browser may render inline without risk (no scripts, no HTML, no SVG).
const INLINE: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "video/ogg",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "audio/mp4",
    "audio/aac",
    "audio/webm",
];

/// Whether `mime` is shown inline.
pub fn inline(mime: &str) -> bool {
    INLINE.contains(&mime)
}

/// The extensions accepted, for the file input's `accept` list.
pub fn accept_list() -> String {
    TYPES.iter().map(|(e, _)| format!(".{e}")).collect::<Vec<_>>().join(",")
}

/// Cleans a file name: drops any path, control and bidi characters, trims,
/// shortens. An empty result is refused.
pub fn clean_name(raw: &str) -> Result<String, &'static str> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(*c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return Err("file.bad_name");
    }
    // Keep the extension when shortening.
    if cleaned.chars().count() > MAX_NAME {
        let ext: String = cleaned.rsplit_once('.').map(|(_, e)| e).unwrap_or("").chars().take(10).collect();
        let stem: String = cleaned.chars().take(MAX_NAME - ext.len() - 1).collect();
        return Ok(format!("{stem}.{ext}"));
    }
    Ok(cleaned.to_string())
}

/// A file name as the person chose it, from a browser's multipart form.
/// Browsers send `"` as `%22` and line breaks as `%0D` / `%0A` in the
/// `filename` parameter (the HTML standard's form-data encoding) and leave
/// every other character, `%` included, alone; this undoes exactly those
/// three, so `relatório "final".pdf` stays that name. The header that serves
/// it later escapes it again (see [`response`]).
pub fn form_file_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("22") => Some('"'),
            Some("0D") => Some('\r'),
            Some("0A") => Some('\n'),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The media type of an accepted file name, or why it is refused.
pub fn type_of(name: &str) -> Result<&'static str, &'static str> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).ok_or("file.bad_type")?;
    TYPES.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m).ok_or("file.bad_type")
}

/// Checks that the first bytes agree with the type for formats that carry a
/// signature a browser relies on.
fn content_matches(mime: &str, head: &[u8]) -> bool {
    match mime {
        "image/jpeg" => head.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP",
        "application/pdf" => head.starts_with(b"%PDF-"),
        _ => true,
    }
}

/// Per-file and per-conversation limits (bytes).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file.
    pub file: u64,
    /// Most bytes of files in one conversation.
    pub conversation: u64,
}

/// The administrator's limits.
pub fn limits(conn: &Connection) -> AppResult<Limits> {
    let (f, c): (i64, i64) = conn
        .prepare_cached("SELECT attach_file_mb, attach_conversation_mb FROM settings WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Limits { file: (f.max(1) as u64) << 20, conversation: (c.max(1) as u64) << 20 })
}

/// A received file, checked: name, type and bytes.
#[derive(Debug)]
pub struct Upload {
    /// Cleaned name.
    pub name: String,
    /// Media type.
    pub mime: &'static str,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Checks a received file against the name rules, the accepted types and
/// the per-file limit.
pub fn check(raw_name: &str, data: Vec<u8>, limit: u64) -> Result<Upload, &'static str> {
    let name = clean_name(raw_name)?;
    let mime = type_of(&name)?;
    if data.is_empty() {
        return Err("file.empty");
    }
    if data.len() as u64 > limit {
        return Err("file.too_big");
    }
    if !content_matches(mime, &data[..data.len().min(16)]) {
        return Err("file.bad_content");
    }
    Ok(Upload { name, mime, data })
}

/// Attachments of a conversation's messages `first..=last`, by message.
pub fn in_range(conn: &Connection, conversation_id: i64, first: i64, last: i64) -> AppResult<Vec<Attachment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, message_id, conversation_id, name, mime, size FROM attachments
         WHERE conversation_id = ?1 AND message_id BETWEEN ?2 AND ?3 ORDER BY message_id, id",
    )?;
    let v = stmt.query_map(params![conversation_id, first, last], from_row)?.collect::<Result<_, _>>()?;
    Ok(v)
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        message_id: r.get(1)?,
        conversation_id: r.get(2)?,
        name: r.get(3)?,
        mime: r.get(4)?,
        size: r.get(5)?,
    })
}

fn load(conn: &Connection, id: i64) -> AppResult<Option<(Attachment, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT a.id, a.message_id, a.conversation_id, a.name, a.mime, a.size, m.kind
             FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = ?1",
        )?
        .query_row([id], |r| Ok((from_row(r)?, r.get(6)?)))
        .optional()?)
}

/// An attachment `user` may open (through its conversation); else NotFound.
pub fn for_agent(conn: &Connection, user: &User, id: i64) -> AppResult<Attachment> {
    let (a, _) = load(conn, id)?.ok_or(AppError::NotFound)?;
    conv::visible(conn, user, a.conversation_id)?;
    Ok(a)
}

/// An attachment the web chat visitor may open: one of their own
/// conversations in this queue, never an internal note's.
pub fn for_visitor(conn: &Connection, queue_id: i64, token_hash: &[u8], id: i64) -> AppResult<Attachment> {
    let (a, kind) = load(conn, id)?.ok_or(AppError::NotFound)?;
    let theirs: bool = conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM conversations c WHERE c.id = ?1 AND c.queue_id = ?2 AND c.visitor_hash = ?3)",
        )?
        .query_row(params![a.conversation_id, queue_id, token_hash], |r| r.get(0))?;
    if !theirs || !(kind == "in" || kind == "out") {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

/// The file extension Atende accepts for a media type (parameters such as
/// `; codecs=opus` ignored).
pub fn ext_for_mime(mime: &str) -> Option<&'static str> {
    let base = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    TYPES.iter().find(|(_, m)| *m == base).map(|(e, _)| *e)
}

/// Stores a file a customer sent through a channel on their message (part
/// of the caller's transaction). A file over the conversation's limit is not
/// stored: the refusal's catalog key is returned so the message can say so.
pub fn store_received(
    conn: &Connection,
    conversation_id: i64,
    message_id: i64,
    f: &Upload,
    now: i64,
) -> AppResult<Option<&'static str>> {
    match store(conn, conversation_id, message_id, f, now) {
        Ok(_) => Ok(None),
        Err(AppError::BadRequest(k)) => Ok(Some(k)),
        Err(e) => Err(e),
    }
}

/// Stores a file on a message of a conversation within the limits (part of
/// the caller's transaction). Returns the attachment's id.
pub fn store(conn: &Connection, conversation_id: i64, message_id: i64, f: &Upload, now: i64) -> AppResult<i64> {
    let lim = limits(conn)?;
    let used: i64 = conn
        .prepare_cached("SELECT coalesce(sum(size), 0) FROM attachments WHERE conversation_id = ?1")?
        .query_row([conversation_id], |r| r.get(0))?;
    if used as u64 + f.data.len() as u64 > lim.conversation {
        return Err(AppError::BadRequest("file.conversation_full"));
    }
    if f.data.len() as u64 > lim.file {
        return Err(AppError::BadRequest("file.too_big"));
    }
    conn.prepare_cached(
        "INSERT INTO attachments (message_id, conversation_id, name, mime, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![message_id, conversation_id, f.name, f.mime, f.data.len() as i64, now])?;
    let id = conn.last_insert_rowid();
    // Written through blob I/O into a zeroblob, so SQLite makes no second
    // copy of the bytes in memory.
    conn.prepare_cached("INSERT INTO attachment_data (attachment_id, data) VALUES (?1, zeroblob(?2))")?
        .execute(params![id, f.data.len() as i64])?;
    let mut blob = conn.blob_open(rusqlite::MAIN_DB, "attachment_data", "data", id, false)?;
    for chunk in f.data.chunks(CHUNK) {
        blob.write_all(chunk).map_err(AppError::internal)?;
    }
    Ok(id)
}

/// An agent sends a file (`note`: as an internal note, seen by agents only)
/// with an optional caption. Replies need the conversation assigned to
/// `user`; notes only that `user` may see it. Returns the message id.
pub async fn send_agent(
    state: &AppState,
    user: &User,
    conversation_id: i64,
    caption: &str,
    note: bool,
    f: Upload,
) -> AppResult<i64> {
    let caption = caption.trim().to_string();
    if caption.chars().count() > conv::MAX_MESSAGE {
        return Err(AppError::BadRequest("conv.message_too_long"));
    }
    let user = user.clone();
    let now = state.now();
    let (mid, changes) = state
        .db
        .write(move |conn| {
            let c = conv::visible(conn, &user, conversation_id)?;
            if !note && (c.status != "assigned" || c.agent_id != Some(user.id)) {
                return Err(AppError::Conflict("conv.not_yours"));
            }
            if !note {
                conv::ensure_queue_connected(conn, c.queue_id)?;
            }
            let kind = if note { "note" } else { "out" };
            let mid = insert_message(conn, conversation_id, kind, Some(user.id), &user.name, &caption, now)?;
            let aid = store(conn, conversation_id, mid, &f, now)?;
            if !note && c.channel == "whatsapp" {
                let file = (f.mime, f.name.as_str(), f.data.len() as u64);
                crate::domain::outbox::enqueue_whatsapp_media(
                    conn,
                    conversation_id,
                    c.queue_id,
                    mid,
                    aid,
                    file,
                    &caption,
                    now,
                )?;
            }
            if !note && c.channel == "email" {
                // The file travels attached to an e-mail; its caption (or
                // its name) is the text.
                let text = if caption.is_empty() { f.name.clone() } else { caption.clone() };
                let extras = crate::domain::email::outgoing::Extras::default();
                crate::domain::email::outgoing::enqueue_reply(
                    conn,
                    conversation_id,
                    c.queue_id,
                    mid,
                    &text,
                    &extras,
                    now,
                )?;
            }
            if !note {
                conn.prepare_cached("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2")?
                    .execute([mid, conversation_id])?;
            }
            Ok((mid, vec![Change::message(c.queue_id, conversation_id, c.agent_id)]))
        })
        .await?;
    state.bus.publish(changes);
    Ok(mid)
}

/// A web chat visitor sends a file into their open conversation of the queue.
/// Returns (conversation, message).
pub async fn send_visitor(state: &AppState, queue_id: i64, token_hash: Vec<u8>, f: Upload) -> AppResult<(i64, i64)> {
    let now = state.now();
    let (ids, changes) = state
        .db
        .write(move |conn| {
            let open: Option<(i64, Option<i64>, i64, String)> = conn
                .prepare_cached(
                    "SELECT c.id, c.agent_id, k.id, k.name FROM conversations c JOIN contacts k ON k.id = c.contact_id
                     WHERE c.visitor_hash = ?1 AND c.queue_id = ?2 AND c.status IN ('queued', 'offered', 'assigned')
                     ORDER BY c.id DESC LIMIT 1",
                )?
                .query_row(params![token_hash, queue_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            let (cid, agent, contact, name) = open.ok_or(AppError::BadRequest("file.no_conversation"))?;
            let name = if name.is_empty() { format!("Visitante #{contact}") } else { name };
            let mid = insert_message(conn, cid, "in", None, &name, "", now)?;
            store(conn, cid, mid, &f, now)?;
            Ok(((cid, mid), vec![Change::message(queue_id, cid, agent)]))
        })
        .await?;
    state.bus.publish(changes);
    Ok(ids)
}

/// The bytes, type and name of an attachment (the outbox uploads them).
pub fn bytes(conn: &Connection, id: i64) -> AppResult<(Vec<u8>, String, String)> {
    let (mime, name): (String, String) = conn
        .prepare_cached("SELECT mime, name FROM attachments WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let data: Vec<u8> = conn
        .prepare_cached("SELECT data FROM attachment_data WHERE attachment_id = ?1")?
        .query_row([id], |r| r.get(0))?;
    Ok((data, mime, name))
}

/// Streams the bytes of attachment `id` in [`CHUNK`]-sized pieces from its
/// own read-only connection: memory stays a few chunks per download,
/// whatever the file's size.
pub fn stream(path: PathBuf, id: i64) -> tokio_stream::wrappers::ReceiverStream<Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::task::spawn_blocking(move || {
        let run = || -> Result<(), String> {
            let conn = crate::db::open_ro(&path).map_err(|e| e.to_string())?;
            let mut blob =
                conn.blob_open(rusqlite::MAIN_DB, "attachment_data", "data", id, true).map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = blob.read(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Ok(());
                }
                if tx.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n]))).is_err() {
                    // The client went away.
                    return Ok(());
                }
            }
        };
        if let Err(e) = run() {
            tracing::error!("attachment {id} download: {e}");
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Headers of a file response: its type, inline or attachment with the name
/// escaped for the header, and a sandbox so nothing in it ever runs.
pub fn response(a: &Attachment, body: warp::reply::Response) -> warp::reply::Response {
    use warp::http::HeaderValue;
    let mut r = body;
    let h = r.headers_mut();
    let mime = if a.inline() { a.mime.as_str() } else { "application/octet-stream" };
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert("content-type", v);
    }
    h.insert("content-length", HeaderValue::from(a.size as u64));
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if a.inline() { "inline" } else { "attachment" },
        ascii_name(&a.name),
        pct_encode(&a.name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert("content-disposition", v);
    }
    h.insert("content-security-policy", HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert("cache-control", HeaderValue::from_static("private, max-age=3600"));
    r
}

/// The name with anything but plain letters, digits, dot, dash and
/// underscore replaced, for the quoted `filename=` fallback.
fn ascii_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect()
}

/// RFC 5987 percent-encoding for `filename*`.
fn pct_encode(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Human size: "532 B", "12 KB", "3.4 MB".
pub fn human_size(n: i64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{} KB", n / 1024)
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert_eq!(clean_name("C:\\fotos\\../x/Foto 1.JPG").unwrap(), "Foto 1.JPG");
        assert_eq!(type_of("Foto 1.JPG"), Ok("image/jpeg"));
        assert_eq!(type_of("virus.exe"), Err("file.bad_type"));
        assert_eq!(type_of("page.html"), Err("file.bad_type"));
        assert_eq!(type_of("draw.svg"), Err("file.bad_type"));
        assert_eq!(type_of("semextensao"), Err("file.bad_type"));
        assert_eq!(clean_name("\u{202e}gpj.exe"), Ok("gpj.exe".into()));
        assert_eq!(clean_name("  /  "), Err("file.bad_name"));
        assert!(clean_name(&format!("{}.pdf", "a".repeat(500))).unwrap().ends_with(".pdf"));
        assert_eq!(check("a.png", vec![], 10).unwrap_err(), "file.empty");
        assert_eq!(check("a.png", b"<html>".to_vec(), 100).unwrap_err(), "file.bad_content");
        assert_eq!(check("a.txt", vec![b'x'; 11], 10).unwrap_err(), "file.too_big");
        assert!(check("a.txt", vec![b'x'; 10], 10).is_ok());
        assert_eq!(ascii_name("relatório \"final\".pdf"), "relat_rio__final_.pdf");
        assert_eq!(pct_encode("ó a.pdf"), "%C3%B3%20a.pdf");
        assert_eq!(form_file_name("relatório %22final%22.pdf"), "relatório \"final\".pdf");
        assert_eq!(form_file_name("100% certo %2x %"), "100% certo %2x %");
        assert_eq!(form_file_name("a%0d%0Ab"), "a\r\nb");
    }
}
