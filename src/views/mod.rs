//! maud views: functions from domain values to HTML. Views never touch the
//! database; everything they show arrives as arguments and is escaped.

pub mod account;
pub mod admin;
pub mod auth;
pub mod contacts;
pub mod desk;
pub mod forms;
pub mod labels;
pub mod layout;
pub mod registers;
pub mod tasks;
pub mod transcript;
pub mod workbench;

/// Formats a unix time in the business time zone as "dd/mm/aaaa hh:mm".
pub fn datetime(ts: i64, tz: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_second(ts) {
        Ok(t) => t.to_zoned(tz.clone()).strftime("%d/%m/%Y %H:%M").to_string(),
        Err(_) => String::new(),
    }
}
