//! The locale catalog is complete: every key the code uses exists in both
//! languages, placeholders agree, and every audit action has a label.

use std::collections::HashSet;

use atende::domain::audit::ACTIONS;
use atende::i18n::{self, Locale, t};

const PREFIXES: &[&str] = &[
    "menu", "action", "flash", "desk", "conv", "ev", "presence", "transfer", "live", "form", "list", "pager", "f",
    "status", "val", "err", "login", "setup", "home", "account", "team", "role", "perm", "channel", "tag", "cf", "reg",
    "user", "admin", "audit", "backup", "wd", "confirm", "ws",
];

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("catalog.rs") {
            out.push(p);
        }
    }
}

fn literals(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find('"') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('"') else { break };
        let lit = &after[..j];
        let is_key = lit.contains('.')
            && lit.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
            && PREFIXES.contains(&lit.split('.').next().unwrap_or(""))
            && !lit.ends_with('.');
        if is_key {
            out.push(lit.to_string());
        }
        rest = &after[j + 1..];
    }
    out
}

#[test]
fn every_key_used_in_the_code_exists() {
    let mut files = Vec::new();
    rust_files(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut files);
    let actions: HashSet<&str> = ACTIONS.iter().copied().collect();
    let mut missing = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for key in literals(&src) {
            if !actions.contains(key.as_str()) && !i18n::has(&key) {
                missing.push(format!("{}: {key}", f.display()));
            }
        }
    }
    assert!(missing.is_empty(), "keys missing from the catalog:\n{}", missing.join("\n"));
}

#[test]
fn every_audit_action_has_a_label() {
    for a in ACTIONS {
        assert!(i18n::has(&format!("audit.{a}")), "audit.{a}");
    }
}

#[test]
fn both_languages_are_complete_and_agree_on_placeholders() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/i18n/catalog");
    let mut src = String::new();
    for f in std::fs::read_dir(dir).unwrap() {
        src.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    let keys = literals(&src);
    let mut seen = HashSet::new();
    for k in &keys {
        assert!(seen.insert(k.clone()), "duplicate key {k}");
        let key = i18n::catalog_key(k).unwrap();
        let (pt, en) = (t(Locale::PtBr, key), t(Locale::En, key));
        assert!(!pt.is_empty() && !en.is_empty(), "{k}");
        assert_eq!(pt.matches("{}").count(), en.matches("{}").count(), "{k}");
    }
    assert!(keys.len() > 150);
}
