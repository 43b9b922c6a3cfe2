//! The wire shapes, for the document only. The views build their JSON with `serde_json::json!`,
//! so these types are never built or sent: each mirrors one view function in `crate::views`
//! (named in its doc comment) key for key. Conventions: a plain field is always present and
//! never null; `Option` with `required = true` is always present and may be null; a bare
//! `Option` is a key that may be left out. Objects allow keys beyond those listed.

#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::models;

type Object = BTreeMap<String, Value>;

/// A string schema whose values are a Chatwoot enum's wire names, taken from the enum itself.
macro_rules! wire_names {
    ($name:ident, $doc:literal, $values:expr) => {
        #[doc = $doc]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($doc))
                    .enum_values(Some($values))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

wire_names!(
    Role,
    "A member's role",
    models::Role::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    Availability,
    "An agent's availability",
    models::Availability::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    ConversationStatus,
    "A conversation's status",
    models::Status::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    Priority,
    "A conversation's priority",
    models::Priority::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    MessageStatus,
    "A message's delivery status",
    models::MessageStatus::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    FileType,
    "An attachment's kind",
    models::FileType::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    AttributeDisplayType,
    "How a custom attribute is shown",
    models::AttributeDisplayType::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    AttributeModel,
    "What a custom attribute belongs to",
    models::AttributeModel::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    BotType,
    "An agent bot's kind",
    models::BotType::ALL.iter().map(|v| v.as_str())
);
wire_names!(
    WebhookEvent,
    "An event a webhook may subscribe to",
    crate::events::WEBHOOK_EVENTS
);

// ---- errors -------------------------------------------------------------------------------

/// Every error answer (`crate::error::ApiError`): `{"error": "..."}`, or for a model validation
/// failure `{"message": "...", "attributes": ["field", ...]}`.
#[derive(ToSchema)]
pub struct Error {
    /// What went wrong (all errors but validation failures).
    pub error: Option<String>,
    /// A validation failure's full message, e.g. "Name can't be blank".
    pub message: Option<String>,
    /// The attributes that failed validation.
    pub attributes: Option<Vec<String>>,
}

// ---- users, profile -----------------------------------------------------------------------

/// `views::agent`, and `views::pending_agent` (`id` null, `invitation_pending` true) when
/// `POST /agents` invited an existing user.
#[derive(ToSchema)]
pub struct Agent {
    #[schema(required = true)]
    pub id: Option<i64>,
    pub account_id: i64,
    pub availability_status: Availability,
    pub auto_offline: bool,
    pub confirmed: bool,
    pub email: String,
    pub provider: String,
    pub available_name: String,
    /// Present only when the user has some.
    pub custom_attributes: Option<Object>,
    pub name: String,
    pub role: Role,
    pub thumbnail: String,
    /// Present (true) only on an invitation.
    pub invitation_pending: Option<bool>,
}

/// `{"payload": [agent, ...]}`.
#[derive(ToSchema)]
pub struct AgentPayload {
    pub payload: Vec<Agent>,
}

/// `POST /auth/sign_in`'s body: email and password.
#[derive(ToSchema)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

/// `views::signed_in`: the user as their profile, with the new access token.
#[derive(ToSchema)]
pub struct SignedIn {
    pub data: Profile,
}

/// `views::browser_session`: the session's CSRF token, to send in `X-CSRF-Token` with every
/// change made with the session cookie, and the profile (`access_token` null).
#[derive(ToSchema)]
pub struct BrowserSession {
    pub csrf_token: String,
    pub profile: Profile,
}

/// `PUT /auth/password`'s body (devise's names): the token from a set-password link and the
/// new password (at least 8 characters), with an optional confirmation that must match it.
#[derive(ToSchema)]
pub struct SetPasswordRequest {
    pub reset_password_token: String,
    pub password: String,
    pub password_confirmation: Option<String>,
}

/// `POST /auth/password`'s body: the email of the user who forgot their password.
#[derive(ToSchema)]
pub struct ForgotPasswordRequest {
    pub email: String,
}

/// `POST /agents/{id}/password`'s body: the agent's new password (at least 8 characters).
#[derive(ToSchema)]
pub struct AgentPasswordRequest {
    pub password: String,
}

/// `views::message`: a short confirmation.
#[derive(ToSchema)]
pub struct Confirmation {
    pub message: String,
}

/// devise_token_auth's failure: `{"errors": [...], "success": false}`.
#[derive(ToSchema)]
pub struct SignInFailure {
    pub errors: Vec<String>,
    pub success: bool,
}

/// One account of `views::profile`.
#[derive(ToSchema)]
pub struct ProfileAccount {
    pub id: i64,
    pub name: String,
    pub status: String,
    #[schema(required = true)]
    pub active_at: Option<String>,
    pub role: String,
    pub permissions: Vec<String>,
    pub availability: String,
    pub availability_status: String,
    pub auto_offline: bool,
    pub locale: String,
}

/// `views::profile`.
#[derive(ToSchema)]
pub struct Profile {
    /// The access token the request was made with; null under a browser session.
    #[schema(required = true)]
    pub access_token: Option<String>,
    #[schema(required = true)]
    pub account_id: Option<i64>,
    pub available_name: String,
    pub avatar_url: String,
    pub confirmed: bool,
    #[schema(required = true)]
    pub display_name: Option<String>,
    #[schema(required = true)]
    pub message_signature: Option<String>,
    pub email: String,
    pub id: i64,
    #[schema(required = true)]
    pub inviter_id: Option<i64>,
    pub name: String,
    pub provider: String,
    pub pubsub_token: String,
    pub custom_attributes: Option<Object>,
    pub role: String,
    pub ui_settings: Object,
    pub uid: String,
    #[schema(required = true)]
    pub r#type: Option<String>,
    pub accounts: Vec<ProfileAccount>,
}

/// `views::invitation_accepted`.
#[derive(ToSchema)]
pub struct InvitationAccepted {
    pub accepted: bool,
    pub account_id: i64,
    pub account_name: String,
    pub role: String,
}

// ---- inboxes ------------------------------------------------------------------------------

/// One day of `working_hours`.
#[derive(ToSchema)]
pub struct WorkingHours {
    pub day_of_week: i64,
    pub closed_all_day: bool,
    #[schema(required = true)]
    pub open_hour: Option<i64>,
    #[schema(required = true)]
    pub open_minutes: Option<i64>,
    #[schema(required = true)]
    pub close_hour: Option<i64>,
    #[schema(required = true)]
    pub close_minutes: Option<i64>,
    pub open_all_day: bool,
}

/// `views::inbox`. `hmac_token` and `secret` are shown to administrators only.
#[derive(ToSchema)]
pub struct Inbox {
    pub id: i64,
    pub avatar_url: String,
    pub channel_id: i64,
    pub name: String,
    pub channel_type: String,
    pub greeting_enabled: bool,
    #[schema(required = true)]
    pub greeting_message: Option<String>,
    pub working_hours_enabled: bool,
    pub enable_email_collect: bool,
    pub csat_survey_enabled: bool,
    pub csat_config: Object,
    pub enable_auto_assignment: bool,
    pub auto_assignment_config: Value,
    #[schema(required = true)]
    pub out_of_office_message: Option<String>,
    pub working_hours: Vec<WorkingHours>,
    pub timezone: String,
    #[schema(required = true)]
    pub callback_webhook_url: Option<String>,
    pub allow_messages_after_resolved: bool,
    pub lock_to_single_conversation: bool,
    /// friendly or professional
    pub sender_name_type: String,
    #[schema(required = true)]
    pub business_name: Option<String>,
    #[schema(required = true)]
    pub widget_color: Option<String>,
    #[schema(required = true)]
    pub website_url: Option<String>,
    pub hmac_mandatory: bool,
    #[schema(required = true)]
    pub welcome_title: Option<String>,
    #[schema(required = true)]
    pub welcome_tagline: Option<String>,
    #[schema(required = true)]
    pub web_widget_script: Option<String>,
    #[schema(required = true)]
    pub website_token: Option<String>,
    #[schema(required = true)]
    pub selected_feature_flags: Option<Value>,
    #[schema(required = true)]
    pub reply_time: Option<Value>,
    #[schema(required = true)]
    pub messaging_service_sid: Option<String>,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    /// Administrators only.
    pub hmac_token: Option<String>,
    /// Administrators only.
    pub secret: Option<String>,
    #[schema(required = true)]
    pub webhook_url: Option<String>,
    /// Names the inbox in the Client API's paths.
    pub inbox_identifier: String,
    pub additional_attributes: Value,
    #[schema(required = true)]
    pub provider: Option<String>,
}

/// `{"payload": [inbox, ...]}`.
#[derive(ToSchema)]
pub struct InboxList {
    pub payload: Vec<Inbox>,
}

/// `views::inbox_record`: the raw inbox record of a contact create's `contact_inbox`.
#[derive(ToSchema)]
pub struct InboxRecord {
    pub id: i64,
    pub channel_id: i64,
    pub account_id: i64,
    pub name: String,
    #[schema(required = true)]
    pub created_at: Option<String>,
    #[schema(required = true)]
    pub updated_at: Option<String>,
    pub channel_type: String,
    pub enable_auto_assignment: bool,
    pub greeting_enabled: bool,
    #[schema(required = true)]
    pub greeting_message: Option<String>,
    #[schema(required = true)]
    pub email_address: Option<String>,
    pub working_hours_enabled: bool,
    #[schema(required = true)]
    pub out_of_office_message: Option<String>,
    pub timezone: String,
    pub enable_email_collect: bool,
    pub csat_survey_enabled: bool,
    pub allow_messages_after_resolved: bool,
    pub auto_assignment_config: Value,
    pub lock_to_single_conversation: bool,
    pub sender_name_type: String,
    #[schema(required = true)]
    pub business_name: Option<String>,
}

// ---- agent bots, webhooks -----------------------------------------------------------------

/// `views::agent_bots::agent_bot`. `access_token` and `secret` are shown to administrators only.
#[derive(ToSchema)]
pub struct AgentBot {
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    pub thumbnail: String,
    #[schema(required = true)]
    pub outgoing_url: Option<String>,
    pub bot_type: BotType,
    pub bot_config: Object,
    pub account_id: i64,
    pub access_token: Option<String>,
    pub secret: Option<String>,
    pub system_bot: bool,
}

/// `views::agent_bots::of_inbox`: `agent_bot` is null when the inbox has none.
#[derive(ToSchema)]
pub struct InboxAgentBot {
    #[schema(required = true)]
    pub agent_bot: Option<AgentBot>,
}

#[derive(ToSchema)]
pub struct WebhookInbox {
    pub id: i64,
    pub name: String,
}

/// `views::webhooks::webhook`; `inbox` only when the webhook names one.
#[derive(ToSchema)]
pub struct Webhook {
    pub id: i64,
    #[schema(required = true)]
    pub name: Option<String>,
    pub url: String,
    pub account_id: i64,
    pub subscriptions: Vec<WebhookEvent>,
    pub secret: String,
    pub inbox: Option<WebhookInbox>,
}

#[derive(ToSchema)]
pub struct WebhookListPayload {
    pub webhooks: Vec<Webhook>,
}

/// `{"payload": {"webhooks": [...]}}`.
#[derive(ToSchema)]
pub struct WebhookList {
    pub payload: WebhookListPayload,
}

#[derive(ToSchema)]
pub struct WebhookOnePayload {
    pub webhook: Webhook,
}

/// `{"payload": {"webhook": {...}}}`.
#[derive(ToSchema)]
pub struct WebhookOne {
    pub payload: WebhookOnePayload,
}

// ---- teams, labels, custom attributes -----------------------------------------------------

/// `views::team`.
#[derive(ToSchema)]
pub struct Team {
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    pub allow_auto_assign: bool,
    pub account_id: i64,
    pub is_member: bool,
}

/// The raw team record `POST /assignments` answers with a `team_id`.
#[derive(ToSchema)]
pub struct AssignedTeam {
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    pub allow_auto_assign: bool,
    pub account_id: i64,
    #[schema(required = true)]
    pub created_at: Option<String>,
    #[schema(required = true)]
    pub updated_at: Option<String>,
}

/// `views::label`.
#[derive(ToSchema)]
pub struct Label {
    pub id: i64,
    pub title: String,
    #[schema(required = true)]
    pub description: Option<String>,
    pub color: String,
    #[schema(required = true)]
    pub show_on_sidebar: Option<bool>,
}

/// `{"payload": [label, ...]}`.
#[derive(ToSchema)]
pub struct LabelList {
    pub payload: Vec<Label>,
}

/// `{"payload": ["title", ...]}`: a conversation's labels.
#[derive(ToSchema)]
pub struct LabelTitles {
    pub payload: Vec<String>,
}

/// `views::custom_attribute_definition`.
#[derive(ToSchema)]
pub struct CustomAttributeDefinition {
    pub id: i64,
    pub attribute_display_name: String,
    pub attribute_display_type: AttributeDisplayType,
    #[schema(required = true)]
    pub attribute_description: Option<String>,
    pub attribute_key: String,
    #[schema(required = true)]
    pub regex_pattern: Option<String>,
    #[schema(required = true)]
    pub regex_cue: Option<String>,
    /// The choices of a list attribute.
    pub attribute_values: Value,
    pub attribute_model: AttributeModel,
    #[schema(required = true)]
    pub default_value: Option<String>,
    #[schema(required = true)]
    pub created_at: Option<String>,
    #[schema(required = true)]
    pub updated_at: Option<String>,
}

// ---- contacts -----------------------------------------------------------------------------

/// The slim inbox of a contact inbox.
#[derive(ToSchema)]
pub struct ContactInboxInbox {
    pub id: i64,
    pub avatar_url: String,
    pub channel_id: i64,
    pub name: String,
    pub channel_type: String,
    #[schema(required = true)]
    pub provider: Option<String>,
}

/// `views::contact_inbox`.
#[derive(ToSchema)]
pub struct ContactInbox {
    pub source_id: String,
    pub inbox: ContactInboxInbox,
}

/// `views::contact`.
#[derive(ToSchema)]
pub struct Contact {
    pub additional_attributes: Object,
    pub availability_status: String,
    #[schema(required = true)]
    pub email: Option<String>,
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    pub blocked: bool,
    #[schema(required = true)]
    pub identifier: Option<String>,
    pub thumbnail: String,
    pub custom_attributes: Object,
    /// Unix seconds; left out until the contact was active.
    pub last_activity_at: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// In lists (unless `include_contact_inboxes=false`) and single contacts.
    pub contact_inboxes: Option<Vec<ContactInbox>>,
}

#[derive(ToSchema)]
pub struct ContactListMeta {
    pub count: i64,
    /// The `page` parameter as it was sent (a string), or 1.
    #[schema(value_type = Value)]
    pub current_page: Value,
}

/// `GET /contacts`.
#[derive(ToSchema)]
pub struct ContactList {
    pub meta: ContactListMeta,
    pub payload: Vec<Contact>,
}

/// `{"payload": contact}`.
#[derive(ToSchema)]
pub struct ContactPayload {
    pub payload: Contact,
}

#[derive(ToSchema)]
pub struct CreatedContactInbox {
    #[schema(required = true)]
    pub inbox: Option<InboxRecord>,
    #[schema(required = true)]
    pub source_id: Option<String>,
}

#[derive(ToSchema)]
pub struct CreatedContactPayload {
    pub contact: Contact,
    pub contact_inbox: CreatedContactInbox,
}

/// `POST /contacts`: the contact and, when an `inbox_id` was sent, its new contact inbox.
#[derive(ToSchema)]
pub struct CreatedContact {
    pub payload: CreatedContactPayload,
}

// ---- messages -----------------------------------------------------------------------------

/// A message's sender (`views::conversations::sender`): a contact (`type` "contact"), a user
/// ("user") or an agent bot ("agent_bot"); the other keys depend on the kind.
#[derive(ToSchema)]
pub struct Sender {
    pub id: i64,
    pub name: String,
    /// contact, user or agent_bot
    pub r#type: String,
    pub additional_attributes: Option<Object>,
    pub custom_attributes: Option<Object>,
    pub email: Option<String>,
    pub identifier: Option<String>,
    pub phone_number: Option<String>,
    pub thumbnail: Option<String>,
    pub blocked: Option<bool>,
    pub available_name: Option<String>,
    pub avatar_url: Option<String>,
    pub availability_status: Option<String>,
}

/// `views::conversations::attachment`.
#[derive(ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub message_id: i64,
    pub file_type: FileType,
    pub account_id: i64,
    #[schema(required = true)]
    pub extension: Option<String>,
    /// Where the file is served (`/files/{folder}/{name}`), or the external URL.
    pub data_url: String,
    pub thumb_url: String,
    #[schema(required = true)]
    pub file_size: Option<i64>,
    #[schema(required = true)]
    pub width: Option<i64>,
    #[schema(required = true)]
    pub height: Option<i64>,
}

/// `views::conversations::attachment_item`: an attachment with its message's time and sender.
#[derive(ToSchema)]
pub struct AttachmentItem {
    #[serde(flatten)]
    pub attachment: Attachment,
    /// Unix seconds.
    pub created_at: i64,
    pub sender: Option<Sender>,
}

#[derive(ToSchema)]
pub struct TotalCount {
    pub total_count: i64,
}

/// `GET /conversations/{id}/attachments`.
#[derive(ToSchema)]
pub struct AttachmentList {
    pub meta: TotalCount,
    pub payload: Vec<AttachmentItem>,
}

/// `views::conversations::message` (`_message.json.jbuilder`).
#[derive(ToSchema)]
pub struct Message {
    pub id: i64,
    #[schema(required = true)]
    pub content: Option<String>,
    pub inbox_id: i64,
    /// The create response only, when the request had one.
    pub echo_id: Option<String>,
    /// The conversation's display id.
    pub conversation_id: i64,
    /// 0 incoming, 1 outgoing, 2 activity, 3 template
    pub message_type: i64,
    pub content_type: String,
    pub status: MessageStatus,
    pub content_attributes: Value,
    /// Unix seconds.
    pub created_at: i64,
    pub private: bool,
    #[schema(required = true)]
    pub source_id: Option<String>,
    pub sender: Option<Sender>,
    pub attachments: Option<Vec<Attachment>>,
}

/// `views::conversations::messages_meta`.
#[derive(ToSchema)]
pub struct MessagesMeta {
    pub labels: Vec<String>,
    pub additional_attributes: Value,
    pub contact: Sender,
    pub assignee: Option<Sender>,
    #[schema(required = true)]
    pub agent_last_seen_at: Option<String>,
    #[schema(required = true)]
    pub assignee_last_seen_at: Option<String>,
}

/// `GET /conversations/{id}/messages`.
#[derive(ToSchema)]
pub struct MessageList {
    pub meta: MessagesMeta,
    pub payload: Vec<Message>,
}

#[derive(ToSchema)]
pub struct SummaryContactInbox {
    #[schema(required = true)]
    pub source_id: Option<String>,
}

#[derive(ToSchema)]
pub struct ConversationSummary {
    #[schema(required = true)]
    pub assignee_id: Option<i64>,
    pub unread_count: i64,
    pub last_activity_at: i64,
    pub contact_inbox: SummaryContactInbox,
}

/// `views::conversations::message_push_data`: a message inside a conversation.
#[derive(ToSchema)]
pub struct PushMessage {
    pub id: i64,
    #[schema(required = true)]
    pub content: Option<String>,
    pub account_id: i64,
    pub inbox_id: i64,
    pub conversation_id: i64,
    pub message_type: i64,
    pub created_at: i64,
    #[schema(required = true)]
    pub updated_at: Option<String>,
    pub private: bool,
    pub status: MessageStatus,
    #[schema(required = true)]
    pub source_id: Option<String>,
    pub content_type: String,
    pub content_attributes: Value,
    #[schema(required = true)]
    pub sender_type: Option<String>,
    #[schema(required = true)]
    pub sender_id: Option<i64>,
    pub external_source_ids: Value,
    pub additional_attributes: Value,
    #[schema(required = true)]
    pub processed_message_content: Option<String>,
    pub sentiment: Object,
    pub conversation: ConversationSummary,
    pub attachments: Option<Vec<Attachment>>,
    pub sender: Option<Sender>,
}

// ---- conversations ------------------------------------------------------------------------

#[derive(ToSchema)]
pub struct ConversationMeta {
    pub sender: Contact,
    pub channel: String,
    /// Left out when there is none.
    pub assignee: Option<Agent>,
    /// Left out when there is none.
    pub team: Option<Team>,
    #[schema(required = true)]
    pub hmac_verified: Option<bool>,
}

#[derive(ToSchema)]
pub struct ConversationContact {
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    pub thumbnail: String,
}

#[derive(ToSchema)]
pub struct ConversationAssignee {
    pub id: i64,
    pub name: String,
    pub available_name: String,
    pub email: String,
    pub role: String,
    pub thumbnail: String,
}

/// `views::conversations::conversation` (`_conversation.json.jbuilder`). Times are unix
/// seconds (0 for never), `updated_at` with a fraction; `id` is the display id.
#[derive(ToSchema)]
pub struct Conversation {
    pub meta: ConversationMeta,
    pub id: i64,
    /// The newest message (the matching one in a search), or none.
    pub messages: Vec<PushMessage>,
    pub account_id: i64,
    pub uuid: String,
    pub additional_attributes: Value,
    pub agent_last_seen_at: i64,
    pub assignee_last_seen_at: i64,
    pub can_reply: bool,
    pub contact_last_seen_at: i64,
    pub custom_attributes: Value,
    pub inbox_id: i64,
    pub labels: Vec<String>,
    pub muted: bool,
    #[schema(required = true)]
    pub snoozed_until: Option<String>,
    pub status: ConversationStatus,
    pub created_at: i64,
    pub updated_at: f64,
    pub timestamp: i64,
    pub first_reply_created_at: i64,
    pub unread_count: i64,
    #[schema(required = true)]
    pub last_non_activity_message: Option<PushMessage>,
    pub last_activity_at: i64,
    #[schema(required = true)]
    pub priority: Option<Priority>,
    pub waiting_since: i64,
    #[schema(required = true)]
    pub sla_policy_id: Option<i64>,
    pub display_id: i64,
    pub contact: ConversationContact,
    #[schema(required = true)]
    pub assignee: Option<ConversationAssignee>,
}

/// The counts of the assignee tabs.
#[derive(ToSchema)]
pub struct ConversationCounts {
    pub mine_count: i64,
    pub assigned_count: i64,
    pub unassigned_count: i64,
    pub all_count: i64,
}

#[derive(ToSchema)]
pub struct ConversationListMeta {
    #[serde(flatten)]
    pub counts: ConversationCounts,
    /// The count of the tab asked for.
    pub count: i64,
    pub current_page: i64,
}

#[derive(ToSchema)]
pub struct ConversationListData {
    pub meta: ConversationListMeta,
    pub payload: Vec<Conversation>,
}

/// `GET /conversations`.
#[derive(ToSchema)]
pub struct ConversationList {
    pub data: ConversationListData,
}

/// `GET /conversations/meta`.
#[derive(ToSchema)]
pub struct ConversationMetaOnly {
    pub meta: ConversationCounts,
}

/// `GET /conversations/search` and `POST /conversations/filter`.
#[derive(ToSchema)]
pub struct ConversationPage {
    pub meta: ConversationCounts,
    pub payload: Vec<Conversation>,
}

/// `{"payload": [conversation, ...]}`.
#[derive(ToSchema)]
pub struct ConversationPayload {
    pub payload: Vec<Conversation>,
}

#[derive(ToSchema)]
pub struct ToggledStatus {
    pub success: bool,
    pub conversation_id: i64,
    pub current_status: ConversationStatus,
    #[schema(required = true)]
    pub snoozed_until: Option<String>,
}

/// `POST /toggle_status`.
#[derive(ToSchema)]
pub struct ToggleStatusResult {
    pub meta: Object,
    pub payload: ToggledStatus,
}

/// `POST /custom_attributes`.
#[derive(ToSchema)]
pub struct CustomAttributesResult {
    pub custom_attributes: Value,
}

/// `POST /assignments`: the agent assigned, the team set, or null when unassigned.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum Assignment {
    Agent(Agent),
    Team(AssignedTeam),
}

