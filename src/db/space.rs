//! Disk space: telling "the disk is full" apart from other failures, the state
//! admins and `/healthz` see while it lasts, a small reserve file the writer
//! gives back to the filesystem when the disk fills (so that the alert itself
//! can still be recorded), and the free-space check backups make first.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use rusqlite::Connection;

/// Size of the reserve file kept beside the database (`<db>.reserve`).
pub const RESERVE_BYTES: u64 = 1 << 20;

/// Free space (beyond the re-created reserve) needed before a full disk is
/// declared over; a little slack keeps one freed megabyte from flapping the
/// alert on and off.
pub const RECOVER_SLACK_BYTES: u64 = 8 << 20;

/// What a backup leaves free at least: 8 MiB or a tenth of the database,
/// whichever is larger, so a copy never takes the live database's last room.
pub fn backup_headroom(db_bytes: u64) -> u64 {
    (8u64 << 20).max(db_bytes / 10)
}

/// Bytes an unprivileged process may still write on the filesystem holding
/// `path` (None when it cannot be asked).
#[cfg(unix)]
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs only writes into the zeroed struct we own, and `c` is a
    // valid NUL-terminated path for the duration of the call.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Bytes free on the filesystem holding `path` (None off Unix).
#[cfg(not(unix))]
pub fn free_bytes(_path: &Path) -> Option<u64> {
    None
}

/// Whether a failed SQLite call failed for lack of space: SQLITE_FULL, or an
/// I/O error (fsync, truncate, shared-memory growth) whose errno is ENOSPC.
pub fn is_full_error(conn: &Connection, e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            rusqlite::ErrorCode::DiskFull => true,
            rusqlite::ErrorCode::SystemIoFailure => system_errno(conn) == Some(libc::ENOSPC),
            _ => false,
        },
        _ => false,
    }
}

/// Whether the most recent SQLite call on `conn` was an I/O error caused by
/// ENOSPC (used when a job's error no longer carries the SQLite code).
pub fn last_error_was_enospc(conn: &Connection) -> bool {
    // SAFETY: the handle is valid while `conn` lives; both calls only read the
    // connection's last error state.
    let code = unsafe { rusqlite::ffi::sqlite3_extended_errcode(conn.handle()) };
    (code & 0xff) == rusqlite::ffi::SQLITE_IOERR && system_errno(conn) == Some(libc::ENOSPC)
}

fn system_errno(conn: &Connection) -> Option<i32> {
    // SAFETY: as above; sqlite3_system_errno reads the errno the VFS kept.
    let n = unsafe { rusqlite::ffi::sqlite3_system_errno(conn.handle()) };
    (n != 0).then_some(n)
}

/// A daily backup refused for lack of space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupRefusal {
    /// When (unix).
    pub at: i64,
    /// Bytes the copy needed free (its size plus the headroom).
    pub needed: u64,
    /// Bytes that were free.
    pub free: u64,
}

/// The storage condition, shared by the writer (which sets it), the backup
/// job, the page shell and `/healthz`.
#[derive(Debug, Default)]
pub struct Health {
    // Unix time the disk was found full; 0 while it is not.
    full_since: AtomicI64,
    // Writes refused (answered "disk full") since then.
    refused: AtomicU64,
    backup_refusal: Mutex<Option<BackupRefusal>>,
    dir: Mutex<PathBuf>,
}

/// A copy of [`Health`] for one page or answer.
#[derive(Clone, Debug, Default)]
pub struct HealthSnapshot {
    /// Since when the disk is full (unix), if it is.
    pub full_since: Option<i64>,
    /// Writes refused since then.
    pub refused_writes: u64,
    /// The last refused daily backup, until one succeeds.
    pub backup_refusal: Option<BackupRefusal>,
    /// The data folder (where to free space).
    pub dir: String,
}

impl Health {
    /// Since when writes fail for lack of space, if they do.
    pub fn full_since(&self) -> Option<i64> {
        match self.full_since.load(Ordering::Acquire) {
            0 => None,
            t => Some(t),
        }
    }

