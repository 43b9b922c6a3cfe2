//! Access tokens (users' kept only as SHA-256 digests) and the lookup behind every authenticated
//! request, for users and for agent bots (whose tokens live with the bot, see `agent_bots`).

use crate::db::{Conn, OptionalExtension};
use crate::params;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::StoreResult;
use crate::models::{Actor, Principal, Role};

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
pub fn insert(conn: &Conn, user_id: i64, token: &str, now: i64) -> StoreResult<bool> {
    let inserted = super::execute(
        conn,
        "INSERT INTO access_tokens (user_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (token_sha256) DO NOTHING",
        params![user_id, digest(token), now],
    )?;
    Ok(inserted == 1)
}

/// The user a token belongs to.
pub fn user_of(conn: &Conn, token: &str) -> StoreResult<Option<i64>> {
    user_of_digest(conn, &digest(token))
}

fn user_of_digest(conn: &Conn, digest: &str) -> StoreResult<Option<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT user_id FROM access_tokens WHERE token_sha256 = ?1")?;
    Ok(stmt.query_row([digest], |row| row.get(0)).optional()?)
}

/// An agent bot's token: the bot's id.
fn bot_of_digest(conn: &Conn, digest: &str) -> StoreResult<Option<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM agent_bots WHERE access_token_sha256 = ?1")?;
    Ok(stmt.query_row([digest], |row| row.get(0)).optional()?)
}

/// Who a token belongs to, whatever the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    User(i64),
    Bot(i64),
}

pub fn owner(conn: &Conn, token: &str) -> StoreResult<Option<Owner>> {
    let digest = digest(token);
    if let Some(user) = user_of_digest(conn, &digest)? {
        return Ok(Some(Owner::User(user)));
    }
    Ok(bot_of_digest(conn, &digest)?.map(Owner::Bot))
}

/// What a token means for one account, in Chatwoot's order of checks.
#[derive(Debug)]
pub enum Access {
    UnknownToken,
    /// A bot's token on an endpoint bots may not call (checked before the account, as Chatwoot).
    BotNotAllowed,
    UnknownAccount,
    NotMember,
    Granted(Principal),
}

/// `account_id` is None when the path's account id is no number (no account has it).
/// `bot_route` says whether the endpoint is one an agent bot may call.
pub fn access(
    conn: &Conn,
    token: &str,
    account_id: Option<i64>,
    bot_route: bool,
) -> StoreResult<Access> {
    let digest = digest(token);
    let Some(account_id) = account_id else {
        return Ok(match owner(conn, token)? {
            None => Access::UnknownToken,
            Some(Owner::Bot(_)) if !bot_route => Access::BotNotAllowed,
            Some(_) => Access::UnknownAccount,
        });
    };
    let mut stmt = conn.prepare_cached(
        "SELECT t.user_id,
                EXISTS (SELECT 1 FROM accounts WHERE id = ?2),
                (SELECT role FROM account_users WHERE account_id = ?2 AND user_id = t.user_id)
           FROM access_tokens t
          WHERE t.token_sha256 = ?1",
    )?;
    let found = stmt
        .query_row(params![digest, account_id], |row| {
            Ok((
                row.get::<i64>(0)?,
                row.get::<bool>(1)?,
                row.get::<Option<i64>>(2)?,
            ))
        })
        .optional()?;
    Ok(match found {
        None => bot_access(conn, &digest, account_id, bot_route)?,
        Some((_, false, _)) => Access::UnknownAccount,
        Some((_, true, None)) => Access::NotMember,
        Some((user_id, true, Some(role))) => Access::Granted(Principal {
            actor: Actor::User(user_id),
            account_id,
            role: Role::from_code(role).unwrap_or(Role::Agent),
        }),
    })
}

/// What a signed-in user (a browser session, which is never a bot's) may do in one account, in
/// the order of `access`'s checks.
pub fn user_access(conn: &Conn, user_id: i64, account_id: Option<i64>) -> StoreResult<Access> {
    let Some(account_id) = account_id else {
        return Ok(Access::UnknownAccount);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?2),
                (SELECT role FROM account_users WHERE account_id = ?2 AND user_id = ?1)",
    )?;
    let (account_exists, role) = stmt.query_row(params![user_id, account_id], |row| {
        Ok((row.get::<bool>(0)?, row.get::<Option<i64>>(1)?))
    })?;
    Ok(match (account_exists, role) {
        (false, _) => Access::UnknownAccount,
        (true, None) => Access::NotMember,
        (true, Some(role)) => Access::Granted(Principal {
            actor: Actor::User(user_id),
            account_id,
            role: Role::from_code(role).unwrap_or(Role::Agent),
        }),
    })
}

/// A bot's token: only on the endpoints bots may call, and only in an account where the bot
/// answers an inbox (Chatwoot's `account_accessible_for_bot?`).
fn bot_access(conn: &Conn, digest: &str, account_id: i64, bot_route: bool) -> StoreResult<Access> {
    let Some(bot_id) = bot_of_digest(conn, digest)? else {
        return Ok(Access::UnknownToken);
    };
    if !bot_route {
        return Ok(Access::BotNotAllowed);
    }
    if !super::exists(conn, "SELECT 1 FROM accounts WHERE id = ?1", [account_id])? {
        return Ok(Access::UnknownAccount);
    }
    if !super::agent_bots::attached_in_account(conn, bot_id, account_id)? {
        return Ok(Access::NotMember);
    }
    Ok(Access::Granted(Principal {
        actor: Actor::Bot(bot_id),
        account_id,
        role: Role::Agent,
    }))
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
