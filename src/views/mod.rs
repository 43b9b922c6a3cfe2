//! The wire JSON: one function per Chatwoot object, field for field as Chatwoot renders it.

pub mod agent_bots;
pub mod cable;
pub mod conversations;
pub mod dev;
pub mod events;
pub mod public;
pub mod webhooks;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::models::{Agent, Role};
use crate::store::accounts::Membership;
use crate::store::agents::NewAgent;
use crate::store::contacts::{Contact, ContactInbox};
use crate::store::custom_attributes::Definition;
use crate::store::inboxes::Inbox;
use crate::store::invitations::Accepted;
use crate::store::labels::Label;
use crate::store::teams::Team;

/// Unix seconds, as Chatwoot's `to_i`.
pub fn unix_seconds(micros: i64) -> i64 {
    micros.div_euclid(1_000_000)
}

/// ISO 8601 with milliseconds in UTC (`2026-01-02T03:04:05.000Z`), as Rails renders times.
pub fn iso_string(micros: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// `iso_string` as JSON (null for a time out of range).
pub fn iso_millis(micros: i64) -> Value {
    iso_string(micros).map_or(Value::Null, Value::String)
}

pub(crate) fn thumbnail(avatar_url: Option<&str>) -> &str {
    avatar_url.unwrap_or("")
}

/// A view struct as a `Value`, for the callers that add to it. Views have string keys only, the
/// one thing that makes `to_value` fail.
pub(crate) fn value_of(view: impl Serialize) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// Chatwoot renders a user's custom_attributes only when there are some.
fn shown_custom_attributes(attributes: &Value) -> Option<&Value> {
    Some(attributes).filter(|a| a.as_object().is_some_and(|o| !o.is_empty()))
}

fn insert_custom_attributes(out: &mut Map<String, Value>, attributes: &Value) {
    if let Some(shown) = shown_custom_attributes(attributes) {
        out.insert("custom_attributes".into(), shown.clone());
    }
}

/// `_agent.json.jbuilder`. `availability_status` is the agent's configured availability: there
/// is no live presence to report.
#[derive(Serialize)]
pub struct AgentJson<'a> {
    id: i64,
    account_id: i64,
    availability_status: &'static str,
    auto_offline: bool,
    confirmed: bool,
    email: &'a str,
    provider: &'static str,
    available_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_attributes: Option<&'a Value>,
    name: &'a str,
    role: &'static str,
    thumbnail: &'a str,
}

impl<'a> AgentJson<'a> {
    pub fn of(agent: &'a Agent) -> Self {
        Self {
            id: agent.id,
            account_id: agent.account_id,
            availability_status: agent.availability.as_str(),
            auto_offline: agent.auto_offline,
            confirmed: agent.confirmed,
            email: &agent.email,
            provider: "email",
            available_name: agent.available_name(),
            custom_attributes: shown_custom_attributes(&agent.custom_attributes),
            name: &agent.name,
            role: agent.role.as_str(),
            thumbnail: thumbnail(agent.avatar_url.as_deref()),
        }
    }
}

pub fn agent(agent: &Agent) -> Value {
    value_of(AgentJson::of(agent))
}

pub fn agents(list: &[Agent]) -> Value {
    Value::Array(list.iter().map(agent).collect())
}

/// `POST /agents` for the email of an existing user who is not a member: an invitation was
/// mailed to them. The agent partial's keys, filled only from what the administrator sent, with
/// `id` null, so that nothing of the existing user (id, name, availability, confirmation, avatar)
/// is revealed; `invitation_pending` says that the user joins only on acceptance.
pub fn pending_agent(account_id: i64, agent: &NewAgent) -> Value {
    json!({
        "id": Value::Null,
        "account_id": account_id,
        "availability_status": agent.availability.as_str(),
        "auto_offline": agent.auto_offline,
        "confirmed": false,
        "email": agent.email,
        "provider": "email",
        "available_name": agent.name,
        "name": agent.name,
        "role": agent.role.as_str(),
        "thumbnail": "",
        "invitation_pending": true,
    })
}

/// `POST /api/v1/invitations/{token}/accept`: the membership the user now has.
pub fn invitation_accepted(accepted: &Accepted) -> Value {
    json!({
        "accepted": true,
        "account_id": accepted.account_id,
        "account_name": accepted.account_name,
        "role": accepted.role.as_str(),
    })
}

/// `POST /auth/sign_in`: devise_token_auth's `{"data": user}`, the user rendered as their profile
/// with the access token the sign-in created.
pub fn signed_in(user: &Agent, memberships: &[Membership], token: &str) -> Value {
    json!({ "data": profile(user, memberships, Some(token)) })
}

