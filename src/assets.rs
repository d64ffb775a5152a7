//! Embedded static files served at content-hashed URLs, so browsers may cache
//! them forever and a new release is fetched at once.

use std::collections::HashMap;
use std::sync::OnceLock;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
#[exclude = "*.LICENSE"]
#[exclude = "fonts/*"]
struct Files;

struct Index {
    // path -> hash prefix
    hashes: HashMap<String, String>,
}

fn index() -> &'static Index {
    static I: OnceLock<Index> = OnceLock::new();
    I.get_or_init(|| {
        let hashes = Files::iter()
            .filter_map(|p| {
                let f = Files::get(&p)?;
                let h = hex::encode(&Sha256::digest(&f.data)[..6]);
                Some((p.into_owned(), h))
            })
            .collect();
        Index { hashes }
    })
}

/// The URL of an embedded file, e.g. `/assets/3fa2…/css/app.css`.
pub fn url(path: &str) -> String {
    match index().hashes.get(path) {
        Some(h) => format!("/assets/{h}/{path}"),
        None => format!("/assets/0/{path}"),
    }
}

/// The file at `path` if `hash` is its current hash: (bytes, content type).
pub fn get(hash: &str, path: &str) -> Option<(std::borrow::Cow<'static, [u8]>, String)> {
    if index().hashes.get(path).map(String::as_str) != Some(hash) {
        return None;
    }
    let f = Files::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream().to_string();
    Some((f.data, mime))
}
