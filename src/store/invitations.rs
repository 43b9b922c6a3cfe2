//! Invitations of existing users to an account. The user joins when they accept with the token
//! mailed to them; until then they are not a member and do not show among the agents.

use crate::db::{Conn, OptionalExtension};
use crate::params;

use super::{tokens, StoreError, StoreResult};
use crate::models::{Availability, Role};

/// How long an invitation can be accepted.
pub const LIFETIME_MICROS: i64 = 7 * 24 * 3600 * 1_000_000;

/// The membership an invited user gets on acceptance.
pub struct NewInvitation {
    pub account_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub availability: Availability,
    pub auto_offline: bool,
}

/// What the invitation mail needs: the token exists only here, the database keeps its digest.
pub struct Issued {
    pub token: String,
    pub recipient: String,
    pub account_name: String,
    pub role: Role,
    pub expires_at: i64,
}

/// Records the invitation with a fresh token, replacing a pending one for the same account and
/// user (whose token then stops working).
pub fn issue(conn: &Conn, invitation: &NewInvitation, now: i64) -> StoreResult<Issued> {
    let token = tokens::generate();
    let expires_at = now.saturating_add(LIFETIME_MICROS);
    super::execute(
        conn,
        "INSERT INTO invitations
                (account_id, user_id, role, availability, auto_offline, token_sha256, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (account_id, user_id) DO UPDATE
            SET role = excluded.role, availability = excluded.availability,
                auto_offline = excluded.auto_offline, token_sha256 = excluded.token_sha256,
                expires_at = excluded.expires_at, created_at = excluded.created_at",
        params![
            invitation.account_id,
            invitation.user_id,
            invitation.role.code(),
            invitation.availability.code(),
            invitation.auto_offline,
            tokens::digest(&token),
            expires_at,
            now
        ],
    )?;
    let (recipient, account_name) = conn
        .prepare_cached(
            "SELECT u.email, a.name FROM users u, accounts a WHERE u.id = ?1 AND a.id = ?2",
        )?
        .query_row([invitation.user_id, invitation.account_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    Ok(Issued {
        token,
        recipient,
        account_name,
        role: invitation.role,
        expires_at,
    })
}

/// The membership an accepted invitation made.
pub struct Accepted {
    pub account_id: i64,
    pub account_name: String,
    pub role: Role,
}

/// Makes the invited user a member and deletes the invitation, so the token works once. An
/// unknown, used or expired token is NotFound, all alike.
pub fn accept(conn: &Conn, token: &str, now: i64) -> StoreResult<Accepted> {
    let found = conn
        .prepare_cached(
            "DELETE FROM invitations WHERE token_sha256 = ?1 AND expires_at > ?2
             RETURNING account_id, user_id, role, availability, auto_offline",
        )?
        .query_row(params![tokens::digest(token), now], |row| {
            Ok((
                row.get::<i64>(0)?,
                row.get::<i64>(1)?,
                row.get::<i64>(2)?,
                row.get::<i64>(3)?,
                row.get::<bool>(4)?,
            ))
        })
        .optional()?;
    let (account_id, user_id, role, availability, auto_offline) =
        found.ok_or(StoreError::NotFound)?;
    // A user who became a member some other way meanwhile keeps the membership they have.
    super::execute(
        conn,
        "INSERT INTO account_users (account_id, user_id, role, availability, auto_offline, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (account_id, user_id) DO NOTHING",
        params![account_id, user_id, role, availability, auto_offline, now],
    )?;
    let (account_name, role) = conn
        .prepare_cached(
            "SELECT a.name, au.role FROM accounts a
               JOIN account_users au ON au.account_id = a.id AND au.user_id = ?2
              WHERE a.id = ?1",
        )?
        .query_row([account_id, user_id], |row| {
            Ok((row.get::<String>(0)?, row.get::<i64>(1)?))
        })?;
    Ok(Accepted {
        account_id,
        account_name,
        role: Role::from_code(role).unwrap_or(Role::Agent),
    })
}
