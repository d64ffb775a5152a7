//! The WAL checkpointer: copies the write-ahead log back into the database
//! on a thread of its own, so no commit waits for it.
//!
//! SQLite's default checkpoints inside the commit that pushes the log past
//! 1,000 pages: that commit, and every caller grouped into it or queued
//! behind it, waits while a thousand pages are copied and the database file
//! is fsynced (the tail of a webhook burst's latency). Here the writer's WAL
//! hook only wakes this thread, which runs PASSIVE checkpoints from its own
//! connection: they never block the writer or the readers, and the writer
//! starts the log from the beginning again once it is all copied. Should the
//! thread fall far behind, the writer checkpoints by itself, as SQLite
//! would, so the log stays bounded.

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

/// Log pages after which the checkpointer is woken (SQLite's own threshold).
pub const WAKE_PAGES: c_int = 1_000;
/// Log pages after which the writer checkpoints by itself (about 80 MB).
pub const WRITER_PAGES: c_int = 20_000;

/// The running checkpointer.
pub struct Checkpointer {
    handle: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts the thread for the database at `path` and hands the writer's
    /// connection the hook that wakes it (which replaces SQLite's own
    /// automatic checkpoint).
    pub fn start(path: &Path, writer: &mut Connection) -> rusqlite::Result<Checkpointer> {
        let conn = super::open_rw(path)?;
        let (tx, rx) = mpsc::sync_channel::<()>(1);
        writer.wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
            if pages >= WRITER_PAGES {
                wal.checkpoint_v2(CheckpointMode::PASSIVE)?;
            } else if pages >= WAKE_PAGES {
                // Already awake when full: one wake-up covers any number of commits.
                let _ = tx.try_send(());
            }
            Ok(())
        }))?;
        let p: PathBuf = path.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("atende-checkpoint".into())
            .spawn(move || run(conn, rx, &p))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Checkpointer { handle })
    }

    /// Waits for the thread, which ends once the writer's connection (and
    /// with it the hook) is gone.
    pub fn join(self) {
        let _ = self.handle.join();
    }
}

fn run(conn: Connection, rx: mpsc::Receiver<()>, path: &Path) {
    while rx.recv().is_ok() {
        if let Err(e) = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            tracing::warn!("checkpoint of {} failed (the writer will retry): {e}", path.display());
        }
    }
}
