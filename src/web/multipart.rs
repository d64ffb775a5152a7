//! Forms that carry a file (`multipart/form-data`): the CSRF token is checked
//! before the file is read, the file is refused as soon as it passes its
//! limit, and the other fields are few and short.

use bytes::Buf;
use futures_util::{Stream, StreamExt};

use super::ctx::Ctx;
use crate::domain::validate::Input;
use crate::error::AppResult;

/// Most text fields a file form carries.
const MAX_FIELDS: usize = 8;
/// Longest text field of a file form.
const MAX_FIELD_BYTES: usize = 16 * 1024;

/// A file form as read: its text fields and its `file`, if it had one
/// (name as sent, bytes).
pub struct FileForm {
    /// The text fields.
    pub input: Input,
    /// The file field.
    pub file: Option<(String, Vec<u8>)>,
}

/// Reads a file form of at most `limit` bytes of file. A forged form is the
/// CSRF error; a broken or oversized one is `Ok(Err(catalog key))`.
pub async fn read<S, B>(
    ctx: &Ctx,
    content_type: Option<&str>,
    length: Option<u64>,
    limit: u64,
    body: S,
) -> AppResult<Result<FileForm, &'static str>>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + Unpin + 'static,
    B: Buf + Send + 'static,
{
    let Some(boundary) = content_type.and_then(|c| multer::parse_boundary(c).ok()) else {
        ctx.verify_csrf(&Input::from_pairs(Vec::<(String, String)>::new()))?;
        return Ok(Err("file.broken"));
    };
    let stream = body.map(|r| r.map(|mut b| b.copy_to_bytes(b.remaining())));
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut csrf_ok = false;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                ctx.verify_csrf(&Input::from_pairs(fields.clone()))?;
                return Ok(Err("file.broken"));
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            ctx.verify_csrf(&Input::from_pairs(fields.clone()))?;
            csrf_ok = true;
            let fname = crate::domain::attachments::form_file_name(field.file_name().unwrap_or(""));
            // Room for the whole file at once (no doubling copies), within the limit.
            let mut data: Vec<u8> = Vec::with_capacity(length.unwrap_or(0).min(limit) as usize);
            loop {
                match field.chunk().await {
                    Ok(Some(c)) => {
                        if (data.len() + c.len()) as u64 > limit {
                            return Ok(Err("file.too_big"));
                        }
                        data.extend_from_slice(&c);
                    }
                    Ok(None) => break,
                    Err(_) => return Ok(Err("file.broken")),
                }
            }
            file = Some((fname, data));
        } else if fields.len() < MAX_FIELDS {
            let mut text = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(c)) if text.len() + c.len() <= MAX_FIELD_BYTES => text.extend_from_slice(&c),
                    Ok(Some(_)) | Err(_) => return Ok(Err("file.broken")),
                    Ok(None) => break,
                }
            }
            fields.push((name, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    let input = Input::from_pairs(fields);
    if !csrf_ok {
        ctx.verify_csrf(&input)?;
    }
    Ok(Ok(FileForm { input, file }))
}
