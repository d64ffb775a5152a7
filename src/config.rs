//! Configuration: built-in defaults < config file < environment < flags,
//! validated once at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

/// Command line of the `atende` binary.
#[derive(Parser, Debug)]
#[command(
    name = "atende",
    version,
    about = "Atende: self-hosted customer-service desk (one binary, one SQLite file)",
    long_about = "Atende serves the agent UI and keeps everything in one SQLite file.\n\
                  With no subcommand it runs `serve` on the embedded defaults: data in \
                  ./atende-data, agent UI on 0.0.0.0:8080."
)]
pub struct Cli {
    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Options of the server (used by `serve`, the default).
    #[command(flatten)]
    pub serve: ServeArgs,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand understands.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Data folder holding atende.db and backups/ [default: ./atende-data]
    #[arg(long, env = "ATENDE_DATA", global = true)]
    pub data: Option<PathBuf>,
    /// TOML config file (see packaging/atende.toml)
    #[arg(long, env = "ATENDE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Log filter, e.g. info or atende=debug [default: info]
    #[arg(long, env = "ATENDE_LOG", global = true)]
    pub log: Option<String>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the agent UI (the default).
    Serve,
    /// Write a consistent copy of the database to FILE (safe while the server runs).
    Backup {
        /// Destination file; must not exist yet.
        file: PathBuf,
    },
    /// Replace the database with FILE after checking its integrity and schema
    /// version. Refuses while a server holds the database; keeps the old file.
    Restore {
        /// A backup made by `atende backup` or the admin UI.
        file: PathBuf,
    },
    /// Print a new one-time link to create the first administrator.
    SetupLink,
}

/// Options of `serve`.
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Address of the agent UI [default: 0.0.0.0:8080]
    #[arg(long, env = "ATENDE_ADDR", global = true)]
    pub addr: Option<SocketAddr>,
    /// Also serve the web chat widget and visitor API (only) on this address,
    /// e.g. for a port forwarded from the internet [default: none]
    #[arg(long, env = "ATENDE_PUBLIC_ADDR", global = true)]
    pub public_addr: Option<SocketAddr>,
    /// URL visitors' browsers use to reach the widget, shown in the snippet
    /// (e.g. https://chat.example.com) [default: the address the admin uses]
    #[arg(long, env = "ATENDE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Daily backups kept in DATA/backups [default: 7]
    #[arg(long, env = "ATENDE_BACKUP_RETENTION", global = true)]
    pub backup_retention: Option<u32>,
    /// Local time (HH:MM, business time zone) of the daily backup [default: 02:30]
    #[arg(long, env = "ATENDE_BACKUP_TIME", global = true)]
    pub backup_time: Option<String>,
    /// Minutes of inactivity before a session ends [default: 720]
    #[arg(long, env = "ATENDE_SESSION_IDLE_MINUTES", global = true)]
    pub session_idle_minutes: Option<i64>,
    /// Hours after login when a session ends regardless of activity [default: 168]
    #[arg(long, env = "ATENDE_SESSION_MAX_HOURS", global = true)]
    pub session_max_hours: Option<i64>,
    /// Take the client IP from X-Forwarded-For (only behind your own proxy)
    #[arg(long, env = "ATENDE_TRUST_PROXY", global = true)]
    pub trust_proxy: Option<bool>,
    /// Mark cookies Secure (when a reverse proxy serves HTTPS)
    #[arg(long, env = "ATENDE_SECURE_COOKIES", global = true)]
    pub secure_cookies: Option<bool>,
    /// Seconds that one minute of a pause limit lasts (tests and demos only)
    #[arg(long, env = "ATENDE_PAUSE_MINUTE_SECS", global = true, hide = true)]
    pub pause_minute_secs: Option<i64>,
}

