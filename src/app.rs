//! The shared application state handed to every handler and job.

use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Db, DbOptions};
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
    // Settings are read on every page; they change rarely and are cached here.
    settings: RwLock<Settings>,
}

impl AppState {
    /// Opens the database in the configured data folder and loads settings.
    pub async fn open(config: Config, clock: Clock) -> AppResult<Arc<AppState>> {
        let path = config.db_path();
        let db = tokio::task::spawn_blocking(move || Db::open(&path, DbOptions::default()))
            .await
            .map_err(AppError::internal)??;
        let s = db.read(settings::load).await?;
        Ok(Arc::new(AppState {
            db,
            config,
            clock,
            bus: Bus::default(),
            visitor_limits: Default::default(),
            jobs: Default::default(),
            settings: RwLock::new(s),
        }))
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
