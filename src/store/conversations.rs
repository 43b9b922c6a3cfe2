//! Conversations: the row, its per-account display_id, and the changes the API makes to it.
//! Counts live in `conversation_counts` (see the version 2 migration); the list is in `lists.rs`.

use std::collections::HashMap;

use crate::db::{Conn, Row};
use crate::{params, sql};
use serde_json::{Map, Value};

use super::attribute_values::{self, Owner};
use super::{json_object, one_row, StoreResult};
use crate::models::{Principal, Priority, Status};

#[derive(Clone, Debug)]
pub struct Conversation {
    pub id: i64,
    pub account_id: i64,
    pub display_id: i64,
    pub uuid: String,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: Option<i64>,
    pub status: Status,
    pub priority: Option<Priority>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub sla_policy_id: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub additional_attributes: Value,
    pub custom_attributes: Value,
    pub agent_last_seen_at: Option<i64>,
    pub assignee_last_seen_at: Option<i64>,
    pub contact_last_seen_at: Option<i64>,
    pub first_reply_created_at: Option<i64>,
    pub waiting_since: Option<i64>,
    pub last_activity_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns `conversation_from_row` reads, from `conversations c`.
macro_rules! conversation_columns {
    () => {
        "SELECT c.id, c.account_id, c.display_id, c.uuid, c.inbox_id, c.contact_id,
        c.contact_inbox_id, c.status, c.priority, c.assignee_id, c.team_id, c.campaign_id, c.sla_policy_id,
        c.snoozed_until, c.additional_attributes, c.custom_attributes, c.agent_last_seen_at,
        c.assignee_last_seen_at, c.contact_last_seen_at, c.first_reply_created_at, c.waiting_since,
        c.last_activity_at, c.created_at, c.updated_at"
    };
}
pub(crate) use conversation_columns;

pub const SELECT_CONVERSATION: &str = concat!(conversation_columns!(), " FROM conversations c");

pub fn conversation_from_row(row: &Row) -> crate::db::SqlResult<Conversation> {
    Ok(Conversation {
        id: row.get(0)?,
        account_id: row.get(1)?,
        display_id: row.get(2)?,
        uuid: row.get(3)?,
        inbox_id: row.get(4)?,
        contact_id: row.get(5)?,
        contact_inbox_id: row.get(6)?,
        status: Status::from_code(row.get(7)?).unwrap_or(Status::Open),
        priority: row.get::<Option<i64>>(8)?.and_then(Priority::from_code),
        assignee_id: row.get(9)?,
        team_id: row.get(10)?,
        campaign_id: row.get(11)?,
        sla_policy_id: row.get(12)?,
        snoozed_until: row.get(13)?,
        additional_attributes: json_object(&row.get::<String>(14)?),
        custom_attributes: json_object(&row.get::<String>(15)?),
        agent_last_seen_at: row.get(16)?,
        assignee_last_seen_at: row.get(17)?,
        contact_last_seen_at: row.get(18)?,
        first_reply_created_at: row.get(19)?,
        waiting_since: row.get(20)?,
        last_activity_at: row.get(21)?,
        created_at: row.get(22)?,
        updated_at: row.get(23)?,
    })
}

/// The account's conversation with this display id.
pub fn get(conn: &Conn, account_id: i64, display_id: i64) -> StoreResult<Conversation> {
    const SQL: &str = concat!(
        conversation_columns!(),
        " FROM conversations c WHERE c.account_id = ?1 AND c.display_id = ?2"
    );
    Ok(conn
        .prepare_cached(SQL)?
        .query_row([account_id, display_id], conversation_from_row)?)
}

/// The conversation at a display id, if the principal may act on it: 404 when it is not the
/// account's, not allowed when an agent is not a member of its inbox.
pub fn visible(conn: &Conn, principal: &Principal, display_id: i64) -> StoreResult<Conversation> {
    let conversation = get(conn, principal.account_id, display_id)?;
    if !super::inboxes::can_access(conn, principal, conversation.inbox_id)? {
        return Err(super::StoreError::NotAllowed);
    }
    Ok(conversation)
}

pub fn get_by_id(conn: &Conn, id: i64) -> StoreResult<Conversation> {
    const SQL: &str = concat!(
        conversation_columns!(),
        " FROM conversations c WHERE c.id = ?1"
    );
    Ok(conn
        .prepare_cached(SQL)?
        .query_row([id], conversation_from_row)?)
}

pub struct NewConversation {
    pub inbox_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: i64,
    pub status: Status,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub additional_attributes: Map<String, Value>,
    pub custom_attributes: Map<String, Value>,
}

/// The status a new conversation starts with, as Chatwoot's `determine_conversation_status`
/// decides it: resolved for a blocked contact; pending, whatever was asked, in an inbox with an
/// active agent bot (the bot answers first); otherwise the status asked for.
fn starting_status(conn: &Conn, new: &NewConversation) -> StoreResult<Status> {
    let blocked: bool = conn
        .prepare_cached("SELECT blocked FROM contacts WHERE id = ?1")?
        .query_row([new.contact_id], |row| row.get(0))?;
    if blocked {
        return Ok(Status::Resolved);
    }
    if super::agent_bots::active_for_inbox(conn, new.inbox_id)?.is_some() {
        return Ok(Status::Pending);
    }
    Ok(new.status)
}

/// Inserts the conversation under the account's next display id. The counter is bumped in the
/// same transaction, so ids are dense per account and never reused, even after deletes. The
/// status asked for may be overridden (see `starting_status`).
pub fn create(
    conn: &Conn,
    account_id: i64,
    new: &NewConversation,
    now: i64,
) -> StoreResult<Conversation> {
    let status = starting_status(conn, new)?;
    let display_id: i64 = conn
        .prepare_cached("UPDATE accounts SET last_display_id = last_display_id + 1 WHERE id = ?1 RETURNING last_display_id")?
        .query_row([account_id], |row| row.get(0))?;
    // Chatwoot keeps snoozed_until only while snoozed.
    let snoozed_until = new.snoozed_until.filter(|_| status == Status::Snoozed);
    let id = super::insert(conn,
        "INSERT INTO conversations
             (account_id, display_id, uuid, inbox_id, contact_id, contact_inbox_id, status, assignee_id, team_id,
              snoozed_until, additional_attributes, custom_attributes, waiting_since, last_activity_at,
              created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13, ?13) RETURNING id",
        params![
            account_id,
            display_id,
            uuid::Uuid::new_v4().to_string(),
            new.inbox_id,
            new.contact_id,
            new.contact_inbox_id,
            status.code(),
            new.assignee_id,
            new.team_id,
            snoozed_until,
            Value::Object(new.additional_attributes.clone()).to_string(),
            Value::Object(new.custom_attributes.clone()).to_string(),
            now
        ],
    )?;
    let attributes = Value::Object(new.custom_attributes.clone());
    attribute_values::replace(conn, Owner::Conversation, id, &attributes)?;
    get_by_id(conn, id)
}

/// Sets the status; leaving snoozed (or any status but snoozed) clears `snoozed_until`, and
/// resolving clears `waiting_since`, as Chatwoot's callbacks do.
pub fn set_status(
    conn: &Conn,
    id: i64,
    status: Status,
    snoozed_until: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    let snoozed_until = snoozed_until.filter(|_| status == Status::Snoozed);
    one_row(super::execute(
        conn,
        "UPDATE conversations
            SET status = ?2, snoozed_until = ?3, updated_at = ?4,
                waiting_since = CASE WHEN ?2 = 1 THEN NULL ELSE waiting_since END
          WHERE id = ?1",
        params![id, status.code(), snoozed_until, now],
    )?)
}

/// When the next timed snooze falls due, if any. `IS NOT NULL` names the snoozed index.
pub const NEXT_SNOOZE_DUE: &str = "SELECT MIN(snoozed_until) FROM conversations
   WHERE status = 3 AND snoozed_until IS NOT NULL";

pub fn next_snooze_due(conn: &Conn) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached(NEXT_SNOOZE_DUE)?
        .query_row([], |row| row.get(0))?)
}

