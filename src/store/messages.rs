//! Messages and their attachments.

use std::collections::HashMap;

use crate::db::{Conn, Row, Sql};
use crate::{params, sql};
use serde_json::Value;

use super::{json_object, one_row, StoreResult};
use crate::models::{FileType, MessageStatus, MessageType};

#[derive(Clone, Debug)]
pub struct Message {
    pub id: i64,
    pub account_id: i64,
    pub inbox_id: i64,
    pub conversation_id: i64,
    /// The conversation's display id: what every message JSON calls `conversation_id`.
    pub conversation_display_id: i64,
    pub message_type: MessageType,
    pub content: Option<String>,
    pub private: bool,
    pub status: MessageStatus,
    pub content_type: String,
    pub content_attributes: Value,
    pub source_id: Option<String>,
    pub echo_id: Option<String>,
    pub sender_type: Option<String>,
    pub sender_id: Option<i64>,
    pub external_source_ids: Value,
    pub additional_attributes: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns `message_from_row` reads, from `messages m` and its `conversations c`.
macro_rules! message_columns {
    () => {
        "SELECT m.id, m.account_id, m.inbox_id, m.conversation_id, c.display_id,
        m.message_type, m.content, m.private, m.status, m.content_type, m.content_attributes, m.source_id,
        m.echo_id, m.sender_type, m.sender_id, m.external_source_ids, m.additional_attributes,
        m.created_at, m.updated_at"
    };
}

pub const SELECT_MESSAGE: &str = concat!(
    message_columns!(),
    "
   FROM messages m JOIN conversations c ON c.id = m.conversation_id"
);

/// The id and time of the newest message of each type (incoming, outgoing, activity, template)
/// of every conversation in `rarray(?1)`, as (conversation, type, created_at, id): among them
/// are its newest message and its newest non-activity message (`latest_of`). Read from
/// `messages_by_conversation_type` alone, which holds a type's messages in (created_at, id)
/// order: one step down it for the newest time, one for the messages at that time, with nothing
/// sorted and no message row read, whatever the length of the conversation.
pub(super) const LATEST_OF: Sql = sql!(
    sqlite: "
SELECT m.conversation_id, m.message_type, m.created_at, m.id
  FROM rarray(?1) page
 CROSS JOIN (VALUES (0), (1), (2), (3)) kind
 CROSS JOIN messages m INDEXED BY messages_by_conversation_type
 WHERE m.conversation_id = page.value AND m.message_type = kind.column1
   AND m.created_at = (SELECT created_at FROM messages INDEXED BY messages_by_conversation_type
                        WHERE conversation_id = page.value AND message_type = kind.column1
                        ORDER BY created_at DESC LIMIT 1)",
    postgres: "
SELECT m.conversation_id, m.message_type, m.created_at, m.id
  FROM unnest(CAST(?1 AS bigint[])) AS page(value)
 CROSS JOIN (VALUES (0), (1), (2), (3)) AS kind(column1)
 CROSS JOIN messages m
 WHERE m.conversation_id = page.value AND m.message_type = kind.column1
   AND m.created_at = (SELECT created_at FROM messages
                        WHERE conversation_id = page.value AND message_type = kind.column1
                        ORDER BY created_at DESC LIMIT 1)",
);

fn message_from_row(row: &Row) -> crate::db::SqlResult<Message> {
    Ok(Message {
        id: row.get(0)?,
        account_id: row.get(1)?,
        inbox_id: row.get(2)?,
        conversation_id: row.get(3)?,
        conversation_display_id: row.get(4)?,
        message_type: MessageType::from_code(row.get(5)?).unwrap_or(MessageType::Outgoing),
        content: row.get(6)?,
        private: row.get(7)?,
        status: MessageStatus::from_code(row.get(8)?).unwrap_or(MessageStatus::Sent),
        content_type: row.get(9)?,
        content_attributes: json_object(&row.get::<String>(10)?),
        source_id: row.get(11)?,
        echo_id: row.get(12)?,
        sender_type: row.get(13)?,
        sender_id: row.get(14)?,
        external_source_ids: json_object(&row.get::<String>(15)?),
        additional_attributes: json_object(&row.get::<String>(16)?),
        created_at: row.get(17)?,
        updated_at: row.get(18)?,
    })
}

fn query(
    conn: &Conn,
    sql: &(impl crate::db::Text + ?Sized),
    params: impl crate::db::Params,
) -> StoreResult<Vec<Message>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, message_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Conn, conversation_id: i64, message_id: i64) -> StoreResult<Message> {
    const SQL: &str = concat!(
        message_columns!(),
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.conversation_id = ?1 AND m.id = ?2"
    );
    Ok(conn
        .prepare_cached(SQL)?
        .query_row([conversation_id, message_id], message_from_row)?)
}

