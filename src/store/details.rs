//! Everything the conversation and message JSON shows beyond the row itself: the contact, the
//! assignee, the team, the channel, the latest messages with their senders and attachments.

use crate::db::{Conn, OptionalExtension};

use super::catalog::CatalogView;
use super::contacts::{self, Contact};
use super::conversations::Conversation;
use super::event_data::{self, AgentBot};
use super::messages::{self, Attachment, Message};
use super::teams::Team;
use super::{agents, StoreResult};
use crate::models::Agent;

#[derive(Clone, Debug)]
pub enum Sender {
    Contact(Contact),
    User(Agent),
    AgentBot(AgentBot),
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

pub fn message(conn: &Conn, message: Message) -> StoreResult<MessageDetails> {
    message_with(conn, message, None, None)
}

/// `message`, taking the sender from `contact` or `user` when it is one of them, so that a
/// caller that has them loaded already does not read them again.
pub fn message_with(
    conn: &Conn,
    message: Message,
    contact: Option<&Contact>,
    user: Option<&Agent>,
) -> StoreResult<MessageDetails> {
    let account_id = message.account_id;
    let sender = match (message.sender_type.as_deref(), message.sender_id) {
        (Some("Contact"), Some(id)) => match contact {
            Some(known) if known.id == id && known.account_id == account_id => {
                Some(Sender::Contact(known.clone()))
            }
            _ => contacts::get(conn, account_id, id)
                .ok()
                .map(Sender::Contact),
        },
        (Some("User"), Some(id)) => match user {
            Some(known) if known.id == id && known.account_id == account_id => {
                Some(Sender::User(known.clone()))
            }
            _ => agents::user(conn, id, Some(account_id))
                .ok()
                .map(Sender::User),
        },
        (Some("AgentBot"), Some(id)) => event_data::agent_bot(conn, id).map(Sender::AgentBot),
        _ => None,
    };
    let attachments = messages::attachments_of(conn, message.id)?;
    Ok(MessageDetails {
        message,
        sender,
        attachments,
    })
}

/// `message` for each, reading their senders and attachments once per kind.
pub fn messages(conn: &Conn, list: Vec<Message>) -> StoreResult<Vec<MessageDetails>> {
    super::page_details::messages(conn, list)
}

/// The details of one conversation, as seen by `viewer` (the team's `is_member`; None for a bot).
pub fn conversation(
    conn: &Conn,
    catalog: &CatalogView,
    conversation: Conversation,
    viewer: Option<i64>,
) -> StoreResult<ConversationDetails> {
    let account_id = conversation.account_id;
    let contact = contacts::get(conn, account_id, conversation.contact_id)?;
    let assignee = match conversation.assignee_id {
        Some(id) => catalog.agent(conn, account_id, id)?,
        None => None,
    };
    let team = match conversation.team_id {
        Some(id) => Some(catalog.team(conn, account_id, id, viewer)?),
        None => None,
    };
    let channel_type = catalog.channel_type(conn, conversation.inbox_id)?;
    let contact_inbox = match conversation.contact_inbox_id {
        Some(id) => conn
            .prepare_cached("SELECT source_id, hmac_verified FROM contact_inboxes WHERE id = ?1")?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?,
        None => None,
    };
    let labels = super::conversations::labels(conn, conversation.id)?;
    let (last, last_non_activity) = messages::latest(conn, conversation.id)?;
    // The sender is often the conversation's contact or assignee, already loaded.
    let with_sender = |m| message_with(conn, m, Some(&contact), assignee.as_ref());
    let last_message = last.map(with_sender).transpose()?;
    // Usually one message is both; its sender and attachments are loaded once.
    let last_non_activity_message = match (&last_message, last_non_activity) {
        (Some(newest), Some(other)) if newest.message.id == other.id => Some(newest.clone()),
        (_, other) => other.map(with_sender).transpose()?,
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

/// Makes `message_id` (a search's match) the message the conversation shows; one deleted since
/// the index saw it leaves the newest.
pub fn show_message(
    conn: &Conn,
    details: &mut ConversationDetails,
    message_id: i64,
) -> StoreResult<()> {
    match messages::get(conn, details.conversation.id, message_id) {
        Ok(found) => details.last_message = Some(message(conn, found)?),
        Err(super::StoreError::NotFound) => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// `conversation` for each, reading the page's related rows once per kind (see `page_details`).
pub fn conversations(
    conn: &Conn,
    catalog: &CatalogView,
    list: Vec<Conversation>,
    viewer: Option<i64>,
) -> StoreResult<Vec<ConversationDetails>> {
    super::page_details::load(conn, catalog, list, viewer)
}

/// `conversations`, each in `showing` (conversation id to message id) showing that message.
pub fn conversations_showing(
    conn: &Conn,
    catalog: &CatalogView,
    list: Vec<Conversation>,
    viewer: Option<i64>,
    showing: &std::collections::HashMap<i64, i64>,
) -> StoreResult<Vec<ConversationDetails>> {
    super::page_details::load_showing(conn, catalog, list, viewer, showing)
}
