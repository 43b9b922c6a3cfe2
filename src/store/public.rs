//! What the public Client API reads and writes: an API inbox found by its identifier, a contact
//! inbox by its source id, and the conversations that contact inbox may reach. The identifier and
//! the source id are the only credentials, so every lookup is scoped by the one before it and a
//! miss anywhere is the same NotFound.

use crate::db::{Conn, OptionalExtension, Row, Sql};
use crate::params;
use crate::sql;
use serde_json::Value;

use super::conversations::{self, conversation_from_row, Conversation, SELECT_CONVERSATION};
use super::inboxes::{self, Inbox};
use super::{changes, contacts, one_row, StoreError, StoreResult};
use crate::models::{MessageStatus, MessageType, Status};

/// A contact as known to one inbox.
#[derive(Clone, Debug)]
pub struct ContactInbox {
    pub id: i64,
    pub contact_id: i64,
    pub inbox_id: i64,
    pub source_id: String,
    pub pubsub_token: String,
    pub hmac_verified: bool,
}

fn contact_inbox_from_row(row: &Row) -> crate::db::SqlResult<ContactInbox> {
    Ok(ContactInbox {
        id: row.get(0)?,
        contact_id: row.get(1)?,
        inbox_id: row.get(2)?,
        source_id: row.get(3)?,
        pubsub_token: row.get(4)?,
        hmac_verified: row.get(5)?,
    })
}

/// The API inbox with this identifier.
pub fn inbox(conn: &Conn, identifier: &str) -> StoreResult<Inbox> {
    let inbox_id: i64 = conn
        .prepare_cached("SELECT id FROM inboxes WHERE identifier = ?1 AND channel_type = ?2")?
        .query_row(params![identifier, API_CHANNEL], |row| row.get(0))?;
    inboxes::get_by_id(conn, inbox_id)
}

/// The channel type of the inboxes the Client API serves.
pub const API_CHANNEL: &str = "Channel::Api";

/// The inbox's contact inbox with this source id; another inbox's is NotFound.
pub fn contact_inbox(conn: &Conn, inbox_id: i64, source_id: &str) -> StoreResult<ContactInbox> {
    find_contact_inbox(conn, inbox_id, source_id)?.ok_or(StoreError::NotFound)
}

pub fn find_contact_inbox(
    conn: &Conn,
    inbox_id: i64,
    source_id: &str,
) -> StoreResult<Option<ContactInbox>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, contact_id, inbox_id, source_id, pubsub_token, hmac_verified
               FROM contact_inboxes WHERE inbox_id = ?1 AND source_id = ?2",
        )?
        .query_row(params![inbox_id, source_id], contact_inbox_from_row)
        .optional()?)
}

pub fn contact_inbox_by_id(conn: &Conn, id: i64) -> StoreResult<ContactInbox> {
    Ok(conn
        .prepare_cached(
            "SELECT id, contact_id, inbox_id, source_id, pubsub_token, hmac_verified
               FROM contact_inboxes WHERE id = ?1",
        )?
        .query_row([id], contact_inbox_from_row)?)
}

/// A contact of the account with this identifier, else this email, else this phone number: the
/// contact a new contact inbox joins rather than making a second one.
pub fn matching_contact(
    conn: &Conn,
    account_id: i64,
    identifier: Option<&str>,
    email: Option<&str>,
    phone_number: Option<&str>,
) -> StoreResult<Option<i64>> {
    let probes = [
        (
            Sql::same("SELECT id FROM contacts WHERE account_id = ?1 AND identifier = ?2"),
            identifier,
        ),
        (
            sql!(
                sqlite: "SELECT id FROM contacts WHERE account_id = ?1 AND email = ?2",
                postgres: "SELECT id FROM contacts WHERE account_id = ?1 AND lower(email) = lower(?2)",
            ),
            email,
        ),
        (
            Sql::same("SELECT id FROM contacts WHERE account_id = ?1 AND phone_number = ?2"),
            phone_number,
        ),
    ];
    for (sql, value) in probes {
        let Some(value) = value else { continue };
        let found = conn
            .prepare_cached(&sql)?
            .query_row(params![account_id, value], |row| row.get(0))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

pub fn set_hmac_verified(conn: &Conn, contact_inbox_id: i64, now: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE contact_inboxes SET hmac_verified = 1, updated_at = ?2 WHERE id = ?1",
        params![contact_inbox_id, now],
    )?)
}