/// The messages with these ids, in no order; ids that are gone are left out.
pub fn by_ids(
    conn: &Conn,
    message_ids: impl IntoIterator<Item = i64>,
) -> StoreResult<Vec<Message>> {
    const SQL: Sql = sql!(
        sqlite: concat!(
            message_columns!(),
            " FROM rarray(?1) wanted CROSS JOIN messages m ON m.id = wanted.value
               JOIN conversations c ON c.id = m.conversation_id"
        ),
        postgres: concat!(
            message_columns!(),
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id
              WHERE m.id = ANY(?1)"
        ),
    );
    query(conn, &SQL, [super::id_array(message_ids)])
}

/// A message by its id alone, for callers that start from the row (event payloads).
pub fn get_by_id(conn: &Conn, message_id: i64) -> StoreResult<Message> {
    let sql = format!("{SELECT_MESSAGE} WHERE m.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([message_id], message_from_row)?)
}

/// The newest message of the conversation, and the newest that is not an activity message.
pub fn latest(conn: &Conn, conversation_id: i64) -> StoreResult<Latest> {
    Ok(latest_of(conn, [conversation_id])?
        .remove(&conversation_id)
        .unwrap_or_default())
}

/// A conversation's newest message and its newest non-activity message.
pub type Latest = (Option<Message>, Option<Message>);

/// `latest` for each of the conversations: their candidates from the index, then only the
/// messages picked. A conversation without messages has no entry.
pub fn latest_of(
    conn: &Conn,
    conversation_ids: impl IntoIterator<Item = i64>,
) -> StoreResult<HashMap<i64, Latest>> {
    // Per conversation, (created_at, id) of the newest message and of the newest non-activity
    // one: the conversation's order is time, then id.
    type Newest = Option<(i64, i64)>;
    let mut picked: HashMap<i64, (Newest, Newest)> = HashMap::new();
    let mut stmt = conn.prepare_cached(&LATEST_OF)?;
    let mut rows = stmt.query([super::id_array(conversation_ids)])?;
    while let Some(row) = rows.next()? {
        let (conversation, kind): (i64, i64) = (row.get(0)?, row.get(1)?);
        let at = Some((row.get::<i64>(2)?, row.get::<i64>(3)?));
        let (newest, non_activity) = picked.entry(conversation).or_default();
        *newest = (*newest).max(at);
        if kind != MessageType::Activity.code() {
            *non_activity = (*non_activity).max(at);
        }
    }
    let wanted = picked
        .values()
        .flat_map(|(newest, other)| [*newest, *other])
        .flatten()
        .map(|(_, id)| id);
    let mut loaded: HashMap<i64, Message> = by_ids(conn, wanted)?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut take = |pick: Newest, last_use: bool| {
        let id = pick?.1;
        if last_use {
            loaded.remove(&id)
        } else {
            loaded.get(&id).cloned()
        }
    };
    Ok(picked
        .into_iter()
        .map(|(conversation, (newest, other))| {
            // The non-activity message is taken first, and cloned when it is also the newest.
            let non_activity = take(other, other != newest);
            (conversation, (take(newest, true), non_activity))
        })
        .collect())
}

/// Incoming messages after the agent last looked, capped at 10 as Chatwoot's `unread_count`.
/// What a transcript shows: the conversation's messages but activity messages and private
/// notes, oldest first.
pub fn for_transcript(conn: &Conn, conversation_id: i64) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "{SELECT_MESSAGE} WHERE m.conversation_id = ?1 AND m.message_type != 2 AND m.private = 0
          ORDER BY m.created_at, m.id"
    );
    query(conn, &sql, [conversation_id])
}

pub fn unread_count(
    conn: &Conn,
    conversation_id: i64,
    agent_last_seen_at: Option<i64>,
) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM messages
              WHERE conversation_id = ?1 AND message_type = 0
                AND (CAST(?2 AS bigint) IS NULL OR created_at > ?2)
              LIMIT 10) AS unread",
        )?
        .query_row(params![conversation_id, agent_last_seen_at], |row| {
            row.get(0)
        })?)
}

