//! Metrics recorded when things happen (issue 14): every indicator of a
//! hand-built timeline through the real domain calls (decline, requeue,
//! transfer, replies, notes, a reopen, both kinds of abandonment), business
//! days in the business time zone, rollups equal to a recomputation from the
//! raw facts after random activity, the backfill equal to what was recorded
//! live, and an older database upgraded and backfilled from its timelines.

mod common;

use std::collections::BTreeMap;

use atende::domain::conversations::{self as conv, Closing, VisitorMessage};
use atende::domain::metrics::{self, KINDS, replay};
use atende::domain::registers::{self, Value};
use atende::domain::users::{Role, User};
use common::TestApp;
use rand::{Rng, SeedableRng};

async fn user(app: &TestApp, login: &str, teams: &[i64]) -> User {
    let id = app.user(login, Role::Agent, teams).await;
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

async fn visitor(app: &TestApp, q: i64, who: &str, text: &str) -> i64 {
    let token = atende::domain::auth::token_hash(who);
    let m = VisitorMessage { name: who.into(), text: text.into(), ..Default::default() };
    conv::visitor_message(&app.state, q, token, m).await.unwrap().0
}

async fn reason(app: &TestApp) -> i64 {
    let spec = registers::spec("encerramentos").unwrap();
    let mut v = registers::blank(spec);
    v[0] = Value::Text("Dúvida respondida".into());
    registers::create(&app.state.db, spec, v, app.actor()).await.unwrap()
}

/// The rollup of every kind, summed over all rows matching `filter`:
/// kind → (n, secs).
async fn totals(app: &TestApp, filter: &str) -> BTreeMap<&'static str, (i64, i64)> {
    let cols: Vec<String> =
        KINDS.iter().map(|k| format!("coalesce(sum({k}_n), 0), coalesce(sum({k}_secs), 0)")).collect();
    let sql = format!("SELECT {} FROM metric_days WHERE {filter}", cols.join(", "));
    let v: Vec<i64> = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(&sql, [], |r| {
                (0..KINDS.len() * 2).map(|i| r.get::<_, i64>(i)).collect::<Result<Vec<_>, _>>()
            })?)
        })
        .await
        .unwrap();
    KINDS.iter().enumerate().filter(|(i, _)| v[2 * i] > 0).map(|(i, k)| (*k, (v[2 * i], v[2 * i + 1]))).collect()
}

/// Every rollup row, as stored: the days, the hours, the closing reasons and
/// the handling-time histogram.
async fn rollup_rows(app: &TestApp) -> Vec<Vec<String>> {
    app.state
        .db
        .read(|c| {
            let mut all = Vec::new();
            for sql in [
                "SELECT * FROM metric_days ORDER BY day, queue_id, team_id, agent_id, channel",
                "SELECT 'h', * FROM metric_hours ORDER BY day, hour, queue_id, team_id, channel",
                "SELECT 'r', * FROM metric_reasons ORDER BY day, queue_id, team_id, agent_id, channel, reason_id",
                "SELECT 's', * FROM metric_spread ORDER BY day, team_id, bucket",
            ] {
                let mut st = c.prepare(sql)?;
                let n = st.column_count();
                let rows = st
                    .query_map([], |r| {
                        (0..n).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect()
                    })?
                    .collect::<Result<Vec<Vec<String>>, _>>()?;
                all.extend(rows);
            }
            Ok(all)
        })
        .await
        .unwrap()
}

