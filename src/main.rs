//! The `atende` binary: CLI parsing and wiring.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use atende::app::AppState;
use atende::clock::Clock;
use atende::config::{Cli, Command, Config};
use atende::db::{self, backup};
use atende::domain::{Actor, audit, auth};
use atende::{jobs, web};

/// Keeps large blocks (argon2's 19 MiB per hash, backup buffers) out of
/// malloc's arenas: glibc otherwise raises its mmap threshold after the first
/// such free and keeps every later one resident, so a burst of logins left
/// hundreds of MB behind. A fixed threshold returns them to the OS on free.
///
/// And at most two arenas: glibc gives every thread that allocates its own
/// (up to 8 per core), and the reads hop between tokio's blocking threads,
/// so each of them kept its own fragments. `cargo bench --bench workspace`
/// (section 3, after a mixed load) counted 15 arena heaps and 23–27 MB of
/// anonymous memory before; one heap and 16–19 MB with this, the periodic
/// trim below and fewer readers.
///
/// And no fastbins: with them every request of 1 KB or more first
/// consolidates all the small chunks freed since (`malloc_consolidate`),
/// about 3% of the server's time under the workspace bench; small blocks
/// still come from each thread's tcache. The same bench served the home
/// 1,914/s with fastbins and 2,193/s without, at the same memory.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bound_malloc_retention() {
    // SAFETY: mallopt only changes allocator tunables; called once at start,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MXFAST, 0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_malloc_retention() {}

/// How often the heap's free pages go back to the OS.
const HEAP_TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Every [`HEAP_TRIM_EVERY`], hands the free pages inside malloc's heaps back
/// to the OS (`malloc_trim`): glibc returns only the top of a heap by itself,
/// so what a burst of requests freed in the middle stayed resident. A trim
/// walks only the free chunks (well under a millisecond here).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn spawn_heap_trim() {
    tokio::spawn(async {
        let mut every = tokio::time::interval(HEAP_TRIM_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // SAFETY: malloc_trim only releases free memory; it takes the
            // arenas' own locks.
            let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
        }
    });
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn spawn_heap_trim() {}

