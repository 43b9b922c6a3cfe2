//! What events show, read from the database inside the transaction that made the change, so that
//! it shows exactly the state that change commits. A subject is read once per transaction
//! (`Loads`) and rendered as each audience needs it: webhooks here, `/cable` in `broadcasts`.
//! Webhook payloads come without `event` (and without `changed_attributes`); the caller merges
//! those in.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::db::Conn;
use serde_json::Value;

use crate::store::contacts::{self, Contact};
use crate::store::details::MessageDetails;
use crate::store::event_data::{self, Account, ConversationData, InboxSummary};
use crate::store::inboxes::{self, Inbox};
use crate::store::{agents, details, messages, StoreResult};
use crate::views::conversations::Links;
use crate::views::events as view;

/// What an event is about, by row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Conversation(i64),
    Message(i64),
    Contact(i64),
    Inbox(i64),
}

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

/// A message with its conversation and inbox, as its events show them.
#[derive(Clone, Debug)]
pub struct LoadedMessage {
    pub details: MessageDetails,
    pub conversation: ConversationData,
    pub inbox: InboxSummary,
}

/// A subject read for its events.
#[derive(Clone, Debug)]
pub enum Loaded {
    Conversation(Box<ConversationData>),
    Message(Box<LoadedMessage>),
    Contact(Box<(Contact, Account)>),
    Inbox(Box<(Inbox, Account)>),
}

/// The subjects read so far in one transaction's recording.
#[derive(Default)]
pub struct Loads {
    known: HashMap<Subject, Loaded>,
}

impl Loads {
    pub fn get(&mut self, conn: &Conn, subject: Subject) -> StoreResult<&Loaded> {
        Ok(match self.known.entry(subject) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(unknown) => unknown.insert(load(conn, subject)?),
        })
    }

    /// The conversation with this row id.
    pub fn conversation(
        &mut self,
        conn: &Conn,
        conversation_id: i64,
    ) -> StoreResult<&ConversationData> {
        match self.get(conn, Subject::Conversation(conversation_id))? {
            Loaded::Conversation(data) => Ok(data),
            _ => unreachable!("a conversation subject loads a conversation"),
        }
    }
}

fn load(conn: &Conn, subject: Subject) -> StoreResult<Loaded> {
    Ok(match subject {
        Subject::Conversation(id) => {
            Loaded::Conversation(Box::new(event_data::conversation(conn, id, None)?))
        }
        Subject::Message(id) => {
            let message = messages::get_by_id(conn, id)?;
            let details = details::message(conn, message)?;
            let conversation =
                event_data::conversation(conn, details.message.conversation_id, Some(&details))?;
            let inbox = if details.message.inbox_id == conversation.inbox.id {
                conversation.inbox.clone()
            } else {
                event_data::inbox_summary(conn, details.message.inbox_id)?
            };
            Loaded::Message(Box::new(LoadedMessage {
                details,
                conversation,
                inbox,
            }))
        }
        Subject::Contact(id) => {
            let contact = contacts::get_by_id(conn, id)?;
            let account = event_data::account(conn, contact.account_id)?;
            Loaded::Contact(Box::new((contact, account)))
        }
        Subject::Inbox(id) => {
            let inbox = inboxes::get_by_id(conn, id)?;
            let account = event_data::account(conn, inbox.account_id)?;
            Loaded::Inbox(Box::new((inbox, account)))
        }
    })
}

/// The webhook payload of a subject: the conversation (`conversation_*`), the message with its
/// conversation nested (`message_*`), the contact, or the inbox (whose channel carries no
/// secret).
pub fn webhook(loaded: &Loaded, links: &Links) -> Value {
    match loaded {
        Loaded::Conversation(data) => view::conversation(data, links),
        Loaded::Message(m) => view::message(&m.details, &m.conversation, &m.inbox, links),
        Loaded::Contact(found) => view::contact(&found.0, &found.1),
        Loaded::Inbox(found) => view::inbox(&found.0, &found.1),
    }
}

/// The webhook payload of a subject, read on its own.
pub fn webhook_of(conn: &Conn, links: &Links, subject: Subject) -> StoreResult<Value> {
    Ok(webhook(&load(conn, subject)?, links))
}

/// `conversation_typing_on` / `_off` for webhooks.
pub fn typing(
    conn: &Conn,
    links: &Links,
    data: &ConversationData,
    user: TypingUser,
    is_private: bool,
) -> StoreResult<Value> {
    let user = typing_user(conn, data, user)?;
    Ok(view::typing(
        user,
        view::conversation(data, links),
        is_private,
    ))
}

/// The actor's `webhook_data`; null when the actor is gone, as Chatwoot's `try` gives.
fn typing_user(conn: &Conn, data: &ConversationData, user: TypingUser) -> StoreResult<Value> {
    let account_id = data.conversation.account_id;
    Ok(match user {
        TypingUser::Agent(id) => match &data.assignee {
            Some(assignee) if assignee.id == id => view::user(assignee),
            _ => agents::find(conn, account_id, id)?.map_or(Value::Null, |a| view::user(&a)),
        },
        TypingUser::Contact(id) => typing_contact(conn, data, id)?
            .map_or(Value::Null, |c| view::contact(&c, &data.account)),
        TypingUser::Bot(id) => event_data::agent_bot(conn, id)
            .map(|bot| view::agent_bot(&bot))
            .unwrap_or(Value::Null),
    })
}

/// The contact typing in this conversation: usually its own contact, already loaded.
pub fn typing_contact(
    conn: &Conn,
    data: &ConversationData,
    contact_id: i64,
) -> StoreResult<Option<Contact>> {
    if contact_id == data.contact.id {
        return Ok(Some(data.contact.clone()));
    }
    match contacts::get(conn, data.conversation.account_id, contact_id) {
        Ok(contact) => Ok(Some(contact)),
        Err(crate::store::StoreError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}
