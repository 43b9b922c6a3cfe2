//! Everything the conversation and message JSON shows beyond the row itself: the contact, the
//! assignee, the team, the channel, the latest messages with their senders and attachments.

use rusqlite::{Connection, OptionalExtension};

use super::contacts::{self, Contact};
use super::conversations::Conversation;
use super::messages::{self, Attachment, Message};
use super::teams::{self, Team};
use super::{agent_bots, agents, StoreResult};
use crate::models::Agent;

#[derive(Clone, Debug)]
pub enum Sender {
    Contact(Contact),
    User(Agent),
    AgentBot(BotSender),
}

/// What a message shows of the agent bot that wrote it.
#[derive(Clone, Debug)]
pub struct BotSender {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct MessageDetails {
    pub message: Message,
    pub sender: Option<Sender>,
    pub attachments: Vec<Attachment>,
}

#[derive(Clone, Debug)]
pub struct ConversationDetails {
    pub conversation: Conversation,
    pub contact: Contact,
    pub assignee: Option<Agent>,
    pub team: Option<Team>,
    pub channel_type: String,
    /// The contact inbox's source id and hmac_verified flag.
    pub contact_inbox: Option<(String, bool)>,
    pub labels: Vec<String>,
    pub last_message: Option<MessageDetails>,
    pub last_non_activity_message: Option<MessageDetails>,
    pub unread_count: i64,
}

pub fn message(conn: &Connection, message: Message) -> StoreResult<MessageDetails> {
    let sender = match (message.sender_type.as_deref(), message.sender_id) {
        (Some("Contact"), Some(id)) => contacts::get(conn, message.account_id, id)
            .ok()
            .map(Sender::Contact),
        (Some("User"), Some(id)) => agents::user(conn, id, Some(message.account_id))
            .ok()
            .map(Sender::User),
        (Some("AgentBot"), Some(id)) => agent_bots::name(conn, id)
            .ok()
            .map(|name| Sender::AgentBot(BotSender { id, name })),
        _ => None,
    };
    let attachments = messages::attachments_of(conn, message.id)?;
    Ok(MessageDetails {
        message,
        sender,
        attachments,
    })
}

pub fn messages(conn: &Connection, list: Vec<Message>) -> StoreResult<Vec<MessageDetails>> {
    list.into_iter().map(|m| message(conn, m)).collect()
}

/// The details of one conversation, as seen by `viewer` (the team's `is_member`; None for a bot).
pub fn conversation(
    conn: &Connection,
    conversation: Conversation,
    viewer: Option<i64>,
) -> StoreResult<ConversationDetails> {
    let account_id = conversation.account_id;
    let contact = contacts::get(conn, account_id, conversation.contact_id)?;
    let assignee = match conversation.assignee_id {
        Some(id) => agents::find(conn, account_id, id)?,
        None => None,
    };
    let team = match conversation.team_id {
        Some(id) => Some(teams::get(conn, account_id, id, viewer)?),
        None => None,
    };
    let channel_type: String = conn
        .prepare_cached("SELECT channel_type FROM inboxes WHERE id = ?1")?
        .query_row([conversation.inbox_id], |row| row.get(0))?;
    let contact_inbox = match conversation.contact_inbox_id {
        Some(id) => conn
            .prepare_cached("SELECT source_id, hmac_verified FROM contact_inboxes WHERE id = ?1")?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?,
        None => None,
    };
    let labels = super::conversations::labels(conn, conversation.id)?;
    let (last, last_non_activity) = messages::latest(conn, conversation.id)?;
    let last_message = last.map(|m| message(conn, m)).transpose()?;
    // Usually one message is both; its sender and attachments are loaded once.
    let last_non_activity_message = match (&last_message, last_non_activity) {
        (Some(newest), Some(other)) if newest.message.id == other.id => Some(newest.clone()),
        (_, other) => other.map(|m| message(conn, m)).transpose()?,
    };
    let unread_count =
        messages::unread_count(conn, conversation.id, conversation.agent_last_seen_at)?;
    Ok(ConversationDetails {
        contact,
        assignee,
        team,
        channel_type,
        contact_inbox,
        labels,
        last_message,
        last_non_activity_message,
        unread_count,
        conversation,
    })
}

pub fn conversations(
    conn: &Connection,
    list: Vec<Conversation>,
    viewer: Option<i64>,
) -> StoreResult<Vec<ConversationDetails>> {
    list.into_iter()
        .map(|c| conversation(conn, c, viewer))
        .collect()
}
