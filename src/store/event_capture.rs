//! What changed in a write transaction, as the events of reference §1.2 need to know it.
//!
//! Temporary triggers on the writer connection note every insert and every update of the rows
//! events are about (conversations, their labels, messages, contacts, inboxes; activity
//! messages and a contact reading a conversation only for live updates) in a temporary
//! table (on PostgreSQL, permanent triggers write into each session's temporary table), with the columns an event reports before and after. The write path reads and empties
//! that table before its transaction commits (`take`), so every path that writes through the
//! writer (requests, background tasks, commands) has its changes seen, and a write that is
//! rolled back leaves nothing behind. Nothing of this reaches the database file.

use crate::db::Conn;
use serde_json::Value;

use super::StoreResult;

/// One noted change, in the order the writes happened.
#[derive(Clone, Debug)]
pub struct Change {
    pub kind: String,
    pub subject_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A conversation's reported columns: those whose change makes `conversation_updated`
/// (Chatwoot's list), plus `updated_at`, which Chatwoot reports beside them.
macro_rules! conversation_columns {
    ($row:literal) => {
        concat!(
            "json_object('status', ",
            $row,
            ".status, 'priority', ",
            $row,
            ".priority, ",
            "'assignee_id', ",
            $row,
            ".assignee_id, 'team_id', ",
            $row,
            ".team_id, ",
            "'snoozed_until', ",
            $row,
            ".snoozed_until, 'custom_attributes', ",
            $row,
            ".custom_attributes, 'waiting_since', ",
            $row,
            ".waiting_since, ",
            "'first_reply_created_at', ",
            $row,
            ".first_reply_created_at, ",
            "'additional_attributes', ",
            $row,
            ".additional_attributes, ",
            "'updated_at', ",
            $row,
            ".updated_at)"
        )
    };
}

macro_rules! message_columns {
    ($row:literal) => {
        concat!(
            "json_object('content', ",
            $row,
            ".content, 'status', ",
            $row,
            ".status, ",
            "'content_attributes', ",
            $row,
            ".content_attributes, 'private', ",
            $row,
            ".private, 'updated_at', ",
            $row,
            ".updated_at)"
        )
    };
}

macro_rules! contact_columns {
    ($row:literal) => {
        concat!(
            "json_object('name', ",
            $row,
            ".name, 'email', ",
            $row,
            ".email, ",
            "'phone_number', ",
            $row,
            ".phone_number, 'identifier', ",
            $row,
            ".identifier, ",
            "'blocked', ",
            $row,
            ".blocked, 'additional_attributes', ",
            $row,
            ".additional_attributes, 'custom_attributes', ",
            $row,
            ".custom_attributes, ",
            "'updated_at', ",
            $row,
            ".updated_at)"
        )
    };
}

/// An inbox's reported columns; its secrets are not among them.
macro_rules! inbox_columns {
    ($row:literal) => {
        concat!(
            "json_object('name', ",
            $row,
            ".name, 'greeting_enabled', ",
            $row,
            ".greeting_enabled, 'greeting_message', ",
            $row,
            ".greeting_message, ",
            "'enable_email_collect', ",
            $row,
            ".enable_email_collect, 'csat_survey_enabled', ",
            $row,
            ".csat_survey_enabled, 'enable_auto_assignment', ",
            $row,
            ".enable_auto_assignment, 'working_hours_enabled', ",
            $row,
            ".working_hours_enabled, 'out_of_office_message', ",
            $row,
            ".out_of_office_message, 'timezone', ",
            $row,
            ".timezone, ",
            "'allow_messages_after_resolved', ",
            $row,
            ".allow_messages_after_resolved, ",
            "'lock_to_single_conversation', ",
            $row,
            ".lock_to_single_conversation, ",
            "'business_name', ",
            $row,
            ".business_name, 'webhook_url', ",
            $row,
            ".webhook_url, 'updated_at', ",
            $row,
            ".updated_at)"
        )
    };
}

/// The language Chatwoot watches inside a conversation's additional attributes; a stored
/// value that is not JSON reads as no language rather than failing the write.
macro_rules! language {
    ($row:literal) => {
        concat!(
            "CASE WHEN json_valid(",
            $row,
            ".additional_attributes) THEN json_extract(",
            $row,
            ".additional_attributes, '$.conversation_language') END"
        )
    };
}

/// On PostgreSQL the triggers are permanent (src/migrations/postgres/capture.sql) and write
/// into this session's table.
const INSTALL_POSTGRES: &str = "CREATE TEMP TABLE IF NOT EXISTS event_changes (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text   NOT NULL,
    subject_id bigint NOT NULL,
    before     text,
    after      text
)";