// ---- Client API ---------------------------------------------------------------------------

/// `views::public::inbox`.
#[derive(ToSchema)]
pub struct PublicInbox {
    pub identifier: String,
    pub identity_validation_enabled: bool,
    pub name: String,
    pub timezone: String,
    pub working_hours: Vec<WorkingHours>,
    pub working_hours_enabled: bool,
    pub csat_survey_enabled: bool,
    pub greeting_enabled: bool,
}

/// `views::public::contact`.
#[derive(ToSchema)]
pub struct PublicContact {
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    /// Names the contact in later paths.
    pub source_id: String,
    /// Subscribes to the contact's `/cable` stream.
    pub pubsub_token: String,
}

/// `views::public::message`.
#[derive(ToSchema)]
pub struct PublicMessage {
    pub id: i64,
    #[schema(required = true)]
    pub content: Option<String>,
    pub message_type: i64,
    pub content_type: String,
    pub content_attributes: Value,
    pub created_at: i64,
    pub conversation_id: i64,
    pub attachments: Option<Vec<Attachment>>,
    pub sender: Option<Sender>,
}

#[derive(ToSchema)]
pub struct PublicConversationContact {
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    #[schema(required = true)]
    pub identifier: Option<String>,
    #[schema(required = true)]
    pub avatar_url: Option<String>,
    pub custom_attributes: Value,
    #[schema(required = true)]
    pub last_activity_at: Option<String>,
    #[schema(required = true)]
    pub created_at: Option<String>,
}