/// Reopens every snoozed conversation whose time has come, as Chatwoot's `open!` from its job
/// does: status open, `snoozed_until` cleared, no activity message (no user made the change).
/// Returns how many reopened.
pub fn reopen_due_snoozes(conn: &Conn, now: i64) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE conversations SET status = 0, snoozed_until = NULL, updated_at = ?1
              WHERE status = 3 AND snoozed_until <= ?1",
        )?
        .execute([now])?)
}

pub fn set_priority(conn: &Conn, id: i64, priority: Option<Priority>, now: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE conversations SET priority = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, priority.map(Priority::code), now],
    )?)
}

pub fn set_assignee(conn: &Conn, id: i64, assignee_id: Option<i64>, now: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE conversations SET assignee_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, assignee_id, now],
    )?)
}

pub fn set_team(conn: &Conn, id: i64, team_id: Option<i64>, now: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE conversations SET team_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, team_id, now],
    )?)
}

pub fn set_custom_attributes(
    conn: &Conn,
    id: i64,
    attributes: &Value,
    now: i64,
) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE conversations SET custom_attributes = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, attributes.to_string(), now],
    )?)?;
    attribute_values::replace(conn, Owner::Conversation, id, attributes)
}

/// Chatwoot writes last-seen times with `update_columns`: `updated_at` is left alone.
pub fn set_last_seen(
    conn: &Conn,
    id: i64,
    agent_last_seen_at: Option<i64>,
    assignee_last_seen_at: Option<i64>,
) -> StoreResult<()> {
    one_row(super::execute(conn,
        "UPDATE conversations SET agent_last_seen_at = ?2, assignee_last_seen_at = ?3 WHERE id = ?1",
        params![id, agent_last_seen_at, assignee_last_seen_at],
    )?)
}

