//! Inboxes (API channels) and which inboxes a user may see.

use crate::db::{Conn, Row};
use crate::{params, sql};
use serde_json::Value;

use super::{json_object, one_row, StoreError, StoreResult};
use crate::models::Principal;

#[derive(Clone, Debug)]
pub struct Inbox {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub channel_type: String,
    pub webhook_url: Option<String>,
    pub hmac_token: String,
    /// Signs what is sent to `webhook_url` (Chatwoot's `channel_api.secret`).
    pub secret: String,
    pub identifier: String,
    pub hmac_mandatory: bool,
    pub avatar_url: Option<String>,
    pub greeting_enabled: bool,
    pub greeting_message: Option<String>,
    pub enable_email_collect: bool,
    pub csat_survey_enabled: bool,
    pub enable_auto_assignment: bool,
    pub auto_assignment_config: Value,
    pub working_hours_enabled: bool,
    pub out_of_office_message: Option<String>,
    pub timezone: String,
    pub allow_messages_after_resolved: bool,
    pub lock_to_single_conversation: bool,
    pub sender_name_type: i64,
    pub business_name: Option<String>,
    pub additional_attributes: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT_INBOX: &str =
    "SELECT id, account_id, name, channel_type, webhook_url, hmac_token, identifier,
        hmac_mandatory, avatar_url, greeting_enabled, greeting_message, enable_email_collect,
        csat_survey_enabled, enable_auto_assignment, auto_assignment_config, working_hours_enabled,
        out_of_office_message, timezone, allow_messages_after_resolved, lock_to_single_conversation,
        sender_name_type, business_name, additional_attributes, created_at, updated_at, secret
   FROM inboxes";

fn inbox_from_row(row: &Row) -> crate::db::SqlResult<Inbox> {
    Ok(Inbox {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        channel_type: row.get(3)?,
        webhook_url: row.get(4)?,
        hmac_token: row.get(5)?,
        identifier: row.get(6)?,
        hmac_mandatory: row.get(7)?,
        avatar_url: row.get(8)?,
        greeting_enabled: row.get(9)?,
        greeting_message: row.get(10)?,
        enable_email_collect: row.get(11)?,
        csat_survey_enabled: row.get(12)?,
        enable_auto_assignment: row.get(13)?,
        auto_assignment_config: json_object(&row.get::<String>(14)?),
        working_hours_enabled: row.get(15)?,
        out_of_office_message: row.get(16)?,
        timezone: row.get(17)?,
        allow_messages_after_resolved: row.get(18)?,
        lock_to_single_conversation: row.get(19)?,
        sender_name_type: row.get(20)?,
        business_name: row.get(21)?,
        additional_attributes: json_object(&row.get::<String>(22)?),
        created_at: row.get(23)?,
        updated_at: row.get(24)?,
        secret: row.get(25)?,
    })
}

/// The inboxes the principal may see: all of the account's for administrators, the ones they
/// are a member of for agents (Chatwoot's rule).
pub fn visible_to(conn: &Conn, principal: &Principal) -> StoreResult<Vec<Inbox>> {
    let sql = format!(
        "{SELECT_INBOX} WHERE account_id = ?1
            AND (?3 OR id IN (SELECT inbox_id FROM inbox_members WHERE user_id = ?2))
          ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            principal.account_id,
            principal.user_id(),
            principal.sees_all_inboxes()
        ],
        inbox_from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Conn, account_id: i64, inbox_id: i64) -> StoreResult<Inbox> {
    let sql = format!("{SELECT_INBOX} WHERE account_id = ?1 AND id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([account_id, inbox_id], inbox_from_row)?)
}

/// An inbox by its id alone, for callers that start from the row (event payloads).
pub fn get_by_id(conn: &Conn, inbox_id: i64) -> StoreResult<Inbox> {
    let sql = format!("{SELECT_INBOX} WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([inbox_id], inbox_from_row)?)
}

/// The inbox, when the principal may act in it. An inbox of the account that an agent is not a
/// member of is NotFound, exactly as a missing one, so that its existence and name stay hidden.
pub fn get_accessible(conn: &Conn, principal: &Principal, inbox_id: i64) -> StoreResult<Inbox> {
    let inbox = get(conn, principal.account_id, inbox_id)?;
    if !can_access(conn, principal, inbox_id)? {
        return Err(StoreError::NotFound);
    }
    Ok(inbox)
}

/// Whether the principal may act in this inbox (administrator, agent bot, or agent and member).
pub fn can_access(conn: &Conn, principal: &Principal, inbox_id: i64) -> StoreResult<bool> {
    if principal.sees_all_inboxes() {
        return Ok(true);
    }
    let Some(user_id) = principal.user_id() else {
        return Ok(false);
    };
    super::exists(
        conn,
        "SELECT 1 FROM inbox_members WHERE inbox_id = ?1 AND user_id = ?2",
        [inbox_id, user_id],
    )
}

/// The writable settings of an inbox. On update, `None` leaves a field alone.
#[derive(Default, Debug)]
pub struct InboxChange {
    pub name: Option<String>,
    pub webhook_url: Option<Option<String>>,
    pub hmac_mandatory: Option<bool>,
    pub greeting_enabled: Option<bool>,
    pub greeting_message: Option<Option<String>>,
    pub enable_email_collect: Option<bool>,
    pub csat_survey_enabled: Option<bool>,
    pub enable_auto_assignment: Option<bool>,
    pub working_hours_enabled: Option<bool>,
    pub out_of_office_message: Option<Option<String>>,
    pub timezone: Option<String>,
    pub allow_messages_after_resolved: Option<bool>,
    pub lock_to_single_conversation: Option<bool>,
    pub business_name: Option<Option<String>>,
}

/// A new API-channel inbox; its identifier, HMAC token and signing secret are random, as
/// Chatwoot's.
pub fn create(conn: &Conn, account_id: i64, name: &str, now: i64) -> StoreResult<i64> {
    super::insert(
        conn,
        "INSERT INTO inboxes (account_id, name, hmac_token, identifier, secret, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
        params![
            account_id,
            name,
            super::tokens::generate(),
            super::tokens::generate(),
            super::tokens::generate(),
            now
        ],
    )
}

/// The inbox's keys an administrator can renew.
#[derive(Clone, Copy, Debug)]
pub enum InboxKey {
    /// The secret that signs what its `webhook_url` receives.
    Secret,
    /// The key of contact identity hashes (Chatwoot's `hmac_token`).
    HmacToken,
}

/// Replaces one of the inbox's keys with a new random one; what the old one signed or proved
/// stops verifying at once.
pub fn renew_key(
    conn: &Conn,
    account_id: i64,
    inbox_id: i64,
    key: InboxKey,
    now: i64,
) -> StoreResult<()> {
    let sql = match key {
        InboxKey::Secret => {
            "UPDATE inboxes SET secret = ?3, updated_at = ?4 WHERE account_id = ?1 AND id = ?2"
        }
        InboxKey::HmacToken => {
            "UPDATE inboxes SET hmac_token = ?3, updated_at = ?4 WHERE account_id = ?1 AND id = ?2"
        }
    };
    one_row(super::execute(
        conn,
        sql,
        params![account_id, inbox_id, super::tokens::generate(), now],
    )?)
}

/// Where the inbox's events go and the secret that signs them: (webhook_url, secret). None when
/// the inbox is gone or has no webhook URL. Read at send time, so a reset secret is used at once.
pub fn delivery_target(conn: &Conn, inbox_id: i64) -> StoreResult<Option<(String, String)>> {
    super::delivery_target(
        conn,
        "SELECT webhook_url, secret FROM inboxes WHERE id = ?1",
        inbox_id,
    )
}

pub fn update(
    conn: &Conn,
    account_id: i64,
    inbox_id: i64,
    change: &InboxChange,
    now: i64,
) -> StoreResult<()> {
    let mut inbox = get(conn, account_id, inbox_id)?;
    macro_rules! take {
        ($($field:ident),+) => { $(if let Some(v) = change.$field.clone() { inbox.$field = v; })+ };
    }
    take!(
        name,
        webhook_url,
        hmac_mandatory,
        greeting_enabled,
        greeting_message,
        enable_email_collect,
        csat_survey_enabled,
        enable_auto_assignment,
        working_hours_enabled,
        out_of_office_message,
        timezone,
        allow_messages_after_resolved,
        lock_to_single_conversation,
        business_name
    );
    one_row(super::execute(conn,
        "UPDATE inboxes
            SET name = ?3, webhook_url = ?4, hmac_mandatory = ?5, greeting_enabled = ?6,
                greeting_message = ?7, enable_email_collect = ?8, csat_survey_enabled = ?9,
                enable_auto_assignment = ?10, working_hours_enabled = ?11, out_of_office_message = ?12,
                timezone = ?13, allow_messages_after_resolved = ?14, lock_to_single_conversation = ?15,
                business_name = ?16, updated_at = ?17
          WHERE account_id = ?1 AND id = ?2",
        params![
            account_id,
            inbox_id,
            inbox.name,
            inbox.webhook_url,
            inbox.hmac_mandatory,
            inbox.greeting_enabled,
            inbox.greeting_message,
            inbox.enable_email_collect,
            inbox.csat_survey_enabled,
            inbox.enable_auto_assignment,
            inbox.working_hours_enabled,
            inbox.out_of_office_message,
            inbox.timezone,
            inbox.allow_messages_after_resolved,
            inbox.lock_to_single_conversation,
            inbox.business_name,
            now
        ],
    )?)
}

/// Deletes the inbox with everything in it (conversations, contact inboxes, members).
/// Returns the storage keys of the attachment files that went with it.
pub fn delete(conn: &Conn, account_id: i64, inbox_id: i64) -> StoreResult<Vec<String>> {
    let files = super::column(
        conn,
        "SELECT a.storage_key FROM attachments a
           JOIN messages m ON m.id = a.message_id JOIN conversations c ON c.id = m.conversation_id
          WHERE c.account_id = ?1 AND c.inbox_id = ?2 AND a.storage_key IS NOT NULL",
        [account_id, inbox_id],
    )?;
    one_row(super::execute(
        conn,
        "DELETE FROM inboxes WHERE account_id = ?1 AND id = ?2",
        [account_id, inbox_id],
    )?)?;
    Ok(files)
}

/// The channel type of inboxes, keyed by inbox id.
pub fn channel_types(
    conn: &Conn,
    inbox_ids: impl IntoIterator<Item = i64>,
) -> StoreResult<std::collections::HashMap<i64, String>> {
    super::map_of(
        conn,
        &sql!(
            sqlite: "SELECT id, channel_type FROM inboxes WHERE id IN rarray(?1)",
            postgres: "SELECT id, channel_type FROM inboxes WHERE id = ANY(?1)",
        ),
        [super::id_array(inbox_ids)],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}
