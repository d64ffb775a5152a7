//! Section 1 of the reports bench: a year of a busy desk written straight
//! into SQLite in the current schema, in one transaction.
//!
//! Each conversation's timeline is drawn first (created, the customer's
//! message, declines and expired offers, the accept, answers, transfers,
//! the close with or without the closing script, manual and scheduled
//! reopens), cut at now, and fed line by line through the library's own
//! `metrics::meaning` + `metrics::step` (what `insert_message` does live),
//! which gives the facts and the conversation's cycle columns. Lines and
//! facts of all conversations are then written in time order (ids
//! interleave as in life), the schema's triggers keep previews, counters and
//! the text index, and `metrics::replay::rollup` builds `metric_days`,
//! `metric_hours` and `metric_reasons` from the facts.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::time::Instant;

use atende::db::{self, Db, DbOptions};
use atende::domain::auth;
use atende::domain::metrics::{self, Fact, Happened, Track};
use atende::domain::users::{self, Role, UserInput};
use rusqlite::{Connection, params};

use crate::common::{PW, R, err, now_secs};
use crate::names::{self, Rng};

/// The administrator the bench logs in as.
pub const ADMIN: &str = "admin-rel@bench.local";
/// Agents per team (10 teams, 200 agents).
const PER_TEAM: usize = 20;
/// Of each team, the first `EARLY` work 08–17, the others 12–21.
const EARLY: usize = 12;

/// A queue: team index, channel, whether finishing asks the closing script.
pub struct Queue {
    pub id: i64,
    pub team: usize,
    pub team_id: i64,
    pub channel: &'static str,
    pub scripted: bool,
}

pub struct Agent {
    pub id: i64,
    pub name: String,
}

/// What the seed made, and the ids the pages ask for.
pub struct Seeded {
    pub teams: Vec<i64>,
    pub queues: Vec<Queue>,
    pub agents: Vec<Agent>,
    pub first_day: jiff::civil::Date,
    pub today: jiff::civil::Date,
    pub conversations: i64,
    pub messages: i64,
    pub facts: i64,
    pub contacts: i64,
    pub spans: i64,
    pub pauses: i64,
    pub reopen_lines: i64,
    pub day_rows: i64,
    /// A conversation started in the middle of the year (the deep page).
    pub mid_id: i64,
    /// The oldest conversation of the period.
    pub first_id: i64,
    pub size_bytes: u64,
    pub secs: f64,
    pub rollup_secs: f64,
    /// Received facts = received_n of metric_days = received_n of metric_hours.
    pub check: (i64, i64, i64),
}

/// Who wrote a line.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    Nobody,
    Customer,
    Agent(usize),
    Admin,
}

/// One timeline line and the conversation's state right after it.
struct Line {
    at: i64,
    kind: &'static str,
    who: Who,
    body: &'static str,
    status: &'static str,
    agent: Option<usize>,
    queue: usize,
    /// The closing script of a close: (reason index, resolved).
    script: Option<(usize, bool)>,
    /// A scheduled reopening: when.
    reopen_at: Option<i64>,
}

