//! The wire JSON of conversations, messages and attachments (reference §3 and §4).

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::{
    iso_millis, iso_string, thumbnail, unix_seconds, value_of, AgentJson, ContactJson, TeamJson,
};
use crate::models::Agent;
use crate::store::contacts::Contact;
use crate::store::details::{ConversationDetails, MessageDetails, Sender};
use crate::store::event_data::AgentBot;
use crate::store::messages::{Attachment, Message};

/// `{ "payload": … }`.
#[derive(Serialize)]
pub struct Payload<T> {
    pub payload: T,
}

/// `{ "meta": …, "payload": […] }` around conversations already rendered.
#[derive(Serialize)]
pub struct MetaAndPayload<'a, M> {
    pub meta: M,
    pub payload: &'a [Box<RawValue>],
}

/// The list's `{ "data": { "meta": …, "payload": […] } }`.
#[derive(Serialize)]
pub struct ListEnvelope<'a, M> {
    pub data: MetaAndPayload<'a, M>,
}

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

/// `{}`.
struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }
}

/// A contact as a message sender (`Contact#push_event_data`).
#[derive(Serialize)]
pub struct ContactSender<'a> {
    additional_attributes: &'a Value,
    custom_attributes: &'a Value,
    email: Option<&'a str>,
    id: i64,
    identifier: Option<&'a str>,
    name: &'a str,
    phone_number: Option<&'a str>,
    thumbnail: &'a str,
    blocked: bool,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> ContactSender<'a> {
    fn of(contact: &'a Contact) -> Self {
        Self {
            additional_attributes: &contact.additional_attributes,
            custom_attributes: &contact.custom_attributes,
            email: contact.email.as_deref(),
            id: contact.id,
            identifier: contact.identifier.as_deref(),
            name: &contact.name,
            phone_number: contact.phone_number.as_deref(),
            thumbnail: thumbnail(contact.avatar_url.as_deref()),
            blocked: contact.blocked,
            kind: "contact",
        }
    }
}

pub(super) fn contact_sender(contact: &Contact) -> Value {
    value_of(ContactSender::of(contact))
}

/// A user as a message sender (`User#push_event_data`).
#[derive(Serialize)]
pub struct UserSender<'a> {
    id: i64,
    name: &'a str,
    available_name: &'a str,
    avatar_url: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    availability_status: &'static str,
    thumbnail: &'a str,
}

impl<'a> UserSender<'a> {
    fn of(user: &'a Agent) -> Self {
        Self {
            id: user.id,
            name: &user.name,
            available_name: user.available_name(),
            avatar_url: thumbnail(user.avatar_url.as_deref()),
            kind: "user",
            availability_status: user.availability.as_str(),
            thumbnail: thumbnail(user.avatar_url.as_deref()),
        }
    }
}

pub(super) fn user_sender(user: &Agent) -> Value {
    value_of(UserSender::of(user))
}

/// An agent bot as a message sender (`AgentBot#push_event_data`). Chatwoot falls back to the
/// inbox's avatar only when the bot's is nil, and an unset avatar reads as "", so it is "".
#[derive(Serialize)]
pub struct BotSender<'a> {
    id: i64,
    name: &'a str,
    avatar_url: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> BotSender<'a> {
    fn of(bot: &'a AgentBot) -> Self {
        Self {
            id: bot.id,
            name: &bot.name,
            avatar_url: "",
            kind: "agent_bot",
        }
    }
}

