//! The outbox job for e-mail: sends the replies due through each queue's
//! SMTP server and records each outcome as it comes (sent, to retry with
//! backoff, failed with the server's words).
//!
//! One run per queue at a time, over a few reused connections
//! ([`PER_QUEUE`]); queues run side by side, so a server that hangs slows
//! only its own queue. A run takes its rows in the database first, then
//! marks each one started just before its SMTP transaction begins. After a
//! crash, a row taken but never started is simply sent; one whose
//! transaction had begun may have reached the server (SMTP gives no later
//! sign), so it is shown unconfirmed for the agent to check, never sent
//! twice. At most [`PER_QUEUE`] e-mails per queue can be in that state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::join_all;

use super::smtp::{self, Failure};
use crate::app::AppState;
use crate::domain::email::outgoing::Outgoing;
use crate::domain::outbox;
use crate::error::AppResult;

/// E-mails a run takes at a time from one queue.
pub const PER_RUN: usize = 200;
/// E-mails of one queue in the hands of its SMTP server at once.
pub const PER_QUEUE: usize = 4;
/// A queue's run starts no new e-mail after this; what it took and did not
/// start goes back to the outbox for the next run.
pub const RUN_FOR: Duration = Duration::from_secs(20);

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// Accepted by the SMTP server.
    pub sent: usize,
    /// To be tried again later.
    pub retried: usize,
    /// Refused for good, or not confirmed before a restart.
    pub failed: usize,
}

impl std::ops::AddAssign for Run {
    fn add_assign(&mut self, o: Run) {
        self.sent += o.sent;
        self.retried += o.retried;
        self.failed += o.failed;
    }
}

/// What became of one row a run took.
enum Outcome {
    Done(Result<(), Failure>),
    /// Not started (the run's time is up, the server is stopping, or the
    /// row was given back meanwhile).
    Skipped,
}

/// After a restart: what the process before left `sending` is settled at
/// once (sent normally if it never reached the server, unconfirmed if it
/// may have). Called before the scheduler starts.
pub async fn recover(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let (n, changes) =
        state.db.write(move |c| outbox::abandon_unconfirmed(c, "email", "mail.unconfirmed", now, true)).await?;
    state.bus.publish(changes);
    Ok(n)
}

/// Delivers the e-mails due now, every queue that no run is sending yet.
pub async fn run(state: &Arc<AppState>) -> AppResult<Run> {
    let now = state.now();
    let (stale, changes, queues) = state
        .db
        .write(move |c| {
            let (n, ch) = outbox::abandon_unconfirmed(c, "email", "mail.unconfirmed", now, false)?;
            Ok((n, ch, outbox::due_queues(c, "email", now)?))
        })
        .await?;
    state.bus.publish(changes);
    let mine: Vec<i64> = queues.into_iter().filter(|q| state.email.begin_delivery(*q)).collect();
    let runs = join_all(mine.iter().map(|q| async move {
        let r = queue_run(state, *q).await;
        state.email.end_delivery(*q);
        r
    }))
    .await;
    let mut total = Run { failed: stale, ..Default::default() };
    for r in runs {
        total += r?;
    }
    Ok(total)
}

/// One queue's run: batches of [`PER_RUN`], [`PER_QUEUE`] at a time, until
/// none is due or [`RUN_FOR`] has passed.
async fn queue_run(state: &Arc<AppState>, queue: i64) -> AppResult<Run> {
    let until = Instant::now() + RUN_FOR;
    let access = state.db.read(move |c| smtp::access(c, queue)).await?;
    let client = match &access {
        None => Err(Failure::Fatal("a fila não tem servidor SMTP configurado".into())),
        Some(a) => smtp::client(a),
    };
    let mut run = Run::default();
    loop {
        let now = state.now();
        let items = state.db.write(move |c| outbox::claim(c, "email", queue, now, PER_RUN)).await?;
        if items.is_empty() {
            break;
        }
        let outcomes: Vec<(i64, AppResult<Outcome>)> = futures_util::stream::iter(items)
            .map(|item| {
                let client = &client;
                async move { (item.id, one(state, client, &item, until).await) }
            })
            .buffer_unordered(PER_QUEUE)
            .collect()
            .await;
        let mut skipped = Vec::new();
        let mut error = None;
        for (id, o) in outcomes {
            match o {
                Ok(Outcome::Done(Ok(()))) => run.sent += 1,
                Ok(Outcome::Done(Err(Failure::Retry(_)))) => run.retried += 1,
                Ok(Outcome::Done(Err(Failure::Fatal(_)))) => run.failed += 1,
                Ok(Outcome::Skipped) => skipped.push(id),
                Err(e) => {
                    skipped.push(id);
                    error = Some(e);
                }
            }
        }
        let cut_short = !skipped.is_empty();
        if cut_short {
            let now = state.now();
            state.db.write(move |c| outbox::release(c, &skipped, now)).await?;
        }
        if let Some(e) = error {
            return Err(e);
        }
        if cut_short || Instant::now() >= until {
            break;
        }
    }
    Ok(run)
}

/// Sends one row: its files read, the e-mail built, the row marked started
/// (committed) and handed to the server, the outcome recorded at once.
async fn one(
    state: &AppState,
    client: &Result<smtp::Client, Failure>,
    item: &outbox::Item,
    until: Instant,
) -> AppResult<Outcome> {
    if Instant::now() >= until || state.email.stopping() {
        return Ok(Outcome::Skipped);
    }
    let (id, mid) = (item.id, item.message_id);
    let built = match client {
        Err(f) => Err(f.clone()),
        Ok(_) => match serde_json::from_str::<Outgoing>(&item.payload) {
            Err(e) => Err(Failure::Fatal(format!("e-mail guardado ilegível: {e}"))),
            Ok(out) => {
                let files = state
                    .db
                    .read(move |c| {
                        let ids: Vec<i64> = c
                            .prepare_cached("SELECT id FROM attachments WHERE message_id = ?1 ORDER BY id")?
                            .query_map([mid], |r| r.get(0))?
                            .collect::<Result<_, _>>()?;
                        ids.into_iter()
                            .map(|id| crate::domain::attachments::bytes(c, id))
                            .collect::<AppResult<Vec<_>>>()
                    })
                    .await?;
                smtp::build(&out, files).map(|m| (m, out.message_id))
            }
        },
    };
    let result = match (built, client) {
        (Err(f), _) => Err(f),
        (Ok(_), Err(f)) => Err(f.clone()),
        (Ok((message, rfc_id)), Ok(client)) => {
            let now = state.now();
            if !state.db.write(move |c| outbox::start(c, id, now)).await? {
                return Ok(Outcome::Skipped);
            }
            smtp::send(client, message).await.map(|()| rfc_id)
        }
    };
    let done = state.now();
    let (outcome, changes) = state
        .db
        .write(move |c| {
            Ok(match result {
                Ok(rfc_id) => (Ok(()), outbox::sent(c, id, &rfc_id, done)?),
                Err(Failure::Retry(reason)) => {
                    let ch = outbox::retry(c, id, &reason, None, done)?;
                    (Err(Failure::Retry(reason)), ch)
                }
                Err(Failure::Fatal(reason)) => {
                    let ch = outbox::failed(c, id, &reason, done)?;
                    (Err(Failure::Fatal(reason)), ch)
                }
            })
        })
        .await?;
    state.bus.publish(changes);
    Ok(Outcome::Done(outcome))
}