/// `unread_count` for each of the conversations, from their stored `agent_last_seen_at`, keyed
/// by conversation id.
pub fn unread_counts(
    conn: &Conn,
    conversation_ids: impl IntoIterator<Item = i64>,
) -> StoreResult<HashMap<i64, i64>> {
    super::map_of(
        conn,
        &sql!(
            sqlite: "SELECT c.id,
                (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
                  WHERE m.conversation_id = c.id AND m.message_type = 0
                    AND (c.agent_last_seen_at IS NULL OR m.created_at > c.agent_last_seen_at)
                  LIMIT 10) AS unread)
           FROM conversations c WHERE c.id IN rarray(?1)",
            postgres: "SELECT c.id,
                (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
                  WHERE m.conversation_id = c.id AND m.message_type = 0
                    AND (c.agent_last_seen_at IS NULL OR m.created_at > c.agent_last_seen_at)
                  LIMIT 10) AS unread)
           FROM conversations c WHERE c.id = ANY(?1)",
        ),
        [super::id_array(conversation_ids)],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}

/// Which page of the conversation's messages `GET /messages` asked for (Chatwoot's
/// MessageFinder: ids select, creation time orders).
#[derive(Clone, Copy, Debug)]
pub enum Window {
    /// The newest 20.
    Latest,
    /// The 20 just before a message id.
    Before(i64),
    /// Up to 100 after a message id (exclusive).
    After(i64),
    /// From `after` (inclusive) up to `before` (exclusive), at most 1000.
    Between(i64, i64),
}

const PAGE: i64 = 20;
const AFTER_PAGE: i64 = 100;
const BETWEEN_PAGE: i64 = 1000;

/// A page of messages, oldest first. `internal` false drops private notes and activity messages
/// (`filter_internal_messages`).
pub fn page(
    conn: &Conn,
    conversation_id: i64,
    window: Window,
    internal: bool,
) -> StoreResult<Vec<Message>> {
    // Ids beyond any real one stand in for "no bound", so each window is one static statement.
    let (after, before, limit, newest_first) = match window {
        Window::Latest => (i64::MIN, i64::MAX, PAGE, true),
        Window::Before(before) => (i64::MIN, before, PAGE, true),
        Window::After(after) => (after.saturating_add(1), i64::MAX, AFTER_PAGE, false),
        Window::Between(after, before) => (after, before, BETWEEN_PAGE, false),
    };
    let sql = if newest_first {
        format!(
            "{SELECT_MESSAGE} WHERE m.conversation_id = ?1 AND m.id >= ?2 AND m.id < ?3
                AND (?4 OR (m.private = 0 AND m.message_type != 2))
              ORDER BY m.created_at DESC, m.id DESC LIMIT ?5"
        )
    } else {
        format!(
            "{SELECT_MESSAGE} WHERE m.conversation_id = ?1 AND m.id >= ?2 AND m.id < ?3
                AND (?4 OR (m.private = 0 AND m.message_type != 2))
              ORDER BY m.created_at, m.id LIMIT ?5"
        )
    };
    let mut messages = query(
        conn,
        &sql,
        params![conversation_id, after, before, internal, limit],
    )?;
    if newest_first {
        messages.reverse();
    }
    Ok(messages)
}

#[derive(Clone)]
pub struct NewMessage {
    pub message_type: MessageType,
    pub content: Option<String>,
    pub private: bool,
    pub content_type: String,
    pub content_attributes: Value,
    pub source_id: Option<String>,
    pub additional_attributes: Value,
    /// ("Contact" | "User", id), or None for activity messages.
    pub sender: Option<(&'static str, i64)>,
}

impl NewMessage {
    /// A public plain-text message with no attributes.
    pub fn text(
        message_type: MessageType,
        content: impl Into<String>,
        sender: Option<(&'static str, i64)>,
    ) -> Self {
        Self {
            message_type,
            content: Some(content.into()),
            private: false,
            content_type: "text".into(),
            content_attributes: Value::Object(Default::default()),
            source_id: None,
            additional_attributes: Value::Object(Default::default()),
            sender,
        }
    }
}

/// Keeps the `echo_id` a client sent with its message, so that the message's events carry it
/// and the client can recognise its own message when it comes back.
pub fn set_echo_id(conn: &Conn, message_id: i64, echo_id: &str) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE messages SET echo_id = ?2 WHERE id = ?1",
        params![message_id, echo_id],
    )?)
}