/// `views::public::conversation`, with its public messages oldest first.
#[derive(ToSchema)]
pub struct PublicConversation {
    pub id: i64,
    pub uuid: String,
    pub inbox_id: i64,
    pub contact_last_seen_at: i64,
    pub status: ConversationStatus,
    pub agent_last_seen_at: i64,
    pub messages: Vec<PublicMessage>,
    pub contact: PublicConversationContact,
}

// ---- operations ---------------------------------------------------------------------------

#[derive(ToSchema)]
pub struct SearchProgress {
    pub written_seq: i64,
    pub indexed_seq: i64,
    pub behind: i64,
}

#[derive(ToSchema)]
pub struct EventBacklog {
    pub pending: i64,
    #[schema(required = true)]
    pub oldest_pending_age_secs: Option<i64>,
}

#[derive(ToSchema)]
pub struct TaskStatus {
    pub up: bool,
    pub restarts: i64,
    #[schema(required = true)]
    pub last_error: Option<String>,
}

/// `GET /health`: 200 with status "ok", or 503 with status "degraded" and the problems.
#[derive(ToSchema)]
pub struct Health {
    /// ok or degraded
    pub status: String,
    pub schema_version: i64,
    pub expected_schema_version: i64,
    pub search: SearchProgress,
    pub events: EventBacklog,
    pub tasks: BTreeMap<String, TaskStatus>,
    pub error: Option<String>,
    pub problems: Option<Vec<String>>,
}

