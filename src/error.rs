//! One error type for the whole application. The user sees a short, localized
//! message chosen by the variant; the underlying cause is only logged.

use crate::i18n::{Locale, t};

/// Everything that can go wrong while serving a request or running a job.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The object does not exist or the caller may not know it exists.
    #[error("not found")]
    NotFound,
    /// The caller is known but lacks the permission.
    #[error("forbidden")]
    Forbidden,
    /// No valid session: the caller must log in.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The CSRF token or Origin check failed.
    #[error("csrf check failed")]
    Csrf,
    /// Bad input; the payload is an i18n key for the message shown to the user.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Form input failed validation; each entry is (field, i18n message key).
    #[error("invalid input: {0:?}")]
    Invalid(FormErrors),
    /// The request body is larger than allowed.
    #[error("payload too large")]
    TooLarge,
    /// A unique name/login is taken; payload is the i18n key of the message.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A rule forbids it now; the i18n key's `{name}` placeholders are filled
    /// from the pairs (e.g. when a pause reason may be used).
    #[error("rule: {0}")]
    Rule(&'static str, Vec<(&'static str, String)>),
    /// The disk holding the database is full: nothing of this request was
    /// stored; the caller may try again later (503 with Retry-After).
    #[error("storage full")]
    StorageFull,
    /// An internal failure; the cause is logged and never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// Seconds a client is asked to wait (Retry-After) when storage is full.
pub const RETRY_AFTER_SECS: u64 = 30;

impl AppError {
    /// Wraps any displayable cause as an internal error.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> warp::http::StatusCode {
        use warp::http::StatusCode as S;
        match self {
            AppError::NotFound => S::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => S::FORBIDDEN,
            AppError::Unauthenticated => S::UNAUTHORIZED,
            AppError::BadRequest(_) => S::BAD_REQUEST,
            AppError::Invalid(_) => S::UNPROCESSABLE_ENTITY,
            AppError::TooLarge => S::PAYLOAD_TOO_LARGE,
            AppError::Conflict(_) | AppError::Rule(..) => S::CONFLICT,
            AppError::StorageFull => S::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Retry-After (seconds) this error answers with, if any.
    pub fn retry_after(&self) -> Option<u64> {
        matches!(self, AppError::StorageFull).then_some(RETRY_AFTER_SECS)
    }

    /// The title and explanation shown to the user, in their language.
    pub fn user_message(&self, loc: Locale) -> (&'static str, std::borrow::Cow<'static, str>) {
        if let AppError::Rule(k, args) = self {
            let mut text = t(loc, k).to_string();
            for (name, value) in args {
                text = text.replace(&format!("{{{name}}}"), value);
            }
            return (t(loc, "err.409.title"), text.into());
        }
        let (title, text) = match self {
            AppError::NotFound => (t(loc, "err.404.title"), t(loc, "err.404.text")),
            AppError::Forbidden => (t(loc, "err.403.title"), t(loc, "err.403.text")),
            AppError::Csrf => (t(loc, "err.csrf.title"), t(loc, "err.csrf.text")),
            AppError::Unauthenticated => (t(loc, "err.401.title"), t(loc, "err.401.text")),
            AppError::BadRequest(k) => (t(loc, "err.400.title"), t(loc, k)),
            AppError::Invalid(e) => (t(loc, "err.400.title"), t(loc, e.first_message())),
            AppError::TooLarge => (t(loc, "err.413.title"), t(loc, "err.413.text")),
            AppError::Conflict(k) => (t(loc, "err.409.title"), t(loc, k)),
            AppError::StorageFull => (t(loc, "err.storage_full.title"), t(loc, "err.storage_full.text")),
            AppError::Internal(_) | AppError::Rule(..) => (t(loc, "err.500.title"), t(loc, "err.500.text")),
        };
        (title, text.into())
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => AppError::StorageFull,
            _ => AppError::Internal(format!("sqlite: {e}")),
        }
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::StorageFull => AppError::StorageFull,
            _ => AppError::Internal(format!("io: {e}")),
        }
    }
}

/// Shorthand for results in this crate.
pub type AppResult<T> = Result<T, AppError>;

/// Validation failures: (field name, i18n message key).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormErrors(pub Vec<(&'static str, &'static str)>);

impl FormErrors {
    /// Records a failure on `field`.
    pub fn add(&mut self, field: &'static str, key: &'static str) {
        self.0.push((field, key));
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message key for `field`, if it failed.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)
    }

    /// The first message (for JSON and summary answers).
    pub fn first_message(&self) -> &'static str {
        self.0.first().map(|(_, k)| *k).unwrap_or("val.invalid")
    }

    /// `Ok(())` when empty, else the errors as an `AppError`.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() { Ok(()) } else { Err(AppError::Invalid(self)) }
    }

    /// A single-field error.
    pub fn one(field: &'static str, key: &'static str) -> AppError {
        AppError::Invalid(FormErrors(vec![(field, key)]))
    }
}
