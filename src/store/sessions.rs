//! Browser sessions: the agent app's cookie names one. Only the cookie value's SHA-256 is kept
//! (like access tokens), with the user, the CSRF token the app echoes on changes, and the end.

use crate::db::{Conn, OptionalExtension};
use crate::params;

use super::{tokens, StoreResult};

/// How long a session lasts from sign-in.
pub const LIFETIME_SECS: i64 = 14 * 24 * 3600;
const LIFETIME_MICROS: i64 = LIFETIME_SECS * 1_000_000;

/// A session that is still valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub csrf_token: String,
}

/// Starts a session for `user_id` under the cookie value `token`, and forgets expired ones.
/// Returns false when the token was already known (to anyone).
pub fn create(
    conn: &Conn,
    user_id: i64,
    token: &str,
    csrf_token: &str,
    now: i64,
) -> StoreResult<bool> {
    prune(conn, now)?;
    let inserted = super::execute(
        conn,
        "INSERT INTO sessions (token_sha256, user_id, csrf_token, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (token_sha256) DO NOTHING",
        params![
            tokens::digest(token),
            user_id,
            csrf_token,
            now,
            now.saturating_add(LIFETIME_MICROS)
        ],
    )?;
    Ok(inserted == 1)
}

/// The session a cookie value names, unless it has ended.
pub fn find(conn: &Conn, token: &str, now: i64) -> StoreResult<Option<Session>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, csrf_token FROM sessions WHERE token_sha256 = ?1 AND expires_at > ?2",
    )?;
    Ok(stmt
        .query_row(params![tokens::digest(token), now], |row| {
            Ok(Session {
                user_id: row.get(0)?,
                csrf_token: row.get(1)?,
            })
        })
        .optional()?)
}

/// Ends one session (sign-out).
pub fn delete(conn: &Conn, token: &str) -> StoreResult<()> {
    super::execute(
        conn,
        "DELETE FROM sessions WHERE token_sha256 = ?1",
        [tokens::digest(token)],
    )?;
    Ok(())
}

/// Ends every session of the user (their password changed).
pub fn end_all(conn: &Conn, user_id: i64) -> StoreResult<()> {
    super::execute(conn, "DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    Ok(())
}

/// Forgets sessions that have ended.
pub fn prune(conn: &Conn, now: i64) -> StoreResult<()> {
    super::execute(conn, "DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    Ok(())
}