// ---- request bodies -----------------------------------------------------------------------
// What clients send. The server also takes Rails' looser forms (booleans as "true"/"1", ids as
// strings of digits), not repeated here.

#[derive(ToSchema)]
pub struct AgentInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    /// `availability_status` is taken too.
    pub availability: Option<Availability>,
    pub auto_offline: Option<bool>,
}

#[derive(ToSchema)]
pub struct ChannelInput {
    /// Only "api" is served.
    pub r#type: Option<String>,
    pub webhook_url: Option<String>,
    pub hmac_mandatory: Option<bool>,
}

#[derive(ToSchema)]
pub struct InboxInput {
    pub name: Option<String>,
    pub channel: Option<ChannelInput>,
    pub greeting_enabled: Option<bool>,
    pub greeting_message: Option<String>,
    pub enable_email_collect: Option<bool>,
    pub csat_survey_enabled: Option<bool>,
    pub enable_auto_assignment: Option<bool>,
    pub working_hours_enabled: Option<bool>,
    pub out_of_office_message: Option<String>,
    pub timezone: Option<String>,
    pub allow_messages_after_resolved: Option<bool>,
    pub lock_to_single_conversation: Option<bool>,
    pub business_name: Option<String>,
}

#[derive(ToSchema)]
pub struct SetAgentBotInput {
    /// The bot's id; null or absent removes the inbox's bot.
    pub agent_bot: Option<i64>,
}

