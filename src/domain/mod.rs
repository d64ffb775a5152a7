//! The rules and the SQL, one module per noun. Reads take a connection;
//! changes take the `AppState` (its writer, bus, clock and settings) because
//! they commit and then publish what others must see. Nothing here sees HTTP
//! or formats HTML (no `views::` import).

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod contacts;
pub mod conversations;
pub mod email;
pub mod metrics;
pub mod notifications;
pub mod outbox;
pub mod pauses;
pub mod quick_replies;
pub mod registers;
pub mod reports;
pub mod routing;
pub mod search;
pub mod settings;
pub mod supervision;
pub mod tasks;
pub mod teams;
pub mod users;
pub mod validate;
pub mod webchat;
pub mod whatsapp;

/// Who performs a change, for the audit log.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The user, if logged in.
    pub user_id: Option<i64>,
    /// Display name at the time of the action.
    pub name: String,
    /// Client IP address.
    pub ip: String,
    /// When it happens (unix seconds).
    pub now: i64,
}

impl Actor {
    /// An action taken by the system itself (jobs, CLI).
    pub fn system(name: &str, now: i64) -> Actor {
        Actor { user_id: None, name: name.to_string(), ip: String::new(), now }
    }
}