/// `GET /api/v1/profile`: the user, the token used (null under a browser session, whose cookie
/// is kept from script), and every account the user belongs to.
pub fn profile(user: &Agent, memberships: &[Membership], token: Option<&str>) -> Value {
    let accounts: Vec<Value> = memberships
        .iter()
        .map(|m| {
            json!({
                "id": m.account_id,
                "name": m.account_name,
                "status": "active",
                "active_at": Value::Null,
                "role": m.role.as_str(),
                "permissions": [m.role.as_str()],
                "availability": m.availability.as_str(),
                "availability_status": m.availability.as_str(),
                "auto_offline": m.auto_offline,
                "locale": m.locale,
            })
        })
        .collect();
    let current = memberships.first();
    let mut out = Map::new();
    out.insert("access_token".into(), json!(token));
    out.insert("account_id".into(), json!(current.map(|m| m.account_id)));
    out.insert("available_name".into(), json!(user.available_name()));
    out.insert(
        "avatar_url".into(),
        json!(thumbnail(user.avatar_url.as_deref())),
    );
    out.insert("confirmed".into(), json!(user.confirmed));
    out.insert("display_name".into(), json!(user.display_name));
    out.insert("message_signature".into(), Value::Null);
    out.insert("email".into(), json!(user.email));
    out.insert("id".into(), json!(user.id));
    out.insert("inviter_id".into(), Value::Null);
    out.insert("name".into(), json!(user.name));
    out.insert("provider".into(), json!("email"));
    out.insert("pubsub_token".into(), json!(user.pubsub_token));
    insert_custom_attributes(&mut out, &user.custom_attributes);
    out.insert(
        "role".into(),
        json!(current.map_or(Role::Agent, |m| m.role).as_str()),
    );
    out.insert("ui_settings".into(), json!({}));
    out.insert("uid".into(), json!(user.email));
    out.insert("type".into(), Value::Null);
    out.insert("accounts".into(), Value::Array(accounts));
    Value::Object(out)
}

/// Chatwoot's working hours of a new inbox: weekdays 9:00-17:00, weekends closed.
fn default_working_hours() -> Value {
    Value::Array(
        (0..7)
            .map(|day| {
                let open = day != 0 && day != 6;
                let hour = |h: i64| if open { json!(h) } else { Value::Null };
                json!({
                    "day_of_week": day,
                    "closed_all_day": !open,
                    "open_hour": hour(9),
                    "open_minutes": hour(0),
                    "close_hour": hour(17),
                    "close_minutes": hour(0),
                    "open_all_day": false,
                })
            })
            .collect(),
    )
}

fn sender_name_type(code: i64) -> &'static str {
    if code == 1 {
        "professional"
    } else {
        "friendly"
    }
}

/// `_inbox.json.jbuilder` for an API channel. The HMAC token is shown to administrators only.
pub fn inbox(inbox: &Inbox, viewer_is_administrator: bool) -> Value {
    let mut out = json!({
        "id": inbox.id,
        "avatar_url": thumbnail(inbox.avatar_url.as_deref()),
        "channel_id": inbox.id,
        "name": inbox.name,
        "channel_type": inbox.channel_type,
        "greeting_enabled": inbox.greeting_enabled,
        "greeting_message": inbox.greeting_message,
        "working_hours_enabled": inbox.working_hours_enabled,
        "enable_email_collect": inbox.enable_email_collect,
        "csat_survey_enabled": inbox.csat_survey_enabled,
        "csat_config": {},
        "enable_auto_assignment": inbox.enable_auto_assignment,
        "auto_assignment_config": inbox.auto_assignment_config,
        "out_of_office_message": inbox.out_of_office_message,
        "working_hours": default_working_hours(),
        "timezone": inbox.timezone,
        "callback_webhook_url": Value::Null,
        "allow_messages_after_resolved": inbox.allow_messages_after_resolved,
        "lock_to_single_conversation": inbox.lock_to_single_conversation,
        "sender_name_type": sender_name_type(inbox.sender_name_type),
        "business_name": inbox.business_name,
        "widget_color": Value::Null,
        "website_url": Value::Null,
        "hmac_mandatory": inbox.hmac_mandatory,
        "welcome_title": Value::Null,
        "welcome_tagline": Value::Null,
        "web_widget_script": Value::Null,
        "website_token": Value::Null,
        "selected_feature_flags": Value::Null,
        "reply_time": Value::Null,
        "messaging_service_sid": Value::Null,
        "phone_number": Value::Null,
    });
    // Credentials are for administrators only, as in Chatwoot: the contact-identity HMAC token
    // and the secret that signs what is sent to `webhook_url`.
    if viewer_is_administrator {
        out["hmac_token"] = json!(inbox.hmac_token);
        out["secret"] = json!(inbox.secret);
    }
    out["webhook_url"] = json!(inbox.webhook_url);
    out["inbox_identifier"] = json!(inbox.identifier);
    out["additional_attributes"] = inbox.additional_attributes.clone();
    out["provider"] = Value::Null;
    out
}

