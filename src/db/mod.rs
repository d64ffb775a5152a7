//! SQLite access: one writer thread with group commit, a small pool of
//! read-only connections, migrations and backups.
//!
//! Every write is a closure queued to the writer thread. The thread drains the
//! queue, runs the queued closures inside one transaction (each in its own
//! savepoint, so one failing job does not undo its neighbours), commits once,
//! and only then answers each caller: an acknowledged write is on disk
//! (WAL + synchronous=FULL fsyncs at every commit).
//!
//! A commit that fails for lack of space answers every caller
//! [`AppError::StorageFull`] (nothing of theirs is stored), sets the shared
//! [`space::Health`] flag, gives the reserve file back so the alert can be
//! recorded, and tells the host once. While the flag is up, writes are
//! refused the same way without running (the disk stays as it is, nothing
//! fails half-way) until the filesystem has room again — the reserve plus some
//! slack; the next write then ends the episode (told to the host too) and runs.

pub mod backup;
pub mod migrate;
pub mod space;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Semaphore, oneshot};

use crate::error::{AppError, AppResult};

/// How a job's own work went.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ran {
    Ok,
    Failed,
    Full,
}

/// How the transaction holding a job ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    Done,
    Full,
    Failed,
}

type Finisher = Box<dyn FnOnce(Commit) + Send>;
// Called with the connection to run, or with None to refuse without running
// (the disk is full and still has no room).
type Job = Box<dyn FnOnce(Option<&Connection>) -> (Ran, Finisher) + Send>;

/// Called on the writer thread, inside a transaction of its own, when the
/// storage condition changes (the host records it in the audit log).
pub type StorageHook = Box<dyn Fn(&Connection, &space::StorageEvent) -> AppResult<()> + Send>;

/// What the host gives the writer: its clock, the shared health flag and
/// what to do when the disk fills or recovers.
pub struct Hooks {
    /// Current unix time (the app's clock).
    pub now: Box<dyn Fn() -> i64 + Send>,
    /// The flag the writer sets.
    pub health: Arc<space::Health>,
    /// Records a storage event.
    pub on_storage: Option<StorageHook>,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks { now: Box::new(|| jiff::Timestamp::now().as_second()), health: Arc::default(), on_storage: None }
    }
}

enum Msg {
    Job(Job),
    Shutdown,
}

/// Tables whose committed changes bump [`Db::config_generation`]: what
/// callers keep in memory between requests (a queue, its channel's number
/// and secrets).
pub const CONFIG_TABLES: &[&str] = &["queues", "whatsapp_numbers"];

/// Tuning knobs of the database layer.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Read-only connections in the pool.
    pub readers: usize,
    /// Most write jobs committed in one transaction (1 disables group commit).
    pub max_batch: usize,
}

impl Default for DbOptions {
    /// One reader per core, two to four. Each reader keeps its own SQLite
    /// page cache (up to 2 MB, full after a busy minute), statement cache and
    /// blocking thread; the reads are CPU-bound, so readers beyond the cores
    /// add memory, not throughput. Smaller caches instead were worse: an
    /// agent home reads about 1.1 MB of pages again and again, and an LRU
    /// cache just below that size misses on every one of them.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        DbOptions { readers: cores.clamp(2, 4), max_batch: 512 }
    }
}

struct Readers {
    conns: Mutex<Vec<Connection>>,
    sem: Semaphore,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Readers,
    health: Arc<space::Health>,
    config_gen: Arc<AtomicU64>,
}

/// Sets the PRAGMAs every connection needs.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The domain uses many distinct cached statements; rusqlite's default
    // cache of 16 would re-prepare them on every job.
    conn.set_prepared_statement_cache_capacity(256);
    // Keep query plans stable across bindings: without this, SQLite re-plans
    // statements whose plan depends on a bound value every time a cached
    // statement is reused (measured: 38 µs instead of 2 µs per routing query).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")?;
    Ok(())
}

/// Opens a read-write connection with the project's PRAGMAs and WAL.
pub fn open_rw(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    Ok(conn)
}