pub(super) fn agent_bot_sender(bot: &AgentBot) -> Value {
    value_of(BotSender::of(bot))
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum SenderJson<'a> {
    Contact(ContactSender<'a>),
    User(UserSender<'a>),
    AgentBot(BotSender<'a>),
}

impl<'a> SenderJson<'a> {
    fn of(sender: &'a Sender) -> Self {
        match sender {
            Sender::Contact(contact) => Self::Contact(ContactSender::of(contact)),
            Sender::User(user) => Self::User(UserSender::of(user)),
            Sender::AgentBot(bot) => Self::AgentBot(BotSender::of(bot)),
        }
    }
}

pub(super) fn sender(sender: &Sender) -> Value {
    value_of(SenderJson::of(sender))
}

/// `Attachment#push_event_data` for a stored file.
#[derive(Serialize)]
pub struct AttachmentJson<'a> {
    id: i64,
    message_id: i64,
    file_type: &'static str,
    account_id: i64,
    extension: Option<&'a str>,
    data_url: String,
    thumb_url: String,
    file_size: Option<i64>,
    width: Option<i64>,
    height: Option<i64>,
}

impl<'a> AttachmentJson<'a> {
    fn of(attachment: &'a Attachment, links: &Links) -> Self {
        let url = attachment
            .storage_key
            .as_deref()
            .map(|key| links.file_url(key))
            .or_else(|| attachment.external_url.clone())
            .unwrap_or_default();
        let thumb_url = if attachment.file_type == crate::models::FileType::Image {
            url.clone()
        } else {
            String::new()
        };
        Self {
            id: attachment.id,
            message_id: attachment.message_id,
            file_type: attachment.file_type.as_str(),
            account_id: attachment.account_id,
            extension: attachment.extension.as_deref(),
            data_url: url,
            thumb_url,
            file_size: attachment.file_size,
            width: attachment.width,
            height: attachment.height,
        }
    }

    fn all(list: &'a [Attachment], links: &Links) -> Vec<Self> {
        list.iter().map(|a| Self::of(a, links)).collect()
    }
}

pub fn attachment(attachment: &Attachment, links: &Links) -> Value {
    value_of(AttachmentJson::of(attachment, links))
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
#[derive(Serialize)]
pub struct PushMessage<'a> {
    id: i64,
    content: Option<&'a str>,
    account_id: i64,
    inbox_id: i64,
    conversation_id: i64,
    message_type: i64,
    created_at: i64,
    updated_at: Option<String>,
    private: bool,
    status: &'static str,
    source_id: Option<&'a str>,
    content_type: &'a str,
    content_attributes: &'a Value,
    sender_type: Option<&'a str>,
    sender_id: Option<i64>,
    external_source_ids: &'a Value,
    additional_attributes: &'a Value,
    processed_message_content: Option<&'a str>,
    sentiment: EmptyObject,
    conversation: PushConversation<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<AttachmentJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<SenderJson<'a>>,
}

#[derive(Serialize)]
struct PushConversation<'a> {
    assignee_id: Option<i64>,
    unread_count: i64,
    last_activity_at: i64,
    contact_inbox: SourceId<'a>,
}

#[derive(Serialize)]
struct SourceId<'a> {
    source_id: Option<&'a str>,
}

impl<'a> PushMessage<'a> {
    pub fn of(
        details: &'a MessageDetails,
        summary: &ConversationSummary<'a>,
        links: &Links,
    ) -> Self {
        let m = &details.message;
        Self {
            id: m.id,
            content: m.content.as_deref(),
            account_id: m.account_id,
            inbox_id: m.inbox_id,
            conversation_id: m.conversation_display_id,
            message_type: m.message_type.code(),
            created_at: unix_seconds(m.created_at),
            updated_at: iso_string(m.updated_at),
            private: m.private,
            status: m.status.as_str(),
            source_id: m.source_id.as_deref(),
            content_type: &m.content_type,
            content_attributes: &m.content_attributes,
            sender_type: m.sender_type.as_deref(),
            sender_id: m.sender_id,
            external_source_ids: &m.external_source_ids,
            additional_attributes: &m.additional_attributes,
            processed_message_content: m.content.as_deref(),
            sentiment: EmptyObject,
            conversation: PushConversation {
                assignee_id: summary.assignee_id,
                unread_count: summary.unread_count,
                last_activity_at: unix_seconds(summary.last_activity_at),
                contact_inbox: SourceId {
                    source_id: summary.source_id,
                },
            },
            attachments: AttachmentJson::all(&details.attachments, links),
            sender: details.sender.as_ref().map(SenderJson::of),
        }
    }
}

pub fn message_push_data(
    details: &MessageDetails,
    summary: &ConversationSummary,
    links: &Links,
) -> Value {
    value_of(PushMessage::of(details, summary, links))
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

#[derive(Serialize)]
struct MessageJson<'a> {
    id: i64,
    content: Option<&'a str>,
    inbox_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    echo_id: Option<&'a str>,
    conversation_id: i64,
    message_type: i64,
    content_type: &'a str,
    status: &'static str,
    content_attributes: &'a Value,
    created_at: i64,
    private: bool,
    source_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<SenderJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<AttachmentJson<'a>>,
}

fn message_echoing(details: &MessageDetails, links: &Links, echo_id: Option<&str>) -> Value {
    let m: &Message = &details.message;
    value_of(MessageJson {
        id: m.id,
        content: m.content.as_deref(),
        inbox_id: m.inbox_id,
        echo_id,
        conversation_id: m.conversation_display_id,
        message_type: m.message_type.code(),
        content_type: &m.content_type,
        status: m.status.as_str(),
        content_attributes: &m.content_attributes,
        created_at: unix_seconds(m.created_at),
        private: m.private,
        source_id: m.source_id.as_deref(),
        sender: details.sender.as_ref().map(SenderJson::of),
        attachments: AttachmentJson::all(&details.attachments, links),
    })
}