    /// Writes refused for lack of space during the current episode.
    pub fn refused_writes(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The last refused daily backup, until a later one succeeds.
    pub fn backup_refusal(&self) -> Option<BackupRefusal> {
        self.backup_refusal.lock().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Records a refused backup; true when it is new (not already refused),
    /// so the alert is recorded once per episode.
    pub fn set_backup_refusal(&self, r: BackupRefusal) -> bool {
        let mut g = self.backup_refusal.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = g.is_none();
        *g = Some(r);
        fresh
    }

    /// Clears the backup refusal (a backup succeeded).
    pub fn clear_backup_refusal(&self) {
        *self.backup_refusal.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Everything at once, for a page.
    pub fn snapshot(&self) -> HealthSnapshot {
        HealthSnapshot {
            full_since: self.full_since(),
            refused_writes: self.refused_writes(),
            backup_refusal: self.backup_refusal(),
            dir: self.dir.lock().map(|d| d.display().to_string()).unwrap_or_default(),
        }
    }

    pub(super) fn set_dir(&self, dir: &Path) {
        if let Ok(mut d) = self.dir.lock() {
            *d = dir.to_path_buf();
        }
    }

    /// Marks the disk full at `now`; true on the transition.
    pub(super) fn mark_full(&self, now: i64, refused: u64) -> bool {
        let first = self.full_since.compare_exchange(0, now.max(1), Ordering::AcqRel, Ordering::Acquire).is_ok();
        if first {
            self.refused.store(refused, Ordering::Relaxed);
        } else {
            self.refused.fetch_add(refused, Ordering::Relaxed);
        }
        first
    }

    pub(super) fn clear_full(&self) {
        self.full_since.store(0, Ordering::Release);
        self.refused.store(0, Ordering::Relaxed);
    }
}

/// What the writer tells its host about the storage condition.
#[derive(Clone, Debug)]
pub enum StorageEvent {
    /// Writes started failing for lack of space.
    Full {
        /// Since when (unix).
        since: i64,
        /// Bytes free after the reserve was given back.
        free: Option<u64>,
    },
    /// Space is back and a write succeeded.
    Recovered {
        /// Since when it had been full (unix).
        since: i64,
        /// When it was found over (unix).
        at: i64,
        /// Writes refused meanwhile.
        refused: u64,
        /// Bytes free now.
        free: Option<u64>,
    },
}

/// The reserve file: a megabyte allocated in advance beside the database.
pub(super) struct Reserve {
    path: PathBuf,
}

impl Reserve {
    pub(super) fn for_db(db: &Path) -> Reserve {
        let mut s = db.as_os_str().to_owned();
        s.push(".reserve");
        Reserve { path: PathBuf::from(s) }
    }

    /// Creates (or completes) the reserve; false when there is no room for it.
    pub(super) fn ensure(&self) -> bool {
        if std::fs::metadata(&self.path).map(|m| m.len() >= RESERVE_BYTES).unwrap_or(false) {
            return true;
        }
        let ok = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.path)
            .and_then(|f| allocate(&f, RESERVE_BYTES).and_then(|_| f.sync_all()))
            .is_ok();
        if !ok {
            let _ = std::fs::remove_file(&self.path);
        }
        ok
    }

    /// Gives the reserve back to the filesystem; true if there was one.
    pub(super) fn release(&self) -> bool {
        std::fs::remove_file(&self.path).is_ok()
    }
}

// The blocks must really be allocated (a sparse file would reserve nothing).
#[cfg(target_os = "linux")]
fn allocate(f: &File, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for writing for the duration of the call.
    let rc = unsafe { libc::posix_fallocate(f.as_raw_fd(), 0, len as libc::off_t) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::from_raw_os_error(rc)) }
}

#[cfg(not(target_os = "linux"))]
fn allocate(f: &File, len: u64) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = f;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        w.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_flag_is_set_once_and_counts_refusals() {
        let h = Health::default();
        assert!(h.mark_full(100, 2));
        assert!(!h.mark_full(200, 3));
        assert_eq!(h.full_since(), Some(100));
        assert_eq!(h.refused_writes(), 5);
        h.clear_full();
        assert_eq!(h.full_since(), None);
        assert_eq!(h.refused_writes(), 0);
    }

    #[test]
    fn a_backup_refusal_is_new_once() {
        let h = Health::default();
        let r = BackupRefusal { at: 1, needed: 10, free: 1 };
        assert!(h.set_backup_refusal(r.clone()));
        assert!(!h.set_backup_refusal(r));
        h.clear_backup_refusal();
        assert_eq!(h.backup_refusal(), None);
    }

    #[test]
    fn the_reserve_is_allocated_and_released() {
        let dir = tempfile::tempdir().unwrap();
        let r = Reserve::for_db(&dir.path().join("a.db"));
        assert!(r.ensure());
        assert_eq!(std::fs::metadata(dir.path().join("a.db.reserve")).unwrap().len(), RESERVE_BYTES);
        assert!(r.release());
        assert!(!r.release());
        assert!(free_bytes(dir.path()).is_some());
    }
}