/// Opens a read-only connection.
pub fn open_ro(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    configure(&conn)?;
    conn.execute_batch("PRAGMA query_only = ON;")?;
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) the database, migrates it, and starts the writer.
    pub fn open(path: &Path, opts: DbOptions) -> AppResult<Db> {
        Db::open_with(path, opts, Hooks::default())
    }

    /// Like [`Db::open`], with the host's clock, health flag and storage hook.
    pub fn open_with(path: &Path, opts: DbOptions, hooks: Hooks) -> AppResult<Db> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = open_rw(path)?;
        if let migrate::Outcome::Upgraded(from) = migrate::migrate(&mut conn).map_err(AppError::Internal)?
            && from < 4
        {
            crate::phone::backfill(&conn)?;
        }
        let touched = Arc::new(AtomicBool::new(false));
        let t = touched.clone();
        conn.update_hook(Some(move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| {
            if CONFIG_TABLES.contains(&table) {
                t.store(true, Ordering::Relaxed);
            }
        }))?;
        let config_gen = Arc::new(AtomicU64::new(0));
        let mut readers = Vec::with_capacity(opts.readers);
        for _ in 0..opts.readers.max(1) {
            readers.push(open_ro(path)?);
        }
        let n = readers.len();
        let (tx, rx) = mpsc::channel::<Msg>();
        let max_batch = opts.max_batch.max(1);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        hooks.health.set_dir(&dir);
        let reserve = space::Reserve::for_db(path);
        if !reserve.ensure() {
            tracing::warn!("no room for the {} byte reserve beside {}", space::RESERVE_BYTES, path.display());
        }
        let health = hooks.health.clone();
        let writer = Writer { conn, hooks, reserve, dir, full_audited: false, touched, config_gen: config_gen.clone() };
        let handle = std::thread::Builder::new()
            .name("atende-writer".into())
            .spawn(move || writer_loop(writer, rx, max_batch))?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                tx: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                readers: Readers { conns: Mutex::new(readers), sem: Semaphore::new(n) },
                health,
                config_gen,
            }),
        })
    }

    /// Moves on after every commit that changed one of [`CONFIG_TABLES`]: a
    /// value read from them while this stays the same is still current (read
    /// it before the value, compare before using the cached copy).
    pub fn config_generation(&self) -> u64 {
        self.inner.config_gen.load(Ordering::SeqCst)
    }

    /// The storage condition the writer keeps (disk full, refused backups).
    pub fn health(&self) -> &Arc<space::Health> {
        &self.inner.health
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the writer thread inside the current group transaction and
    /// returns its result once the transaction is durably committed. An `Err`
    /// from `f` rolls back only what `f` did.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let (otx, orx) = oneshot::channel::<AppResult<T>>();
        let job: Job = Box::new(move |conn: Option<&Connection>| {
            let Some(conn) = conn else {
                let fin: Finisher = Box::new(move |_| {
                    let _ = otx.send(Err(AppError::StorageFull));
                });
                return (Ran::Full, fin);
            };
            let r = f(conn);
            let ran = match &r {
                Ok(_) => Ran::Ok,
                Err(AppError::StorageFull) => Ran::Full,
                // An I/O error converted to Internal no longer carries its
                // cause; the connection still knows it.
                Err(AppError::Internal(_)) if space::last_error_was_enospc(conn) => Ran::Full,
                Err(_) => Ran::Failed,
            };
            let fin: Finisher = Box::new(move |commit: Commit| {
                let r = match (r, commit) {
                    (Ok(v), Commit::Done) => Ok(v),
                    (Ok(_), Commit::Full) => Err(AppError::StorageFull),
                    (Ok(_), Commit::Failed) => Err(AppError::Internal("commit failed".into())),
                    (Err(_), _) if ran == Ran::Full => Err(AppError::StorageFull),
                    (Err(e), _) => Err(e),
                };
                let _ = otx.send(r);
            });
            (ran, fin)
        });
        {
            let guard = self.inner.tx.lock().map_err(|_| AppError::internal("writer lock poisoned"))?;
            let sender = guard.as_ref().ok_or_else(|| AppError::internal("database closed"))?;
            sender.send(Msg::Job(job)).map_err(|_| AppError::internal("writer thread gone"))?;
        }
        orx.await.map_err(|_| AppError::internal("write job lost (panic in job?)"))?
    }

    /// Runs `f` on a pooled read-only connection on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let readers = &self.inner.readers;
        let _permit = readers.sem.acquire().await.map_err(AppError::internal)?;
        let conn = readers.conns.lock().map_err(|_| AppError::internal("reader pool poisoned"))?.pop();
        let path = self.inner.path.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let conn = match conn {
                Some(c) => c,
                None => open_ro(&path)?,
            };
            let r = f(&conn);
            Ok::<_, AppError>((conn, r))
        })
        .await;
        match joined {
            Ok(Ok((conn, r))) => {
                if let Ok(mut pool) = readers.conns.lock() {
                    pool.push(conn);
                }
                r
            }
            Ok(Err(e)) => Err(e),
            // A panicking reader loses its connection; the next read opens a new one.
            Err(e) => Err(AppError::internal(format!("reader panicked: {e}"))),
        }
    }

    /// Stops the writer after the queued jobs and waits for it, so the WAL is
    /// checkpointed and the file is clean.
    pub fn close(&self) {
        if let Ok(mut g) = self.inner.tx.lock()
            && let Some(tx) = g.take()
        {
            let _ = tx.send(Msg::Shutdown);
        }
        if let Ok(mut g) = self.inner.writer.lock()
            && let Some(h) = g.take()
        {
            let _ = h.join();
        }
        if let Ok(mut pool) = self.inner.readers.conns.lock() {
            pool.clear();
        }
    }
}

