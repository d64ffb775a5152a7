//! Business settings: name, time zone, default language, business hours.

use rusqlite::{Connection, params};

use super::validate::{self, FormErrors, Input};
use super::{Actor, audit};
use crate::db::Db;
use crate::error::AppResult;
use crate::i18n::Locale;

/// Opening hours of one weekday.
#[derive(Clone, Debug, PartialEq)]
pub struct DayHours {
    /// Open at all that day.
    pub open: bool,
    /// Opening time "HH:MM".
    pub opens: String,
    /// Closing time "HH:MM".
    pub closes: String,
}

/// The business settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Shown in the UI and on transcripts.
    pub business_name: String,
    /// IANA time zone, e.g. America/Sao_Paulo.
    pub time_zone: String,
    /// Default UI language.
    pub locale: Locale,
    /// Monday..Sunday.
    pub hours: Vec<DayHours>,
    /// Largest attachment, MB.
    pub attach_file_mb: i64,
    /// Most attachment bytes in one conversation, MB.
    pub attach_conversation_mb: i64,
}

impl Settings {
    /// The business time zone (UTC if the stored name is somehow unknown).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// Brazil's time zones, first in the time zone select, with the cities
/// people know them by (proper names, the same in every language).
pub const BRAZIL_ZONES: &[(&str, &str)] = &[
    ("America/Sao_Paulo", "Brasília / São Paulo"),
    ("America/Manaus", "Manaus"),
    ("America/Belem", "Belém"),
    ("America/Fortaleza", "Fortaleza"),
    ("America/Recife", "Recife"),
    ("America/Bahia", "Salvador"),
    ("America/Cuiaba", "Cuiabá"),
    ("America/Campo_Grande", "Campo Grande"),
    ("America/Porto_Velho", "Porto Velho"),
    ("America/Boa_Vista", "Boa Vista"),
    ("America/Rio_Branco", "Rio Branco"),
    ("America/Noronha", "Fernando de Noronha"),
    ("America/Araguaina", "Araguaína"),
    ("America/Maceio", "Maceió"),
    ("America/Santarem", "Santarém"),
    ("America/Eirunepe", "Eirunepé"),
];

/// Every other zone of the time zone database, sorted (the select's second
/// group): region/city names plus UTC, without the `posix/` and `right/`
/// copies some systems install.
pub fn other_zones() -> &'static [String] {
    static ZONES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ZONES.get_or_init(|| {
        let mut v: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .filter(|n| {
                (n.contains('/') || n == "UTC")
                    && !n.starts_with("posix/")
                    && !n.starts_with("right/")
                    && !BRAZIL_ZONES.iter().any(|(z, _)| z == n)
            })
            .collect();
        v.sort();
        v.dedup();
        v
    })
}