/// `_conversation.json.jbuilder`, plus the short public doc's additive keys (`display_id`,
/// `contact`, `assignee`).
#[derive(Serialize)]
pub struct ConversationJson<'a> {
    meta: ConversationMeta<'a>,
    id: i64,
    messages: Vec<PushMessage<'a>>,
    account_id: i64,
    uuid: &'a str,
    additional_attributes: &'a Value,
    agent_last_seen_at: i64,
    assignee_last_seen_at: i64,
    can_reply: bool,
    contact_last_seen_at: i64,
    custom_attributes: &'a Value,
    inbox_id: i64,
    labels: &'a [String],
    muted: bool,
    snoozed_until: Option<String>,
    status: &'static str,
    created_at: i64,
    updated_at: f64,
    timestamp: i64,
    first_reply_created_at: i64,
    unread_count: i64,
    last_non_activity_message: Option<PushMessage<'a>>,
    last_activity_at: i64,
    priority: Option<&'static str>,
    waiting_since: i64,
    sla_policy_id: Option<i64>,
    display_id: i64,
    contact: ContactBrief<'a>,
    assignee: Option<AssigneeBrief<'a>>,
}

#[derive(Serialize)]
struct ConversationMeta<'a> {
    sender: ContactJson<'a>,
    channel: &'a str,
    // Chatwoot leaves the key out when there is no assignee or team.
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<AgentJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<TeamJson<'a>>,
    hmac_verified: Option<bool>,
}

#[derive(Serialize)]
struct ContactBrief<'a> {
    id: i64,
    name: &'a str,
    email: Option<&'a str>,
    phone_number: Option<&'a str>,
    thumbnail: &'a str,
}

#[derive(Serialize)]
struct AssigneeBrief<'a> {
    id: i64,
    name: &'a str,
    available_name: &'a str,
    email: &'a str,
    role: &'static str,
    thumbnail: &'a str,
}

impl<'a> ConversationJson<'a> {
    pub fn of(details: &'a ConversationDetails, links: &Links) -> Self {
        let c = &details.conversation;
        let contact = &details.contact;
        let summary = ConversationSummary::of(details);
        let push = |m: &'a MessageDetails| PushMessage::of(m, &summary, links);
        Self {
            meta: ConversationMeta {
                sender: ContactJson::of(contact, None),
                channel: &details.channel_type,
                assignee: details.assignee.as_ref().map(AgentJson::of),
                team: details.team.as_ref().map(TeamJson::of),
                hmac_verified: details
                    .contact_inbox
                    .as_ref()
                    .map(|(_, verified)| *verified),
            },
            id: c.display_id,
            messages: details.last_message.iter().map(push).collect(),
            account_id: c.account_id,
            uuid: &c.uuid,
            additional_attributes: &c.additional_attributes,
            agent_last_seen_at: seconds_or_zero(c.agent_last_seen_at),
            assignee_last_seen_at: seconds_or_zero(c.assignee_last_seen_at),
            can_reply: true,
            contact_last_seen_at: seconds_or_zero(c.contact_last_seen_at),
            custom_attributes: &c.custom_attributes,
            inbox_id: c.inbox_id,
            labels: &details.labels,
            muted: contact.blocked,
            snoozed_until: c.snoozed_until.and_then(iso_string),
            status: c.status.as_str(),
            created_at: unix_seconds(c.created_at),
            updated_at: float_seconds(c.updated_at),
            timestamp: unix_seconds(c.last_activity_at),
            first_reply_created_at: seconds_or_zero(c.first_reply_created_at),
            unread_count: details.unread_count,
            last_non_activity_message: details.last_non_activity_message.as_ref().map(push),
            last_activity_at: unix_seconds(c.last_activity_at),
            priority: c.priority.map(|p| p.as_str()),
            waiting_since: seconds_or_zero(c.waiting_since),
            sla_policy_id: c.sla_policy_id,
            display_id: c.display_id,
            contact: ContactBrief {
                id: contact.id,
                name: &contact.name,
                email: contact.email.as_deref(),
                phone_number: contact.phone_number.as_deref(),
                thumbnail: thumbnail(contact.avatar_url.as_deref()),
            },
            assignee: details.assignee.as_ref().map(|a| AssigneeBrief {
                id: a.id,
                name: &a.name,
                available_name: a.available_name(),
                email: &a.email,
                role: a.role.as_str(),
                thumbnail: thumbnail(a.avatar_url.as_deref()),
            }),
        }
    }
}

/// The conversation's JSON text, ready to go into a response as it is.
pub fn conversation(details: &ConversationDetails, links: &Links) -> Box<RawValue> {
    // Only string keys and finite numbers: serialising cannot fail.
    serde_json::value::to_raw_value(&ConversationJson::of(details, links))
        .expect("a conversation serialises")
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