struct Writer {
    conn: Connection,
    hooks: Hooks,
    reserve: space::Reserve,
    dir: PathBuf,
    // Whether the current episode's "full" event was recorded (it may not
    // fit when there was no reserve to give back; recovery records it then).
    full_audited: bool,
    // Set by the update hook when a statement changed one of CONFIG_TABLES;
    // turned into a new generation once the transaction is over.
    touched: Arc<AtomicBool>,
    config_gen: Arc<AtomicU64>,
}

impl Writer {
    /// After a transaction (committed or not): a new generation if it
    /// changed configuration.
    fn settle_config(&self) {
        if self.touched.swap(false, Ordering::SeqCst) {
            self.config_gen.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn writer_loop(mut w: Writer, rx: mpsc::Receiver<Msg>, max_batch: usize) {
    let mut stop = false;
    while !stop {
        let first = match rx.recv() {
            Ok(Msg::Job(j)) => j,
            Ok(Msg::Shutdown) | Err(_) => break,
        };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Shutdown) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if !w.room_to_write() {
            w.hooks.health.mark_full((w.hooks.now)(), batch.len() as u64);
            for job in batch {
                let (_, fin) = job(None);
                fin(Commit::Full);
            }
            continue;
        }
        let mut jobs = batch.into_iter().peekable();
        while jobs.peek().is_some() {
            run_group(&mut w, &mut jobs);
        }
    }
    let _ = w.conn.execute_batch("PRAGMA optimize;");
}

/// Runs one of the writer's own statements from the statement cache (each
/// job opens and releases a savepoint: parsed once, not per job).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs jobs in one transaction until they are all done, or until SQLite
/// rolls the transaction back by itself (it may on a full disk); the rest
/// then go into the next group.
fn run_group(w: &mut Writer, jobs: &mut impl Iterator<Item = Job>) {
    let conn = &w.conn;
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!("cannot begin write transaction: {e}");
        // Run nothing; every caller learns the write failed.
        jobs.for_each(drop);
        return;
    }
    let mut finishers = Vec::new();
    let mut full_jobs = 0u64;
    let mut aborted = false;
    for job in jobs.by_ref() {
        if run_cached(conn, "SAVEPOINT job").is_err() {
            continue;
        }
        match std::panic::catch_unwind(AssertUnwindSafe(|| job(Some(conn)))) {
            Ok((ran, fin)) => {
                if ran != Ran::Ok {
                    let _ = run_cached(conn, "ROLLBACK TO job");
                }
                let _ = run_cached(conn, "RELEASE job");
                if ran == Ran::Full {
                    full_jobs += 1;
                }
                finishers.push(fin);
            }
            Err(_) => {
                tracing::error!("a write job panicked; its changes were rolled back");
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            }
        }
        if conn.is_autocommit() {
            // The whole transaction is gone: none of this group was stored.
            aborted = true;
            break;
        }
    }
    let commit = if aborted {
        tracing::error!("the write transaction was rolled back by SQLite");
        if full_jobs > 0 { Commit::Full } else { Commit::Failed }
    } else {
        match conn.execute_batch("COMMIT") {
            Ok(()) => Commit::Done,
            Err(e) => {
                let full = space::is_full_error(conn, &e);
                tracing::error!("commit failed: {e}");
                let _ = conn.execute_batch("ROLLBACK");
                if full { Commit::Full } else { Commit::Failed }
            }
        }
    };
    match commit {
        Commit::Full => w.disk_full(finishers.len() as u64),
        _ if full_jobs > 0 => w.disk_full(full_jobs),
        _ => {}
    }
    // Before anyone is answered: whoever saved a number and goes on to use
    // it finds the cached copy stale.
    w.settle_config();
    for fin in finishers {
        fin(commit);
    }
}

impl Writer {
    /// Runs the host's storage hook in a transaction of its own.
    fn tell(&self, ev: &space::StorageEvent) -> bool {
        let Some(hook) = &self.hooks.on_storage else { return true };
        if self.conn.execute_batch("BEGIN IMMEDIATE").is_err() {
            return false;
        }
        let r = hook(&self.conn, ev)
            .map_err(|e| e.to_string())
            .and_then(|()| self.conn.execute_batch("COMMIT").map_err(|e| e.to_string()));
        if let Err(e) = r {
            tracing::warn!("storage event not recorded: {e}");
            let _ = self.conn.execute_batch("ROLLBACK");
            return false;
        }
        true
    }

