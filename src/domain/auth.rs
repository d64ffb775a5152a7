//! Passwords (argon2id), sessions, the one-time setup link and login throttling.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::users::{self, Role, User, UserInput};
use super::validate::{FormErrors, Input};
use super::{Actor, audit};
use crate::app::AppState;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// Failed logins allowed per account inside [`THROTTLE_WINDOW`].
pub const THROTTLE_MAX_FAILURES: i64 = 5;
/// Window (seconds) over which failures are counted.
pub const THROTTLE_WINDOW: i64 = 15 * 60;
/// How long (seconds) an account is blocked after too many failures.
pub const THROTTLE_BLOCK: i64 = 15 * 60;
/// Lifetime of a setup link (seconds).
pub const SETUP_TTL: i64 = 24 * 3600;
/// A session's last-seen time is refreshed at most this often (seconds).
pub const TOUCH_EVERY: i64 = 60;
/// The bus event (for one user, `agent_id`) that some of their sessions
/// ended: their open live streams check their own session at once.
pub const SESSION_ENDED: &str = "session_ended";

/// Tells `user_id`'s open live streams that sessions of theirs ended (after commit).
pub fn publish_ended(state: &AppState, user_id: i64) {
    state.bus.publish(vec![Change::user(SESSION_ENDED, user_id)]);
}

/// Hashes a password with argon2id and a random salt (PHC string). Blocking.
pub fn hash_password(pw: &str) -> AppResult<String> {
    let hash: Result<PasswordHash, _> = Argon2::default().hash_password(pw.as_bytes());
    hash.map(|h| h.to_string()).map_err(AppError::internal)
}

/// Checks a password against a PHC hash. Blocking.
pub fn verify_password(hash: &str, pw: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Password hashes run on this many dedicated threads: each argon2id call
/// takes ~19 MiB, and on short-lived blocking threads every thread's malloc
/// arena would keep its own copy (a burst of logins ballooned RSS to ~1 GB).
pub const HASH_THREADS: usize = 2;

type HashJob = Box<dyn FnOnce() + Send>;

fn hash_pool() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<HashJob>> {
    static P: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..HASH_THREADS {
            let rx = rx.clone();
            let _ = std::thread::Builder::new().name(format!("atende-hash-{n}")).spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => break,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            });
        }
        std::sync::Mutex::new(tx)
    })
}

/// Runs a blocking password computation on the hashing threads.
pub async fn with_hash_slot<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = tx.send(f());
    });
    hash_pool()
        .lock()
        .map_err(|_| AppError::internal("hash pool poisoned"))?
        .send(job)
        .map_err(|_| AppError::internal("hash pool gone"))?;
    rx.await.map_err(AppError::internal)
}

async fn verify_async(hash: String, pw: String) -> AppResult<bool> {
    with_hash_slot(move || verify_password(&hash, &pw)).await
}

/// A fresh random token (256 bits, URL-safe base64).
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What is stored for a token: its SHA-256.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- setup link -------------------------------------------------------

/// Issues a new setup link token if no administrator exists yet; earlier unused
/// links stop working. Returns `None` once setup is done.
pub async fn issue_setup_token(db: &Db, now: i64) -> AppResult<Option<String>> {
    let token = new_token();
    let hash = token_hash(&token);
    db.write(move |conn| {
        if users::admin_exists(conn)? {
            return Ok(None);
        }
        conn.execute("DELETE FROM setup_tokens", [])?;
        conn.execute(
            "INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?1, ?2)",
            params![hash, now + SETUP_TTL],
        )?;
        Ok(Some(token))
    })
    .await
}

fn setup_token_ok(conn: &Connection, hash: &[u8], now: i64) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM setup_tokens WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2)",
        )?
        .query_row(params![hash, now], |r| r.get(0))?
        && !users::admin_exists(conn)?)
}

/// Whether a setup link is still usable.
pub async fn setup_token_valid(db: &Db, token: &str, now: i64) -> AppResult<bool> {
    let hash = token_hash(token);
    db.read(move |c| setup_token_ok(c, &hash, now)).await
}

/// A new session's secrets, to be put in cookies.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// Cookie value.
    pub token: String,
    /// The logged-in user's id.
    pub user_id: i64,
}

fn insert_session(conn: &Connection, user_id: i64, actor: &Actor, ua: &str) -> AppResult<NewSession> {
    let token = new_token();
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, ip, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
    )?
    .execute(params![token_hash(&token), user_id, new_token(), actor.now, actor.ip, ua])?;
    Ok(NewSession { token, user_id })
}