/// The raw inbox record Chatwoot returns inside a contact create's `contact_inbox`.
pub fn inbox_record(inbox: &Inbox) -> Value {
    json!({
        "id": inbox.id,
        "channel_id": inbox.id,
        "account_id": inbox.account_id,
        "name": inbox.name,
        "created_at": iso_millis(inbox.created_at),
        "updated_at": iso_millis(inbox.updated_at),
        "channel_type": inbox.channel_type,
        "enable_auto_assignment": inbox.enable_auto_assignment,
        "greeting_enabled": inbox.greeting_enabled,
        "greeting_message": inbox.greeting_message,
        "email_address": Value::Null,
        "working_hours_enabled": inbox.working_hours_enabled,
        "out_of_office_message": inbox.out_of_office_message,
        "timezone": inbox.timezone,
        "enable_email_collect": inbox.enable_email_collect,
        "csat_survey_enabled": inbox.csat_survey_enabled,
        "allow_messages_after_resolved": inbox.allow_messages_after_resolved,
        "auto_assignment_config": inbox.auto_assignment_config,
        "lock_to_single_conversation": inbox.lock_to_single_conversation,
        "sender_name_type": sender_name_type(inbox.sender_name_type),
        "business_name": inbox.business_name,
    })
}

/// `_team.json.jbuilder`.
#[derive(Serialize)]
pub struct TeamJson<'a> {
    id: i64,
    name: &'a str,
    description: Option<&'a str>,
    allow_auto_assign: bool,
    account_id: i64,
    is_member: bool,
}

impl<'a> TeamJson<'a> {
    pub fn of(team: &'a Team) -> Self {
        Self {
            id: team.id,
            name: &team.name,
            description: team.description.as_deref(),
            allow_auto_assign: team.allow_auto_assign,
            account_id: team.account_id,
            is_member: team.is_member,
        }
    }
}

pub fn team(team: &Team) -> Value {
    value_of(TeamJson::of(team))
}

/// `_contact.json.jbuilder`; `contact_inboxes` is listed when given.
#[derive(Serialize)]
pub struct ContactJson<'a> {
    additional_attributes: &'a Value,
    availability_status: &'static str,
    email: Option<&'a str>,
    id: i64,
    name: &'a str,
    phone_number: Option<&'a str>,
    blocked: bool,
    identifier: Option<&'a str>,
    thumbnail: &'a str,
    custom_attributes: &'a Value,
    /// Chatwoot leaves last_activity_at out while it is unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_activity_at: Option<i64>,
    created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_inboxes: Option<Vec<Value>>,
}

impl<'a> ContactJson<'a> {
    pub fn of(contact: &'a Contact, contact_inboxes: Option<&[ContactInbox]>) -> Self {
        Self {
            additional_attributes: &contact.additional_attributes,
            availability_status: "offline",
            email: contact.email.as_deref(),
            id: contact.id,
            name: &contact.name,
            phone_number: contact.phone_number.as_deref(),
            blocked: contact.blocked,
            identifier: contact.identifier.as_deref(),
            thumbnail: thumbnail(contact.avatar_url.as_deref()),
            custom_attributes: &contact.custom_attributes,
            last_activity_at: contact.last_activity_at.map(unix_seconds),
            created_at: unix_seconds(contact.created_at),
            contact_inboxes: contact_inboxes.map(|list| list.iter().map(contact_inbox).collect()),
        }
    }
}

pub fn contact(contact: &Contact, contact_inboxes: Option<&[ContactInbox]>) -> Value {
    value_of(ContactJson::of(contact, contact_inboxes))
}

/// `_contact_inbox.json.jbuilder` with its slim inbox.
pub fn contact_inbox(entry: &ContactInbox) -> Value {
    json!({
        "source_id": entry.source_id,
        "inbox": {
            "id": entry.inbox_id,
            "avatar_url": thumbnail(entry.avatar_url.as_deref()),
            "channel_id": entry.inbox_id,
            "name": entry.inbox_name,
            "channel_type": entry.channel_type,
            "provider": Value::Null,
        },
    })
}

/// The label object of the labels API.
pub fn label(label: &Label) -> Value {
    json!({
        "id": label.id,
        "title": label.title,
        "description": label.description,
        "color": label.color,
        "show_on_sidebar": label.show_on_sidebar,
    })
}

/// `_custom_attribute_definition.json.jbuilder`.
pub fn custom_attribute_definition(definition: &Definition) -> Value {
    json!({
        "id": definition.id,
        "attribute_display_name": definition.display_name,
        "attribute_display_type": definition.display_type.as_str(),
        "attribute_description": definition.description,
        "attribute_key": definition.key,
        "regex_pattern": definition.regex_pattern,
        "regex_cue": definition.regex_cue,
        "attribute_values": definition.values,
        "attribute_model": definition.model.as_str(),
        "default_value": definition.default_value,
        "created_at": iso_millis(definition.created_at),
        "updated_at": iso_millis(definition.updated_at),
    })
}

/// `/auth/session`: the CSRF token the app sends back in `X-CSRF-Token` on changes, and the
/// profile (whose `access_token` is null: the session's cookie is not shown to script).
pub fn browser_session(user: &Agent, memberships: &[Membership], csrf_token: &str) -> Value {
    json!({ "csrf_token": csrf_token, "profile": profile(user, memberships, None) })
}

/// A short confirmation: `{"message": ...}`.
pub fn message(text: &str) -> Value {
    json!({ "message": text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_as_rails_does() {
        assert_eq!(unix_seconds(1_712_345_678_900_000), 1_712_345_678);
        assert_eq!(
            iso_millis(1_712_345_678_123_456),
            json!("2024-04-05T19:34:38.123Z")
        );
    }
}
