//! The wire JSON of the public Client API: deliberately small shapes that show a contact only
//! what is theirs (no account ids, no internal notes, no agent-only fields).

use serde_json::{json, Value};

use super::conversations::{attachment, seconds_or_zero, sender, Links};
use super::{default_working_hours, iso_millis, unix_seconds};
use crate::store::contacts::Contact;
use crate::store::conversations::Conversation;
use crate::store::details::MessageDetails;
use crate::store::inboxes::Inbox;
use crate::store::public::ContactInbox;

/// What anyone holding the inbox identifier may know about the inbox.
pub fn inbox(inbox: &Inbox) -> Value {
    json!({
        "identifier": inbox.identifier,
        "identity_validation_enabled": inbox.hmac_mandatory,
        "name": inbox.name,
        "timezone": inbox.timezone,
        "working_hours": default_working_hours(),
        "working_hours_enabled": inbox.working_hours_enabled,
        "csat_survey_enabled": inbox.csat_survey_enabled,
        "greeting_enabled": inbox.greeting_enabled,
    })
}

/// The contact as its own client sees it, with the source id that names it in later calls.
pub fn contact(contact: &Contact, entry: &ContactInbox) -> Value {
    json!({
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone_number": contact.phone_number,
        "source_id": entry.source_id,
        "pubsub_token": entry.pubsub_token,
    })
}

/// A message: the type as its stored integer, times as unix seconds, the conversation by display id.
pub fn message(details: &MessageDetails, links: &Links) -> Value {
    let m = &details.message;
    let mut out = json!({
        "id": m.id,
        "content": m.content,
        "message_type": m.message_type.code(),
        "content_type": m.content_type,
        "content_attributes": m.content_attributes,
        "created_at": unix_seconds(m.created_at),
        "conversation_id": m.conversation_display_id,
    });
    if !details.attachments.is_empty() {
        out["attachments"] = details
            .attachments
            .iter()
            .map(|a| attachment(a, links))
            .collect();
    }
    if let Some(from) = &details.sender {
        out["sender"] = sender(from);
    }
    out
}

/// The contact record inside a conversation.
fn conversation_contact(contact: &Contact) -> Value {
    json!({
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone_number": contact.phone_number,
        "identifier": contact.identifier,
        "avatar_url": contact.avatar_url,
        "custom_attributes": contact.custom_attributes,
        "last_activity_at": contact.last_activity_at.map(iso_millis),
        "created_at": iso_millis(contact.created_at),
    })
}

/// A conversation with its public messages (no activity, no private notes), oldest first.
pub fn conversation(
    conversation: &Conversation,
    messages: &[MessageDetails],
    contact: &Contact,
    links: &Links,
) -> Value {
    json!({
        "id": conversation.display_id,
        "uuid": conversation.uuid,
        "inbox_id": conversation.inbox_id,
        "contact_last_seen_at": seconds_or_zero(conversation.contact_last_seen_at),
        "status": conversation.status.as_str(),
        "agent_last_seen_at": seconds_or_zero(conversation.agent_last_seen_at),
        "messages": messages.iter().map(|m| message(m, links)).collect::<Vec<_>>(),
        "contact": conversation_contact(contact),
    })
}
