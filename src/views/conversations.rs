//! The wire JSON of conversations, messages and attachments (reference §3 and §4).

use serde_json::{json, Map, Value};

use super::{iso_millis, thumbnail, unix_seconds};
use crate::models::Agent;
use crate::store::contacts::Contact;
use crate::store::details::{ConversationDetails, MessageDetails, Sender};
use crate::store::event_data::AgentBot;
use crate::store::messages::{Attachment, Message};

/// Where attachment files are served from (scheme, host and port the client used).
#[derive(Clone, Debug)]
pub struct Links {
    pub base_url: String,
}

impl Links {
    pub fn file_url(&self, storage_key: &str) -> String {
        format!(
            "{}/files/{}",
            self.base_url.trim_end_matches('/'),
            storage_key
        )
    }
}

pub(super) fn seconds_or_zero(micros: Option<i64>) -> i64 {
    micros.map_or(0, unix_seconds)
}

/// `updated_at` is Chatwoot's `to_f`: seconds with a fraction.
pub(super) fn float_seconds(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// A contact as a message sender (`Contact#push_event_data`).
pub(super) fn contact_sender(contact: &Contact) -> Value {
    json!({
        "additional_attributes": contact.additional_attributes,
        "custom_attributes": contact.custom_attributes,
        "email": contact.email,
        "id": contact.id,
        "identifier": contact.identifier,
        "name": contact.name,
        "phone_number": contact.phone_number,
        "thumbnail": thumbnail(contact.avatar_url.as_deref()),
        "blocked": contact.blocked,
        "type": "contact",
    })
}

/// A user as a message sender (`User#push_event_data`).
pub(super) fn user_sender(user: &Agent) -> Value {
    json!({
        "id": user.id,
        "name": user.name,
        "available_name": user.available_name(),
        "avatar_url": thumbnail(user.avatar_url.as_deref()),
        "type": "user",
        "availability_status": user.availability.as_str(),
        "thumbnail": thumbnail(user.avatar_url.as_deref()),
    })
}

pub(super) fn sender(sender: &Sender) -> Value {
    match sender {
        Sender::Contact(contact) => contact_sender(contact),
        Sender::User(user) => user_sender(user),
        Sender::AgentBot(bot) => agent_bot_sender(bot),
    }
}

/// An agent bot as a message sender (`AgentBot#push_event_data`). Chatwoot falls back to the
/// inbox's avatar only when the bot's is nil, and an unset avatar reads as "", so it is "".
pub(super) fn agent_bot_sender(bot: &AgentBot) -> Value {
    json!({
        "id": bot.id,
        "name": bot.name,
        "avatar_url": "",
        "type": "agent_bot",
    })
}

/// `Attachment#push_event_data` for a stored file.
pub fn attachment(attachment: &Attachment, links: &Links) -> Value {
    let url = attachment
        .storage_key
        .as_deref()
        .map(|key| links.file_url(key))
        .or_else(|| attachment.external_url.clone())
        .unwrap_or_default();
    let thumb = if attachment.file_type == crate::models::FileType::Image {
        url.clone()
    } else {
        String::new()
    };
    json!({
        "id": attachment.id,
        "message_id": attachment.message_id,
        "file_type": attachment.file_type.as_str(),
        "account_id": attachment.account_id,
        "extension": attachment.extension,
        "data_url": url,
        "thumb_url": thumb,
        "file_size": attachment.file_size,
        "width": attachment.width,
        "height": attachment.height,
    })
}

/// An item of `GET /conversations/{id}/attachments`: the file flattened with its message's time
/// and sender.
pub fn attachment_item(item: &Attachment, message: &MessageDetails, links: &Links) -> Value {
    let mut out = attachment(item, links);
    out["created_at"] = json!(unix_seconds(message.message.created_at));
    if let Some(from) = &message.sender {
        out["sender"] = sender(from);
    }
    out
}

/// The conversation summary a message's push data carries.
pub struct ConversationSummary<'a> {
    pub assignee_id: Option<i64>,
    pub unread_count: i64,
    pub last_activity_at: i64,
    pub source_id: Option<&'a str>,
}

