//! The shared application state handed to every handler and job.

use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::space::{Health, StorageEvent};
use crate::db::{Db, DbOptions, Hooks};
use crate::domain::settings::{self, Settings};
use crate::error::{AppError, AppResult};
use crate::events::Bus;

/// State shared by handlers and jobs.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Validated configuration.
    pub config: Config,
    /// Time source (tests move it).
    pub clock: Clock,
    /// Live events, published after commit.
    pub bus: Bus,
    /// Per-visitor rate limits of the web chat.
    pub visitor_limits: crate::channels::webchat::Limiter,
    /// The scheduler's jobs and how their last runs went.
    pub jobs: crate::jobs::Board,
    /// The WhatsApp numbers' credentials webhooks use.
    pub wa_credentials: crate::domain::whatsapp::CredentialCache,
    /// The mailboxes being read and when each was last read.
    pub email: crate::channels::email::Runner,
    // Settings are read on every page; they change rarely and are cached here.
    settings: RwLock<Settings>,
}

impl AppState {
    /// Opens the database in the configured data folder and loads settings.
    pub async fn open(config: Config, clock: Clock) -> AppResult<Arc<AppState>> {
        let path = config.db_path();
        let clock2 = clock.clone();
        let hooks = Hooks {
            now: Box::new(move || clock2.now()),
            health: Arc::new(Health::default()),
            on_storage: Some(Box::new(record_storage_event)),
        };
        let db = tokio::task::spawn_blocking(move || Db::open_with(&path, DbOptions::default(), hooks))
            .await
            .map_err(AppError::internal)??;
        // Metrics of conversations from before they were recorded, once,
        // before anything is served.
        if let Some(n) = db.write(crate::domain::metrics::replay::backfill_pending).await? {
            tracing::info!(conversations = n, "metrics backfilled from the timelines");
        }
        let s = db.read(settings::load).await?;
        // The phone library loads its metadata on first use (tens of
        // milliseconds): now, beside the rest of the start, not inside the
        // first customer's request.
        drop(tokio::task::spawn_blocking(|| crate::phone::normalize("+5511987654321")));
        Ok(Arc::new(AppState {
            db,
            config,
            clock,
            bus: Bus::default(),
            visitor_limits: Default::default(),
            jobs: Default::default(),
            wa_credentials: Default::default(),
            email: Default::default(),
            settings: RwLock::new(s),
        }))
    }

    /// The storage condition (disk full since, refused backup) the writer
    /// and the backup job keep; the page shell and `/healthz` show it.
    pub fn health(&self) -> &Health {
        self.db.health()
    }

    /// Current unix time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A copy of the cached settings.
    pub fn settings(&self) -> Settings {
        self.settings.read().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Re-reads the settings after a change.
    pub async fn reload_settings(&self) -> AppResult<()> {
        let s = self.db.read(settings::load).await?;
        if let Ok(mut g) = self.settings.write() {
            *g = s;
        }
        Ok(())
    }
}

/// Megabytes with one decimal, pt-BR style ("1,5 MB"), for audit details.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0).replace('.', ",")
}

// The audit entries of a full disk: once when it fills, once when it is over.
fn record_storage_event(conn: &rusqlite::Connection, ev: &StorageEvent) -> AppResult<()> {
    use crate::domain::{Actor, audit};
    match ev {
        StorageEvent::Full { since, free } => {
            let detail = free.map(|f| format!("livre: {}", megabytes(f))).unwrap_or_default();
            audit::record(conn, &Actor::system("sistema", *since), "storage.full", "disco de dados", &detail)
        }
        StorageEvent::Recovered { at, refused, free, .. } => {
            let mut detail = format!("gravações recusadas: {refused}");
            if let Some(f) = free {
                detail.push_str(&format!("; livre: {}", megabytes(*f)));
            }
            audit::record(conn, &Actor::system("sistema", *at), "storage.recovered", "disco de dados", &detail)
        }
    }
}
