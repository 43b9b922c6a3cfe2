//! The JSON of outgoing events (account webhooks, API inbox delivery, agent bots): each object's
//! Chatwoot `webhook_data`, field for field and in Chatwoot's key order, without the `event` and
//! `changed_attributes` keys that the caller merges in. Additive extensions are marked as such.

use serde_json::{json, Map, Value};

use super::conversations::{
    self, contact_sender, float_seconds, message_push_data, seconds_or_zero, user_sender,
    ConversationSummary, Links,
};
use super::{default_working_hours, iso_millis, sender_name_type, thumbnail, unix_seconds};
use crate::models::Agent;
use crate::store::contacts::Contact;
use crate::store::details::{MessageDetails, Sender};
use crate::store::event_data::{
    Account, AgentBot, ContactInboxRow, ConversationData, InboxSummary,
};
use crate::store::inboxes::Inbox;

/// `Account#webhook_data`.
pub fn account(account: &Account) -> Value {
    json!({ "id": account.id, "name": account.name })
}

/// `Contact#webhook_data`: the push object's fields plus `account` and `avatar`, and no `type`.
pub fn contact(contact: &Contact, account: &Account) -> Value {
    let avatar = thumbnail(contact.avatar_url.as_deref());
    json!({
        "account": self::account(account),
        "additional_attributes": contact.additional_attributes,
        "avatar": avatar,
        "custom_attributes": contact.custom_attributes,
        "email": contact.email,
        "id": contact.id,
        "identifier": contact.identifier,
        "name": contact.name,
        "phone_number": contact.phone_number,
        "thumbnail": avatar,
        "blocked": contact.blocked,
    })
}

/// `User#webhook_data`.
pub fn user(user: &Agent) -> Value {
    json!({ "id": user.id, "name": user.name, "email": user.email, "type": "user" })
}

/// `AgentBot#webhook_data`.
pub fn agent_bot(bot: &AgentBot) -> Value {
    json!({ "id": bot.id, "name": bot.name, "type": "agent_bot" })
}

/// A message sender or typing actor as events show it: each kind its own `webhook_data`, null
/// when there is none.
pub fn sender(sender: Option<&Sender>, account: &Account) -> Value {
    match sender {
        Some(Sender::Contact(c)) => contact(c, account),
        Some(Sender::User(u)) => user(u),
        Some(Sender::AgentBot(b)) => agent_bot(b),
        None => Value::Null,
    }
}

/// The contact inbox record as Chatwoot serialises it, less its `pubsub_token` (Chatwoot leaks
/// the contact's live-update credential there; nothing outside needs it).
fn contact_inbox(row: &ContactInboxRow) -> Value {
    json!({
        "id": row.id,
        "contact_id": row.contact_id,
        "inbox_id": row.inbox_id,
        "source_id": row.source_id,
        "created_at": iso_millis(row.created_at),
        "updated_at": iso_millis(row.updated_at),
        "hmac_verified": row.hmac_verified,
    })
}

/// `Conversations::EventDataPresenter#webhook_data`: the push data plus `account`. Times come in
/// Chatwoot's mix: epoch seconds, `updated_at` as a float, ISO strings for the two times that are
/// rendered as records (`snoozed_until`, `first_reply_created_at`).
pub fn conversation(data: &ConversationData, links: &Links) -> Value {
    let c = &data.conversation;
    let summary = ConversationSummary {
        assignee_id: c.assignee_id,
        unread_count: data.unread_count,
        last_activity_at: c.last_activity_at,
        source_id: data.contact_inbox.as_ref().map(|ci| ci.source_id.as_str()),
    };
    // `messages` holds the newest public chat message only: never a private note or an
    // activity message, so it may be older than the message an event is about.
    let messages: Vec<Value> = data
        .last_chat_message
        .iter()
        .map(|m| message_push_data(m, &summary, links))
        .collect();
    let meta = json!({
        "sender": contact_sender(&data.contact),
        "assignee": data.assignee.as_ref().map(user_sender),
        "assignee_type": data.assignee.as_ref().map(|_| "User"),
        "team": data.team.as_ref().map(|t| json!({ "id": t.id, "name": t.name })),
        "hmac_verified": data.contact_inbox.as_ref().map(|ci| ci.hmac_verified),
    });
    json!({
        "additional_attributes": c.additional_attributes,
        // API inboxes have no reply window unless one is configured, and none is.
        "can_reply": true,
        "channel": data.inbox.channel_type,
        "contact_inbox": data.contact_inbox.as_ref().map(contact_inbox),
        "id": c.display_id,
        "inbox_id": c.inbox_id,
        "messages": messages,
        "labels": data.labels,
        "meta": meta,
        "status": c.status.as_str(),
        "custom_attributes": c.custom_attributes,
        "snoozed_until": c.snoozed_until.map_or(Value::Null, iso_millis),
        "unread_count": data.unread_count,
        "first_reply_created_at": c.first_reply_created_at.map_or(Value::Null, iso_millis),
        "priority": c.priority.map(|p| p.as_str()),
        "waiting_since": seconds_or_zero(c.waiting_since),
        "agent_last_seen_at": seconds_or_zero(c.agent_last_seen_at),
        "contact_last_seen_at": seconds_or_zero(c.contact_last_seen_at),
        "last_activity_at": unix_seconds(c.last_activity_at),
        "timestamp": unix_seconds(c.last_activity_at),
        "created_at": unix_seconds(c.created_at),
        "updated_at": float_seconds(c.updated_at),
        "account": account(&data.account),
    })
}