/// Deletes the conversation; messages, attachments rows and labels go with it (foreign keys).
/// Returns the storage keys of its attachment files, for the caller to remove after commit.
pub fn delete(conn: &Conn, id: i64) -> StoreResult<Vec<String>> {
    let files = super::column(
        conn,
        "SELECT a.storage_key FROM attachments a JOIN messages m ON m.id = a.message_id
          WHERE m.conversation_id = ?1 AND a.storage_key IS NOT NULL",
        [id],
    )?;
    one_row(super::execute(
        conn,
        "DELETE FROM conversations WHERE id = ?1",
        [id],
    )?)?;
    Ok(files)
}

/// The conversation's labels, in the order they were added.
/// Tags the conversation with a label (no activity message: callers write their own).
pub fn attach_label(conn: &Conn, id: i64, account_id: i64, title: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO conversation_labels (conversation_id, account_id, title) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![id, account_id, title])?;
    Ok(())
}

pub fn labels(conn: &Conn, id: i64) -> StoreResult<Vec<String>> {
    super::column(
        conn,
        "SELECT title FROM conversation_labels WHERE conversation_id = ?1 ORDER BY id",
        [id],
    )
}

/// The labels of each of the conversations, in the order they were added (`labels` for many);
/// a conversation without labels has no entry.
pub fn labels_of(
    conn: &Conn,
    ids: impl IntoIterator<Item = i64>,
) -> StoreResult<HashMap<i64, Vec<String>>> {
    let mut stmt = conn.prepare_cached(&sql!(
        sqlite: "SELECT conversation_id, title FROM conversation_labels
                  WHERE conversation_id IN rarray(?1) ORDER BY conversation_id, id",
        postgres: "SELECT conversation_id, title FROM conversation_labels
                    WHERE conversation_id = ANY(?1) ORDER BY conversation_id, id",
    ))?;
    let rows = stmt.query_map([super::id_array(ids)], |row| {
        Ok((row.get::<i64>(0)?, row.get::<String>(1)?))
    })?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        let (id, title) = row?;
        out.entry(id).or_default().push(title);
    }
    Ok(out)
}

/// The newest conversation of a contact inbox (inboxes locked to a single conversation reuse it).
pub fn latest_of_contact_inbox(
    conn: &Conn,
    contact_inbox_id: i64,
) -> StoreResult<Option<Conversation>> {
    let sql =
        format!("{SELECT_CONVERSATION} WHERE c.contact_inbox_id = ?1 ORDER BY c.id DESC LIMIT 1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query_map([contact_inbox_id], conversation_from_row)?;
    Ok(rows.next().transpose()?)
}
