//! `/api/v1/accounts/{a}/agent_bots`: the account's agent bots (Chatwoot's AgentBotsController).
//! Administrators and agents list and read them (only administrators see the access token and
//! the secret); administrators create, change, delete them and reset their token and secret.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::input::{enum_value, JsonBody, NameOrCode};
use super::validate::{self, Failures, MAX_TEXT_CHARS};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{BotType, Principal};
use crate::store::agent_bots::{self, AgentBot, AgentBotFields};
use crate::store::tokens;
use crate::views;

/// The body, with its keys under `agent_bot` or at the top level (a nested object wins).
#[derive(Deserialize)]
pub struct AgentBotBody {
    agent_bot: Option<AgentBotInput>,
    #[serde(flatten)]
    top: AgentBotInput,
}

/// Any JSON value for the text fields, so that a wrong type is a 422 naming the attribute.
#[derive(Deserialize, Default)]
pub struct AgentBotInput {
    #[serde(default, deserialize_with = "any_value")]
    name: Option<Value>,
    #[serde(default, deserialize_with = "any_value")]
    description: Option<Value>,
    #[serde(default, deserialize_with = "any_value")]
    outgoing_url: Option<Value>,
    bot_type: Option<NameOrCode>,
    #[serde(default, deserialize_with = "any_value")]
    bot_config: Option<Value>,
}

/// Present (even as `null`) reads as `Some`.
fn any_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A text field: `null` is none, numbers and booleans read as their text (as Rails casts them).
fn text(attribute: &str, label: &str, value: Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(validate::invalid(attribute, format!("{label} is invalid"))),
    }
}

/// `bot_config`: an object, or a string holding one; `null` is `{}`.
fn bot_config(value: Value) -> Result<Value, ApiError> {
    let invalid = || validate::invalid("bot_config", "Bot config is invalid".into());
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(map) => Ok(Value::Object(map)),
        Value::String(s) if s.trim().is_empty() => Ok(Value::Object(Map::new())),
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(map)) => Ok(Value::Object(map)),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

/// Validated input; fields not sent stay as they are.
#[derive(Clone)]
struct AgentBotPatch {
    name: Option<String>,
    description: Option<Option<String>>,
    outgoing_url: Option<Option<String>>,
    bot_type: Option<BotType>,
    bot_config: Option<Value>,
}

impl AgentBotBody {
    fn validate(self) -> Result<AgentBotPatch, ApiError> {
        let input = self.agent_bot.unwrap_or(self.top);
        let bot_type = enum_value(
            input.bot_type,
            "bot_type",
            BotType::parse,
            BotType::from_code,
            BotType::names,
        )?;
        let mut failures = Failures::default();
        let name = input.name.and_then(|value| {
            let name = failures.take(text("name", "Name", value))?;
            failures.take(validate::required("name", "Name", name, "can't be blank"))
        });
        let description = input.description.and_then(|value| {
            let description = failures.take(text("description", "Description", value))?;
            failures.take(validate::optional(
                "description",
                "Description",
                description,
                MAX_TEXT_CHARS,
            ))
        });
        let outgoing_url = input.outgoing_url.and_then(|value| {
            let url = failures.take(text("outgoing_url", "Outgoing url", value))?;
            failures.take(validate::optional_http_url(
                "outgoing_url",
                "Outgoing url",
                url,
            ))
        });
        let bot_config = input
            .bot_config
            .and_then(|value| failures.take(bot_config(value)));
        failures.into_result(AgentBotPatch {
            name,
            description,
            outgoing_url,
            bot_type,
            bot_config,
        })
    }
}

impl AgentBotPatch {
    /// A new bot needs a name.
    fn into_new(self) -> Result<AgentBotFields, ApiError> {
        let name = self
            .name
            .ok_or_else(|| validate::invalid("name", "Name can't be blank".into()))?;
        Ok(AgentBotFields {
            name,
            description: self.description.flatten(),
            outgoing_url: self.outgoing_url.flatten(),
            bot_type: self.bot_type.unwrap_or(BotType::Webhook),
            bot_config: self.bot_config.unwrap_or_else(|| Value::Object(Map::new())),
        })
    }

