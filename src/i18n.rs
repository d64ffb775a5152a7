//! Locale catalog. Every user-visible string has a key with a pt-BR and an
//! English text side by side, so a key can never exist in only one language.

use std::collections::HashMap;
use std::sync::OnceLock;

mod catalog;

/// A UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Locale {
    /// Brazilian Portuguese, the default.
    #[default]
    PtBr,
    /// English.
    En,
}

impl Locale {
    /// Parses the stored code ("pt-BR" or "en").
    pub fn from_code(code: &str) -> Option<Locale> {
        match code {
            "pt-BR" => Some(Locale::PtBr),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The stored code, also used as the HTML `lang`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::PtBr => "pt-BR",
            Locale::En => "en",
        }
    }

    /// Every locale, for selects.
    pub const ALL: [Locale; 2] = [Locale::PtBr, Locale::En];
}

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static T: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    T.get_or_init(|| catalog::PARTS.iter().flat_map(|p| p.iter()).map(|(k, pt, en)| (*k, (*pt, *en))).collect())
}

/// Looks up `key` in `loc`. An unknown key shows itself, which the catalog test
/// catches before it ships.
pub fn t(loc: Locale, key: &'static str) -> &'static str {
    match table().get(key) {
        Some((pt, en)) => match loc {
            Locale::PtBr => pt,
            Locale::En => en,
        },
        None => key,
    }
}

/// Whether the catalog has `key` (used by tests and by data-driven labels).
pub fn has(key: &str) -> bool {
    table().contains_key(key)
}

/// Like [`t`] but fills `{}` placeholders in order.
pub fn tf(loc: Locale, key: &'static str, args: &[&str]) -> String {
    let mut out = String::new();
    let mut parts = t(loc, key).split("{}");
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, p) in parts.enumerate() {
        out.push_str(args.get(i).copied().unwrap_or(""));
        out.push_str(p);
    }
    out
}

/// The catalog's own `'static` key equal to `key`, for keys built at run time.
pub fn catalog_key(key: &str) -> Option<&'static str> {
    table().get_key_value(key).map(|(k, _)| *k)
}

/// Formats a unix time in the business time zone as "dd/mm/aaaa hh:mm".
pub fn datetime(ts: i64, tz: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_second(ts) {
        Ok(t) => t.to_zoned(tz.clone()).strftime("%d/%m/%Y %H:%M").to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::catalog::PARTS;
    use std::collections::HashSet;

    #[test]
    fn every_key_is_once_in_the_catalog_with_both_languages() {
        let mut seen = HashSet::new();
        for (key, pt, en) in PARTS.iter().flat_map(|p| p.iter()) {
            assert!(seen.insert(*key), "key {key} appears twice");
            assert!(!pt.trim().is_empty() && !en.trim().is_empty(), "key {key} lacks a text");
        }
    }
}
