//! `/api/v1/accounts/{a}/inboxes`: API-channel inboxes. Agents see the inboxes they are members
//! of; administrators see and change all of them (Chatwoot's InboxPolicy), choose the agent bot
//! that answers an inbox and reset the secret that signs its webhook.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::input::{nullable, FlexBool, FlexId, JsonBody};
use super::validate::{self, MAX_TEXT_CHARS};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::agent_bots;
use crate::store::inboxes::{self, InboxChange, InboxKey};
use crate::views;

#[derive(Deserialize, Default)]
struct ChannelInput {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    webhook_url: Option<Option<String>>,
    hmac_mandatory: Option<FlexBool>,
}

#[derive(Deserialize)]
pub struct InboxInput {
    name: Option<String>,
    channel: Option<ChannelInput>,
    greeting_enabled: Option<FlexBool>,
    #[serde(default, deserialize_with = "nullable")]
    greeting_message: Option<Option<String>>,
    enable_email_collect: Option<FlexBool>,
    csat_survey_enabled: Option<FlexBool>,
    enable_auto_assignment: Option<FlexBool>,
    working_hours_enabled: Option<FlexBool>,
    #[serde(default, deserialize_with = "nullable")]
    out_of_office_message: Option<Option<String>>,
    timezone: Option<String>,
    allow_messages_after_resolved: Option<FlexBool>,
    lock_to_single_conversation: Option<FlexBool>,
    #[serde(default, deserialize_with = "nullable")]
    business_name: Option<Option<String>>,
}

fn optional_text(
    field: &str,
    value: Option<Option<String>>,
) -> Result<Option<Option<String>>, ApiError> {
    value
        .map(|v| validate::optional(field, field, v, MAX_TEXT_CHARS))
        .transpose()
}

/// Chatwoot's inbox name rule: no `< > / \ @`, and no symbol at either end.
fn valid_name(name: String) -> Result<String, ApiError> {
    let name = validate::required("name", "Name", Some(name), "can't be blank")?;
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let forbidden = name.contains(['<', '>', '/', '\\', '@']);
    if forbidden || !word(name.chars().next()) || !word(name.chars().last()) {
        return Err(validate::invalid(
            "name",
            "Name should not start or end with symbols, and it should not have < > / \\ @ characters.".into(),
        ));
    }
    Ok(name)
}

