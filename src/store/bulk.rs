//! Bulk inserts for generated datasets: one prepared statement per table, rows given whole
//! (ids chosen by the caller, so a generated data dir numbers everything from 1 as a fresh server
//! would). The schema's triggers still run, so counts, attribute values and the search outbox
//! come out exactly as the API would have left them.

use crate::db::Conn;
use crate::params;

use super::StoreResult;

pub struct ContactRow<'a> {
    pub id: i64,
    pub account_id: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub created_at: i64,
}

pub fn insert_contact(conn: &Conn, row: &ContactRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO contacts (id, account_id, name, email, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        row.id,
        row.account_id,
        row.name,
        row.email,
        row.created_at
    ])?;
    Ok(())
}

pub struct ContactInboxRow<'a> {
    pub id: i64,
    pub contact_id: i64,
    pub inbox_id: i64,
    pub source_id: &'a str,
    pub pubsub_token: &'a str,
    pub created_at: i64,
}

pub fn insert_contact_inbox(conn: &Conn, row: &ContactInboxRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO contact_inboxes (id, contact_id, inbox_id, source_id, pubsub_token, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        row.id,
        row.contact_id,
        row.inbox_id,
        row.source_id,
        row.pubsub_token,
        row.created_at
    ])?;
    Ok(())
}

pub struct ConversationRow<'a> {
    pub id: i64,
    pub account_id: i64,
    pub display_id: i64,
    pub uuid: &'a str,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: Option<i64>,
    pub status: i64,
    pub priority: Option<i64>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub custom_attributes: &'a str,
    pub first_reply_created_at: Option<i64>,
    pub waiting_since: Option<i64>,
    pub last_activity_at: i64,
    pub created_at: i64,
}

pub fn insert_conversation(conn: &Conn, row: &ConversationRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO conversations
             (id, account_id, display_id, uuid, inbox_id, contact_id, contact_inbox_id, status, priority,
              assignee_id, team_id, snoozed_until, custom_attributes, first_reply_created_at, waiting_since,
              last_activity_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?16)",
    )?
    .execute(params![
        row.id,
        row.account_id,
        row.display_id,
        row.uuid,
        row.inbox_id,
        row.contact_id,
        row.contact_inbox_id,
        row.status,
        row.priority,
        row.assignee_id,
        row.team_id,
        row.snoozed_until,
        row.custom_attributes,
        row.first_reply_created_at,
        row.waiting_since,
        row.last_activity_at,
        row.created_at
    ])?;
    Ok(())
}

pub fn insert_conversation_label(
    conn: &Conn,
    conversation_id: i64,
    account_id: i64,
    title: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO conversation_labels (conversation_id, account_id, title) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![conversation_id, account_id, title])?;
    Ok(())
}

pub struct MessageRow<'a> {
    pub id: i64,
    pub account_id: i64,
    pub inbox_id: i64,
    pub conversation_id: i64,
    pub message_type: i64,
    pub content: &'a str,
    pub private: bool,
    /// ("Contact" | "User", id), or None for activity messages.
    pub sender: Option<(&'static str, i64)>,
    pub created_at: i64,
}

pub fn insert_message(conn: &Conn, row: &MessageRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO messages (id, account_id, inbox_id, conversation_id, message_type, content, private,
                               sender_type, sender_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
    )?
    .execute(params![
        row.id,
        row.account_id,
        row.inbox_id,
        row.conversation_id,
        row.message_type,
        row.content,
        row.private,
        row.sender.map(|s| s.0),
        row.sender.map(|s| s.1),
        row.created_at
    ])?;
    Ok(())
}

/// The account's display-id counter, moved past the conversations written with explicit ids.
pub fn set_last_display_id(conn: &Conn, account_id: i64, last: i64) -> StoreResult<()> {
    super::execute(
        conn,
        "UPDATE accounts SET last_display_id = MAX(last_display_id, ?2) WHERE id = ?1",
        params![account_id, last],
    )?;
    Ok(())
}

/// Whether the account already holds conversations (a dataset is generated into a fresh one).
pub fn has_conversations(conn: &Conn, account_id: i64) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM conversations WHERE account_id = ?1)")?
        .query_row([account_id], |row| row.get(0))?)
}

/// A larger page cache for the writer while a dataset is loaded: the conversation indexes are
/// filled in an order that touches pages all over each of them.
pub fn widen_page_cache(conn: &Conn, kibibytes: i64) -> StoreResult<()> {
    conn.sqlite("the page cache pragma")?
        .pragma_update(None, "cache_size", -kibibytes)?;
    Ok(())
}