/// The keys at the top level or under `agent_bot`.
#[derive(ToSchema)]
pub struct AgentBotInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub outgoing_url: Option<String>,
    pub bot_type: Option<BotType>,
    pub bot_config: Option<Object>,
}

/// `inbox_id` and the `user_ids` to add, replace or remove.
#[derive(ToSchema)]
pub struct InboxMembersInput {
    pub inbox_id: i64,
    pub user_ids: Vec<i64>,
}

#[derive(ToSchema)]
pub struct UserIdsInput {
    pub user_ids: Vec<i64>,
}

#[derive(ToSchema)]
pub struct TeamInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub allow_auto_assign: Option<bool>,
}

#[derive(ToSchema)]
pub struct ContactInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    pub avatar_url: Option<String>,
    pub blocked: Option<bool>,
    pub additional_attributes: Option<Object>,
    pub custom_attributes: Option<Object>,
    /// Create only: also make a contact inbox in this inbox.
    pub inbox_id: Option<i64>,
    /// Create only: the contact inbox's source id (a UUID when left out).
    pub source_id: Option<String>,
}

/// A message to post: JSON, or the same keys as multipart form fields with `attachments[]`
/// files.
#[derive(ToSchema)]
pub struct MessageInput {
    pub content: Option<String>,
    /// incoming, outgoing, activity or template (or their codes)
    pub message_type: Option<String>,
    pub private: Option<bool>,
    pub content_type: Option<String>,
    pub content_attributes: Option<Object>,
    /// Handed back on the create response.
    pub echo_id: Option<String>,
    pub source_id: Option<String>,
    pub campaign_id: Option<i64>,
    pub template_params: Option<Object>,
}

