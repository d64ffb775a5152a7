//! The e-mail channel: each queue's mailbox is read over IMAP by UID, the
//! messages parsed and stored a batch per transaction together with the sync
//! position (UIDVALIDITY, last UID), so a restart or a failure mid-sync
//! neither misses nor repeats a message; a changed UIDVALIDITY reads the
//! folder again and the Message-IDs keep it from making duplicates. The
//! scheduler reads each mailbox at its own interval in its own task: one
//! that fails or hangs does not hold the others. Where the server offers
//! IMAP IDLE a watcher (see [`idle`]) asks for a read as soon as mail
//! arrives; the interval stays as the safety net.

pub mod deliver;
pub mod idle;
pub mod imap;
pub mod parse;
pub mod smtp;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::app::AppState;
use crate::domain::conversations::{self as conv, Stored};
use crate::domain::email::{self, thread::Incoming};
use crate::error::{AppError, AppResult};
use crate::events::Change;
pub use idle::Watching;
use imap::Problem;

/// How many messages are fetched and committed together.
pub const BATCH: usize = 25;

/// What one read of a mailbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// New messages stored.
    pub stored: usize,
    /// Messages already stored (a re-read after a UIDVALIDITY change).
    pub duplicates: usize,
    /// Why it stopped early, if it did.
    pub problem: Option<Problem>,
}

/// The mailboxes being read now and when each was last started, so the
/// scheduler starts one read per mailbox at its interval; and the IDLE
/// watchers, one per mailbox that can receive.
#[derive(Default)]
pub struct Runner {
    running: Mutex<HashSet<i64>>,
    // Shared with the watchers, whose only effect is to clear an entry here.
    started: Arc<Mutex<HashMap<i64, i64>>>,
    watchers: Mutex<HashMap<i64, idle::Watcher>>,
    stopped: AtomicBool,
    // Queues whose outbox a delivery run is sending now (one run each).
    delivering: Mutex<HashSet<i64>>,
}

impl Runner {
    fn begin(&self, queue_id: i64, now: i64, interval: i64) -> bool {
        let (Ok(mut running), Ok(mut started)) = (self.running.lock(), self.started.lock()) else { return false };
        if running.contains(&queue_id) || started.get(&queue_id).is_some_and(|t| now - t < interval) {
            return false;
        }
        running.insert(queue_id);
        started.insert(queue_id, now);
        true
    }

    fn end(&self, queue_id: i64) {
        if let Ok(mut r) = self.running.lock() {
            r.remove(&queue_id);
        }
    }

    /// Whether a delivery run may send this queue's e-mails now (none is):
    /// true reserves the queue until [`Runner::end_delivery`].
    pub fn begin_delivery(&self, queue_id: i64) -> bool {
        !self.stopping() && self.delivering.lock().map(|mut d| d.insert(queue_id)).unwrap_or(false)
    }

    /// The delivery run of this queue ended.
    pub fn end_delivery(&self, queue_id: i64) {
        if let Ok(mut d) = self.delivering.lock() {
            d.remove(&queue_id);
        }
    }