/// Creates the first administrator through a setup link (single use) and logs
/// them in.
pub async fn complete_setup(db: &Db, token: &str, input: &Input, actor: Actor, ua: String) -> AppResult<NewSession> {
    let mut errs = FormErrors::default();
    let name = super::validate::text(input, "name", true, 100, &mut errs);
    let login = users::check_login(input, &mut errs);
    let pw = input.raw("password");
    users::check_password(pw, "password", &mut errs);
    if pw != input.raw("password2") && !pw.is_empty() {
        errs.add("password2", "val.password_mismatch");
    }
    errs.into_result()?;
    let hash = users::hash_password_async(pw.to_string()).await?;
    let th = token_hash(token);
    let u = UserInput { name, login, role: Role::Admin, access_group_id: None, team_ids: vec![], password: None };
    db.write(move |conn| {
        if !setup_token_ok(conn, &th, actor.now)? {
            return Err(AppError::NotFound);
        }
        conn.prepare_cached("UPDATE setup_tokens SET used_at = ?1 WHERE token_hash = ?2")?
            .execute(params![actor.now, th])?;
        let id = users::insert(conn, &u, &hash, actor.now)?;
        let actor = Actor { user_id: Some(id), name: u.name.clone(), ..actor };
        audit::record(conn, &actor, "setup.admin_created", &format!("{} <{}>", u.name, u.login), "")?;
        audit::record(conn, &actor, "auth.login", &u.login, "")?;
        insert_session(conn, id, &actor, &ua)
    })
    .await
}

// ---- login ----------------------------------------------------------------

/// Result of a login attempt.
#[derive(Debug)]
pub enum LoginResult {
    /// Logged in.
    Ok(NewSession),
    /// Wrong login or password (the same answer for both).
    BadCredentials,
    /// Too many failures for this account; minutes until it can try again.
    Throttled(i64),
}

// A valid argon2id hash of a random password, verified when the login is
// unknown so that both cases take the same time.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

/// Logs in by login and password with per-account throttling.
pub async fn login(db: &Db, login: &str, password: &str, actor: Actor, ua: String) -> AppResult<LoginResult> {
    let login = login.trim().to_string();
    let now = actor.now;
    let l2 = login.clone();
    let (blocked_until, user): (i64, Option<(i64, String, String, bool)>) = db
        .read(move |c| {
            let blocked = c
                .prepare_cached("SELECT blocked_until FROM login_throttle WHERE login = ?1")?
                .query_row([&l2], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let user = c
                .prepare_cached("SELECT id, name, password_hash, active FROM users WHERE login = ?1")?
                .query_row([&l2], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? == 1)))
                .optional()?;
            Ok((blocked, user))
        })
        .await?;
    if blocked_until > now {
        return Ok(LoginResult::Throttled((blocked_until - now + 59) / 60));
    }
    let hash = user.as_ref().map(|u| u.2.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let ok = verify_async(hash, password.to_string()).await? && user.as_ref().is_some_and(|u| u.3);
    db.write(move |conn| {
        if ok {
            let (id, name, _, _) = user.ok_or(AppError::NotFound)?;
            conn.prepare_cached("DELETE FROM login_throttle WHERE login = ?1")?.execute([&login])?;
            let actor = Actor { user_id: Some(id), name, ..actor };
            audit::record(conn, &actor, "auth.login", &login, "")?;
            return Ok(LoginResult::Ok(insert_session(conn, id, &actor, &ua)?));
        }
        let row: Option<(i64, i64)> = conn
            .prepare_cached("SELECT failures, window_start FROM login_throttle WHERE login = ?1")?
            .query_row([&login], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (failures, start) = match row {
            Some((f, s)) if now - s < THROTTLE_WINDOW => (f + 1, s),
            _ => (1, now),
        };
        let blocked = if failures >= THROTTLE_MAX_FAILURES { now + THROTTLE_BLOCK } else { 0 };
        conn.prepare_cached(
            "INSERT INTO login_throttle (login, failures, window_start, blocked_until) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(login) DO UPDATE SET failures = ?2, window_start = ?3, blocked_until = ?4",
        )?
        .execute(params![login, failures, start, blocked])?;
        let detail = if blocked > 0 { "blocked" } else { "" };
        audit::record(conn, &actor, "auth.login_failed", &login, detail)?;
        Ok(if blocked > 0 { LoginResult::Throttled(THROTTLE_BLOCK / 60) } else { LoginResult::BadCredentials })
    })
    .await
}

// ---- sessions -------------------------------------------------------------

/// A valid session and its user.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the cookie token.
    pub token_hash: Vec<u8>,
    /// The per-session CSRF token.
    pub csrf: String,
    /// The logged-in user.
    pub user: User,
    /// The top bar (presence, pause, overdue tasks, notifications), read
    /// with the session so pages need no second trip.
    pub bar: super::notifications::Bar,
}