/// A multipart message: text fields as in the JSON body, files as `attachments[]`.
#[derive(ToSchema)]
pub struct MessageForm {
    pub content: Option<String>,
    pub message_type: Option<String>,
    pub private: Option<String>,
    pub echo_id: Option<String>,
    #[schema(rename = "attachments[]", value_type = Option<Vec<String>>, format = Binary)]
    pub attachments: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub struct MessageUpdateInput {
    pub status: Option<MessageStatus>,
    pub external_error: Option<String>,
}

#[derive(ToSchema)]
pub struct ConversationInput {
    pub inbox_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub source_id: Option<String>,
    pub status: Option<String>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub additional_attributes: Option<Object>,
    pub custom_attributes: Option<Object>,
    /// ISO 8601 time or unix seconds.
    pub snoozed_until: Option<String>,
    /// A first message.
    pub message: Option<MessageInput>,
}

#[derive(ToSchema)]
pub struct PriorityInput {
    /// null clears it ("" too)
    pub priority: Option<Priority>,
}

#[derive(ToSchema)]
pub struct ToggleStatusInput {
    /// open, resolved, pending or snoozed; absent toggles between open and resolved
    pub status: Option<String>,
    pub snoozed_until: Option<String>,
}

#[derive(ToSchema)]
pub struct TypingInput {
    /// on or off
    pub typing_status: Option<String>,
    pub is_private: Option<bool>,
}

#[derive(ToSchema)]
pub struct TranscriptInput {
    /// Where to mail it; the contact's email when left out.
    pub email: Option<String>,
}

#[derive(ToSchema)]
pub struct CustomAttributesInput {
    pub custom_attributes: Option<Object>,
    /// Merge into the present attributes instead of replacing them.
    pub merge: Option<bool>,
}

#[derive(ToSchema)]
pub struct LabelsInput {
    /// Label titles (or one comma-separated string).
    pub labels: Vec<String>,
}

#[derive(ToSchema)]
pub struct AssignmentInput {
    /// Wins when present; null unassigns.
    pub assignee_id: Option<i64>,
    /// Used when `assignee_id` is absent; null clears the team.
    pub team_id: Option<i64>,
}

/// Chatwoot's filter: a list of conditions.
#[derive(ToSchema)]
pub struct FilterInput {
    pub payload: Vec<FilterCondition>,
    pub page: Option<i64>,
}

#[derive(ToSchema)]
pub struct FilterCondition {
    pub attribute_key: String,
    pub filter_operator: String,
    pub values: Value,
    /// and or or, joining the next condition
    pub query_operator: Option<String>,
}

#[derive(ToSchema)]
pub struct LabelInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub show_on_sidebar: Option<bool>,
}