/// The UTC offset of a zone now, as the select shows it ("UTC−03:00").
pub fn zone_offset(name: &str, now: i64) -> Option<String> {
    let tz = jiff::tz::TimeZone::get(name).ok()?;
    let ts = jiff::Timestamp::from_second(now).ok()?;
    let secs = tz.to_offset(ts).seconds();
    let sign = if secs < 0 { '−' } else { '+' };
    let a = secs.abs();
    Some(format!("UTC{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60))
}

/// Weekday catalog keys, Monday first.
pub const WEEKDAYS: [&str; 7] = ["wd.0", "wd.1", "wd.2", "wd.3", "wd.4", "wd.5", "wd.6"];

/// Reads the settings.
pub fn load(conn: &Connection) -> AppResult<Settings> {
    let (business_name, time_zone, locale, attach_file_mb, attach_conversation_mb): (String, String, String, i64, i64) =
        conn.prepare_cached(
            "SELECT business_name, time_zone, locale, attach_file_mb, attach_conversation_mb FROM settings WHERE id = 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
    let mut stmt = conn.prepare_cached("SELECT open, opens, closes FROM business_hours ORDER BY weekday")?;
    let hours = stmt
        .query_map([], |r| Ok(DayHours { open: r.get::<_, i64>(0)? == 1, opens: r.get(1)?, closes: r.get(2)? }))?
        .collect::<Result<_, _>>()?;
    Ok(Settings {
        business_name,
        time_zone,
        locale: Locale::from_code(&locale).unwrap_or_default(),
        hours,
        attach_file_mb,
        attach_conversation_mb,
    })
}

/// Validates the settings form; on failure returns the errors and what was typed.
pub fn parse(input: &Input) -> Result<Settings, (FormErrors, Settings)> {
    let mut errs = FormErrors::default();
    let business_name = validate::text(input, "business_name", true, 100, &mut errs);
    let time_zone = input.get("time_zone").to_string();
    if time_zone.is_empty() {
        errs.add("time_zone", "val.required");
    } else if jiff::tz::TimeZone::get(&time_zone).is_err() {
        errs.add("time_zone", "val.time_zone");
    }
    let locale = match Locale::from_code(input.get("locale")) {
        Some(l) => l,
        None => {
            errs.add("locale", "val.invalid_choice");
            Locale::PtBr
        }
    };
    const OPENS: [&str; 7] = ["opens0", "opens1", "opens2", "opens3", "opens4", "opens5", "opens6"];
    const CLOSES: [&str; 7] = ["closes0", "closes1", "closes2", "closes3", "closes4", "closes5", "closes6"];
    let mut hours = Vec::with_capacity(7);
    for d in 0..7 {
        let open = input.checked(&format!("open{d}"));
        let opens = validate::time(input, OPENS[d], &mut errs);
        let closes = validate::time(input, CLOSES[d], &mut errs);
        let (o, c) = (
            opens.unwrap_or_else(|| input.get(OPENS[d]).to_string()),
            closes.unwrap_or_else(|| input.get(CLOSES[d]).to_string()),
        );
        if open && errs.get(OPENS[d]).is_none() && errs.get(CLOSES[d]).is_none() {
            if o.is_empty() || c.is_empty() {
                errs.add(CLOSES[d], "val.both_times");
            } else if o >= c {
                errs.add(CLOSES[d], "val.closes_after_opens");
            }
        }
        hours.push(DayHours { open, opens: o, closes: c });
    }
    let attach_file_mb = validate::int(input, "attach_file_mb", 1, crate::domain::attachments::MAX_FILE_MB, &mut errs);
    let attach_conversation_mb = validate::int(input, "attach_conversation_mb", 1, 100_000, &mut errs);
    if errs.get("attach_conversation_mb").is_none() && attach_conversation_mb < attach_file_mb {
        errs.add("attach_conversation_mb", "val.conversation_below_file");
    }
    let s = Settings { business_name, time_zone, locale, hours, attach_file_mb, attach_conversation_mb };
    if errs.is_empty() { Ok(s) } else { Err((errs, s)) }
}

/// Saves the settings.
pub async fn save(db: &Db, s: Settings, actor: Actor) -> AppResult<()> {
    db.write(move |conn| {
        conn.prepare_cached(
            "UPDATE settings SET business_name = ?1, time_zone = ?2, locale = ?3, updated_at = ?4,
             attach_file_mb = ?5, attach_conversation_mb = ?6 WHERE id = 1",
        )?
        .execute(params![
            s.business_name,
            s.time_zone,
            s.locale.code(),
            actor.now,
            s.attach_file_mb,
            s.attach_conversation_mb
        ])?;
        let mut stmt =
            conn.prepare_cached("UPDATE business_hours SET open = ?1, opens = ?2, closes = ?3 WHERE weekday = ?4")?;
        for (d, h) in s.hours.iter().enumerate() {
            let (opens, closes) =
                if h.opens.is_empty() { ("08:00", "18:00") } else { (h.opens.as_str(), h.closes.as_str()) };
            stmt.execute(params![h.open as i64, opens, closes, d as i64])?;
        }
        // Keys are the form's field names: the audit page labels them.
        let detail = format!(
            "business_name={}; time_zone={}; locale={}; attach_file_mb={}; attach_conversation_mb={}",
            s.business_name,
            s.time_zone,
            s.locale.code(),
            s.attach_file_mb,
            s.attach_conversation_mb
        );
        audit::record(conn, &actor, "settings.update", "settings", &detail)?;
        Ok(())
    })
    .await
}