/// On PostgreSQL, writers into one conversation queue on its row from here to their commit,
/// so its messages take ids, and its events their places in line, in commit order; and a
/// message is never older than the one before it, so ids and times agree as they do behind
/// SQLite's single writer (docs/storage.md §5). SQLite needs neither.
fn in_conversation_order(conn: &Conn, conversation_id: i64, now: i64) -> StoreResult<i64> {
    if !conn.is_postgres() {
        return Ok(now);
    }
    // The lock first: the time is read by a statement of its own, whose snapshot (READ
    // COMMITTED) is taken once the writers before have committed.
    conn.prepare_cached("SELECT id FROM conversations WHERE id = ?1 FOR UPDATE")?
        .exists([conversation_id])?;
    Ok(conn
        .prepare_cached(
            "SELECT GREATEST(?2, COALESCE(MAX(created_at), ?2)) FROM messages
              WHERE conversation_id = ?1",
        )?
        .query_row(params![conversation_id, now], |row| row.get(0))?)
}

pub fn insert(
    conn: &Conn,
    account_id: i64,
    inbox_id: i64,
    conversation_id: i64,
    new: &NewMessage,
    now: i64,
) -> StoreResult<i64> {
    let now = in_conversation_order(conn, conversation_id, now)?;
    super::insert(conn,
        "INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content, private, content_type,
                               content_attributes, source_id, sender_type, sender_id, additional_attributes,
                               created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?12, ?12) RETURNING id",
        params![
            account_id,
            inbox_id,
            conversation_id,
            new.message_type.code(),
            new.content,
            new.private,
            new.content_type,
            new.content_attributes.to_string(),
            new.source_id,
            new.sender.map(|s| s.0),
            new.sender.map(|s| s.1),
            now,
            new.additional_attributes.to_string()
        ],
    )
}

/// Sets the delivery status; `external_error` is kept for a failed message and cleared otherwise,
/// as Chatwoot's status update service does.
pub fn set_status(
    conn: &Conn,
    message_id: i64,
    status: MessageStatus,
    external_error: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let external_error = external_error.filter(|_| status == MessageStatus::Failed);
    // jsonb keeps its keys sorted, not in the order they were written.
    one_row(super::execute(
        conn,
        &sql!(
            sqlite: "UPDATE messages
            SET status = ?2, updated_at = ?4,
                content_attributes = CASE WHEN ?3 IS NULL THEN json_remove(content_attributes, '$.external_error')
                                          ELSE json_set(content_attributes, '$.external_error', ?3) END
          WHERE id = ?1",
            postgres: "UPDATE messages
            SET status = ?2, updated_at = ?4,
                content_attributes = CASE WHEN CAST(?3 AS text) IS NULL
                                          THEN (content_attributes::jsonb - 'external_error')::text
                                          ELSE jsonb_set(content_attributes::jsonb, '{external_error}',
                                                         to_jsonb(CAST(?3 AS text)))::text END
          WHERE id = ?1",
        ),
        params![message_id, status.code(), external_error, now],
    )?)
}

/// Chatwoot's soft delete: the row stays, its content becomes a notice, its content attributes
/// become `{"deleted": true}`, and its attachments go. Returns the storage keys of the removed
/// attachment files.
pub fn soft_delete(conn: &Conn, message_id: i64, now: i64) -> StoreResult<Vec<String>> {
    let files = super::column(
        conn,
        "SELECT storage_key FROM attachments WHERE message_id = ?1 AND storage_key IS NOT NULL",
        [message_id],
    )?;
    super::execute(
        conn,
        "DELETE FROM attachments WHERE message_id = ?1",
        [message_id],
    )?;
    one_row(super::execute(
        conn,
        r#"UPDATE messages
              SET content = 'This message was deleted', content_type = 'text', deleted = 1, updated_at = ?2,
                  content_attributes = '{"deleted":true}'
            WHERE id = ?1"#,
        params![message_id, now],
    )?)?;
    Ok(files)
}

#[derive(Clone, Debug)]
pub struct Attachment {
    pub id: i64,
    pub account_id: i64,
    pub message_id: i64,
    pub file_type: FileType,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub extension: Option<String>,
    pub file_size: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub storage_key: Option<String>,
    pub external_url: Option<String>,
    pub coordinates_lat: Option<f64>,
    pub coordinates_long: Option<f64>,
    pub fallback_title: Option<String>,
    pub created_at: i64,
}