async fn column(app: &TestApp, c: i64, col: &'static str) -> Option<i64> {
    app.state
        .db
        .read(move |db| Ok(db.query_row(&format!("SELECT {col} FROM conversations WHERE id = ?1"), [c], |r| r.get(0))?))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hand_built_timeline_gives_every_indicator() {
    let app = TestApp::new().await;
    let (t1, t2) = (app.team("Vendas").await, app.team("Suporte").await);
    let (q1, q2) = (app.queue("Vendas web", t1, 3, 60).await, app.queue("Suporte web", t2, 3, 60).await);
    let ana = user(&app, "ana@x.com", &[t1]).await;
    let bia = user(&app, "bia@x.com", &[t1]).await;
    let caio = user(&app, "caio@x.com", &[t2]).await;
    let why = reason(&app).await;
    let st = &app.state;
    // Ana is offered it and declines; Bia takes it from the queue a minute
    // after it arrived.
    conv::set_connected(st, &ana, q1, true).await.unwrap();
    conv::set_ready(st, &ana, true).await.unwrap();
    let c = visitor(&app, q1, "joana", "Oi, quero um orçamento").await;
    app.state.clock.advance(20);
    conv::decline(st, &ana, c).await.unwrap();
    conv::set_ready(st, &ana, false).await.unwrap();
    app.state.clock.advance(40);
    conv::claim(st, &bia, c).await.unwrap();
    assert_eq!(column(&app, c, "waiting_since").await, None);
    assert_eq!(column(&app, c, "wait_secs").await, Some(60));
    // A note is not a response; Bia answers 30 s after taking it.
    app.state.clock.advance(10);
    conv::note(st, &bia, c, "cliente antigo").await.unwrap();
    assert_eq!(column(&app, c, "first_response_at").await, None);
    app.state.clock.advance(20);
    conv::send(st, &bia, c, "Olá Joana!").await.unwrap();
    // The customer writes twice; one answer 25 s after the first of them.
    app.state.clock.advance(5);
    visitor(&app, q1, "joana", "Preciso de 10 unidades").await;
    app.state.clock.advance(10);
    visitor(&app, q1, "joana", "Entrega em SP").await;
    app.state.clock.advance(15);
    conv::send(st, &bia, c, "Perfeito").await.unwrap();
    // Bia transfers it to Suporte: back in a queue, Caio takes it 40 s later
    // and finishes it resolved with the script.
    conv::transfer_to_team(st, &bia, c, t2).await.unwrap();
    app.state.clock.advance(40);
    conv::claim(st, &caio, c).await.unwrap();
    app.state.clock.advance(100);
    conv::close(st, &caio, c, false, Some(Closing { reason_id: why, resolved: true })).await.unwrap();
    // Two days later Caio reopens it and finishes it without a word.
    app.state.clock.advance(2 * 86_400);
    conv::reopen(st, &caio, c).await.unwrap();
    assert_eq!(column(&app, c, "cycle").await, Some(2));
    app.state.clock.advance(60);
    conv::close(st, &caio, c, true, None).await.unwrap();
    // Another customer gives up in the queue: the admin finishes it.
    let admin_id = app.user("chefe@x.com", Role::Admin, &[]).await;
    let admin = app.state.db.read(move |db| atende::domain::users::get(db, admin_id)).await.unwrap().unwrap();
    let lost = visitor(&app, q2, "pedro", "Alô?").await;
    app.state.clock.advance(300);
    conv::close(st, &admin, lost, true, None).await.unwrap();

    let all = totals(&app, "1").await;
    let want: BTreeMap<&str, (i64, i64)> = [
        ("received", (2, 0)),
        ("queued", (3, 0)),
        ("declined", (1, 0)),
        // 60 s before Bia, 40 s after the transfer: TME of the cycle 100 s.
        ("wait", (2, 100)),
        ("assigned", (2, 0)),
        // From entry (60 + 30) and from assignment (30).
        ("first_response", (1, 90)),
        ("first_response_assign", (1, 30)),
        // From the first message of each unanswered run: 90 s and 25 s.
        ("reply", (2, 115)),
        ("transfer", (1, 0)),
        ("finished", (3, 0)),
        // Close − first assignment: 30 + 5 + 10 + 15 + 40 + 100 = 200 s, then 60 s.
        ("handle", (2, 260)),
        ("scripted", (1, 0)),
        ("resolved", (1, 0)),
        ("abandoned", (1, 0)),
        ("lost_queue", (1, 0)),
        ("reopened", (1, 0)),
        ("reopened_7d", (1, 0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(all, want);
    // Who each fact counts for.
    let bia_id = bia.id;
    let of_bia = totals(&app, &format!("agent_id = {bia_id}")).await;
    assert_eq!(of_bia.get("first_response"), Some(&(1, 90)));
    assert_eq!(of_bia.get("transfer"), Some(&(1, 0)));
    assert_eq!(totals(&app, &format!("agent_id = {}", ana.id)).await.get("declined"), Some(&(1, 0)));
    let of_caio = totals(&app, &format!("agent_id = {}", caio.id)).await;
    assert_eq!((of_caio.get("handle"), of_caio.get("abandoned")), (Some(&(2, 260)), Some(&(1, 0))));
    assert_eq!(totals(&app, &format!("queue_id = {q2} AND team_id = {t2}")).await.get("lost_queue"), Some(&(1, 0)));
    // The rollups are the raw facts summed.
    let live = rollup_rows(&app).await;
    app.state.db.write(replay::rollup).await.unwrap();
    assert_eq!(rollup_rows(&app).await, live);
}

#[tokio::test]
async fn facts_count_on_the_business_day_of_the_business_time_zone() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Vendas web", t, 3, 60).await;
    // 2026-12-02 02:30 UTC: still the 1st in São Paulo (UTC−3).
    let at = 1_796_178_600;
    app.state.clock.advance(at - app.state.now());
    app.state
        .db
        .write(|db| Ok(db.execute("UPDATE settings SET time_zone = 'America/Sao_Paulo' WHERE id = 1", [])?))
        .await
        .unwrap();
    visitor(&app, q, "ana", "Oi").await;
    app.state
        .db
        .write(|db| Ok(db.execute("UPDATE settings SET time_zone = 'Europe/Lisbon' WHERE id = 1", [])?))
        .await
        .unwrap();
    visitor(&app, q, "bia", "Oi").await;
    assert_eq!(totals(&app, "day = 20261201").await.get("received"), Some(&(1, 0)));
    assert_eq!(totals(&app, "day = 20261202").await.get("received"), Some(&(1, 0)));
    // Summer time: at 23:30 UTC on 24 October 2026 Lisbon (UTC+1 until the
    // next night) is already on the 25th; a day later (UTC+0) it is not.
    let lisbon = jiff::tz::TimeZone::get("Europe/Lisbon").unwrap();
    assert_eq!(metrics::business_day(&lisbon, 1_792_884_600), 20261025);
    assert_eq!(metrics::business_day(&lisbon, 1_792_971_000), 20261025);
    assert_eq!(metrics::business_day(&jiff::tz::TimeZone::UTC, 1_792_884_600), 20261024);
}

#[tokio::test]
async fn after_random_activity_rollups_are_the_facts_summed_and_the_backfill_repeats_the_live_record() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Vendas web", t, 50, 60).await;
    let why = reason(&app).await;
    let mut agents = Vec::new();
    for i in 0..4 {
        agents.push(user(&app, &format!("agente{i}@x.com"), &[t]).await);
    }
    let st = &app.state;
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    let mut visitors = 0;
    for _ in 0..400 {
        app.state.clock.advance(rng.random_range(1..120));
        let a = &agents[rng.random_range(0..agents.len())];
        match rng.random_range(0..10) {
            0 | 1 => {
                visitors += 1;
                visitor(&app, q, &format!("cliente{}", rng.random_range(0..visitors)), "Olá").await;
            }
            2 => {
                let _ = conv::set_connected(st, a, q, true).await;
                let _ = conv::set_ready(st, a, rng.random_bool(0.7)).await;
            }
            step => {
                let ids: Vec<(i64, String, Option<i64>)> = app
                    .state
                    .db
                    .read(|db| {
                        let mut s = db.prepare("SELECT id, status, agent_id FROM conversations ORDER BY id")?;
                        let v =
                            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
                        Ok(v)
                    })
                    .await
                    .unwrap();
                if ids.is_empty() {
                    continue;
                }
                let (c, status, holder) = ids[rng.random_range(0..ids.len())].clone();
                let holder = holder.and_then(|h| agents.iter().find(|a| a.id == h)).unwrap_or(a);
                // Each outcome may be refused by the rules; only what is
                // allowed happens, as in the desk.
                let _ = match (step, status.as_str()) {
                    (3, "offered") => conv::accept(st, holder, c).await,
                    (4, "offered") => conv::decline(st, holder, c).await,
                    (3 | 4, "queued") => conv::claim(st, a, c).await,
                    (5 | 6, "assigned") => conv::send(st, holder, c, "Resposta").await.map(|_| ()),
                    (7, "assigned") => {
                        let script =
                            rng.random_bool(0.5).then(|| Closing { reason_id: why, resolved: rng.random_bool(0.5) });
                        conv::close(st, holder, c, rng.random_bool(0.3), script).await
                    }
                    (8, "finished" | "archived") => conv::reopen(st, a, c).await,
                    (9, _) => conv::routing_tick(st).await.map(|_| ()),
                    _ => Ok(()),
                };
            }
        }
    }
    let facts = app.count("metric_facts").await;
    assert!(facts > 200, "the walk made facts: {facts}");
    let live = rollup_rows(&app).await;
    app.state.db.write(replay::rollup).await.unwrap();
    assert_eq!(rollup_rows(&app).await, live, "rollups = the raw facts summed");
    // Rebuilt from the timelines alone, the same numbers and columns.
    let cols = "id, cycle, cycle_started_at, waiting_since, wait_secs, first_assigned_at, first_response_at, awaiting_since, last_closed_at";
    let snapshot = || async {
        app.state
            .db
            .read(move |db| {
                let mut s = db.prepare(&format!("SELECT {cols} FROM conversations ORDER BY id"))?;
                let v = s
                    .query_map([], |r| (0..9).map(|i| r.get::<_, Option<i64>>(i)).collect::<Result<Vec<_>, _>>())?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(v)
            })
            .await
            .unwrap()
    };
    let columns = snapshot().await;
    let facts_of = || async {
        app.state
            .db
            .read(|db| {
                let mut s = db.prepare("SELECT conversation_id, kind, agent_id, secs FROM metric_facts ORDER BY conversation_id, kind, agent_id, secs")?;
                let v = s.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)))?.collect::<Result<Vec<_>, _>>()?;
                Ok(v)
            })
            .await
            .unwrap()
    };
    let before = facts_of().await;
    app.state.db.write(|db| replay::backfill(db).map(|_| ())).await.unwrap();
    let after = facts_of().await;
    assert_eq!(after, before, "the same facts");
    assert_eq!(snapshot().await, columns);
    assert_eq!(rollup_rows(&app).await, live, "the backfill repeats the live record");
}