/// A line waiting for its turn in time order.
struct Pending {
    at: i64,
    seq: u64,
    conv: i64,
    kind: &'static str,
    who: Who,
    body: &'static str,
    name: std::rc::Rc<str>,
    queue: usize,
    facts: Vec<Fact>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

struct Setup {
    queues: Vec<Queue>,
    agents: Vec<Agent>,
    /// Per team: agent indexes, early shift, late shift.
    team_agents: Vec<Vec<usize>>,
    early: Vec<Vec<usize>>,
    late: Vec<Vec<usize>>,
    /// Per team and channel: the queue index.
    queue_of: Vec<[usize; 3]>,
    reasons: Vec<i64>,
    admin: i64,
}

impl Setup {
    fn pick(&self, rng: &mut Rng, team: usize, hour: i64, not: Option<usize>) -> usize {
        let list = match hour {
            8..=11 => &self.early[team],
            12..=16 => &self.team_agents[team],
            17..=20 => &self.late[team],
            _ => &self.team_agents[team],
        };
        for _ in 0..8 {
            let a = list[rng.below(list.len())];
            if Some(a) != not {
                return a;
            }
        }
        list[0]
    }
}

/// Draws one conversation's timeline (not yet cut at now).
fn timeline(rng: &mut Rng, s: &Setup, created: i64, hour: i64, q0: usize) -> (Vec<Line>, Option<usize>) {
    let mut q = q0;
    let ch = s.queues[q].channel;
    let (wait_mean, fr_mean, gap_mean, close_max) = match ch {
        "email" => (1800.0, 900.0, 3600.0, 7200),
        "whatsapp" => (60.0, 45.0, 120.0, 900),
        _ => (35.0, 30.0, 60.0, 600),
    };
    let load = 0.5 + names::HOURLY[hour.clamp(0, 23) as usize] / 3.6;
    let mut v: Vec<Line> = Vec::with_capacity(8);
    let mut t = created;
    let line =
        |at: i64,
         kind: &'static str,
         who: Who,
         body: &'static str,
         status: &'static str,
         agent: Option<usize>,
         queue: usize| Line { at, kind, who, body, status, agent, queue, script: None, reopen_at: None };
    let team = s.queues[q].team;
    let close = |rng: &mut Rng, v: &mut Vec<Line>, at: i64, a: usize, q: usize| {
        let (body, status, script) = if s.queues[q].scripted {
            let resolved = rng.chance(0.78);
            let reason = rng.weighted(&[0.25, 0.2, 0.08, 0.12, 0.1, 0.08, 0.1, 0.07]);
            let body = if resolved { "ev.finished_resolved" } else { "ev.finished_unresolved" };
            (body, "finished", Some((reason, resolved)))
        } else if rng.chance(0.12) {
            ("ev.archived", "archived", None)
        } else {
            ("ev.finished", "finished", None)
        };
        let mut l = line(at, "system", Who::Agent(a), body, status, Some(a), q);
        l.script = script;
        v.push(l);
        status
    };

    if rng.chance(0.03) {
        // An agent starts it (Iniciar conversa).
        let a = s.pick(rng, team, hour, None);
        v.push(line(t, "system", Who::Agent(a), "ev.started_out", "assigned", Some(a), q));
        v.push(line(t, "out", Who::Agent(a), names::AGENT[rng.below(10)], "assigned", Some(a), q));
        t += rng.exp(gap_mean * 3.0).max(10);
        v.push(line(t, "in", Who::Customer, names::CUSTOMER[rng.below(12)], "assigned", Some(a), q));
        t += rng.exp(fr_mean).max(5);
        v.push(line(t, "out", Who::Agent(a), names::AGENT[rng.below(10)], "assigned", Some(a), q));
        t += rng.range(60, close_max);
        close(rng, &mut v, t, a, q);
        return (v, Some(a));
    }
    v.push(line(t, "system", Who::Nobody, "ev.created", "queued", None, q));
    v.push(line(t, "in", Who::Customer, names::CUSTOMER[rng.below(12)], "queued", None, q));
    let wait = rng.exp(wait_mean * load).max(3);
    if rng.chance(0.07) {
        // Lost in the queue: nobody took it; closed by the administrator.
        if rng.chance(0.4) {
            t += rng.range(10, 120);
            v.push(line(t, "in", Who::Customer, names::CUSTOMER[rng.below(12)], "queued", None, q));
        }
        t = t.max(created + wait * 4 + rng.range(120, 1800));
        v.push(line(t, "system", Who::Admin, "ev.finished", "finished", None, q));
        return (v, None);
    }
    if rng.chance(0.06) {
        t += wait / 3;
        let d = s.pick(rng, team, hour, None);
        v.push(line(t, "system", Who::Agent(d), "ev.declined", "queued", None, q));
    }
    if rng.chance(0.04) {
        t += wait / 3;
        let d = s.pick(rng, team, hour, None);
        v.push(line(t, "system", Who::Agent(d), "ev.offer_expired", "queued", None, q));
    }
    t = t.max(created + wait);
    let mut a = s.pick(rng, team, hour, None);
    v.push(line(t, "system", Who::Agent(a), "ev.accepted", "assigned", Some(a), q));
    if rng.chance(0.04) {
        // Abandoned: taken, never answered.
        t += rng.range(300, 1800);
        v.push(line(t, "system", Who::Agent(a), "ev.archived", "archived", Some(a), q));
        return (v, None);
    }
    t += rng.exp(fr_mean).max(5);
    v.push(line(t, "out", Who::Agent(a), names::AGENT[rng.below(10)], "assigned", Some(a), q));
    let u = rng.f();
    let k = if u < 0.9 {
        0
    } else if u < 0.98 {
        1
    } else {
        2
    };
    for _ in 0..k {
        t += rng.exp(gap_mean).max(5);
        v.push(line(t, "in", Who::Customer, names::CUSTOMER[rng.below(12)], "assigned", Some(a), q));
        t += rng.exp(fr_mean).max(5);
        v.push(line(t, "out", Who::Agent(a), names::AGENT[rng.below(10)], "assigned", Some(a), q));
    }
    if rng.chance(0.025) {
        let b = s.pick(rng, team, hour, Some(a));
        t += rng.range(30, 300);
        v.push(line(t, "system", Who::Agent(a), "ev.transferred_agent", "assigned", Some(b), q));
        a = b;
        t += rng.exp(fr_mean).max(5);
        v.push(line(t, "out", Who::Agent(a), names::AGENT[rng.below(10)], "assigned", Some(a), q));
    } else if rng.chance(0.01) {
        let other = (team + 1 + rng.below(names::TEAMS.len() - 1)) % names::TEAMS.len();
        let ci = names::CHANNELS.iter().position(|c| c.0 == ch).unwrap_or(0);
        let q2 = s.queue_of[other][ci];
        t += rng.range(30, 300);
        v.push(line(t, "system", Who::Agent(a), "ev.transferred_team", "queued", None, q2));
        q = q2;
        t += rng.exp(wait_mean * load).max(3);
        a = s.pick(rng, other, hour, None);
        v.push(line(t, "system", Who::Agent(a), "ev.accepted", "assigned", Some(a), q));
        t += rng.exp(fr_mean).max(5);
        v.push(line(t, "out", Who::Agent(a), names::AGENT[rng.below(10)], "assigned", Some(a), q));
    }
    t += rng.range(60, close_max);
    let closed = close(rng, &mut v, t, a, q);
    if rng.chance(0.04) {
        if rng.chance(0.4) {
            // Reopened by hand into the agent's list.
            t += rng.range(3600, 10 * 86_400);
            v.push(line(t, "system", Who::Agent(a), "ev.reopened", "assigned", Some(a), q));
        } else {
            // Scheduled for later; the scheduler reopens it into the agent's list.
            t += rng.range(10, 300);
            let at = t + rng.range(3600, 14 * 86_400);
            let mut l = line(t, "system", Who::Agent(a), "ev.reopen_scheduled", closed, Some(a), q);
            l.reopen_at = Some(at);
            v.push(l);
            t = at;
            v.push(line(t, "system", Who::Nobody, "ev.reopened_scheduled", "assigned", Some(a), q));
        }
        t += rng.exp(fr_mean * 4.0).max(5);
        v.push(line(t, "out", Who::Agent(a), names::AGENT[rng.below(10)], "assigned", Some(a), q));
        t += rng.range(60, close_max);
        close(rng, &mut v, t, a, q);
    }
    (v, None)
}

/// The final columns of a conversation after its (cut) timeline, and its
/// facts per line, from the library's own step function.
struct Conv {
    status: &'static str,
    agent: Option<usize>,
    queue: usize,
    queued_at: i64,
    closed_at: Option<i64>,
    last_at: i64,
    script: Option<(usize, bool)>,
    reopen: Option<(i64, usize)>,
    track: Track,
    facts: Vec<Vec<Fact>>,
}

fn replay(s: &Setup, lines: &[Line], created: i64) -> Conv {
    let mut c = Conv {
        status: "queued",
        agent: None,
        queue: lines[0].queue,
        queued_at: created,
        closed_at: None,
        last_at: created,
        script: None,
        reopen: None,
        track: Track::default(),
        facts: Vec::with_capacity(lines.len()),
    };
    for l in lines {
        let author = who_id(s, l.who);
        let agent = l.agent.map(|a| s.agents[a].id).unwrap_or(0);
        let facts = match metrics::meaning(l.kind, l.body, author) {
            Some(mut h) => {
                if let Happened::Reopened { to_agent } = &mut h {
                    *to_agent = l.status == "assigned";
                }
                metrics::step(&mut c.track, h, l.at, agent, author.unwrap_or(0))
            }
            None => Vec::new(),
        };
        c.facts.push(facts);
        if l.status == "queued" && c.status != "queued" {
            c.queued_at = l.at;
        }
        match l.body {
            "ev.finished" | "ev.finished_resolved" | "ev.finished_unresolved" | "ev.archived" => {
                c.closed_at = Some(l.at);
                c.script = l.script;
            }
            "ev.reopened" | "ev.reopened_scheduled" => {
                c.closed_at = None;
                c.reopen = None;
            }
            "ev.reopen_scheduled" => c.reopen = l.reopen_at.zip(l.agent),
            _ => {}
        }
        c.status = l.status;
        c.agent = l.agent;
        c.queue = l.queue;
        c.last_at = l.at;
    }
    c
}

fn who_id(s: &Setup, w: Who) -> Option<i64> {
    match w {
        Who::Agent(a) => Some(s.agents[a].id),
        Who::Admin => Some(s.admin),
        Who::Nobody | Who::Customer => None,
    }
}

/// Start of a local day, unix seconds.
fn day_start(tz: &jiff::tz::TimeZone, d: jiff::civil::Date) -> R<i64> {
    Ok(d.to_zoned(tz.clone()).map_err(err)?.timestamp().as_second())
}

/// How many conversations start in each local hour of the period: the
/// weekday, hour and month curves times a slow growth, the exact total.
fn slots(tz: &jiff::tz::TimeZone, first: jiff::civil::Date, days: i64, now: i64, n: i64) -> R<Vec<(i64, i64, i64)>> {
    let mut w = Vec::with_capacity(days as usize * 24);
    let mut d = first;
    for i in 0..days {
        let start = day_start(tz, d)?;
        let wd = d.weekday().to_monday_zero_offset() as usize;
        let f = names::WEEKDAY[wd] * names::MONTHLY[(d.month() - 1) as usize] * (0.85 + 0.3 * i as f64 / days as f64);
        for (h, hw) in names::HOURLY.iter().enumerate() {
            let a = start + h as i64 * 3600;
            let len = (now - a).clamp(0, 3600);
            if len > 0 {
                w.push((a, len, f * hw * len as f64 / 3600.0));
            }
        }
        d = d.tomorrow().map_err(err)?;
    }
    let total: f64 = w.iter().map(|x| x.2).sum();
    let (mut cum, mut given) = (0.0, 0i64);
    Ok(w.into_iter()
        .map(|(a, len, x)| {
            cum += x;
            let upto = ((cum / total) * n as f64).round() as i64;
            let c = upto - given;
            given = upto;
            (a, len, c)
        })
        .collect())
}

fn base(conn: &Connection, now: i64) -> R<Setup> {
    let hash = auth::hash_password(PW).map_err(err)?;
    let admin = crate::common::seed::insert_admin(conn, ADMIN, &hash, now).map_err(err)?;
    let mut teams = Vec::new();
    for t in names::TEAMS {
        conn.execute("INSERT INTO teams (name, created_at) VALUES (?1, ?2)", params![t, now - 400 * 86_400])
            .map_err(err)?;
        teams.push(conn.last_insert_rowid());
    }
    let mut queues = Vec::new();
    let mut queue_of = Vec::new();
    for (ti, t) in names::TEAMS.iter().enumerate() {
        let mut of = [0usize; 3];
        for (ci, &(code, label, _)) in names::CHANNELS.iter().enumerate() {
            // Two teams in three finish with the closing script.
            let scripted = (ti + ci) % 3 != 0;
            conn.execute(
                "INSERT INTO queues (name, channel, team_id, closing_script_required, offer_timeout_secs, agent_capacity, created_at)
                 VALUES (?1, ?2, ?3, ?4, 30, 5, ?5)",
                params![format!("{t} · {label}"), code, teams[ti], scripted, now - 400 * 86_400],
            )
            .map_err(err)?;
            of[ci] = queues.len();
            queues.push(Queue { id: conn.last_insert_rowid(), team: ti, team_id: teams[ti], channel: code, scripted });
        }
        queue_of.push(of);
    }
    let mut reasons = Vec::new();
    for r in names::CLOSING_REASONS {
        conn.execute("INSERT INTO closing_reasons (name, created_at) VALUES (?1, ?2)", params![r, now]).map_err(err)?;
        reasons.push(conn.last_insert_rowid());
    }
    for (r, m) in names::PAUSE_REASONS {
        conn.execute(
            "INSERT INTO pause_reasons (name, limit_minutes, created_at) VALUES (?1, ?2, ?3)",
            params![r, m, now],
        )
        .map_err(err)?;
    }
    for t in names::TAGS {
        conn.execute("INSERT INTO tags (name, scope, created_at) VALUES (?1, 'conversation', ?2)", params![t, now])
            .map_err(err)?;
    }
    let mut agents = Vec::new();
    let (mut team_agents, mut early, mut late) =
        (vec![Vec::new(); teams.len()], vec![Vec::new(); teams.len()], vec![Vec::new(); teams.len()]);
    let mut connect = conn.prepare("INSERT INTO queue_connections (user_id, queue_id) VALUES (?1, ?2)").map_err(err)?;
    for i in 0..teams.len() * PER_TEAM {
        let team = i / PER_TEAM;
        let name = names::agent_name(i);
        let u = UserInput {
            name: name.clone(),
            login: format!("agente{i:03}@bench.local"),
            role: Role::Agent,
            access_group_id: None,
            team_ids: vec![teams[team]],
            password: None,
        };
        let id = users::insert(conn, &u, &hash, now - 400 * 86_400).map_err(err)?;
        for q in queues.iter().filter(|q| q.team == team) {
            connect.execute([id, q.id]).map_err(err)?;
        }
        team_agents[team].push(agents.len());
        if i % PER_TEAM < EARLY {
            early[team].push(agents.len())
        } else {
            late[team].push(agents.len())
        }
        agents.push(Agent { id, name });
    }
    Ok(Setup { queues, agents, team_agents, early, late, queue_of, reasons, admin })
}

/// Presence spans and pauses: each agent works Monday to Friday and every
/// other Saturday, an early (08h) or late (12h) shift, with a coffee break,
/// lunch and sometimes a short pause. The state at now is agent_presence.
fn presence(
    conn: &Connection,
    s: &Setup,
    tz: &jiff::tz::TimeZone,
    first: jiff::civil::Date,
    days: i64,
    now: i64,
    rng: &mut Rng,
) -> R<(i64, i64)> {
    let reasons: Vec<(i64, String, i64)> = conn
        .prepare("SELECT id, name, limit_minutes FROM pause_reasons ORDER BY id")
        .map_err(err)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let mut span = conn
        .prepare("INSERT INTO presence_spans (user_id, status, started_at, ended_at) VALUES (?1, ?2, ?3, ?4)")
        .map_err(err)?;
    let mut pause = conn
        .prepare(
            "INSERT INTO pauses (user_id, reason_id, reason_name, previous, started_at, limit_secs, limit_at, ended_at,
               ended_by, end_reason, flagged_at, exceeded_by)
             VALUES (?1, ?2, ?3, 'ready', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .map_err(err)?;
    let mut current =
        conn.prepare("INSERT INTO agent_presence (user_id, status, since) VALUES (?1, ?2, ?3)").map_err(err)?;
    let (mut n_spans, mut n_pauses) = (0i64, 0i64);
    for (i, a) in s.agents.iter().enumerate() {
        let shift = if i % PER_TEAM < EARLY { 8 } else { 12 };
        // (status, since, pause reason index)
        let mut moves: Vec<(&str, i64, Option<usize>)> = vec![("not_ready", day_start(tz, first)?, None)];
        let mut d = first;
        for k in 0..days {
            let wd = d.weekday().to_monday_zero_offset();
            let works = wd < 5 || (wd == 5 && (k / 7 + i as i64) % 2 == 0);
            if works {
                let login = day_start(tz, d)? + shift * 3600 + rng.range(-600, 900);
                let coffee = login + rng.range(90, 150) * 60;
                let coffee_end = coffee + rng.range(10, 22) * 60;
                let lunch = login + rng.range(220, 260) * 60;
                let lunch_end = lunch + rng.range(50, 75) * 60;
                moves.push(("ready", login, None));
                moves.push(("paused", coffee, Some(0)));
                moves.push(("ready", coffee_end, None));
                moves.push(("paused", lunch, Some(1)));
                moves.push(("ready", lunch_end, None));
                if rng.chance(0.4) {
                    let p = lunch_end + rng.range(90, 150) * 60;
                    moves.push(("paused", p, Some(2)));
                    moves.push(("ready", p + rng.range(5, 14) * 60, None));
                }
                moves.push(("not_ready", login + 9 * 3600 + rng.range(-900, 900), None));
            }
            d = d.tomorrow().map_err(err)?;
        }
        moves.retain(|m| m.1 <= now);
        for w in moves.windows(2) {
            let ((st, from, reason), (_, to, _)) = (w[0], w[1]);
            span.execute(params![a.id, st, from, to]).map_err(err)?;
            n_spans += 1;
            if let Some(r) = reason {
                let (rid, name, min) = &reasons[r];
                let limit = min * 60;
                let over = (to - from - limit).max(0);
                pause
                    .execute(params![
                        a.id,
                        rid,
                        name,
                        from,
                        limit,
                        from + limit,
                        to,
                        a.id,
                        "agent",
                        (over > 0).then_some(from + limit),
                        (over > 0).then_some(over)
                    ])
                    .map_err(err)?;
                n_pauses += 1;
            }
        }
        if let Some(&(st, since, reason)) = moves.last() {
            current.execute(params![a.id, st, since]).map_err(err)?;
            if let Some(r) = reason {
                let (rid, name, min) = &reasons[r];
                pause
                    .execute(params![
                        a.id,
                        rid,
                        name,
                        since,
                        min * 60,
                        since + min * 60,
                        None::<i64>,
                        None::<i64>,
                        None::<String>,
                        None::<i64>,
                        None::<i64>
                    ])
                    .map_err(err)?;
                n_pauses += 1;
            }
        }
    }
    Ok((n_spans, n_pauses))
}

/// Seeds `n` conversations over the 12 months before now into `data`.
pub fn seed(data: &Path, n: i64) -> R<Seeded> {
    let t0 = Instant::now();
    let path = data.join("atende.db");
    // The library creates the file in the binary's schema.
    Db::open(&path, DbOptions::default()).map_err(err)?.close();
    let conn = db::open_rw(&path).map_err(err)?;
    conn.execute_batch(
        "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY;",
    )
    .map_err(err)?;
    let now = now_secs();
    let tz = metrics::business_tz(&conn).map_err(err)?;
    let today = jiff::Timestamp::from_second(now).map_err(err)?.to_zoned(tz.clone()).date();
    let first_day = today.checked_sub(jiff::Span::new().years(1)).map_err(err)?;
    let days = (today - first_day).get_days() as i64 + 1;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
    let s = base(&conn, now)?;
    let mut rng = Rng(0x5EED_2026_0014);
    let slots = slots(&tz, first_day, days, now, n)?;
    let mid_at = day_start(&tz, first_day)? + (now - day_start(&tz, first_day)?) / 2;
    let (mut mid_id, mut first_id) = (0i64, 0i64);
    let (mut messages, mut facts, mut reopen_lines) = (0i64, 0i64, 0i64);
    let mut contacts: Vec<(i64, std::rc::Rc<str>)> = Vec::with_capacity(n as usize * 6 / 10);
    {
        let mut contact = conn
            .prepare(
                "INSERT INTO contacts (name, phone, phone_rev, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )
            .map_err(err)?;
        let mut conv = conn
            .prepare(
                "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, agent_id, queued_at, created_at,
                   last_activity_at, closed_at, page_url, closing_reason_id, resolved, reopen_at, reopen_agent_id,
                   started_by, cycle, cycle_started_at, waiting_since, wait_secs, first_assigned_at, first_response_at,
                   awaiting_since, last_closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                   ?22, ?23, ?24)",
            )
            .map_err(err)?;
        let mut tag =
            conn.prepare("INSERT INTO conversation_tags (conversation_id, tag_id) VALUES (?1, ?2)").map_err(err)?;
        let tags: Vec<i64> = conn
            .prepare("SELECT id FROM tags ORDER BY id")
            .map_err(err)?
            .query_map([], |r| r.get(0))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let mut msg = conn
            .prepare(
                "INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        let mut fact = conn
            .prepare(
                "INSERT INTO metric_facts (conversation_id, kind, at, day, queue_id, team_id, agent_id, channel, secs, hour)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(err)?;
        let mut heap: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
        let mut seq = 0u64;
        let empty: std::rc::Rc<str> = std::rc::Rc::from("");
        let mut emit = |p: Pending| -> R<()> {
            let author = who_id(&s, p.who);
            let name: &str = match p.who {
                Who::Agent(a) => &s.agents[a].name,
                Who::Admin => "Admin",
                Who::Customer => &p.name,
                Who::Nobody => "",
            };
            msg.execute(params![p.conv, p.kind, author, name, p.body, p.at]).map_err(err)?;
            messages += 1;
            if p.body.starts_with("ev.reopen") && p.body.ends_with("scheduled") {
                reopen_lines += 1;
            }
            if !p.facts.is_empty() {
                let (day, hour) = metrics::business_hour(&tz, p.at);
                let q = &s.queues[p.queue];
                for f in &p.facts {
                    fact.execute(params![p.conv, f.kind, p.at, day, q.id, q.team_id, f.agent, q.channel, f.secs, hour])
                        .map_err(err)?;
                    facts += 1;
                }
            }
            Ok(())
        };
        let team_w: Vec<f64> = names::TEAM_WEIGHT.to_vec();
        let chan_w: Vec<f64> = names::CHANNELS.iter().map(|c| c.2).collect();
        let mut offsets = Vec::new();
        for (slot_at, len, count) in slots {
            offsets.clear();
            offsets.extend((0..count).map(|_| rng.range(0, len - 1)));
            offsets.sort_unstable();
            let hour = metrics::business_hour(&tz, slot_at).1;
            for off in &offsets {
                let created = slot_at + off;
                while heap.peek().is_some_and(|p| p.0.at <= created) {
                    if let Some(Reverse(p)) = heap.pop() {
                        emit(p)?;
                    }
                }
                let q = s.queue_of[rng.weighted(&team_w)][rng.weighted(&chan_w)];
                let (mut lines, started_by) = timeline(&mut rng, &s, created, hour, q);
                lines.retain(|l| l.at <= now);
                let c = replay(&s, &lines, created);
                let (contact_id, cname) = if !contacts.is_empty() && rng.chance(0.4) {
                    contacts[rng.below(contacts.len())].clone()
                } else {
                    let (name, phone, email) = names::contact(&mut rng, contacts.len());
                    contact
                        .execute(params![name, phone, atende::phone::rev_key(&phone), email, created])
                        .map_err(err)?;
                    let entry = (conn.last_insert_rowid(), std::rc::Rc::from(name.as_str()));
                    contacts.push(entry.clone());
                    entry
                };
                let queue = &s.queues[c.queue];
                let subject = if queue.channel == "email" { names::SUBJECTS[rng.below(6)] } else { "" };
                let page = if queue.channel == "webchat" { "https://loja.example.com.br/pedidos" } else { "" };
                let t = &c.track;
                conv.execute(params![
                    queue.id,
                    contact_id,
                    queue.channel,
                    subject,
                    c.status,
                    c.agent.map(|a| s.agents[a].id),
                    c.queued_at,
                    created,
                    c.last_at,
                    c.closed_at,
                    page,
                    c.script.map(|(r, _)| s.reasons[r]),
                    c.script.map(|(_, ok)| ok),
                    c.reopen.map(|r| r.0),
                    c.reopen.map(|r| s.agents[r.1].id),
                    started_by.map(|a| s.agents[a].id),
                    t.cycle,
                    t.cycle_started_at,
                    t.waiting_since,
                    t.wait_secs,
                    t.first_assigned_at,
                    t.first_response_at,
                    t.awaiting_since,
                    t.last_closed_at
                ])
                .map_err(err)?;
                let id = conn.last_insert_rowid();
                if first_id == 0 {
                    first_id = id;
                }
                if mid_id == 0 && created >= mid_at {
                    mid_id = id;
                }
                if rng.chance(0.12) {
                    tag.execute([id, tags[rng.below(tags.len())]]).map_err(err)?;
                }
                for (l, f) in lines.into_iter().zip(c.facts) {
                    seq += 1;
                    let name = if l.who == Who::Customer { cname.clone() } else { empty.clone() };
                    heap.push(Reverse(Pending {
                        at: l.at,
                        seq,
                        conv: id,
                        kind: l.kind,
                        who: l.who,
                        body: l.body,
                        name,
                        queue: l.queue,
                        facts: f,
                    }));
                }
            }
        }
        while let Some(Reverse(p)) = heap.pop() {
            emit(p)?;
        }
    }
    // The open conversations' agents have read them.
    conn.execute(
        "UPDATE conversations SET agent_read_id = (SELECT max(id) FROM messages m WHERE m.conversation_id = conversations.id)
         WHERE status = 'assigned'",
        [],
    )
    .map_err(err)?;
    let (spans, pauses) = presence(&conn, &s, &tz, first_day, days, now, &mut rng)?;
    let pending: i64 = conn.query_row("SELECT count(*) FROM metric_backfill", [], |r| r.get(0)).map_err(err)?;
    if pending != 0 {
        return Err("a fresh database asks for the metrics backfill".into());
    }
    let tr = Instant::now();
    metrics::replay::rollup(&conn).map_err(err)?;
    let rollup_secs = tr.elapsed().as_secs_f64();
    conn.execute_batch("COMMIT").map_err(err)?;
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(err);
    let check = (
        count("SELECT count(*) FROM metric_facts WHERE kind = 'received'")?,
        count("SELECT coalesce(sum(received_n), 0) FROM metric_days")?,
        count("SELECT coalesce(sum(received_n), 0) FROM metric_hours")?,
    );
    let seeded = Seeded {
        teams: s.queues.iter().map(|q| q.team_id).fold(Vec::new(), |mut v, t| {
            if !v.contains(&t) {
                v.push(t)
            }
            v
        }),
        conversations: count("SELECT count(*) FROM conversations")?,
        messages,
        facts,
        contacts: contacts.len() as i64,
        spans,
        pauses,
        reopen_lines,
        day_rows: count("SELECT count(*) FROM metric_days")?,
        mid_id,
        first_id,
        first_day,
        today,
        check,
        size_bytes: 0,
        secs: 0.0,
        rollup_secs,
        queues: s.queues,
        agents: s.agents,
    };
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);").map_err(err)?;
    conn.close().map_err(|(_, e)| err(e))?;
    let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(Seeded { size_bytes, secs: t0.elapsed().as_secs_f64(), ..seeded })
}
