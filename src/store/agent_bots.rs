//! Agent bots (Chatwoot's `AgentBot`): an account's bots, their access tokens and signing
//! secrets, and the inbox each one answers (`agent_bot_inboxes`, one active bot per inbox).

use crate::db::{Conn, OptionalExtension, Row};
use crate::{params, sql};
use serde_json::Value;

use super::{exists, json_object, one_row, tokens, StoreResult};
use crate::models::BotType;

#[derive(Clone, Debug)]
pub struct AgentBot {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub outgoing_url: Option<String>,
    pub bot_type: BotType,
    pub bot_config: Value,
    pub access_token: String,
    pub secret: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an administrator sets on a bot.
#[derive(Clone, Debug)]
pub struct AgentBotFields {
    pub name: String,
    pub description: Option<String>,
    pub outgoing_url: Option<String>,
    pub bot_type: BotType,
    pub bot_config: Value,
}

impl AgentBot {
    pub fn fields(&self) -> AgentBotFields {
        AgentBotFields {
            name: self.name.clone(),
            description: self.description.clone(),
            outgoing_url: self.outgoing_url.clone(),
            bot_type: self.bot_type,
            bot_config: self.bot_config.clone(),
        }
    }
}

const SELECT_BOT: &str = "SELECT id, account_id, name, description, outgoing_url, bot_type,
        bot_config, access_token, secret, created_at, updated_at
   FROM agent_bots";

fn bot_from_row(row: &Row) -> crate::db::SqlResult<AgentBot> {
    Ok(AgentBot {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        outgoing_url: row.get(4)?,
        bot_type: BotType::from_code(row.get(5)?).unwrap_or(BotType::Webhook),
        bot_config: json_object(&row.get::<String>(6)?),
        access_token: row.get(7)?,
        secret: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

/// The account's bots, oldest first.
pub fn list(conn: &Conn, account_id: i64) -> StoreResult<Vec<AgentBot>> {
    let sql = format!("{SELECT_BOT} WHERE account_id = ?1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([account_id], bot_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The account's bot; another account's is NotFound, as a missing one.
pub fn get(conn: &Conn, account_id: i64, bot_id: i64) -> StoreResult<AgentBot> {
    let sql = format!("{SELECT_BOT} WHERE account_id = ?1 AND id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([account_id, bot_id], bot_from_row)?)
}

/// Stores a new bot with its access `token` and signing `secret`; returns its id.
pub fn create(
    conn: &Conn,
    account_id: i64,
    fields: &AgentBotFields,
    token: &str,
    secret: &str,
    now: i64,
) -> StoreResult<i64> {
    super::insert(
        conn,
        "INSERT INTO agent_bots (account_id, name, description, outgoing_url, bot_type, bot_config,
                                 access_token, access_token_sha256, secret, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id",
        params![
            account_id,
            fields.name,
            fields.description,
            fields.outgoing_url,
            fields.bot_type.code(),
            fields.bot_config.to_string(),
            token,
            tokens::digest(token),
            secret,
            now
        ],
    )
}

/// Replaces the bot's fields; its token and secret stay.
pub fn update(
    conn: &Conn,
    account_id: i64,
    bot_id: i64,
    fields: &AgentBotFields,
    now: i64,
) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE agent_bots
            SET name = ?3, description = ?4, outgoing_url = ?5, bot_type = ?6, bot_config = ?7,
                updated_at = ?8
          WHERE account_id = ?1 AND id = ?2",
        params![
            account_id,
            bot_id,
            fields.name,
            fields.description,
            fields.outgoing_url,
            fields.bot_type.code(),
            fields.bot_config.to_string(),
            now
        ],
    )?)
}

/// A new access token: the old one stops working at once.
pub fn reset_access_token(
    conn: &Conn,
    account_id: i64,
    bot_id: i64,
    token: &str,
    now: i64,
) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE agent_bots SET access_token = ?3, access_token_sha256 = ?4, updated_at = ?5
          WHERE account_id = ?1 AND id = ?2",
        params![account_id, bot_id, token, tokens::digest(token), now],
    )?)
}

/// A new signing secret.
pub fn reset_secret(
    conn: &Conn,
    account_id: i64,
    bot_id: i64,
    secret: &str,
    now: i64,
) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "UPDATE agent_bots SET secret = ?3, updated_at = ?4 WHERE account_id = ?1 AND id = ?2",
        params![account_id, bot_id, secret, now],
    )?)
}

