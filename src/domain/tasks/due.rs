//! Due times of tasks: the quick picks, the date and time inputs of the form
//! and how due times read in texts, all in the business time zone.

use jiff::ToSpan;
use jiff::tz::TimeZone;

use crate::domain::validate::{FormErrors, Input};
use crate::error::{AppError, AppResult};

/// A quick pick of the due field, in the business time zone.
pub fn quick_due(pick: &str, now: i64, tz: &TimeZone) -> Option<i64> {
    let z = jiff::Timestamp::from_second(now).ok()?.to_zoned(tz.clone());
    let at9 = |d: jiff::civil::Date| d.at(9, 0, 0, 0).to_zoned(tz.clone()).ok().map(|z| z.timestamp().as_second());
    match pick {
        "1h" => Some(now + 3600),
        "tomorrow" => at9(z.date().tomorrow().ok()?),
        // Next Monday, 9:00.
        "nextweek" => {
            let d = z.date();
            let ahead = 7 - d.weekday().to_monday_zero_offset() as i64;
            at9(d.checked_add(ahead.days()).ok()?)
        }
        _ => None,
    }
}

/// The same wall-clock time one calendar day later in `tz` (DST-correct).
pub fn same_time_tomorrow(due_at: i64, tz: &TimeZone) -> AppResult<i64> {
    let z = jiff::Timestamp::from_second(due_at).map_err(AppError::internal)?.to_zoned(tz.clone());
    Ok(z.checked_add(1.day()).map_err(AppError::internal)?.timestamp().as_second())
}

/// A `datetime-local` value ("2026-11-22T14:30") in `tz` as unix seconds.
pub fn parse_local(s: &str, tz: &TimeZone) -> Option<i64> {
    let dt: jiff::civil::DateTime = s.parse().ok()?;
    Some(dt.to_zoned(tz.clone()).ok()?.timestamp().as_second())
}

/// The `datetime-local` value of `ts` in `tz`.
pub fn format_local(ts: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// The date and time inputs of the due control for `ts` in `tz`:
/// ("2026-11-22", "14:30").
pub fn due_fields(ts: i64, tz: &TimeZone) -> (String, String) {
    match jiff::Timestamp::from_second(ts) {
        Ok(t) => {
            let z = t.to_zoned(tz.clone());
            (z.strftime("%Y-%m-%d").to_string(), z.strftime("%H:%M").to_string())
        }
        Err(_) => (String::new(), String::new()),
    }
}

/// The quick picks of the due control, each with the date and time it fills
/// in: (pick code, date, time), computed in the business time zone.
pub fn quick_picks(now: i64, tz: &TimeZone) -> Vec<(&'static str, String, String)> {
    ["1h", "tomorrow", "nextweek"]
        .into_iter()
        .filter_map(|p| {
            let (d, t) = due_fields(quick_due(p, now, tz)?, tz);
            Some((p, d, t))
        })
        .collect()
}

/// A due time as texts show it ("22/11/2026 14:30"), in `tz`.
pub fn due_text(ts: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.to_zoned(tz.clone()).strftime("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default()
}

/// The due time of the form. What the person typed in the date and time
/// inputs is what is saved; a quick pick only fills those inputs in the page.
/// Without them, a `datetime-local` value (`due`) or a quick pick code
/// (`quick`) is accepted, for clients that post those.
pub(super) fn parse_due(input: &Input, now: i64, tz: &TimeZone, errs: &mut FormErrors) -> i64 {
    let (date, time) = (input.get("due_date"), input.get("due_time"));
    if !date.is_empty() || !time.is_empty() {
        let d = match date {
            "" => {
                errs.add("due_date", "forms.task.date_required");
                None
            }
            s => s.parse::<jiff::civil::Date>().ok().or_else(|| {
                errs.add("due_date", "forms.task.bad_date");
                None
            }),
        };
        let t = match time {
            "" => {
                errs.add("due_time", "forms.task.time_required");
                None
            }
            s => s.parse::<jiff::civil::Time>().ok().or_else(|| {
                errs.add("due_time", "forms.task.bad_time");
                None
            }),
        };
        return match (d, t) {
            (Some(d), Some(t)) => {
                d.to_datetime(t).to_zoned(tz.clone()).map(|z| z.timestamp().as_second()).unwrap_or_else(|_| {
                    errs.add("due_date", "task.bad_due");
                    0
                })
            }
            _ => 0,
        };
    }
    match (input.get("due"), input.get("quick")) {
        ("", "") => {
            errs.add("due_date", "val.required");
            0
        }
        ("", pick) => quick_due(pick, now, tz).unwrap_or_else(|| {
            errs.add("due_date", "val.invalid_choice");
            0
        }),
        (s, _) => parse_local(s, tz).unwrap_or_else(|| {
            errs.add("due_date", "task.bad_due");
            0
        }),
    }
}
