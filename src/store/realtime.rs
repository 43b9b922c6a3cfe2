//! Who a `/cable` subscription is: an agent, by the user's `pubsub_token` and id in an account
//! they belong to, or a contact, by its contact inbox's `pubsub_token` (docs/actioncable.md §2.2).

use rusqlite::{params, Connection, OptionalExtension};

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
    conn: &Connection,
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
pub fn contact(conn: &Connection, pubsub_token: &str) -> StoreResult<Option<Subscriber>> {
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
