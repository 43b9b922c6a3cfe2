//! The JSON `/cable` pushes (docs/actioncable.md §3.4): Chatwoot's push data, each with the
//! `account_id` clients filter on. Contacts get a narrower copy of a conversation than agents
//! (§5.11): what a chat page needs, and nothing about the team's side of it.

use serde_json::{json, Map, Value};

use super::conversations::{
    agent_bot_sender, contact_sender, message_push_data, user_sender, ConversationSummary, Links,
};
use crate::models::Agent;
use crate::store::contacts::Contact;
use crate::store::details::MessageDetails;
use crate::store::event_data::{AgentBot, ConversationData};

/// The keys of a conversation a contact's subscription receives.
const CONTACT_VISIBLE: [&str; 15] = [
    "id",
    "status",
    "can_reply",
    "channel",
    "inbox_id",
    "messages",
    "unread_count",
    "snoozed_until",
    "agent_last_seen_at",
    "contact_last_seen_at",
    "last_activity_at",
    "timestamp",
    "created_at",
    "updated_at",
    "account_id",
];

/// `Conversation#push_event_data`: the webhook object without `account`, with `account_id`.
pub fn conversation(data: &ConversationData, links: &Links) -> Value {
    let mut out = super::events::conversation(data, links);
    if let Value::Object(map) = &mut out {
        map.remove("account");
        map.insert("account_id".into(), json!(data.conversation.account_id));
    }
    out
}

/// What a contact is shown of a conversation push (agents' `conversation`).
pub fn conversation_for_contact(full: &Value) -> Value {
    let mut out = Map::new();
    for key in CONTACT_VISIBLE {
        if let Some(value) = full.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    Value::Object(out)
}

/// `Message#push_event_data`, with `account_id` and, on `message.created`, the client's `echo_id`.
pub fn message(
    details: &MessageDetails,
    conversation: &ConversationData,
    links: &Links,
    with_echo: bool,
) -> Value {
    let summary = ConversationSummary {
        assignee_id: conversation.conversation.assignee_id,
        unread_count: conversation.unread_count,
        last_activity_at: conversation.conversation.last_activity_at,
        source_id: conversation
            .contact_inbox
            .as_ref()
            .map(|ci| ci.source_id.as_str()),
    };
    let mut out = message_push_data(details, &summary, links);
    if let (true, Some(echo)) = (with_echo, &details.message.echo_id) {
        out["echo_id"] = json!(echo);
    }
    out
}

/// `message.updated`'s `previous_changes`: each changed column as `[before, after]`, from the
/// webhooks' `changed_attributes` list.
pub fn previous_changes(changed_attributes: &Value) -> Value {
    let mut out = Map::new();
    for change in changed_attributes.as_array().into_iter().flatten() {
        for (key, values) in change.as_object().into_iter().flatten() {
            let pair = json!([values["previous_value"], values["current_value"]]);
            out.insert(key.clone(), pair);
        }
    }
    Value::Object(out)
}

/// `Contact#push_event_data` with `account_id`.
pub fn contact(contact: &Contact) -> Value {
    let mut out = contact_sender(contact);
    out["account_id"] = json!(contact.account_id);
    out
}

/// Who acts or types, as pushes show them.
pub fn user(user: &Agent) -> Value {
    user_sender(user)
}

pub fn agent_bot(bot: &AgentBot) -> Value {
    agent_bot_sender(bot)
}

pub fn contact_actor(contact: &Contact) -> Value {
    contact_sender(contact)
}

/// `conversation.typing_on` / `_off`.
pub fn typing(conversation: Value, user: Value, is_private: bool, account_id: i64) -> Value {
    json!({
        "conversation": conversation,
        "user": user,
        "is_private": is_private,
        "account_id": account_id,
    })
}

/// `presence.update`: availability by user id, and for agents the contacts online.
pub fn presence(account_id: i64, users: &[(i64, &str)], contacts: Option<&[i64]>) -> Value {
    let users: Map<String, Value> = users
        .iter()
        .map(|(id, status)| (id.to_string(), json!(status)))
        .collect();
    let mut out = json!({ "account_id": account_id, "users": users });
    if let Some(contacts) = contacts {
        let online: Map<String, Value> = contacts
            .iter()
            .map(|id| (id.to_string(), json!("online")))
            .collect();
        out["contacts"] = Value::Object(online);
    }
    out
}

/// Adds the `performer` of a change an agent or bot made through the API.
pub fn with_performer(mut data: Value, performer: Option<&Value>) -> Value {
    if let (Value::Object(map), Some(who)) = (&mut data, performer) {
        map.insert("performer".into(), who.clone());
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_changes_pairs_each_column_before_and_after() {
        let changed = json!([
            {"status": {"previous_value": "sent", "current_value": "read"}},
            {"content": {"previous_value": "a", "current_value": "b"}}
        ]);
        assert_eq!(
            previous_changes(&changed),
            json!({"status": ["sent", "read"], "content": ["a", "b"]})
        );
    }

    #[test]
    fn a_contact_sees_a_conversation_without_the_teams_side_of_it() {
        let full = json!({"id": 7, "status": "open", "labels": ["vip"], "meta": {"assignee": {}},
                          "contact_inbox": {"source_id": "x"}, "custom_attributes": {"tier": 1},
                          "performer": {"id": 1}, "account_id": 1, "updated_at": 1.5});
        assert_eq!(
            conversation_for_contact(&full),
            json!({"id": 7, "status": "open", "account_id": 1, "updated_at": 1.5})
        );
    }
}