    /// `refused` writes were just refused for lack of space.
    fn disk_full(&mut self, refused: u64) {
        let now = (self.hooks.now)();
        if !self.hooks.health.mark_full(now, refused) {
            return;
        }
        let released = self.reserve.release();
        let free = space::free_bytes(&self.dir);
        tracing::error!(
            "the disk holding {} is full ({} bytes free{}): writes are refused until space is freed",
            self.dir.display(),
            free.unwrap_or(0),
            if released { " after giving back the reserve" } else { ", no reserve left" }
        );
        self.full_audited = self.tell(&space::StorageEvent::Full { since: now, free });
    }

    /// Whether writes may run: always, unless the disk was found full and
    /// there is still no room (the reserve back plus some slack). When the
    /// room is back, the episode ends here, before the batch runs.
    fn room_to_write(&mut self) -> bool {
        let Some(since) = self.hooks.health.full_since() else { return true };
        let free = space::free_bytes(&self.dir);
        if free.is_some_and(|f| f < space::RESERVE_BYTES + space::RECOVER_SLACK_BYTES) || !self.reserve.ensure() {
            return false;
        }
        if !self.full_audited {
            self.full_audited = self.tell(&space::StorageEvent::Full { since, free: None });
        }
        let refused = self.hooks.health.refused_writes();
        let at = (self.hooks.now)();
        // If even this record fails for lack of space, the batch will too and
        // start a new episode; the flag never stays up on its own.
        self.tell(&space::StorageEvent::Recovered { since, at, refused, free: space::free_bytes(&self.dir) });
        tracing::info!("disk space is back after {refused} refused writes");
        self.hooks.health.clear_full();
        self.full_audited = false;
        true
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut g) = self.tx.lock()
            && let Some(tx) = g.take()
        {
            let _ = tx.send(Msg::Shutdown);
        }
        if let Ok(mut g) = self.writer.lock()
            && let Some(h) = g.take()
        {
            let _ = h.join();
        }
    }
}