    fn over(self, current: &AgentBot) -> AgentBotFields {
        let current = current.fields();
        AgentBotFields {
            name: self.name.unwrap_or(current.name),
            description: self.description.unwrap_or(current.description),
            outgoing_url: self.outgoing_url.unwrap_or(current.outgoing_url),
            bot_type: self.bot_type.unwrap_or(current.bot_type),
            bot_config: self.bot_config.unwrap_or(current.bot_config),
        }
    }
}

fn render(bot: &AgentBot, principal: &Principal) -> HttpResponse {
    HttpResponse::Ok().json(views::agent_bots::agent_bot(
        bot,
        principal.is_administrator(),
    ))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/agent_bots",
    responses((status = 200, body = Vec<doc::AgentBot>)))]
pub async fn index(state: web::Data<AppState>, principal: Principal) -> ApiResult {
    let account_id = principal.account_id;
    let list = state
        .db
        .read(move |conn| agent_bots::list(conn, account_id))
        .await?;
    Ok(HttpResponse::Ok().json(views::agent_bots::index(
        &list,
        principal.is_administrator(),
    )))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/agent_bots/{id}",
    responses((status = 200, body = doc::AgentBot)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let (account_id, bot_id) = (principal.account_id, path.id);
    let bot = state
        .db
        .read(move |conn| agent_bots::get(conn, account_id, bot_id))
        .await?;
    Ok(render(&bot, &principal))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/agent_bots",
    request_body = doc::AgentBotInput,
    responses((status = 200, body = doc::AgentBot)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<AgentBotBody>,
) -> ApiResult {
    principal.require_administrator()?;
    let fields = body.0.validate()?.into_new()?;
    let account_id = principal.account_id;
    let bot = state
        .write_at(move |tx, now| {
            let (token, secret) = (tokens::generate(), tokens::generate());
            let id = agent_bots::create(tx, account_id, &fields, &token, &secret, now)?;
            agent_bots::get(tx, account_id, id)
        })
        .await?;
    Ok(render(&bot, &principal))
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/agent_bots/{id}",
    request_body = doc::AgentBotInput,
    responses((status = 200, body = doc::AgentBot)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<AgentBotBody>,
) -> ApiResult {
    principal.require_administrator()?;
    let patch = body.0.validate()?;
    let (account_id, bot_id) = (principal.account_id, path.id);
    let bot = state
        .write_at(move |tx, now| {
            let fields = patch
                .clone()
                .over(&agent_bots::get(tx, account_id, bot_id)?);
            agent_bots::update(tx, account_id, bot_id, &fields, now)?;
            agent_bots::get(tx, account_id, bot_id)
        })
        .await?;
    Ok(render(&bot, &principal))
}

/// Deletes the bot with its token and inbox links; its messages stay, without a sender.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/agent_bots/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, agent_bots::delete).await
}

/// What a reset stores: a fresh value for the bot's token or secret.
type Reset = fn(&Conn, i64, i64, &str, i64) -> crate::store::StoreResult<()>;

/// Gives the bot a fresh random value (`reset`) and answers the bot. Administrators only.
async fn reset_value(
    state: &AppState,
    principal: &Principal,
    bot_id: i64,
    reset: Reset,
) -> ApiResult {
    principal.require_administrator()?;
    let account_id = principal.account_id;
    let bot = state
        .write_at(move |tx, now| {
            reset(tx, account_id, bot_id, &tokens::generate(), now)?;
            agent_bots::get(tx, account_id, bot_id)
        })
        .await?;
    Ok(render(&bot, principal))
}

/// A new access token; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/agent_bots/{id}/reset_access_token",
    responses((status = 200, body = doc::AgentBot)))]
pub async fn reset_access_token(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    reset_value(&state, &principal, path.id, agent_bots::reset_access_token).await
}

/// A new signing secret for what is sent to the bot's `outgoing_url`.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/agent_bots/{id}/reset_secret",
    responses((status = 200, body = doc::AgentBot)))]
pub async fn reset_secret(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    reset_value(&state, &principal, path.id, agent_bots::reset_secret).await
}
