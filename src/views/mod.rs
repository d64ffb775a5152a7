//! maud views: functions from domain values to HTML. Views never touch the
//! database; everything they show arrives as arguments and is escaped.

pub mod account;
pub mod admin;
pub mod auth;
pub mod contacts;
pub mod conversation;
pub mod desk;
pub mod email;
pub mod email_templates;
pub mod forms;
pub mod indicators;
pub mod labels;
pub mod layout;
pub mod registers;
pub mod reports;
pub mod supervision;
pub mod tasks;
pub mod transcript;
pub mod whatsapp;
pub mod workbench;
pub mod workspace;

pub use crate::i18n::datetime;

/// A list's time: "hh:mm" on the day of `now`, else "dd/mm" (business time zone).
pub fn short_time(ts: i64, now: i64, tz: &jiff::tz::TimeZone) -> String {
    let (Ok(a), Ok(b)) = (jiff::Timestamp::from_second(ts), jiff::Timestamp::from_second(now)) else {
        return String::new();
    };
    let (a, b) = (a.to_zoned(tz.clone()), b.to_zoned(tz.clone()));
    if a.date() == b.date() { a.strftime("%H:%M").to_string() } else { a.strftime("%d/%m").to_string() }
}