/// Deletes the bot, its token and its inbox links. Its messages stay, without a sender, as
/// Chatwoot's `dependent: :nullify` leaves them.
pub fn delete(conn: &Conn, account_id: i64, bot_id: i64) -> StoreResult<()> {
    get(conn, account_id, bot_id)?;
    super::execute(
        conn,
        "UPDATE messages SET sender_type = NULL, sender_id = NULL
          WHERE sender_type = 'AgentBot' AND sender_id = ?1",
        [bot_id],
    )?;
    one_row(super::execute(
        conn,
        "DELETE FROM agent_bots WHERE account_id = ?1 AND id = ?2",
        [account_id, bot_id],
    )?)
}

/// Whether the bot answers an inbox of the account: what Chatwoot requires before a bot's token
/// may act in an account.
pub fn attached_in_account(conn: &Conn, bot_id: i64, account_id: i64) -> StoreResult<bool> {
    exists(
        conn,
        "SELECT 1 FROM agent_bot_inboxes WHERE agent_bot_id = ?1 AND account_id = ?2",
        [bot_id, account_id],
    )
}

/// The bot's name, as activity messages and message senders show it.
pub fn name(conn: &Conn, bot_id: i64) -> StoreResult<String> {
    Ok(conn
        .prepare_cached("SELECT name FROM agent_bots WHERE id = ?1")?
        .query_row([bot_id], |row| row.get(0))?)
}

/// Bot names by bot id.
pub fn names(
    conn: &Conn,
    bot_ids: impl IntoIterator<Item = i64>,
) -> StoreResult<std::collections::HashMap<i64, String>> {
    super::map_of(
        conn,
        &sql!(
            sqlite: "SELECT id, name FROM agent_bots WHERE id IN rarray(?1)",
            postgres: "SELECT id, name FROM agent_bots WHERE id = ANY(?1)",
        ),
        [super::id_array(bot_ids)],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}

/// The active bot of an inbox, if any (for the event senders).
pub fn active_for_inbox(conn: &Conn, inbox_id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT agent_bot_id FROM agent_bot_inboxes WHERE inbox_id = ?1")?
        .query_row([inbox_id], |row| row.get(0))
        .optional()?)
}

/// Where a bot's events go and the secret that signs them: (outgoing_url, secret). None when
/// the bot is gone or has no outgoing URL. Read at send time, so a reset secret is used at once.
pub fn delivery_target(conn: &Conn, bot_id: i64) -> StoreResult<Option<(String, String)>> {
    super::delivery_target(
        conn,
        "SELECT outgoing_url, secret FROM agent_bots WHERE id = ?1",
        bot_id,
    )
}

/// The inbox's active bot, in full.
pub fn of_inbox(conn: &Conn, account_id: i64, inbox_id: i64) -> StoreResult<Option<AgentBot>> {
    match active_for_inbox(conn, inbox_id)? {
        Some(bot_id) => Ok(Some(get(conn, account_id, bot_id)?)),
        None => Ok(None),
    }
}

/// Makes `bot_id` the inbox's active bot, replacing any other; `None` removes it. The inbox and
/// the bot must both be the account's (the caller checks).
pub fn set_for_inbox(
    conn: &Conn,
    account_id: i64,
    inbox_id: i64,
    bot_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    match bot_id {
        Some(bot_id) => super::execute(
            conn,
            "INSERT INTO agent_bot_inboxes (account_id, inbox_id, agent_bot_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (inbox_id) DO UPDATE
                SET agent_bot_id = excluded.agent_bot_id, updated_at = excluded.updated_at",
            params![account_id, inbox_id, bot_id, now],
        )?,
        None => super::execute(
            conn,
            "DELETE FROM agent_bot_inboxes WHERE account_id = ?1 AND inbox_id = ?2",
            [account_id, inbox_id],
        )?,
    };
    Ok(())
}