    /// Whether the server is shutting down (no new e-mail is handed over).
    pub fn stopping(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Makes the next scheduler tick read this mailbox (after its settings
    /// changed, when an admin asks, or when its server announced mail).
    pub fn wake(&self, queue_id: i64) {
        forget(&self.started, queue_id);
    }

    /// Whether no read of this mailbox is running or due now (it was read and
    /// nothing asked for another since).
    pub fn quiet(&self, queue_id: i64) -> bool {
        let running = self.running.lock().map(|r| r.contains(&queue_id)).unwrap_or(true);
        !running && self.started.lock().map(|s| s.contains_key(&queue_id)).unwrap_or(false)
    }

    /// Keeps one IDLE watcher per mailbox in `boxes`: a new mailbox gets
    /// one, a mailbox whose server, login, password or folder changed gets
    /// a new one, and one no longer listed (deactivated, unset) loses its.
    /// Nothing starts once [`Runner::stop`] was called.
    pub fn watch(&self, boxes: &[email::ImapAccess]) {
        let Ok(mut w) = self.watchers.lock() else { return };
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        w.retain(|id, watcher| boxes.iter().any(|a| a.queue_id == *id && watcher.serves(a)));
        for a in boxes {
            w.entry(a.queue_id).or_insert_with(|| {
                let (started, id) = (self.started.clone(), a.queue_id);
                let wake: idle::Wake = Arc::new(move || forget(&started, id));
                idle::Watcher::start(a.clone(), wake)
            });
        }
    }

    /// What the mailbox's IDLE watcher is doing (None: it has none).
    pub fn watching(&self, queue_id: i64) -> Option<Watching> {
        self.watchers.lock().ok()?.get(&queue_id).map(idle::Watcher::watching)
    }

    /// Whether the mailbox is in IDLE now: new mail is read as it arrives.
    pub fn is_idle(&self, queue_id: i64) -> bool {
        self.watching(queue_id) == Some(Watching::Idle)
    }

    /// Ends every watcher at once (their sessions are simply dropped) and
    /// starts none after: the shutdown does not wait for them.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let gone: Vec<idle::Watcher> = match self.watchers.lock() {
            Ok(mut w) => w.drain().map(|(_, v)| v).collect(),
            Err(_) => return,
        };
        drop(gone);
    }
}

fn forget(started: &Mutex<HashMap<i64, i64>>, queue_id: i64) {
    if let Ok(mut s) = started.lock() {
        s.remove(&queue_id);
    }
}

/// Starts a read of every mailbox whose interval has passed, or that was
/// woken, and that is not being read; returns how many were started. It
/// also keeps the IDLE watchers in step with the mailboxes. The scheduler
/// calls this every second.
pub async fn poll_due(state: &Arc<AppState>) -> AppResult<usize> {
    let (boxes, access) = state.db.read(|c| Ok((email::receiving(c)?, email::imap_accesses(c)?))).await?;
    state.email.watch(&access);
    let now = state.now();
    let mut n = 0;
    for (queue_id, interval, _) in boxes {
        let Some(slot) = state.jobs.hold() else { break };
        if !state.email.begin(queue_id, now, interval) {
            continue;
        }
        n += 1;
        let st = state.clone();
        tokio::spawn(async move {
            match sync(&st, queue_id).await {
                Ok(r) if r.stored > 0 => tracing::info!(queue_id, "{} e-mails received", r.stored),
                Ok(_) => {}
                Err(e) => tracing::warn!(queue_id, "e-mail sync failed: {e}"),
            }
            st.email.end(queue_id);
            drop(slot);
        });
    }
    Ok(n)
}

/// The mailbox's own addresses: never taken for participants.
fn own_addresses(m: &email::Mailbox) -> Vec<String> {
    [m.from_address.as_str(), m.reply_to.as_str(), m.imap_user.as_str()]
        .iter()
        .filter(|a| a.contains('@'))
        .map(|a| a.to_lowercase())
        .collect()
}

/// Reads a mailbox from its sync position to the end: new messages become
/// conversations or join theirs, a batch per transaction with the position.
/// A connection or server problem is recorded on the mailbox (its page shows
/// it) and returned in the report.
pub async fn sync(state: &AppState, queue_id: i64) -> AppResult<SyncReport> {
    let (access, mailbox) =
        state.db.read(move |c| Ok((email::imap_access(c, queue_id)?, email::mailbox(c, queue_id)?))).await?;
    let (Some(access), Some(mailbox)) = (access, mailbox) else { return Ok(SyncReport::default()) };
    let mut report = SyncReport::default();
    match read_all(state, queue_id, &access, &mailbox, &mut report).await {
        Ok(()) => {
            let now = state.now();
            state.db.write(move |c| email::synced(c, queue_id, now)).await?;
        }
        Err(p) => {
            email::set_state(state, queue_id, p.code, p.detail.clone()).await?;
            report.problem = Some(p);
        }
    }
    Ok(report)
}

