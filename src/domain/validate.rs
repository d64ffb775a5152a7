//! Form input and validation helpers shared by every register.

/// Decoded form fields in their original order (repeated names allowed).
#[derive(Clone, Debug, Default)]
pub struct Input {
    pairs: Vec<(String, String)>,
}

impl Input {
    /// Parses an `application/x-www-form-urlencoded` body or query string.
    pub fn parse(raw: &[u8]) -> Input {
        Input { pairs: form_urlencoded::parse(raw).into_owned().collect() }
    }

    /// Builds input from pairs (tests, internal callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Input {
        Input { pairs: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The first value of `name`, trimmed; empty when missing.
    pub fn get(&self, name: &str) -> &str {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
    }

    /// The first value of `name` exactly as sent (passwords).
    pub fn raw(&self, name: &str) -> &str {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Every value of `name` (checkbox groups, multi-selects).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).collect()
    }

    /// Every (name, value) pair as sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether a checkbox named `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "1" | "on" | "true" | "sim")
    }
}

pub use crate::error::FormErrors;

/// Validates a text field: trimmed, required or not, at most `max` characters,
/// no control characters.
pub fn text(input: &Input, field: &'static str, required: bool, max: usize, errs: &mut FormErrors) -> String {
    let v = input.get(field);
    if v.is_empty() {
        if required {
            errs.add(field, "val.required");
        }
    } else if v.chars().count() > max {
        errs.add(field, "val.too_long");
    } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errs.add(field, "val.invalid_chars");
    }
    v.to_string()
}

/// Validates an integer field within `min..=max`.
pub fn int(input: &Input, field: &'static str, min: i64, max: i64, errs: &mut FormErrors) -> i64 {
    let v = input.get(field);
    if v.is_empty() {
        errs.add(field, "val.required");
        return 0;
    }
    match v.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        Ok(_) => {
            errs.add(field, "val.out_of_range");
            0
        }
        Err(_) => {
            errs.add(field, "val.not_a_number");
            0
        }
    }
}

/// Validates an optional "HH:MM" field; empty gives `None`.
pub fn time(input: &Input, field: &'static str, errs: &mut FormErrors) -> Option<String> {
    let v = input.get(field);
    if v.is_empty() {
        return None;
    }
    match crate::config::parse_hhmm(v) {
        Some((h, m)) => Some(format!("{h:02}:{m:02}")),
        None => {
            errs.add(field, "val.time");
            None
        }
    }
}

/// Validates a field whose value must be one of `allowed`.
pub fn choice<'a>(input: &Input, field: &'static str, allowed: &[&'a str], errs: &mut FormErrors) -> &'a str {
    let v = input.get(field);
    match allowed.iter().find(|a| **a == v) {
        Some(a) => a,
        None => {
            errs.add(field, if v.is_empty() { "val.required" } else { "val.invalid_choice" });
            allowed.first().copied().unwrap_or("")
        }
    }
}

/// Validates an optional id reference (empty gives `None`).
pub fn opt_id(input: &Input, field: &'static str, errs: &mut FormErrors) -> Option<i64> {
    let v = input.get(field);
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errs.add(field, "val.invalid_choice");
            None
        }
    }
}

/// Whether a rusqlite error is a UNIQUE constraint violation.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}