const INSTALL: &str = concat!(
    "CREATE TEMP TABLE IF NOT EXISTS event_changes (
        seq        INTEGER PRIMARY KEY,
        kind       TEXT    NOT NULL,
        subject_id INTEGER NOT NULL,
        before     TEXT,
        after      TEXT
    );
    CREATE TEMP TRIGGER IF NOT EXISTS capture_conversation_insert
    AFTER INSERT ON main.conversations BEGIN
        INSERT INTO event_changes (kind, subject_id) VALUES ('conversation_created', NEW.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_conversation_update
    AFTER UPDATE ON main.conversations
    WHEN OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority
      OR OLD.assignee_id IS NOT NEW.assignee_id OR OLD.team_id IS NOT NEW.team_id
      OR OLD.snoozed_until IS NOT NEW.snoozed_until
      OR OLD.custom_attributes IS NOT NEW.custom_attributes
      OR OLD.waiting_since IS NOT NEW.waiting_since
      OR OLD.first_reply_created_at IS NOT NEW.first_reply_created_at
      OR (",
    language!("OLD"),
    ") IS NOT (",
    language!("NEW"),
    ")
    BEGIN
        INSERT INTO event_changes (kind, subject_id, before, after)
        VALUES ('conversation_updated', NEW.id, ",
    conversation_columns!("OLD"),
    ", ",
    conversation_columns!("NEW"),
    ");
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_label_insert
    AFTER INSERT ON main.conversation_labels BEGIN
        INSERT INTO event_changes (kind, subject_id, after)
        VALUES ('label_added', NEW.conversation_id, json_quote(NEW.title));
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_label_delete
    AFTER DELETE ON main.conversation_labels BEGIN
        INSERT INTO event_changes (kind, subject_id, before)
        VALUES ('label_removed', OLD.conversation_id, json_quote(OLD.title));
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_message_insert
    AFTER INSERT ON main.messages WHEN NEW.message_type IN (0, 1, 3) BEGIN
        INSERT INTO event_changes (kind, subject_id) VALUES ('message_created', NEW.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_activity_insert
    AFTER INSERT ON main.messages WHEN NEW.message_type = 2 BEGIN
        INSERT INTO event_changes (kind, subject_id) VALUES ('activity_created', NEW.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_conversation_read
    AFTER UPDATE OF contact_last_seen_at ON main.conversations
    WHEN OLD.contact_last_seen_at IS NOT NEW.contact_last_seen_at BEGIN
        INSERT INTO event_changes (kind, subject_id) VALUES ('conversation_read', NEW.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_message_update
    AFTER UPDATE ON main.messages
    WHEN NEW.message_type IN (0, 1, 3) AND (OLD.content IS NOT NEW.content
      OR OLD.status IS NOT NEW.status OR OLD.content_attributes IS NOT NEW.content_attributes
      OR OLD.deleted IS NOT NEW.deleted OR OLD.private IS NOT NEW.private
      OR OLD.content_type IS NOT NEW.content_type
      OR OLD.additional_attributes IS NOT NEW.additional_attributes)
    BEGIN
        INSERT INTO event_changes (kind, subject_id, before, after)
        VALUES ('message_updated', NEW.id, ",
    message_columns!("OLD"),
    ", ",
    message_columns!("NEW"),
    ");
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_contact_insert
    AFTER INSERT ON main.contacts BEGIN
        INSERT INTO event_changes (kind, subject_id) VALUES ('contact_created', NEW.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_contact_update
    AFTER UPDATE ON main.contacts
    WHEN OLD.name IS NOT NEW.name OR OLD.email IS NOT NEW.email
      OR OLD.phone_number IS NOT NEW.phone_number OR OLD.identifier IS NOT NEW.identifier
      OR OLD.blocked IS NOT NEW.blocked
      OR OLD.additional_attributes IS NOT NEW.additional_attributes
      OR OLD.custom_attributes IS NOT NEW.custom_attributes
    BEGIN
        INSERT INTO event_changes (kind, subject_id, before, after)
        VALUES ('contact_updated', NEW.id, ",
    contact_columns!("OLD"),
    ", ",
    contact_columns!("NEW"),
    ");
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_inbox_insert
    AFTER INSERT ON main.inboxes BEGIN
        INSERT INTO event_changes (kind, subject_id) VALUES ('inbox_created', NEW.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS capture_inbox_update
    AFTER UPDATE ON main.inboxes
    WHEN ",
    inbox_columns!("OLD"),
    " IS NOT ",
    inbox_columns!("NEW"),
    "
    BEGIN
        INSERT INTO event_changes (kind, subject_id, before, after)
        VALUES ('inbox_updated', NEW.id, ",
    inbox_columns!("OLD"),
    ", ",
    inbox_columns!("NEW"),
    ");
    END;"
);

/// Sets up the noting on `conn` (a writing connection); idempotent.
pub fn install(conn: &Conn) -> StoreResult<()> {
    conn.execute_batch(&crate::sql!(sqlite: INSTALL, postgres: INSTALL_POSTGRES))?;
    Ok(())
}

/// Notes a change no row shows, such as someone typing: `kind` with `detail` as its `after`.
pub fn note(conn: &Conn, kind: &str, subject_id: i64, detail: &Value) -> StoreResult<()> {
    super::execute(
        conn,
        "INSERT INTO event_changes (kind, subject_id, after) VALUES (?1, ?2, ?3)",
        crate::params![kind, subject_id, detail.to_string()],
    )?;
    Ok(())
}

fn parsed(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

/// The changes noted so far in this transaction, oldest first, and forgets them.
pub fn take(conn: &Conn) -> StoreResult<Vec<Change>> {
    let mut stmt = conn
        .prepare_cached("SELECT kind, subject_id, before, after FROM event_changes ORDER BY seq")?;
    let changes = stmt
        .query_map([], |row| {
            Ok(Change {
                kind: row.get(0)?,
                subject_id: row.get(1)?,
                before: parsed(row.get(2)?),
                after: parsed(row.get(3)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if !changes.is_empty() {
        super::execute(conn, "DELETE FROM event_changes", [])?;
    }
    Ok(changes)
}
