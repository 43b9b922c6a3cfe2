//! What loading and exporting fixtures needs beyond the API's own statements: the values a file
//! may pin (random keys, times the API works out) and whole-account listings in id order.

use crate::db::{Conn, OptionalExtension};
use crate::params;

use super::{one_row, StoreResult};

/// Replaces the inbox's random keys with the given ones (`None` keeps a key).
pub fn set_inbox_keys(
    conn: &Conn,
    inbox_id: i64,
    identifier: Option<&str>,
    hmac_token: Option<&str>,
    secret: Option<&str>,
) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE inboxes SET identifier = COALESCE(?2, identifier), hmac_token = COALESCE(?3, hmac_token),
                            secret = COALESCE(?4, secret)
          WHERE id = ?1",
        params![inbox_id, identifier, hmac_token, secret],
    )?)
}

/// A time column to pin: `None` leaves it as the writes left it, `Some(None)` clears it.
pub type Pin = Option<Option<i64>>;

/// Conversation columns a fixture may pin.
#[derive(Default)]
pub struct ConversationPins<'a> {
    pub uuid: Option<&'a str>,
    pub updated_at: Pin,
    pub last_activity_at: Option<i64>,
    pub waiting_since: Pin,
    pub first_reply_created_at: Pin,
    pub agent_last_seen_at: Pin,
    pub assignee_last_seen_at: Pin,
    pub contact_last_seen_at: Pin,
}

fn flag(pin: Pin) -> (bool, Option<i64>) {
    (pin.is_some(), pin.flatten())
}

pub fn pin_conversation(conn: &Conn, id: i64, pins: &ConversationPins) -> StoreResult<()> {
    let (updated, updated_at) = flag(pins.updated_at);
    let (waiting, waiting_since) = flag(pins.waiting_since);
    let (reply, first_reply) = flag(pins.first_reply_created_at);
    let (agent, agent_seen) = flag(pins.agent_last_seen_at);
    let (assignee, assignee_seen) = flag(pins.assignee_last_seen_at);
    let (contact, contact_seen) = flag(pins.contact_last_seen_at);
    one_row(super::execute(
        conn,
        "UPDATE conversations
            SET uuid = COALESCE(?2, uuid),
                updated_at = CASE WHEN ?3 THEN COALESCE(?4, updated_at) ELSE updated_at END,
                last_activity_at = COALESCE(?5, last_activity_at),
                waiting_since = CASE WHEN ?6 THEN ?7 ELSE waiting_since END,
                first_reply_created_at = CASE WHEN ?8 THEN ?9 ELSE first_reply_created_at END,
                agent_last_seen_at = CASE WHEN ?10 THEN ?11 ELSE agent_last_seen_at END,
                assignee_last_seen_at = CASE WHEN ?12 THEN ?13 ELSE assignee_last_seen_at END,
                contact_last_seen_at = CASE WHEN ?14 THEN ?15 ELSE contact_last_seen_at END
          WHERE id = ?1",
        params![
            id,
            pins.uuid,
            updated,
            updated_at,
            pins.last_activity_at,
            waiting,
            waiting_since,
            reply,
            first_reply,
            agent,
            agent_seen,
            assignee,
            assignee_seen,
            contact,
            contact_seen
        ],
    )?)
}

pub fn set_contact_last_activity(conn: &Conn, id: i64, at: Option<i64>) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE contacts SET last_activity_at = ?2 WHERE id = ?1",
        params![id, at],
    )?)
}

pub fn set_message_updated_at(conn: &Conn, id: i64, at: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE messages SET updated_at = ?2 WHERE id = ?1",
        params![id, at],
    )?)
}

/// Every account: (id, name).
pub fn accounts(conn: &Conn) -> StoreResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM accounts ORDER BY id")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A user as a fixture holds it.
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub confirmed: bool,
}

pub fn users(conn: &Conn) -> StoreResult<Vec<UserRow>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name, email, confirmed FROM users ORDER BY id")?;
    let rows = stmt.query_map([], |row| {
        Ok(UserRow {
            id: row.get(0)?,
            name: row.get(1)?,
            email: row.get(2)?,
            confirmed: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn contact_ids(conn: &Conn, account_id: i64) -> StoreResult<Vec<i64>> {
    super::ids(
        conn,
        "SELECT id FROM contacts WHERE account_id = ?1 ORDER BY id",
        [account_id],
    )
}

/// The account's conversations' row ids, in display id order.
pub fn conversation_ids(conn: &Conn, account_id: i64) -> StoreResult<Vec<i64>> {
    super::ids(
        conn,
        "SELECT id FROM conversations WHERE account_id = ?1 ORDER BY display_id",
        [account_id],
    )
}

/// The conversation's messages as (id, deleted), in id order.
pub fn message_ids(conn: &Conn, conversation_id: i64) -> StoreResult<Vec<(i64, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, deleted FROM messages WHERE conversation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([conversation_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn contact_inbox_source(conn: &Conn, contact_inbox_id: i64) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT source_id FROM contact_inboxes WHERE id = ?1")?
        .query_row([contact_inbox_id], |row| row.get(0))
        .optional()?)
}

/// The contact's first contact inbox in the inbox: (id, source_id).
pub fn contact_inbox_of(
    conn: &Conn,
    contact_id: i64,
    inbox_id: i64,
) -> StoreResult<Option<(i64, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, source_id FROM contact_inboxes WHERE contact_id = ?1 AND inbox_id = ?2
              ORDER BY id LIMIT 1",
        )?
        .query_row([contact_id, inbox_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}
