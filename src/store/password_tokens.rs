//! One-time password tokens: a link holding one lets its holder choose the user's password,
//! once, before it expires. Only the token's SHA-256 is kept. A user has at most one pending
//! token: issuing another replaces it, so only the latest link works.

use crate::db::{Conn, OptionalExtension};
use crate::params;

use super::{tokens, StoreResult};

const HOUR_MICROS: i64 = 3600 * 1_000_000;
/// The first administrator's link (printed on start) and a new agent's welcome link.
pub const WELCOME_LIFETIME_MICROS: i64 = 7 * 24 * HOUR_MICROS;
/// A link mailed because an administrator asked for a reset.
pub const RESET_LIFETIME_MICROS: i64 = 24 * HOUR_MICROS;

/// A token as issued: it exists only here, the database keeps its digest.
pub struct Issued {
    pub token: String,
    pub expires_at: i64,
}

/// A fresh token for `user_id`, valid for `lifetime` micros, replacing the user's earlier one;
/// expired tokens of anyone are forgotten on the way.
pub fn issue(conn: &Conn, user_id: i64, lifetime: i64, now: i64) -> StoreResult<Issued> {
    super::execute(
        conn,
        "DELETE FROM password_tokens WHERE user_id = ?1 OR expires_at <= ?2",
        params![user_id, now],
    )?;
    let token = tokens::generate();
    let expires_at = now.saturating_add(lifetime);
    super::execute(
        conn,
        "INSERT INTO password_tokens (token_sha256, user_id, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![tokens::digest(&token), user_id, expires_at, now],
    )?;
    Ok(Issued { token, expires_at })
}

/// The user a token is valid for, without using it up.
pub fn user_of(conn: &Conn, token: &str, now: i64) -> StoreResult<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM password_tokens WHERE token_sha256 = ?1 AND expires_at > ?2",
    )?;
    Ok(stmt
        .query_row(params![tokens::digest(token), now], |row| row.get(0))
        .optional()?)
}

/// Uses the token up: the user it was valid for, or None for an unknown, used or expired one.
pub fn consume(conn: &Conn, token: &str, now: i64) -> StoreResult<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM password_tokens WHERE token_sha256 = ?1 AND expires_at > ?2
         RETURNING user_id",
    )?;
    Ok(stmt
        .query_row(params![tokens::digest(token), now], |row| row.get(0))
        .optional()?)
}