impl<'a> ConversationSummary<'a> {
    pub fn of(details: &'a ConversationDetails) -> Self {
        Self {
            assignee_id: details.conversation.assignee_id,
            unread_count: details.unread_count,
            last_activity_at: details.conversation.last_activity_at,
            source_id: details
                .contact_inbox
                .as_ref()
                .map(|(source, _)| source.as_str()),
        }
    }
}

/// `Message#push_event_data`: the message inside a conversation's `messages` and
/// `last_non_activity_message`.
pub fn message_push_data(
    details: &MessageDetails,
    summary: &ConversationSummary,
    links: &Links,
) -> Value {
    let m = &details.message;
    let mut out = json!({
        "id": m.id,
        "content": m.content,
        "account_id": m.account_id,
        "inbox_id": m.inbox_id,
        "conversation_id": m.conversation_display_id,
        "message_type": m.message_type.code(),
        "created_at": unix_seconds(m.created_at),
        "updated_at": iso_millis(m.updated_at),
        "private": m.private,
        "status": m.status.as_str(),
        "source_id": m.source_id,
        "content_type": m.content_type,
        "content_attributes": m.content_attributes,
        "sender_type": m.sender_type,
        "sender_id": m.sender_id,
        "external_source_ids": m.external_source_ids,
        "additional_attributes": m.additional_attributes,
        "processed_message_content": m.content,
        "sentiment": {},
        "conversation": {
            "assignee_id": summary.assignee_id,
            "unread_count": summary.unread_count,
            "last_activity_at": unix_seconds(summary.last_activity_at),
            "contact_inbox": { "source_id": summary.source_id },
        },
    });
    if !details.attachments.is_empty() {
        out["attachments"] = Value::Array(
            details
                .attachments
                .iter()
                .map(|a| attachment(a, links))
                .collect(),
        );
    }
    if let Some(from) = &details.sender {
        out["sender"] = sender(from);
    }
    out
}

/// `_message.json.jbuilder`: messages index, update and destroy responses.
pub fn message(details: &MessageDetails, links: &Links) -> Value {
    message_echoing(details, links, None)
}

/// The create response, which alone hands back the `echo_id` the client sent (Chatwoot keeps it
/// on the message object of that request only; the events of the message carry it too).
pub fn created_message(details: &MessageDetails, links: &Links) -> Value {
    message_echoing(details, links, details.message.echo_id.as_deref())
}

fn message_echoing(details: &MessageDetails, links: &Links, echo_id: Option<&str>) -> Value {
    let m: &Message = &details.message;
    let mut out = Map::new();
    out.insert("id".into(), json!(m.id));
    out.insert("content".into(), json!(m.content));
    out.insert("inbox_id".into(), json!(m.inbox_id));
    if let Some(echo) = echo_id {
        out.insert("echo_id".into(), json!(echo));
    }
    out.insert("conversation_id".into(), json!(m.conversation_display_id));
    out.insert("message_type".into(), json!(m.message_type.code()));
    out.insert("content_type".into(), json!(m.content_type));
    out.insert("status".into(), json!(m.status.as_str()));
    out.insert("content_attributes".into(), m.content_attributes.clone());
    out.insert("created_at".into(), json!(unix_seconds(m.created_at)));
    out.insert("private".into(), json!(m.private));
    out.insert("source_id".into(), json!(m.source_id));
    if let Some(from) = &details.sender {
        out.insert("sender".into(), sender(from));
    }
    if !details.attachments.is_empty() {
        let list = details
            .attachments
            .iter()
            .map(|a| attachment(a, links))
            .collect();
        out.insert("attachments".into(), Value::Array(list));
    }
    Value::Object(out)
}