const SELECT_ATTACHMENT: &str = "SELECT a.id, a.account_id, a.message_id, a.file_type, a.file_name, a.mime_type,
        a.extension, a.file_size, a.width, a.height, a.storage_key, a.external_url, a.coordinates_lat,
        a.coordinates_long, a.fallback_title, a.created_at
   FROM attachments a";

fn attachment_from_row(row: &Row) -> crate::db::SqlResult<Attachment> {
    Ok(Attachment {
        id: row.get(0)?,
        account_id: row.get(1)?,
        message_id: row.get(2)?,
        file_type: FileType::from_code(row.get(3)?).unwrap_or(FileType::File),
        file_name: row.get(4)?,
        mime_type: row.get(5)?,
        extension: row.get(6)?,
        file_size: row.get(7)?,
        width: row.get(8)?,
        height: row.get(9)?,
        storage_key: row.get(10)?,
        external_url: row.get(11)?,
        coordinates_lat: row.get(12)?,
        coordinates_long: row.get(13)?,
        fallback_title: row.get(14)?,
        created_at: row.get(15)?,
    })
}

pub fn attachments_of(conn: &Conn, message_id: i64) -> StoreResult<Vec<Attachment>> {
    let sql = format!("{SELECT_ATTACHMENT} WHERE a.message_id = ?1 ORDER BY a.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([message_id], attachment_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `attachments_of` for each of the messages, keyed by message id; a message without
/// attachments has no entry.
pub fn attachments_of_many(
    conn: &Conn,
    message_ids: impl IntoIterator<Item = i64>,
) -> StoreResult<HashMap<i64, Vec<Attachment>>> {
    let sql = format!(
        "{SELECT_ATTACHMENT} WHERE {} ORDER BY a.id",
        super::among_ids(conn, "a.message_id", 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([super::id_array(message_ids)], attachment_from_row)?;
    let mut out: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for attachment in rows {
        let attachment = attachment?;
        out.entry(attachment.message_id)
            .or_default()
            .push(attachment);
    }
    Ok(out)
}

pub fn attachment(conn: &Conn, account_id: i64, attachment_id: i64) -> StoreResult<Attachment> {
    let sql = format!("{SELECT_ATTACHMENT} WHERE a.account_id = ?1 AND a.id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([account_id, attachment_id], attachment_from_row)?)
}

/// A page of the conversation's attachments, newest first, with the message they came with,
/// and how many there are in all.
pub fn conversation_attachments(
    conn: &Conn,
    conversation_id: i64,
    page: i64,
    per_page: i64,
) -> StoreResult<(Vec<(Attachment, Message)>, i64)> {
    let (limit, offset) = super::page_window(page, per_page);
    let sql = format!(
        "{SELECT_ATTACHMENT} JOIN messages m ON m.id = a.message_id
          WHERE m.conversation_id = ?1 ORDER BY a.created_at DESC, a.id DESC LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let attachments = stmt
        .query_map(params![conversation_id, limit, offset], attachment_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(attachments.len());
    for attachment in attachments {
        let message = get(conn, conversation_id, attachment.message_id)?;
        out.push((attachment, message));
    }
    let total = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = ?1",
        )?
        .query_row([conversation_id], |row| row.get(0))?;
    Ok((out, total))
}

pub struct NewAttachment {
    pub file_type: FileType,
    pub file_name: String,
    pub mime_type: String,
    pub extension: Option<String>,
    pub file_size: i64,
    pub storage_key: String,
}

pub fn insert_attachment(
    conn: &Conn,
    account_id: i64,
    message_id: i64,
    new: &NewAttachment,
    now: i64,
) -> StoreResult<i64> {
    super::insert(conn,
        "INSERT INTO attachments (account_id, message_id, file_type, file_name, mime_type, extension, file_size,
                                  storage_key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        params![
            account_id,
            message_id,
            new.file_type.code(),
            new.file_name,
            new.mime_type,
            new.extension,
            new.file_size,
            new.storage_key,
            now
        ],
    )
}

/// The storage key of every stored attachment file, in every account: the files a copy of the
/// data dir must carry.
pub fn stored_file_keys(conn: &Conn) -> StoreResult<Vec<String>> {
    super::column(
        conn,
        "SELECT storage_key FROM attachments WHERE storage_key IS NOT NULL ORDER BY storage_key",
        [],
    )
}

/// When the conversation's newest incoming message was created.
pub fn last_incoming_at(conn: &Conn, conversation_id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT MAX(created_at) FROM messages WHERE conversation_id = ?1 AND message_type = 0",
        )?
        .query_row([conversation_id], |row| row.get(0))?)
}
