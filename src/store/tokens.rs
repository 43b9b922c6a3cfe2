//! Access tokens (kept only as SHA-256 digests) and the lookup behind every authenticated request.

use rand::distributions::Alphanumeric;
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use super::StoreResult;
use crate::models::{Principal, Role};

const TOKEN_LENGTH: usize = 24;

/// A fresh random token, 24 alphanumeric characters like Chatwoot's.
pub fn generate() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(TOKEN_LENGTH)
        .map(char::from)
        .collect()
}

/// What is stored of a token (access tokens, invitation tokens): its SHA-256, in hex.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores `token` for `user_id`. Returns false when the token was already known (to anyone).
pub fn insert(conn: &Connection, user_id: i64, token: &str, now: i64) -> StoreResult<bool> {
    let inserted = super::execute(
        conn,
        "INSERT INTO access_tokens (user_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (token_sha256) DO NOTHING",
        params![user_id, digest(token), now],
    )?;
    Ok(inserted == 1)
}

/// The user a token belongs to.
pub fn user_of(conn: &Connection, token: &str) -> StoreResult<Option<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT user_id FROM access_tokens WHERE token_sha256 = ?1")?;
    Ok(stmt
        .query_row([digest(token)], |row| row.get(0))
        .optional()?)
}

/// What a token means for one account, in Chatwoot's order of checks.
#[derive(Debug)]
pub enum Access {
    UnknownToken,
    UnknownAccount,
    NotMember,
    Granted(Principal),
}

pub fn access(conn: &Connection, token: &str, account_id: i64) -> StoreResult<Access> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.user_id,
                EXISTS (SELECT 1 FROM accounts WHERE id = ?2),
                (SELECT role FROM account_users WHERE account_id = ?2 AND user_id = t.user_id)
           FROM access_tokens t
          WHERE t.token_sha256 = ?1",
    )?;
    let found = stmt
        .query_row(params![digest(token), account_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, bool>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })
        .optional()?;
    Ok(match found {
        None => Access::UnknownToken,
        Some((_, false, _)) => Access::UnknownAccount,
        Some((_, true, None)) => Access::NotMember,
        Some((user_id, true, Some(role))) => Access::Granted(Principal {
            user_id,
            account_id,
            role: Role::from_code(role).unwrap_or(Role::Agent),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_long_random_and_alphanumeric() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), TOKEN_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_digest_is_not_the_token() {
        let token = "secret-token";
        assert_ne!(digest(token), token);
        assert_eq!(digest(token).len(), 64);
    }
}