async fn read_all(
    state: &AppState,
    queue_id: i64,
    access: &email::ImapAccess,
    mailbox: &email::Mailbox,
    report: &mut SyncReport,
) -> Result<(), Problem> {
    let internal = |e: AppError| Problem { code: "error", detail: e.to_string() };
    let mut session = imap::login(access).await?;
    let result = async {
        let validity = imap::select(&mut session, &access.folder).await?;
        let (known, last) = state.db.read(move |c| email::sync_position(c, queue_id)).await.map_err(internal)?;
        // Another UIDVALIDITY: the UIDs mean other messages now; read the
        // folder again (Message-IDs keep what was stored from coming twice).
        let after = if known == Some(validity as i64) { last.clamp(0, u32::MAX as i64) as u32 } else { 0 };
        let listed = imap::list_after(&mut session, after).await?;
        let limit = state.db.read(crate::domain::attachments::limits).await.map_err(internal)?.file + (1 << 20);
        for chunk in listed.chunks(BATCH) {
            let small: Vec<u32> = chunk.iter().filter(|(_, s)| *s <= limit).map(|(u, _)| *u).collect();
            let large: Vec<(u32, u64)> = chunk.iter().filter(|(_, s)| *s > limit).copied().collect();
            let mut raw = imap::fetch(&mut session, &small, false).await?;
            let heads = imap::fetch(&mut session, &large.iter().map(|(u, _)| *u).collect::<Vec<_>>(), true).await?;
            let loc = state.settings().locale;
            let parsed = tokio::task::spawn_blocking(move || {
                let mut v: Vec<(u32, Incoming)> = raw.drain(..).map(|(u, b)| (u, parse::parse(&b))).collect();
                for (u, h) in heads {
                    let size = large.iter().find(|(x, _)| *x == u).map(|(_, s)| *s).unwrap_or(0);
                    let mut m = parse::parse_headers_only(&h, size);
                    m.text = format!(
                        "{} ({})",
                        crate::i18n::t(loc, "mail.too_large"),
                        crate::domain::attachments::human_size(size as i64)
                    );
                    v.push((u, m));
                }
                v.sort_by_key(|(u, _)| *u);
                v
            })
            .await
            .map_err(|e| Problem { code: "error", detail: e.to_string() })?;
            let top = chunk.iter().map(|(u, _)| *u).max().unwrap_or(after);
            let (stored, dups) = commit(state, queue_id, mailbox, validity, top, parsed).await.map_err(internal)?;
            report.stored += stored;
            report.duplicates += dups;
        }
        if listed.is_empty() && known != Some(validity as i64) {
            // An empty folder still records its UIDVALIDITY.
            state
                .db
                .write(move |c| email::set_sync_position(c, queue_id, validity as i64, 0))
                .await
                .map_err(internal)?;
        }
        Ok(())
    }
    .await;
    imap::logout(session).await;
    result
}

/// Stores a batch and moves the sync position to `top` in one transaction,
/// then publishes the live changes.
async fn commit(
    state: &AppState,
    queue_id: i64,
    mailbox: &email::Mailbox,
    validity: u32,
    top: u32,
    batch: Vec<(u32, Incoming)>,
) -> AppResult<(usize, usize)> {
    let now = state.now();
    let loc = state.settings().locale;
    let own = own_addresses(mailbox);
    let reopen_days = mailbox.reopen_days;
    let (stored, dups, changes) = state
        .db
        .write(move |c| {
            let mut changes: Vec<Change> = Vec::new();
            let (mut stored, mut dups) = (0, 0);
            for (_, m) in &batch {
                let (s, ch) = conv::email_message(c, loc, queue_id, &own, reopen_days, m, now)?;
                match s {
                    Stored::New { .. } => stored += 1,
                    Stored::Duplicate => dups += 1,
                }
                changes.extend(ch);
            }
            email::set_sync_position(c, queue_id, validity as i64, top as i64)?;
            Ok((stored, dups, crate::events::unique(changes)))
        })
        .await?;
    state.bus.publish(changes);
    Ok((stored, dups))
}
