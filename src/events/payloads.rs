//! The payload of each event, built from the database inside the transaction that made the
//! change, so that it shows exactly the state that change commits. Each function gives the
//! object without `event` (and without `changed_attributes`); the caller merges those in.

use rusqlite::Connection;
use serde_json::Value;

use crate::store::event_data::{self, ConversationData};
use crate::store::{agents, contacts, details, inboxes, messages, StoreResult};
use crate::views::conversations::Links;
use crate::views::events as view;

/// Who is typing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypingUser {
    /// A user (agent or administrator), by user id.
    Agent(i64),
    /// A contact typing through the public API, by contact id.
    Contact(i64),
    /// An agent bot, by bot id.
    Bot(i64),
}

/// `conversation_created`, `conversation_updated`, `conversation_status_changed`: the
/// conversation with this row id (not its display id).
pub fn conversation(conn: &Connection, links: &Links, conversation_id: i64) -> StoreResult<Value> {
    let data = event_data::conversation(conn, conversation_id, None)?;
    Ok(view::conversation(&data, links))
}

/// `message_created`, `message_updated`: the message with this id, its conversation nested.
pub fn message(conn: &Connection, links: &Links, message_id: i64) -> StoreResult<Value> {
    let message = messages::get_by_id(conn, message_id)?;
    let details = details::message(conn, message)?;
    let conversation =
        event_data::conversation(conn, details.message.conversation_id, Some(&details))?;
    let inbox = if details.message.inbox_id == conversation.inbox.id {
        conversation.inbox.clone()
    } else {
        event_data::inbox_summary(conn, details.message.inbox_id)?
    };
    Ok(view::message(&details, &conversation, &inbox, links))
}

/// `contact_created`, `contact_updated`.
pub fn contact(conn: &Connection, contact_id: i64) -> StoreResult<Value> {
    let contact = contacts::get_by_id(conn, contact_id)?;
    let account = event_data::account(conn, contact.account_id)?;
    Ok(view::contact(&contact, &account))
}

/// `inbox_created`, `inbox_updated`. The channel in it carries no secret.
pub fn inbox(conn: &Connection, inbox_id: i64) -> StoreResult<Value> {
    let inbox = inboxes::get_by_id(conn, inbox_id)?;
    let account = event_data::account(conn, inbox.account_id)?;
    Ok(view::inbox(&inbox, &account))
}

/// `conversation_typing_on` / `_off` in the conversation with this row id.
pub fn typing(
    conn: &Connection,
    links: &Links,
    conversation_id: i64,
    user: TypingUser,
    is_private: bool,
) -> StoreResult<Value> {
    let data = event_data::conversation(conn, conversation_id, None)?;
    let user = typing_user(conn, &data, user)?;
    Ok(view::typing(
        user,
        view::conversation(&data, links),
        is_private,
    ))
}

/// The actor's `webhook_data`; null when the actor is gone, as Chatwoot's `try` gives.
fn typing_user(conn: &Connection, data: &ConversationData, user: TypingUser) -> StoreResult<Value> {
    let account_id = data.conversation.account_id;
    Ok(match user {
        TypingUser::Agent(id) => match &data.assignee {
            Some(assignee) if assignee.id == id => view::user(assignee),
            _ => agents::find(conn, account_id, id)?.map_or(Value::Null, |a| view::user(&a)),
        },
        TypingUser::Contact(id) if id == data.contact.id => {
            view::contact(&data.contact, &data.account)
        }
        TypingUser::Contact(id) => match contacts::get(conn, account_id, id) {
            Ok(contact) => view::contact(&contact, &data.account),
            Err(crate::store::StoreError::NotFound) => Value::Null,
            Err(other) => return Err(other),
        },
        TypingUser::Bot(id) => event_data::agent_bot(conn, id)
            .map(|bot| view::agent_bot(&bot))
            .unwrap_or(Value::Null),
    })
}
