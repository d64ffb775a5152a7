//! Atende: a self-hosted customer-service desk in one binary and one SQLite file.
//!
//! Map: `web` parses and authorizes requests and calls one `domain` function;
//! `domain` owns the SQL and the rules and runs on the `db` threads; `views` turn
//! domain values into HTML; `jobs` runs named domain functions on a schedule.

pub mod app;
pub mod assets;
pub mod channels;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod i18n;
pub mod jobs;
pub mod logging;
pub mod pdf;
pub mod phone;
pub mod views;
pub mod web;

pub use app::AppState;
pub use error::AppError;