/// The keys at the top level or under `webhook`.
#[derive(ToSchema)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub name: Option<String>,
    pub subscriptions: Option<Vec<WebhookEvent>>,
    pub inbox_id: Option<i64>,
}

#[derive(ToSchema)]
pub struct DefinitionInput {
    pub attribute_display_name: Option<String>,
    pub attribute_key: Option<String>,
    pub attribute_display_type: Option<AttributeDisplayType>,
    pub attribute_model: Option<AttributeModel>,
    pub attribute_description: Option<String>,
    pub attribute_values: Option<Vec<String>>,
    pub regex_pattern: Option<String>,
    pub regex_cue: Option<String>,
}

#[derive(ToSchema)]
pub struct PublicContactInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    /// HMAC-SHA256 of `identifier` with the inbox's HMAC token, in hex.
    pub identifier_hash: Option<String>,
    pub avatar_url: Option<String>,
    pub custom_attributes: Option<Object>,
    pub additional_attributes: Option<Object>,
    /// Create only: the contact inbox's source id (a UUID when left out).
    pub source_id: Option<String>,
}

#[derive(ToSchema)]
pub struct PublicConversationInput {
    pub custom_attributes: Option<Object>,
}

#[derive(ToSchema)]
pub struct PublicTypingInput {
    /// on or off
    pub typing_status: Option<String>,
}