#[tokio::test]
async fn an_older_database_is_backfilled_from_its_timelines_by_the_upgrade() {
    use atende::db::migrate::{self, STEPS};
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("atende.db");
    {
        let mut conn = rusqlite::Connection::open(&old).unwrap();
        migrate::migrate_with(&mut conn, include_str!("fixtures/schema_v1.sql"), &[]).unwrap();
        // The version before the metrics.
        let before = STEPS.iter().position(|s| s.contains("v19 (issue 14)")).unwrap();
        migrate::migrate_with(&mut conn, "", &STEPS[..before]).unwrap();
        conn.execute_batch(
            "INSERT INTO teams (id, name, created_at) VALUES (1, 'Vendas', 0);
             INSERT INTO queues (id, name, channel, team_id, created_at) VALUES (1, 'Web', 'webchat', 1, 0);
             INSERT INTO users (id, name, login, role, password_hash, created_at, updated_at) VALUES (5, 'Bia', 'bia@x.com', 'agent', '', 0, 0);
             INSERT INTO contacts (id, name, created_at, updated_at) VALUES (1, 'Joana', 0, 0);
             INSERT INTO closing_reasons (id, name, created_at) VALUES (1, 'Resolvido', 0);
             INSERT INTO conversations (id, queue_id, contact_id, channel, status, agent_id, queued_at, created_at,
               last_activity_at, closed_at, closing_reason_id, resolved)
               VALUES (1, 1, 1, 'webchat', 'finished', 5, 1000, 1000, 1400, 1400, 1, 1);
             INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at) VALUES
               (1, 'system', NULL, '', 'ev.created', 1000),
               (1, 'in', NULL, 'Joana', 'Oi', 1000),
               (1, 'system', 5, 'Bia', 'ev.claimed', 1045),
               (1, 'note', 5, 'Bia', 'nota', 1050),
               (1, 'out', 5, 'Bia', 'Olá', 1060),
               (1, 'system', 5, 'Bia', 'ev.finished', 1400);",
        )
        .unwrap();
    }
    // The server opens it: upgraded, then backfilled before it serves.
    let config = atende::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    let state = atende::app::AppState::open(config, atende::clock::Clock::frozen(2_000)).await.unwrap();
    state.db.close();
    let conn = rusqlite::Connection::open(&old).unwrap();
    assert_eq!(replay::backfill_pending(&conn).unwrap(), None, "done once, by the start");
    let row: (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT wait_secs, first_assigned_at, first_response_at, last_closed_at FROM conversations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, (45, 1045, 1060, 1400));
    let sums: (i64, i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT sum(wait_secs), sum(first_response_secs), sum(first_response_assign_secs), sum(handle_secs),
               sum(resolved_n), sum(reply_secs) FROM metric_days WHERE agent_id IN (0, 5)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(sums, (45, 60, 15, 355, 1, 60));
}
