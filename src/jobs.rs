//! Named scheduled jobs. Each job body is a plain domain-level function that
//! tests and the CLI can call too; the scheduler only decides when.

use std::sync::Arc;

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::app::{AppState, megabytes};
use crate::db::backup;
use crate::db::space::BackupRefusal;
use crate::domain::{Actor, audit, auth};
use crate::error::{AppError, AppResult};

/// Makes today's backup if the configured local time has passed and there is
/// none for today yet (so a server that was down at that time catches up).
/// Returns the new file's name, if one was made.
pub async fn backup_if_due(state: &AppState) -> AppResult<Option<String>> {
    let now = state.now();
    let tz = state.settings().tz();
    let local = jiff::Timestamp::from_second(now).map_err(AppError::internal)?.to_zoned(tz);
    let (h, m) = state.config.backup_time;
    if (local.hour() as u8, local.minute() as u8) < (h, m) {
        return Ok(None);
    }
    let day = local.strftime("%Y%m%d").to_string();
    let dir = state.config.backup_dir();
    if backup::list_backups(&dir).iter().any(|n| n.starts_with(&format!("atende-{day}-"))) {
        return Ok(None);
    }
    run_daily_backup(state).await.map(Some)
}

/// Makes a timestamped backup in DATA/backups now and prunes beyond retention.
/// It checks the free space first: without room for the copy and its
/// headroom it refuses (an error), records the refusal once in the audit log
/// and keeps it on the admins' banner and the backup page until a backup
/// succeeds.
pub async fn run_daily_backup(state: &AppState) -> AppResult<String> {
    let now = state.now();
    let local = jiff::Timestamp::from_second(now).map_err(AppError::internal)?.to_zoned(state.settings().tz());
    let stamp = local.strftime("%Y%m%d-%H%M%S").to_string();
    let dir = state.config.backup_dir();
    let keep = state.config.backup_retention as usize;
    let made = state
        .db
        .read(move |c| {
            std::fs::create_dir_all(&dir)?;
            if let Err(no) = backup::room_for(c, &dir) {
                return Ok(Err(no));
            }
            backup::daily(c, &dir, &stamp, keep).map(Ok).map_err(AppError::Internal)
        })
        .await?;
    let path = match made {
        Ok(path) => path,
        Err(no) => {
            refuse_backup(state, now, no).await;
            return Err(AppError::Internal(format!("daily backup refused: {no}")));
        }
    };
    state.health().clear_backup_refusal();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n2 = name.clone();
    state.db.write(move |c| audit::record(c, &Actor::system("sistema", now), "backup.daily", &n2, "")).await?;
    Ok(name)
}

// The alert of a refused backup: the banner flag, and one audit entry per
// episode (the job retries every minute; the log must not).
async fn refuse_backup(state: &AppState, now: i64, no: backup::NoRoom) {
    let refusal = BackupRefusal { at: now, needed: no.needed, free: no.free };
    if !state.health().set_backup_refusal(refusal) {
        return;
    }
    let detail = format!("necessário: {}; livre: {}", megabytes(no.needed), megabytes(no.free));
    let target = state.config.backup_dir().display().to_string();
    let r =
        state.db.write(move |c| audit::record(c, &Actor::system("sistema", now), "backup.refused", &target, &detail));
    if let Err(e) = r.await {
        tracing::error!("backup refusal not recorded in the audit log: {e}");
    }
}

/// Deletes expired sessions and setup links.
pub async fn cleanup_sessions(state: &AppState) -> AppResult<usize> {
    let c = &state.config;
    auth::cleanup(&state.db, state.now(), c.session_idle_secs, c.session_max_secs).await
}

/// How one job's runs went, for the admin page.
#[derive(Clone, Debug, Default)]
pub struct JobInfo {
    /// Name.
    pub name: &'static str,
    /// Cron expression (with seconds).
    pub cron: &'static str,
    /// Runs since start.
    pub runs: u64,
    /// Start of the last run (unix).
    pub last_run: Option<i64>,
    /// How long it took, ms.
    pub last_ms: Option<f64>,
    /// What it said (empty: nothing to do), or the error.
    pub last_result: String,
    /// Whether the last run succeeded.
    pub ok: bool,
    /// Next run (unix), filled when the page asks.
    pub next_run: Option<i64>,
}

type NextTick = Box<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<i64>> + Send>> + Send + Sync>;

/// How many runs may be in flight at once (far more than the jobs there are).
const RUN_SLOTS: u32 = 1024;