/// The config file's keys; all optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    data: Option<PathBuf>,
    addr: Option<SocketAddr>,
    public_addr: Option<SocketAddr>,
    public_url: Option<String>,
    backup_retention: Option<u32>,
    backup_time: Option<String>,
    session_idle_minutes: Option<i64>,
    session_max_hours: Option<i64>,
    trust_proxy: Option<bool>,
    secure_cookies: Option<bool>,
    log: Option<String>,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data folder.
    pub data_dir: PathBuf,
    /// Agent UI listen address.
    pub addr: SocketAddr,
    /// Extra listener for the public widget endpoints only.
    pub public_addr: Option<SocketAddr>,
    /// Base URL of the widget as visitors reach it.
    pub public_url: Option<String>,
    /// Daily backups kept.
    pub backup_retention: u32,
    /// Hour and minute of the daily backup, business time zone.
    pub backup_time: (u8, u8),
    /// Session idle expiry, seconds.
    pub session_idle_secs: i64,
    /// Session absolute expiry, seconds.
    pub session_max_secs: i64,
    /// Trust X-Forwarded-For.
    pub trust_proxy: bool,
    /// Secure cookies.
    pub secure_cookies: bool,
    /// Log filter.
    pub log: String,
    /// Seconds one minute of a pause limit lasts (60; tests shorten it).
    pub pause_minute_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("atende-data"),
            addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            public_addr: None,
            public_url: None,
            backup_retention: 7,
            backup_time: (2, 30),
            session_idle_secs: 720 * 60,
            session_max_secs: 168 * 3600,
            trust_proxy: false,
            secure_cookies: false,
            log: "info".into(),
            pause_minute_secs: 60,
        }
    }
}

impl Config {
    /// Merges defaults, the config file, environment and flags (clap has already
    /// folded the environment into the flags) and validates the result.
    pub fn resolve(global: &GlobalArgs, serve: &ServeArgs) -> Result<Config, String> {
        let file = match &global.config {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        let d = Config::default();
        let backup_time = match serve.backup_time.clone().or(file.backup_time) {
            Some(s) => parse_hhmm(&s).ok_or(format!("backup_time must be HH:MM, got {s:?}"))?,
            None => d.backup_time,
        };
        let idle = serve.session_idle_minutes.or(file.session_idle_minutes);
        let max = serve.session_max_hours.or(file.session_max_hours);
        let cfg = Config {
            data_dir: global.data.clone().or(file.data).unwrap_or(d.data_dir),
            addr: serve.addr.or(file.addr).unwrap_or(d.addr),
            public_addr: serve.public_addr.or(file.public_addr),
            public_url: serve.public_url.clone().or(file.public_url).map(|u| u.trim_end_matches('/').to_string()),
            backup_retention: serve.backup_retention.or(file.backup_retention).unwrap_or(d.backup_retention),
            backup_time,
            session_idle_secs: idle.map(|m| m * 60).unwrap_or(d.session_idle_secs),
            session_max_secs: max.map(|h| h * 3600).unwrap_or(d.session_max_secs),
            trust_proxy: serve.trust_proxy.or(file.trust_proxy).unwrap_or(false),
            secure_cookies: serve.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            log: global.log.clone().or(file.log).unwrap_or(d.log),
            pause_minute_secs: serve.pause_minute_secs.unwrap_or(d.pause_minute_secs),
        };
        if !(1..=60).contains(&cfg.pause_minute_secs) {
            return Err("pause_minute_secs must be between 1 and 60".into());
        }
        if cfg.backup_retention == 0 || cfg.backup_retention > 365 {
            return Err("backup_retention must be between 1 and 365".into());
        }
        if cfg.session_idle_secs < 60 || cfg.session_max_secs < cfg.session_idle_secs {
            return Err("session_idle_minutes must be >= 1 and session_max_hours must cover it".into());
        }
        Ok(cfg)
    }

    /// Path of the database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("atende.db")
    }

    /// Folder of the daily backups.
    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir.join("backups")
    }
}

fn read_file(p: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| format!("invalid config {}: {e}", p.display()))
}

/// Parses "HH:MM" (24 h) into hour and minute.
pub fn parse_hhmm(s: &str) -> Option<(u8, u8)> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}