impl InboxInput {
    fn into_change(self) -> Result<InboxChange, ApiError> {
        let channel = self.channel.unwrap_or_default();
        if let Some(kind) = channel.kind.as_deref() {
            if kind != "api" {
                return Err(ApiError::unprocessable(format!(
                    "Channel type '{kind}' is not supported; wootlite serves API channels (\"type\": \"api\")"
                )));
            }
        }
        Ok(InboxChange {
            name: self.name.map(valid_name).transpose()?,
            webhook_url: channel
                .webhook_url
                .map(|v| validate::optional_http_url("webhook_url", "Webhook url", v))
                .transpose()?,
            hmac_mandatory: channel.hmac_mandatory.map(|b| b.0),
            greeting_enabled: self.greeting_enabled.map(|b| b.0),
            greeting_message: optional_text("greeting_message", self.greeting_message)?,
            enable_email_collect: self.enable_email_collect.map(|b| b.0),
            csat_survey_enabled: self.csat_survey_enabled.map(|b| b.0),
            enable_auto_assignment: self.enable_auto_assignment.map(|b| b.0),
            working_hours_enabled: self.working_hours_enabled.map(|b| b.0),
            out_of_office_message: optional_text(
                "out_of_office_message",
                self.out_of_office_message,
            )?,
            timezone: self
                .timezone
                .map(|t| validate::required("timezone", "Timezone", Some(t), "can't be blank"))
                .transpose()?,
            allow_messages_after_resolved: self.allow_messages_after_resolved.map(|b| b.0),
            lock_to_single_conversation: self.lock_to_single_conversation.map(|b| b.0),
            business_name: optional_text("business_name", self.business_name)?,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/inboxes",
    responses((status = 200, body = doc::InboxList)))]
pub async fn index(state: web::Data<AppState>, principal: Principal) -> ApiResult {
    let admin = principal.is_administrator();
    let list = state
        .db
        .read(move |conn| inboxes::visible_to(conn, &principal))
        .await?;
    let payload: Vec<_> = list
        .iter()
        .map(|inbox| views::inbox(inbox, admin))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "payload": payload })))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/inboxes/{id}",
    responses((status = 200, body = doc::Inbox)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let (inbox_id, admin) = (path.id, principal.is_administrator());
    let (inbox, allowed) = state
        .db
        .read(move |conn| {
            let inbox = inboxes::get(conn, principal.account_id, inbox_id)?;
            Ok((inbox, inboxes::can_access(conn, &principal, inbox_id)?))
        })
        .await?;
    if !allowed {
        return Err(ApiError::NotAllowed);
    }
    Ok(HttpResponse::Ok().json(views::inbox(&inbox, admin)))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inboxes",
    request_body = doc::InboxInput,
    responses((status = 200, body = doc::Inbox)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<InboxInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let change = body.0.into_change()?;
    let name = change
        .name
        .clone()
        .ok_or_else(|| validate::invalid("name", "Name can't be blank".into()))?;
    let (account_id, now) = (principal.account_id, state.now());
    let inbox = state
        .write_by(principal.actor, move |tx, _| {
            let inbox_id = inboxes::create(tx, account_id, &name, now)?;
            inboxes::update(tx, account_id, inbox_id, &change, now)?;
            inboxes::get(tx, account_id, inbox_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::inbox(&inbox, true)))
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/inboxes/{id}",
    request_body = doc::InboxInput,
    responses((status = 200, body = doc::Inbox)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<InboxInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let change = body.0.into_change()?;
    let (account_id, inbox_id, now) = (principal.account_id, path.id, state.now());
    let inbox = state
        .write_by(principal.actor, move |tx, _| {
            inboxes::update(tx, account_id, inbox_id, &change, now)?;
            inboxes::get(tx, account_id, inbox_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::inbox(&inbox, true)))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/inboxes/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, inboxes::delete).await
}

/// `GET /inboxes/{id}/agent_bot`: the inbox's active bot, for whoever may see the inbox.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/inboxes/{id}/agent_bot",
    responses((status = 200, body = doc::InboxAgentBot)))]
pub async fn agent_bot(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let (inbox_id, admin) = (path.id, principal.is_administrator());
    let (bot, allowed) = state
        .db
        .read(move |conn| {
            let account_id = principal.account_id;
            inboxes::get(conn, account_id, inbox_id)?;
            let allowed = inboxes::can_access(conn, &principal, inbox_id)?;
            Ok((agent_bots::of_inbox(conn, account_id, inbox_id)?, allowed))
        })
        .await?;
    if !allowed {
        return Err(ApiError::NotAllowed);
    }
    Ok(HttpResponse::Ok().json(views::agent_bots::of_inbox(bot.as_ref(), admin)))
}

#[derive(Deserialize)]
pub struct SetAgentBotInput {
    #[serde(default, deserialize_with = "nullable")]
    agent_bot: Option<Option<FlexId>>,
}

/// `POST /inboxes/{id}/set_agent_bot` with `{"agent_bot": id}` makes that bot the inbox's active
/// one (replacing any other); a null or absent `agent_bot` removes it. Administrators only.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inboxes/{id}/set_agent_bot",
    request_body = doc::SetAgentBotInput,
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn set_agent_bot(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<SetAgentBotInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let bot_id = body.0.agent_bot.flatten().map(|id| id.0);
    let (account_id, inbox_id) = (principal.account_id, path.id);
    state
        .write_at(move |tx, now| {
            inboxes::get(tx, account_id, inbox_id)?;
            if let Some(bot_id) = bot_id {
                agent_bots::get(tx, account_id, bot_id)?;
            }
            agent_bots::set_for_inbox(tx, account_id, inbox_id, bot_id, now)
        })
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// `POST /inboxes/{id}/reset_secret`: a new signing secret for the inbox's webhook; answers the
/// inbox. Administrators only.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inboxes/{id}/reset_secret",
    responses((status = 200, body = doc::Inbox)))]
pub async fn reset_secret(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    renew(&state, &principal, path.id, InboxKey::Secret).await
}

/// `POST /inboxes/{id}/rotate_hmac_token`: a new key for contact identity hashes; hashes made
/// with the old one stop verifying at once. Answers the inbox. Administrators only.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inboxes/{id}/rotate_hmac_token",
    responses((status = 200, body = doc::Inbox)))]
pub async fn rotate_hmac_token(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    renew(&state, &principal, path.id, InboxKey::HmacToken).await
}

async fn renew(state: &AppState, principal: &Principal, inbox_id: i64, key: InboxKey) -> ApiResult {
    principal.require_administrator()?;
    let account_id = principal.account_id;
    let inbox = state
        .write_by(principal.actor, move |tx, now| {
            inboxes::renew_key(tx, account_id, inbox_id, key, now)?;
            inboxes::get(tx, account_id, inbox_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::inbox(&inbox, true)))
}