fn main() -> ExitCode {
    bound_malloc_retention();
    let cli = Cli::parse();
    let config = match Config::resolve(&cli.global, &cli.serve) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("atende: {e}");
            return ExitCode::from(2);
        }
    };
    atende::logging::init(&config.log);
    let result = match cli.command {
        None | Some(Command::Serve) => run_async(serve(config)),
        Some(Command::Backup { file }) => cli_backup(&config, &file),
        Some(Command::Restore { file }) => cli_restore(&config, &file),
        Some(Command::SetupLink) => run_async(setup_link(config)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("atende: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_async<F: std::future::Future<Output = Result<(), String>>>(f: F) -> Result<(), String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?
        .block_on(f)
}

fn base_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() { format!("http://localhost:{}", addr.port()) } else { format!("http://{addr}") }
}

async fn print_setup_link(state: &AppState) -> Result<(), String> {
    if let Some(token) = auth::issue_setup_token(&state.db, state.now()).await.map_err(|e| e.to_string())? {
        println!(
            "\n  No administrator yet. Create one within 24 hours at:\n\n    {}/setup/{token}\n\n  \
             (the link works once; from another machine use this server's LAN address)\n",
            base_url(state.config.addr)
        );
    }
    Ok(())
}

async fn serve(config: Config) -> Result<(), String> {
    let _lock = backup::lock_data_dir(&config.data_dir)?;
    // Listened for from the start: a SIGTERM while the server is still
    // opening its database is a clean shutdown once it is up, not a kill.
    let stop = shutdown_signal();
    let addr = config.addr;
    let state = AppState::open(config, Clock::system()).await.map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!("Atende listening on {} (data: {})", base_url(addr), state.config.data_dir.display());
    print_setup_link(&state).await?;
    // Work that fell due while the server was down runs once now.
    match atende::domain::tasks::fire_due(&state).await {
        Ok(n) if n > 0 => tracing::info!("{n} tasks fell due while the server was down"),
        Ok(_) => {}
        Err(e) => tracing::warn!("due tasks check failed: {e}"),
    }
    if let Err(e) = jobs::cleanup_sessions(&state).await {
        tracing::warn!("session cleanup failed: {e}");
    }
    let mut sched = jobs::start(&state).await.map_err(|e| e.to_string())?;
    spawn_heap_trim();
    let routes = web::routes(state.clone());
    if let Some(paddr) = state.config.public_addr {
        let public =
            tokio::net::TcpListener::bind(paddr).await.map_err(|e| format!("cannot listen on {paddr}: {e}"))?;
        tracing::info!("web chat widget also served on {paddr} (public endpoints only)");
        let proutes = web::public_routes(state.clone());
        tokio::spawn(warp::serve(proutes).incoming(public).graceful(stopped(stop.clone())).run());
    }
    warp::serve(routes).incoming(listener).graceful(stopped(stop)).run().await;
    tracing::info!("shutting down");
    // The mailboxes' IDLE sessions are dropped at once; they hold no run
    // slot, so the drain below never waits for them.
    state.email.stop();
    // The jobs' runs in flight end before the database closes.
    if !state.jobs.drain(std::time::Duration::from_secs(20)).await {
        tracing::warn!("a scheduled job was still running at shutdown");
    }
    let _ = sched.shutdown().await;
    close(state);
    Ok(())
}

fn close(state: Arc<AppState>) {
    state.db.close();
}

/// Starts listening for Ctrl-C and SIGTERM now (the handlers are in place
/// when this returns); the receiver turns true when one arrives.
fn shutdown_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
        let _ = tx.send(true);
    });
    rx
}

/// Resolves once a shutdown signal arrived.
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

fn now() -> i64 {
    Clock::system().now()
}

fn record(db_path: &std::path::Path, action: &str, target: &str, detail: &str) -> Result<(), String> {
    let conn = db::open_rw(db_path).map_err(|e| e.to_string())?;
    audit::record(&conn, &Actor::system("cli", now()), action, target, detail).map_err(|e| e.to_string())
}

fn cli_backup(config: &Config, file: &std::path::Path) -> Result<(), String> {
    let src = config.db_path();
    if !src.exists() {
        return Err(format!("no database at {}", src.display()));
    }
    let info = backup::backup_file(&src, file)?;
    record(&src, "backup.cli", &file.display().to_string(), &format!("{} bytes", info.bytes))?;
    println!(
        "backup written to {} ({} bytes, schema version {}, integrity ok)",
        file.display(),
        info.bytes,
        info.version
    );
    Ok(())
}

fn cli_restore(config: &Config, file: &std::path::Path) -> Result<(), String> {
    let kept = backup::restore(&config.data_dir, file, now())?;
    let db_path = config.db_path();
    // Bring an older backup up to this binary's schema right away.
    let mut conn = db::open_rw(&db_path).map_err(|e| e.to_string())?;
    db::migrate::migrate(&mut conn)?;
    drop(conn);
    let detail = kept.as_ref().map(|k| format!("kept {}", k.display())).unwrap_or_default();
    record(&db_path, "restore.cli", &file.display().to_string(), &detail)?;
    println!("restored {} into {}", file.display(), db_path.display());
    if let Some(k) = kept {
        println!("the replaced database was kept as {}", k.display());
    }
    Ok(())
}

async fn setup_link(config: Config) -> Result<(), String> {
    let state = AppState::open(config, Clock::system()).await.map_err(|e| e.to_string())?;
    print_setup_link(&state).await?;
    if !state.db.read(atende::domain::users::admin_exists).await.map_err(|e| e.to_string())? {
        return Ok(());
    }
    println!("an administrator already exists; use the login page");
    Ok(())
}
