//! Named scheduled jobs. Each job body is a plain domain-level function that
//! tests and the CLI can call too; the scheduler only decides when.

use std::sync::Arc;

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::app::AppState;
use crate::db::backup;
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
pub async fn run_daily_backup(state: &AppState) -> AppResult<String> {
    let now = state.now();
    let local = jiff::Timestamp::from_second(now).map_err(AppError::internal)?.to_zoned(state.settings().tz());
    let stamp = local.strftime("%Y%m%d-%H%M%S").to_string();
    let dir = state.config.backup_dir();
    let keep = state.config.backup_retention as usize;
    let path = state.db.read(move |c| backup::daily(c, &dir, &stamp, keep).map_err(AppError::Internal)).await?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n2 = name.clone();
    state.db.write(move |c| audit::record(c, &Actor::system("sistema", now), "backup.daily", &n2, "")).await?;
    Ok(name)
}

/// Deletes expired sessions and setup links.
pub async fn cleanup_sessions(state: &AppState) -> AppResult<usize> {
    let c = &state.config;
    auth::cleanup(&state.db, state.now(), c.session_idle_secs, c.session_max_secs).await
}

fn add<F, Fut>(state: &Arc<AppState>, name: &'static str, cron: &str, f: F) -> AppResult<Job>
where
    F: Fn(Arc<AppState>) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = AppResult<String>> + Send + 'static,
{
    let state = state.clone();
    Job::new_async(cron, move |_id, _lock| {
        let state = state.clone();
        let f = f.clone();
        Box::pin(async move {
            match f(state).await {
                Ok(msg) if msg.is_empty() => tracing::debug!(job = name, "ran"),
                Ok(msg) => tracing::info!(job = name, "{msg}"),
                Err(e) => tracing::error!(job = name, "failed: {e}"),
            }
        })
    })
    .map_err(AppError::internal)
}

/// Starts the scheduler with every named job.
pub async fn start(state: &Arc<AppState>) -> AppResult<JobScheduler> {
    let sched = JobScheduler::new().await.map_err(AppError::internal)?;
    let jobs = [
        add(state, "backup.daily", "0 * * * * *", |s| async move {
            Ok(backup_if_due(&s).await?.map(|n| format!("backup written: {n}")).unwrap_or_default())
        })?,
        add(state, "offers.expire", "* * * * * *", |s| async move {
            let n = crate::domain::conversations::expire_offers(&s).await?;
            Ok(if n > 0 { format!("{n} offers moved on") } else { String::new() })
        })?,
        add(state, "sessions.cleanup", "0 */10 * * * *", |s| async move {
            let n = cleanup_sessions(&s).await?;
            Ok(if n > 0 { format!("removed {n} expired rows") } else { String::new() })
        })?,
    ];
    for job in jobs {
        sched.add(job).await.map_err(AppError::internal)?;
    }
    sched.start().await.map_err(AppError::internal)?;
    Ok(sched)
}