/// `Message#webhook_data`: string enums and an ISO `created_at`, unlike the push data nested in
/// the conversation. Additive: `status` (Chatwoot's wire name) and, when the client sent one,
/// `echo_id`, so that a receiver can tell its own messages and their delivery state apart.
pub fn message(
    details: &MessageDetails,
    conversation: &ConversationData,
    inbox: &InboxSummary,
    links: &Links,
) -> Value {
    let m = &details.message;
    let mut out = Map::new();
    out.insert("account".into(), account(&conversation.account));
    out.insert(
        "additional_attributes".into(),
        m.additional_attributes.clone(),
    );
    out.insert("content_attributes".into(), m.content_attributes.clone());
    out.insert("content_type".into(), json!(m.content_type));
    out.insert("content".into(), json!(m.content));
    out.insert(
        "conversation".into(),
        self::conversation(conversation, links),
    );
    out.insert("created_at".into(), iso_millis(m.created_at));
    out.insert("id".into(), json!(m.id));
    out.insert(
        "inbox".into(),
        json!({ "id": inbox.id, "name": inbox.name }),
    );
    out.insert("message_type".into(), json!(m.message_type.as_str()));
    out.insert("private".into(), json!(m.private));
    out.insert(
        "sender".into(),
        sender(details.sender.as_ref(), &conversation.account),
    );
    out.insert("source_id".into(), json!(m.source_id));
    if !details.attachments.is_empty() {
        let list = details
            .attachments
            .iter()
            .map(|a| conversations::attachment(a, links))
            .collect();
        out.insert("attachments".into(), Value::Array(list));
    }
    out.insert("status".into(), json!(m.status.as_str()));
    if let Some(echo) = &m.echo_id {
        out.insert("echo_id".into(), json!(echo));
    }
    Value::Object(out)
}

/// The API channel record. Chatwoot serialises the whole record, secrets included; here the
/// HMAC token (the key for contact identity) and the webhook signing secret are left out, so an
/// event never carries a credential to whoever receives it.
fn channel(inbox: &Inbox) -> Value {
    json!({
        "id": inbox.id,
        "webhook_url": inbox.webhook_url,
        "created_at": iso_millis(inbox.created_at),
        "updated_at": iso_millis(inbox.updated_at),
        "account_id": inbox.account_id,
        "hmac_mandatory": inbox.hmac_mandatory,
        "identifier": inbox.identifier,
        "additional_attributes": inbox.additional_attributes,
    })
}

/// `Inbox::EventDataPresenter#webhook_data`. Chatwoot's object does not say which inbox it is
/// (only its channel's id); `id` and `name` are additive so that a receiver need not guess.
pub fn inbox(inbox: &Inbox, account: &Account) -> Value {
    json!({
        "id": inbox.id,
        "name": inbox.name,
        "allow_messages_after_resolved": inbox.allow_messages_after_resolved,
        "lock_to_single_conversation": inbox.lock_to_single_conversation,
        "auto_assignment_config": inbox.auto_assignment_config,
        "enable_auto_assignment": inbox.enable_auto_assignment,
        "enable_email_collect": inbox.enable_email_collect,
        "greeting_enabled": inbox.greeting_enabled,
        "greeting_message": inbox.greeting_message,
        "csat_survey_enabled": inbox.csat_survey_enabled,
        "business_name": inbox.business_name,
        "sender_name_type": sender_name_type(inbox.sender_name_type),
        "timezone": inbox.timezone,
        "out_of_office_message": inbox.out_of_office_message,
        "working_hours_enabled": inbox.working_hours_enabled,
        "working_hours": default_working_hours(),
        "created_at": iso_millis(inbox.created_at),
        "updated_at": iso_millis(inbox.updated_at),
        "channel": channel(inbox),
        "account": self::account(account),
    })
}

/// A typing event: the actor's `webhook_data`, the conversation object and whether the agent is
/// typing a private note. Chatwoot puts no `account` at the top level here.
pub fn typing(user: Value, conversation: Value, is_private: bool) -> Value {
    json!({ "user": user, "conversation": conversation, "is_private": is_private })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_bot_sender_is_typed_agent_bot_in_both_shapes() {
        let bot = AgentBot {
            id: 4,
            name: "Helper".into(),
        };
        let account = Account {
            id: 1,
            name: "Acme".into(),
        };
        assert_eq!(
            sender(Some(&Sender::AgentBot(bot.clone())), &account),
            json!({ "id": 4, "name": "Helper", "type": "agent_bot" })
        );
        assert_eq!(
            conversations::sender(&Sender::AgentBot(bot)),
            json!({ "id": 4, "name": "Helper", "avatar_url": "", "type": "agent_bot" })
        );
        assert_eq!(sender(None, &account), Value::Null);
    }
}
