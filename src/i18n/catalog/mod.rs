//! Every UI string as (key, pt-BR, en), one file per area so that each area's
//! strings are read (and changed) together. Keep keys sorted by area within a file.

mod base;
mod desk;
mod email;
mod email_templates;
mod faults;
mod forms;
mod indicators;
mod reports;
mod routing;
mod security;
mod supervision;
mod wa_templates;
mod whatsapp;
mod widget;
mod workspace;

/// All parts of the catalog; a key must appear in exactly one.
pub static PARTS: &[&[(&str, &str, &str)]] = &[
    base::ENTRIES,
    desk::ENTRIES,
    email::ENTRIES,
    email_templates::ENTRIES,
    faults::ENTRIES,
    forms::ENTRIES,
    indicators::ENTRIES,
    reports::ENTRIES,
    routing::ENTRIES,
    security::ENTRIES,
    supervision::ENTRIES,
    whatsapp::ENTRIES,
    wa_templates::ENTRIES,
    widget::ENTRIES,
    workspace::ENTRIES,
];
