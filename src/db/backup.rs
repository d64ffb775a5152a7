//! Consistent copies of the live database, daily rotation, and restore.
//!
//! A copy is taken with SQLite's online backup API in a single step, which
//! reads one snapshot under a read transaction: in WAL mode the writer keeps
//! going while the copy is made.
//!
//! Every copy first checks the free space where it goes: it needs the
//! database's size plus a headroom ([`space::backup_headroom`]) and is refused
//! otherwise, so a backup never fills the disk the live database writes to.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::migrate;
use super::space;

/// Not enough room for a copy: bytes needed (size plus headroom) and free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRoom {
    /// Bytes the copy needs free.
    pub needed: u64,
    /// Bytes free where it goes.
    pub free: u64,
}

impl std::fmt::Display for NoRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mb = |b: u64| b as f64 / 1_048_576.0;
        write!(
            f,
            "not enough free space for the copy: it needs {:.1} MB free, {:.1} MB are",
            mb(self.needed),
            mb(self.free)
        )
    }
}

/// Bytes a copy of `source` needs free: its size plus the headroom.
pub fn needed_for(source: &Connection) -> u64 {
    let size: u64 = source
        .query_row("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n.max(0) as u64)
        .unwrap_or(0);
    size + space::backup_headroom(size)
}

/// Checks that the folder `dir` (or its nearest existing parent) has room
/// for a copy of `source` and the headroom after it.
pub fn room_for(source: &Connection, dir: &Path) -> Result<(), NoRoom> {
    let needed = needed_for(source);
    let at = dir.ancestors().find(|a| a.exists()).unwrap_or(dir);
    match space::free_bytes(at) {
        Some(free) if free < needed => Err(NoRoom { needed, free }),
        _ => Ok(()),
    }
}

/// Summary of a verified database file.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Schema version.
    pub version: i64,
    /// Size in bytes.
    pub bytes: u64,
}

/// Copies the database at `src` into `dest` (which must not exist), then checks
/// the copy. Writes to `dest.partial` first so a crash never leaves half a file
/// under the final name.
pub fn backup_file(src: &Path, dest: &Path) -> Result<FileInfo, String> {
    if dest.exists() {
        return Err(format!("{} already exists", dest.display()));
    }
    let source = super::open_ro(src).map_err(|e| format!("cannot open {}: {e}", src.display()))?;
    backup_from(&source, dest)
}

/// Like [`backup_file`] with an already open source connection.
pub fn backup_from(source: &Connection, dest: &Path) -> Result<FileInfo, String> {
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    room_for(source, dir).map_err(|e| e.to_string())?;
    let partial = partial_path(dest);
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let mut out = Connection::open(&partial).map_err(|e| e.to_string())?;
        {
            let b = rusqlite::backup::Backup::new(source, &mut out).map_err(|e| e.to_string())?;
            // One step = one snapshot; a step-wise copy would restart on every
            // concurrent write and might never finish under load.
            b.step(-1).map_err(|e| format!("backup failed: {e}"))?;
        }
        out.pragma_update(None, "journal_mode", "DELETE").map_err(|e| e.to_string())?;
        drop(out);
        let info = verify(&partial)?;
        File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| e.to_string())?;
        std::fs::rename(&partial, dest).map_err(|e| e.to_string())?;
        Ok(info)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn partial_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Checks that `path` is an intact Atende database this binary can open.
pub fn verify(path: &Path) -> Result<FileInfo, String> {
    let conn = super::open_ro(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let (app, ver) = migrate::read_version(&conn).map_err(|e| format!("not a database: {e}"))?;
    migrate::check_version(app, ver, migrate::VERSION)?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("integrity check failed: {e}"))?;
    if check != "ok" {
        return Err(format!("integrity check failed: {check}"));
    }
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(FileInfo { version: ver, bytes })
}

/// Takes the data folder's lock, held by a running server for its lifetime.
pub fn lock_data_dir(data_dir: &Path) -> Result<File, String> {
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let path = data_dir.join("atende.lock");
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(format!("another Atende server is using {}; stop it first", data_dir.display()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// Replaces the database in `data_dir` with `file` after verifying it. The
/// replaced database is kept beside it as `atende.db.replaced-<unix time>`.
/// Returns the path of the kept file, if there was one.
pub fn restore(data_dir: &Path, file: &Path, now: i64) -> Result<Option<PathBuf>, String> {
    let _lock = lock_data_dir(data_dir)?;
    verify(file)?;
    let db = data_dir.join("atende.db");
    let incoming = data_dir.join("atende.db.restoring");
    let _ = std::fs::remove_file(&incoming);
    let source = super::open_ro(file).map_err(|e| e.to_string())?;
    backup_from(&source, &incoming)?;
    drop(source);
    let kept = if db.exists() {
        // Fold any WAL into the main file so the kept copy is complete on its own.
        let conn = super::open_rw(&db).map_err(|e| e.to_string())?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| format!("cannot checkpoint the current database: {e}"))?;
        conn.pragma_update(None, "journal_mode", "DELETE").map_err(|e| e.to_string())?;
        drop(conn);
        let kept = data_dir.join(format!("atende.db.replaced-{now}"));
        std::fs::rename(&db, &kept).map_err(|e| e.to_string())?;
        Some(kept)
    } else {
        None
    };
    for ext in ["atende.db-wal", "atende.db-shm"] {
        let _ = std::fs::remove_file(data_dir.join(ext));
    }
    std::fs::rename(&incoming, &db).map_err(|e| e.to_string())?;
    Ok(kept)
}

/// Makes a timestamped copy in `dir` and deletes the oldest beyond `keep`.
pub fn daily(source: &Connection, dir: &Path, stamp: &str, keep: usize) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let dest = dir.join(format!("atende-{stamp}.db"));
    backup_from(source, &dest)?;
    let mut all = list_backups(dir);
    all.sort();
    while all.len() > keep {
        let old = all.remove(0);
        let _ = std::fs::remove_file(dir.join(&old));
    }
    Ok(dest)
}

/// File names of the daily backups in `dir`, unsorted.
pub fn list_backups(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("atende-") && n.ends_with(".db"))
                .collect()
        })
        .unwrap_or_default()
}