#[derive(ToSchema)]
pub struct PublicMessageInput {
    pub content: Option<String>,
    pub echo_id: Option<String>,
}

#[derive(ToSchema)]
pub struct PublicMessageUpdateInput {
    /// The answers to a form or options message: `{name, title, value}` objects.
    pub submitted_values: Vec<Object>,
}

// ---- query parameters ---------------------------------------------------------------------

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationListQuery {
    /// Words a message must contain (search).
    pub q: Option<String>,
    /// open (default), resolved, pending, snoozed or all
    pub status: Option<String>,
    /// me, unassigned, assigned or all
    pub assignee_type: Option<String>,
    pub inbox_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Comma-separated label titles (`labels[]` is taken too).
    pub labels: Option<String>,
    pub page: Option<i64>,
    /// e.g. last_activity_at_desc, created_at_asc, priority_desc
    pub sort_by: Option<String>,
    /// unattended, mention or participating
    pub conversation_type: Option<String>,
    /// The contact inbox's source id.
    pub source_id: Option<String>,
    /// Only conversations updated in the last this many seconds (unpaged).
    pub updated_within: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactListQuery {
    pub page: Option<i64>,
    /// email, name, phone_number, last_activity_at, created_at, company, city or country;
    /// a leading `-` sorts descending
    pub sort: Option<String>,
    /// "false" leaves out `contact_inboxes`
    pub include_contact_inboxes: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Messages before this message id.
    pub before: Option<i64>,
    /// Messages after this message id.
    pub after: Option<i64>,
    /// Any value leaves out private notes and activity messages.
    pub filter_internal_messages: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttributeModelQuery {
    /// conversation_attribute or contact_attribute; all when left out
    pub attribute_model: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicMessagesQuery {
    /// The 20 messages before this message id.
    pub before: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdentityQuery {
    pub identifier: Option<String>,
    /// HMAC-SHA256 of `identifier` with the inbox's HMAC token, in hex.
    pub identifier_hash: Option<String>,
}

/// `GET`/`POST /__wootlite/clock` (dev mode): the server's time.
#[derive(ToSchema)]
pub struct DevClock {
    /// Unix seconds.
    pub now: i64,
    pub frozen: bool,
}

/// `POST /__wootlite/clock`: any of the three, applied in this order.
#[derive(ToSchema)]
pub struct DevClockChange {
    /// Unix seconds (a number) or an ISO 8601 time (a string).
    pub set: Option<serde_json::Value>,
    /// Seconds, forwards or back.
    pub advance: Option<f64>,
    pub frozen: Option<bool>,
}

/// `POST /__wootlite/reset` (dev mode): what the fresh start made: the default account's ids,
/// or, when the server runs with fixtures, how much was loaded.
#[derive(ToSchema)]
pub struct DevReset {
    pub account_id: i64,
    #[schema(required = false)]
    pub user_id: Option<i64>,
    #[schema(required = false)]
    pub inbox_id: Option<i64>,
    pub token: Option<String>,
    #[schema(required = false)]
    pub loaded: Option<serde_json::Value>,
}