/// `_conversation.json.jbuilder`, plus the short public doc's additive keys (`display_id`,
/// `contact`, `assignee`).
pub fn conversation(details: &ConversationDetails, links: &Links) -> Value {
    let c = &details.conversation;
    let summary = ConversationSummary::of(details);
    let mut meta = Map::new();
    meta.insert("sender".into(), super::contact(&details.contact, None));
    meta.insert("channel".into(), json!(details.channel_type));
    // Chatwoot leaves the key out when there is no assignee or team.
    if let Some(assignee) = &details.assignee {
        meta.insert("assignee".into(), super::agent(assignee));
    }
    if let Some(team) = &details.team {
        meta.insert("team".into(), super::team(team));
    }
    meta.insert(
        "hmac_verified".into(),
        json!(details
            .contact_inbox
            .as_ref()
            .map(|(_, verified)| *verified)),
    );
    let last = details
        .last_message
        .as_ref()
        .map(|m| message_push_data(m, &summary, links));
    json!({
        "meta": meta,
        "id": c.display_id,
        "messages": last.map_or_else(Vec::new, |m| vec![m]),
        "account_id": c.account_id,
        "uuid": c.uuid,
        "additional_attributes": c.additional_attributes,
        "agent_last_seen_at": seconds_or_zero(c.agent_last_seen_at),
        "assignee_last_seen_at": seconds_or_zero(c.assignee_last_seen_at),
        "can_reply": true,
        "contact_last_seen_at": seconds_or_zero(c.contact_last_seen_at),
        "custom_attributes": c.custom_attributes,
        "inbox_id": c.inbox_id,
        "labels": details.labels,
        "muted": details.contact.blocked,
        "snoozed_until": c.snoozed_until.map_or(Value::Null, iso_millis),
        "status": c.status.as_str(),
        "created_at": unix_seconds(c.created_at),
        "updated_at": float_seconds(c.updated_at),
        "timestamp": unix_seconds(c.last_activity_at),
        "first_reply_created_at": seconds_or_zero(c.first_reply_created_at),
        "unread_count": details.unread_count,
        "last_non_activity_message": details
            .last_non_activity_message
            .as_ref()
            .map(|m| message_push_data(m, &summary, links)),
        "last_activity_at": unix_seconds(c.last_activity_at),
        "priority": c.priority.map(|p| p.as_str()),
        "waiting_since": seconds_or_zero(c.waiting_since),
        "sla_policy_id": c.sla_policy_id,
        "display_id": c.display_id,
        "contact": {
            "id": details.contact.id,
            "name": details.contact.name,
            "email": details.contact.email,
            "phone_number": details.contact.phone_number,
            "thumbnail": thumbnail(details.contact.avatar_url.as_deref()),
        },
        "assignee": details.assignee.as_ref().map(|a| json!({
            "id": a.id,
            "name": a.name,
            "available_name": a.available_name(),
            "email": a.email,
            "role": a.role.as_str(),
            "thumbnail": thumbnail(a.avatar_url.as_deref()),
        })),
    })
}

/// The `meta` of `GET /messages`: the conversation's labels and attributes, the contact, the
/// assignee (absent when none) and the last-seen times as ISO strings.
pub fn messages_meta(details: &ConversationDetails) -> Value {
    let c = &details.conversation;
    let mut meta = Map::new();
    meta.insert("labels".into(), json!(details.labels));
    meta.insert(
        "additional_attributes".into(),
        c.additional_attributes.clone(),
    );
    meta.insert("contact".into(), contact_sender(&details.contact));
    if let Some(assignee) = &details.assignee {
        meta.insert("assignee".into(), user_sender(assignee));
    }
    meta.insert(
        "agent_last_seen_at".into(),
        c.agent_last_seen_at.map_or(Value::Null, iso_millis),
    );
    meta.insert(
        "assignee_last_seen_at".into(),
        c.assignee_last_seen_at.map_or(Value::Null, iso_millis),
    );
    Value::Object(meta)
}