/// The jobs the scheduler runs, with their last results.
pub struct Board {
    jobs: std::sync::Mutex<Vec<JobInfo>>,
    next: std::sync::Mutex<Vec<(&'static str, std::sync::Arc<NextTick>)>>,
    // Each run holds a slot; stopping takes them all, so it waits for the
    // runs in flight, and no run starts once it began.
    slots: Arc<tokio::sync::Semaphore>,
    stopping: std::sync::atomic::AtomicBool,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            jobs: Default::default(),
            next: Default::default(),
            slots: Arc::new(tokio::sync::Semaphore::new(RUN_SLOTS as usize)),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Board {
    /// A slot for work a job spawned to go on after it (a mailbox's read):
    /// stopping waits for it too. None once stopping began.
    pub fn hold(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Lets no new run start and waits (at most `limit`) for the runs in
    /// flight to end, so the database can close under none of them. Returns
    /// false if some were still running at the limit.
    pub async fn drain(&self, limit: std::time::Duration) -> bool {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        match tokio::time::timeout(limit, self.slots.acquire_many(RUN_SLOTS)).await {
            Ok(Ok(all)) => {
                all.forget();
                true
            }
            _ => false,
        }
    }

    fn register(&self, name: &'static str, cron: &'static str) {
        if let Ok(mut j) = self.jobs.lock() {
            j.push(JobInfo { name, cron, ok: true, ..Default::default() });
        }
    }

    fn record(&self, name: &str, started: i64, ms: f64, result: Result<String, String>) {
        if let Ok(mut j) = self.jobs.lock()
            && let Some(info) = j.iter_mut().find(|i| i.name == name)
        {
            info.runs += 1;
            info.last_run = Some(started);
            info.last_ms = Some(ms);
            info.ok = result.is_ok();
            info.last_result = result.unwrap_or_else(|e| e);
        }
    }

    /// Every job with its last run and its next one.
    pub async fn snapshot(&self) -> Vec<JobInfo> {
        let mut jobs = self.jobs.lock().map(|j| j.clone()).unwrap_or_default();
        let next = self.next.lock().map(|n| n.clone()).unwrap_or_default();
        for (name, f) in next {
            let at = f().await;
            if let Some(j) = jobs.iter_mut().find(|j| j.name == name) {
                j.next_run = at;
            }
        }
        jobs
    }
}

fn add<F, Fut>(state: &Arc<AppState>, name: &'static str, cron: &'static str, f: F) -> AppResult<Job>
where
    F: Fn(Arc<AppState>) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = AppResult<String>> + Send + 'static,
{
    let state = state.clone();
    state.jobs.register(name, cron);
    Job::new_async(cron, move |_id, _lock| {
        let state = state.clone();
        let f = f.clone();
        Box::pin(async move {
            let Ok(_slot) = state.jobs.slots.try_acquire() else { return };
            if state.jobs.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let started = state.now();
            let t0 = std::time::Instant::now();
            let r = f(state.clone()).await;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            match &r {
                Ok(msg) if msg.is_empty() => tracing::debug!(job = name, "ran"),
                Ok(msg) => tracing::info!(job = name, "{msg}"),
                Err(e) => tracing::error!(job = name, "failed: {e}"),
            }
            state.jobs.record(name, started, ms, r.map_err(|e| e.to_string()));
        })
    })
    .map_err(AppError::internal)
}

/// What an outbox run says: "3 sent; 1 to retry" ('' when nothing moved).
fn delivered(sent_label: &str, sent: usize, retried: usize, failed: usize) -> String {
    [(sent, sent_label), (retried, "to retry"), (failed, "failed")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Starts the scheduler with every named job.
pub async fn start(state: &Arc<AppState>) -> AppResult<JobScheduler> {
    let sched = JobScheduler::new().await.map_err(AppError::internal)?;
    // What a crash left half-sent is settled before any run starts.
    let unconfirmed = crate::channels::email::deliver::recover(state).await?;
    if unconfirmed > 0 {
        tracing::warn!(unconfirmed, "e-mails whose sending a restart interrupted are marked unconfirmed");
    }
    let jobs = [
        add(state, "tasks.due", "* * * * * *", |s| async move {
            let n = crate::domain::tasks::fire_due(&s).await?;
            Ok(if n > 0 { format!("{n} tasks fell due") } else { String::new() })
        })?,
        add(state, "pauses.limits", "* * * * * *", |s| async move {
            let n = crate::domain::pauses::check_limits(&s).await?;
            Ok(if n > 0 { format!("{n} pauses passed their limit") } else { String::new() })
        })?,
        // Routing's clock: expired offers move on, conversations whose
        // re-offer pause is over are offered again, long waits alert.
        add(state, "offers.expire", "* * * * * *", |s| async move {
            let t = crate::domain::conversations::routing_tick(&s).await?;
            let mut parts = Vec::new();
            if t.expired > 0 {
                parts.push(format!("{} offers moved on", t.expired));
            }
            if t.offered > 0 {
                parts.push(format!("{} waiting conversations offered", t.offered));
            }
            if t.alerted > 0 {
                parts.push(format!("{} long waits alerted", t.alerted));
            }
            Ok(parts.join("; "))
        })?,
        add(state, "conversations.reopen", "* * * * * *", |s| async move {
            let n = crate::domain::conversations::reopen_due(&s).await?;
            Ok(if n > 0 { format!("{n} conversations reopened as scheduled") } else { String::new() })
        })?,
        // WhatsApp's outbox: what agents sent, delivered at the number's pace.
        add(state, "outbox.deliver", "* * * * * *", |s| async move {
            let r = crate::channels::whatsapp::deliver::run(&s).await?;
            Ok(delivered("sent", r.sent, r.retried, r.failed))
        })?,
        // E-mail's outbox: agents' replies to the queues' SMTP servers.
        add(state, "outbox.email", "* * * * * *", |s| async move {
            let r = crate::channels::email::deliver::run(&s).await?;
            Ok(delivered("e-mails sent", r.sent, r.retried, r.failed))
        })?,
        // E-mail: each mailbox read at its interval, in a task of its own.
        add(state, "email.fetch", "* * * * * *", |s| async move {
            let n = crate::channels::email::poll_due(&s).await?;
            Ok(if n > 0 { format!("{n} mailboxes being read") } else { String::new() })
        })?,
        // WhatsApp windows that end: open pages show it within a second.
        add(state, "whatsapp.windows", "* * * * * *", |s| async move {
            static LAST: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
            let now = s.now();
            let from = match LAST.swap(now, std::sync::atomic::Ordering::Relaxed) {
                0 => now - 1,
                last => last,
            };
            let n = crate::domain::whatsapp::windows_closed(&s, from, now).await?;
            Ok(if n > 0 { format!("{n} WhatsApp windows closed") } else { String::new() })
        })?,
        // WhatsApp templates: read again from Meta every six hours (the status
        // webhook applies approvals in between).
        add(state, "whatsapp.templates", "0 17 */6 * * *", |s| async move {
            let (ok, bad) = crate::channels::whatsapp::sync::all(&s).await?;
            Ok(match (ok, bad) {
                (0, 0) => String::new(),
                (ok, 0) => format!("{ok} numbers' templates synchronised"),
                (ok, bad) => format!("{ok} numbers' templates synchronised; {bad} failed"),
            })
        })?,
        add(state, "backup.daily", "0 * * * * *", |s| async move {
            Ok(backup_if_due(&s).await?.map(|n| format!("backup written: {n}")).unwrap_or_default())
        })?,
        add(state, "sessions.cleanup", "0 */10 * * * *", |s| async move {
            let n = cleanup_sessions(&s).await?;
            Ok(if n > 0 { format!("removed {n} expired rows") } else { String::new() })
        })?,
    ];
    let names = [
        "tasks.due",
        "pauses.limits",
        "offers.expire",
        "conversations.reopen",
        "outbox.deliver",
        "outbox.email",
        "email.fetch",
        "whatsapp.windows",
        "whatsapp.templates",
        "backup.daily",
        "sessions.cleanup",
    ];
    for (job, name) in jobs.into_iter().zip(names) {
        let guid = job.guid();
        let s2 = sched.clone();
        let next: NextTick = Box::new(move || {
            let mut s3 = s2.clone();
            Box::pin(async move { s3.next_tick_for_job(guid).await.ok().flatten().map(|t| t.timestamp()) })
        });
        if let Ok(mut n) = state.jobs.next.lock() {
            n.push((name, Arc::new(next)));
        }
        sched.add(job).await.map_err(AppError::internal)?;
    }
    sched.start().await.map_err(AppError::internal)?;
    Ok(sched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_waits_for_the_run_in_flight_and_starts_no_other() {
        let board = std::sync::Arc::new(Board::default());
        let slot = board.slots.try_acquire().expect("a run takes a slot");
        let b2 = board.clone();
        let drained = tokio::spawn(async move { b2.drain(std::time::Duration::from_secs(30)).await });
        tokio::task::yield_now().await;
        assert!(board.stopping.load(std::sync::atomic::Ordering::SeqCst));
        assert!(!drained.is_finished(), "the run in flight still holds its slot");
        assert!(board.slots.try_acquire().is_err(), "no run starts while stopping");
        drop(slot);
        assert!(drained.await.expect("drain ran"), "drained once the run ended");
        assert!(board.slots.try_acquire().is_err(), "nor after");
    }

    #[test]
    fn outbox_runs_say_what_moved() {
        assert_eq!(delivered("sent", 3, 1, 0), "3 sent; 1 to retry");
        assert_eq!(delivered("e-mails sent", 0, 0, 2), "2 failed");
        assert_eq!(delivered("sent", 0, 0, 0), "");
    }

    #[tokio::test]
    async fn stopping_gives_up_at_its_limit() {
        let board = Board::default();
        let _slot = board.slots.try_acquire().expect("a run takes a slot");
        assert!(!board.drain(std::time::Duration::from_millis(10)).await);
    }
}