/// The conversations the contact inbox reaches, oldest first: its own, or, once its identity is
/// verified, all of its contact's in the inbox.
pub fn conversations(conn: &Conn, entry: &ContactInbox) -> StoreResult<Vec<Conversation>> {
    let sql = format!(
        "{SELECT_CONVERSATION}
          WHERE c.inbox_id = ?1
            AND (c.contact_inbox_id = ?2 OR (?3 AND c.contact_id = ?4))
          ORDER BY c.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            entry.inbox_id,
            entry.id,
            entry.hmac_verified,
            entry.contact_id
        ],
        conversation_from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One of the conversations the contact inbox reaches, by display id; any other is NotFound.
pub fn conversation(
    conn: &Conn,
    entry: &ContactInbox,
    display_id: i64,
) -> StoreResult<Conversation> {
    let sql = format!(
        "{SELECT_CONVERSATION}
          WHERE c.inbox_id = ?1 AND c.display_id = ?5
            AND (c.contact_inbox_id = ?2 OR (?3 AND c.contact_id = ?4))"
    );
    Ok(conn.prepare_cached(&sql)?.query_row(
        params![
            entry.inbox_id,
            entry.id,
            entry.hmac_verified,
            entry.contact_id,
            display_id
        ],
        conversation_from_row,
    )?)
}

/// The contact has seen the conversation up to now: its last-seen time (written without touching
/// `updated_at`, as Chatwoot does), and every message to the contact that was sent or delivered
/// by then is read.
pub fn set_contact_last_seen(conn: &Conn, conversation_id: i64, now: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE conversations SET contact_last_seen_at = ?2 WHERE id = ?1",
        params![conversation_id, now],
    )?)?;
    super::execute(
        conn,
        "UPDATE messages SET status = ?3, updated_at = ?2
          WHERE conversation_id = ?1 AND status IN (?4, ?5) AND message_type != ?6
            AND created_at <= ?2",
        params![
            conversation_id,
            now,
            MessageStatus::Read.code(),
            MessageStatus::Sent.code(),
            MessageStatus::Delivered.code(),
            MessageType::Incoming.code()
        ],
    )?;
    Ok(())
}

/// Chatwoot's activity text when the contact resolves (`conversations.activity.status.contact_resolved`).
fn contact_resolved_text(contact_name: &str) -> String {
    format!("Conversation was resolved by {contact_name}")
}

/// The contact resolves the conversation, with the activity message naming them; nothing happens
/// when it is resolved already.
pub fn resolve(conn: &Conn, conversation: &Conversation, now: i64) -> StoreResult<()> {
    if conversation.status == Status::Resolved {
        return Ok(());
    }
    conversations::set_status(conn, conversation.id, Status::Resolved, None, now)?;
    let contact = contacts::get_by_id(conn, conversation.contact_id)?;
    changes::activity(
        conn,
        conversation,
        contact_resolved_text(&contact.name),
        now,
    )?;
    Ok(())
}

/// Stores what the contact submitted to a form or options message, under its
/// `content_attributes.submitted_values`.
pub fn set_submitted_values(
    conn: &Conn,
    message_id: i64,
    values: &Value,
    now: i64,
) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        &sql!(
            sqlite: "UPDATE messages
            SET content_attributes = json_set(content_attributes, '$.submitted_values', json(?2)),
                updated_at = ?3
          WHERE id = ?1",
            postgres: "UPDATE messages
            SET content_attributes = jsonb_set(content_attributes::jsonb, '{submitted_values}',
                                               CAST(?2 AS text)::jsonb)::text,
                updated_at = ?3
          WHERE id = ?1",
        ),
        params![message_id, values.to_string(), now],
    )?)
}

/// A client's new contact: the contact inbox with this source id when the inbox has it already,
/// else a new contact inbox for the contact with the same email or phone number (or, once the
/// identity is verified, identifier), else for a new contact. `verified` says the request proved
/// the identifier with its hash; only then is the identifier stored or matched, so that a client
/// cannot claim someone else's identity by naming it.
pub fn create_contact(
    conn: &Conn,
    inbox: &Inbox,
    source_id: &str,
    mut change: contacts::ContactChange,
    verified: bool,
    now: i64,
) -> StoreResult<ContactInbox> {
    if let Some(entry) = find_contact_inbox(conn, inbox.id, source_id)? {
        let contact = contacts::get_by_id(conn, entry.contact_id)?;
        let identifier = change.identifier.flatten();
        if verified && identifier.is_some() && contact.identifier == identifier {
            set_hmac_verified(conn, entry.id, now)?;
        }
        return contact_inbox_by_id(conn, entry.id);
    }
    if !verified {
        change.identifier = None;
    }
    let wanted = |v: &Option<Option<String>>| v.as_ref().and_then(|v| v.clone());
    let (identifier, email, phone) = (
        wanted(&change.identifier),
        wanted(&change.email),
        wanted(&change.phone_number),
    );
    let found = matching_contact(
        conn,
        inbox.account_id,
        identifier.as_deref(),
        email.as_deref(),
        phone.as_deref(),
    )?;
    let contact_id = match found {
        Some(id) => id,
        None => contacts::create(conn, inbox.account_id, change, now)?,
    };
    let taken = || StoreError::invalid("source_id", "Source has already been taken");
    let id = contacts::attach_inbox(conn, contact_id, inbox.id, source_id, now, taken)?;
    let contact = contacts::get_by_id(conn, contact_id)?;
    if verified && identifier.is_some() && contact.identifier == identifier {
        set_hmac_verified(conn, id, now)?;
    }
    contact_inbox_by_id(conn, id)
}