/// Resolves a cookie token into a session, enforcing idle and absolute expiry
/// and that the user is still active. Refreshes last-seen now and then.
pub async fn session(db: &Db, token: &str, now: i64, idle: i64, max: i64) -> AppResult<Option<Session>> {
    let th = token_hash(token);
    let th2 = th.clone();
    let found = db
        .read(move |c| {
            let row: Option<(i64, String, i64, i64)> = c
                .prepare_cached("SELECT user_id, csrf, created_at, last_seen_at FROM sessions WHERE token_hash = ?1")?
                .query_row([&th2], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            let Some((uid, csrf, created, seen)) = row else { return Ok(None) };
            if now - seen > idle || now - created > max {
                return Ok(Some(Err(())));
            }
            match users::get(c, uid)? {
                Some(u) if u.active => {
                    let bar = super::notifications::bar(c, u.id, now)?;
                    Ok(Some(Ok((Session { token_hash: th2, csrf, user: u, bar }, seen))))
                }
                _ => Ok(Some(Err(()))),
            }
        })
        .await?;
    match found {
        None => Ok(None),
        Some(Err(())) => {
            db.write(move |c| {
                c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?.execute([&th])?;
                Ok(())
            })
            .await?;
            Ok(None)
        }
        Some(Ok((s, seen))) => {
            if now - seen >= TOUCH_EVERY {
                // A touch that cannot be stored (disk full) must not log the
                // user out: the admin has to see the banner saying so.
                let touched = db
                    .write(move |c| {
                        c.prepare_cached("UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2")?
                            .execute(params![now, th])?;
                        Ok(())
                    })
                    .await;
                if let Err(e) = touched {
                    tracing::warn!("session activity not saved: {e}");
                }
            }
            Ok(Some(s))
        }
    }
}

/// Whether the session behind `token_hash` is still valid: not logged out,
/// not expired (idle or absolute), its user active. Read only: a live stream
/// asks this again and again without keeping the session awake.
pub fn alive(conn: &Connection, token_hash: &[u8], now: i64, idle: i64, max: i64) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.token_hash = ?1 AND u.active = 1 AND ?2 - s.last_seen_at <= ?3 AND ?2 - s.created_at <= ?4)",
        )?
        .query_row(params![token_hash, now, idle, max], |r| r.get(0))?)
}

/// Ends a session; its open live streams end with it.
pub async fn logout(state: &AppState, token_hash: Vec<u8>, actor: Actor) -> AppResult<()> {
    let uid = actor.user_id;
    state
        .db
        .write(move |conn| {
            conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?.execute([&token_hash])?;
            super::routing::not_ready_without_sessions(conn, actor.now)?;
            audit::record(conn, &actor, "auth.logout", &actor.name, "")?;
            Ok(())
        })
        .await?;
    if let Some(u) = uid {
        publish_ended(state, u);
    }
    Ok(())
}

/// Changes one's own password after checking the current one; other sessions
/// of the user end (and their live streams), this one stays.
pub async fn change_password(state: &AppState, session: &Session, input: &Input, actor: Actor) -> AppResult<()> {
    let db = &state.db;
    let mut errs = FormErrors::default();
    let current = input.raw("current").to_string();
    let new = input.raw("password").to_string();
    if current.is_empty() {
        errs.add("current", "val.required");
    }
    users::check_password(&new, "password", &mut errs);
    if new != input.raw("password2") && !new.is_empty() {
        errs.add("password2", "val.password_mismatch");
    }
    errs.into_result()?;
    let uid = session.user.id;
    let hash: String = db
        .read(move |c| Ok(c.query_row("SELECT password_hash FROM users WHERE id = ?1", [uid], |r| r.get(0))?))
        .await?;
    if !verify_async(hash, current).await? {
        return Err(FormErrors::one("current", "val.wrong_password"));
    }
    let new_hash = users::hash_password_async(new).await?;
    let keep = session.token_hash.clone();
    db.write(move |conn| {
        conn.prepare_cached("UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3")?
            .execute(params![new_hash, actor.now, uid])?;
        conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2")?
            .execute(params![uid, keep])?;
        audit::record(conn, &actor, "auth.password_changed", &actor.name, "")?;
        Ok(())
    })
    .await?;
    publish_ended(state, uid);
    Ok(())
}

/// Deletes expired sessions, setup links and stale throttle rows. Returns how
/// many rows went.
pub async fn cleanup(db: &Db, now: i64, idle: i64, max: i64) -> AppResult<usize> {
    db.write(move |c| {
        let mut n = c.execute(
            "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
            params![now - idle, now - max],
        )?;
        super::routing::not_ready_without_sessions(c, now)?;
        n += c.execute("DELETE FROM setup_tokens WHERE expires_at < ?1", [now])?;
        n += c.execute(
            "DELETE FROM login_throttle WHERE blocked_until < ?1 AND window_start < ?2",
            params![now, now - THROTTLE_WINDOW],
        )?;
        Ok(n)
    })
    .await
}
