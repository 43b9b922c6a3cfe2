//! Who a `/cable` subscription is: an agent, by the user's `pubsub_token` and id in an account
//! they belong to, or a contact, by its contact inbox's `pubsub_token` (docs/actioncable.md §2.2).

use crate::db::{Conn, OptionalExtension};
use crate::params;

use super::StoreResult;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscriber {
    Agent {
        user_id: i64,
        account_id: i64,
    },
    Contact {
        contact_inbox_id: i64,
        contact_id: i64,
        account_id: i64,
    },
}

/// The agent whose token this is, if they are the user `user_id` and a member of `account_id`.
pub fn agent(
    conn: &Conn,
    pubsub_token: &str,
    user_id: i64,
    account_id: i64,
) -> StoreResult<Option<Subscriber>> {
    Ok(conn
        .prepare_cached(
            "SELECT u.id FROM users u
               JOIN account_users au ON au.user_id = u.id AND au.account_id = ?3
              WHERE u.pubsub_token = ?1 AND u.id = ?2",
        )?
        .query_row(params![pubsub_token, user_id, account_id], |row| {
            Ok(Subscriber::Agent {
                user_id: row.get(0)?,
                account_id,
            })
        })
        .optional()?)
}

/// The contact inbox whose token this is.
pub fn contact(conn: &Conn, pubsub_token: &str) -> StoreResult<Option<Subscriber>> {
    Ok(conn
        .prepare_cached(
            "SELECT ci.id, ci.contact_id, c.account_id
               FROM contact_inboxes ci JOIN contacts c ON c.id = ci.contact_id
              WHERE ci.pubsub_token = ?1",
        )?
        .query_row([pubsub_token], |row| {
            Ok(Subscriber::Contact {
                contact_inbox_id: row.get(0)?,
                contact_id: row.get(1)?,
                account_id: row.get(2)?,
            })
        })
        .optional()?)
}

/// The users who see an inbox's conversations live: its members and the account's
/// administrators (Chatwoot's rule; a team alone gives nothing).
pub fn inbox_watchers(conn: &Conn, account_id: i64, inbox_id: i64) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM inbox_members WHERE inbox_id = ?2
         UNION
         SELECT user_id FROM account_users WHERE account_id = ?1 AND role = 1",
    )?;
    let users = stmt
        .query_map(params![account_id, inbox_id], |row| row.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(users)
}

/// The contact inboxes that see a conversation: its own, or, when that one is HMAC-verified,
/// every verified contact inbox of its contact (an identified visitor on every session).
pub fn conversation_contact_inboxes(conn: &Conn, conversation_id: i64) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ci.id FROM conversations c
           JOIN contact_inboxes own ON own.id = c.contact_inbox_id
           JOIN contact_inboxes ci ON ci.id = own.id
             OR (own.hmac_verified = 1 AND ci.hmac_verified = 1 AND ci.contact_id = own.contact_id)
          WHERE c.id = ?1",
    )?;
    let inboxes = stmt
        .query_map([conversation_id], |row| row.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(inboxes)
}

/// A conversation's own contact inbox, if it has one.
pub fn conversation_contact_inbox(conn: &Conn, conversation_id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT contact_inbox_id FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |row| row.get(0))
        .optional()?
        .flatten())
}

/// One account user as presence shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Availability {
    pub user_id: i64,
    pub availability: crate::models::Availability,
    /// Shown offline without a heartbeat (Chatwoot's `auto_offline`).
    pub auto_offline: bool,
}

pub fn availabilities(conn: &Conn, account_id: i64) -> StoreResult<Vec<Availability>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, availability, auto_offline FROM account_users WHERE account_id = ?1",
    )?;
    let rows = stmt
        .query_map([account_id], |row| {
            Ok(Availability {
                user_id: row.get(0)?,
                availability: crate::models::Availability::from_code(row.get(1)?)
                    .unwrap_or(crate::models::Availability::Online),
                auto_offline: row.get::<i64>(2)? != 0,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
