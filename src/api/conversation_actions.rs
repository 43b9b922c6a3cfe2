//! The actions on one conversation: status, priority, mute, last-seen, custom attributes, labels,
//! assignments, typing and attachments.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::conversations::{parse_priority, parse_status, render};
use super::input::{nullable, FlexBool, FlexId, FlexTime, JsonBody, NameOrCode};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::events;
use crate::models::Principal;
use crate::store::conversations::{self, Conversation};
use crate::store::{agents, changes, details, messages, teams, StoreResult};
use crate::views;
use crate::views::conversations::{self as conversation_views, Links};

/// Attachments per page of `GET /attachments` (Chatwoot's ATTACHMENT_RESULTS_PER_PAGE).
const ATTACHMENTS_PER_PAGE: i64 = 100;
/// Labels a conversation may carry at once, and the longest title accepted.
const MAX_LABELS: usize = 100;
const MAX_LABEL_CHARS: usize = 255;

/// Runs `change` on the visible conversation in one write transaction, then reads it back.
async fn write_and_reload<T, F>(
    state: &AppState,
    principal: Principal,
    display_id: i64,
    mut change: F,
) -> Result<(Conversation, T), ApiError>
where
    T: Send + 'static,
    F: FnMut(&Conn, &Principal, &Conversation, i64) -> StoreResult<T> + Send + 'static,
{
    state
        .write_by(principal.actor, move |tx, now| {
            let conversation = conversations::visible(tx, &principal, display_id)?;
            let out = change(tx, &principal, &conversation, now)?;
            Ok((conversations::get_by_id(tx, conversation.id)?, out))
        })
        .await
}

#[derive(Deserialize)]
pub struct ToggleStatusInput {
    status: Option<NameOrCode>,
    snoozed_until: Option<FlexTime>,
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/toggle_status",
    request_body = doc::ToggleStatusInput,
    responses((status = 200, body = doc::ToggleStatusResult)))]
pub async fn toggle_status(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<ToggleStatusInput>,
) -> ApiResult {
    let requested = parse_status(body.0.status)?;
    let snoozed_until = body.0.snoozed_until.map(|t| t.0);
    let (conversation, ()) = write_and_reload(
        &state,
        principal,
        path.id,
        move |tx, principal, conversation, now| {
            let status = changes::toggled(conversation.status, requested);
            changes::change_status(tx, principal, conversation, status, snoozed_until, now)
        },
    )
    .await?;
    // The waker looks again at when the next snooze falls due.
    state.snoozes.snoozes_changed();
    Ok(HttpResponse::Ok().json(json!({
        "meta": {},
        "payload": {
            "success": true,
            "conversation_id": conversation.display_id,
            "current_status": conversation.status.as_str(),
            "snoozed_until": conversation.snoozed_until.map_or(Value::Null, views::iso_millis),
        }
    })))
}

#[derive(Deserialize)]
pub struct TogglePriorityInput {
    #[serde(default, deserialize_with = "nullable")]
    priority: Option<Option<String>>,
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/toggle_priority",
    request_body = doc::PriorityInput,
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn toggle_priority(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<TogglePriorityInput>,
) -> ApiResult {
    // `priority.presence`: a missing, null or empty priority clears it.
    let priority = parse_priority(body.0.priority.flatten())?;
    write_and_reload(
        &state,
        principal,
        path.id,
        move |tx, principal, conversation, now| {
            changes::change_priority(tx, principal, conversation, priority, now)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().finish())
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/mute",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn mute(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    write_and_reload(&state, principal, path.id, changes::mute).await?;
    Ok(HttpResponse::Ok().finish())
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/unmute",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn unmute(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    write_and_reload(&state, principal, path.id, changes::unmute).await?;
    Ok(HttpResponse::Ok().finish())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct TypingInput {
    #[serde(default)]
    typing_status: Option<String>,
    #[serde(default)]
    is_private: Option<bool>,
}

/// Any client may say it is typing; nothing is stored, only Chatwoot's typing event is sent
/// (`typing_status` `on` or `off`; anything else, as in Chatwoot, announces nothing).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/toggle_typing_status",
    request_body(content = Option<doc::TypingInput>, content_type = "application/json"),
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn toggle_typing_status(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: Option<JsonBody<TypingInput>>,
) -> ApiResult {
    let display_id = path.id;
    let input = body.map(|b| b.0).unwrap_or_default();
    let on = match input.typing_status.as_deref() {
        Some("on") => Some(true),
        Some("off") => Some(false),
        _ => None,
    };
    let is_private = input.is_private.unwrap_or(false);
    let actor = principal.actor;
    state
        .write_by(actor, move |tx, _| {
            let conversation = conversations::visible(tx, &principal, display_id)?;
            match on {
                Some(on) => {
                    events::record::typing(tx, conversation.id, actor.into(), on, is_private)
                }
                None => Ok(()),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().finish())
}

async fn render_reloaded(
    state: &AppState,
    conversation: Conversation,
    viewer: Option<i64>,
    links: Links,
) -> ApiResult {
    let catalog = state.catalog.view();
    let rendered = state
        .db
        .read(move |conn| render(conn, &catalog, conversation, viewer, &links))
        .await?;
    Ok(HttpResponse::Ok().json(rendered))
}

/// The agent has seen everything: `agent_last_seen_at` (and, for the assignee,
/// `assignee_last_seen_at`) become now; `updated_at` is untouched.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/update_last_seen",
    responses((status = 200, body = doc::Conversation)))]
pub async fn update_last_seen(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    links: Links,
) -> ApiResult {
    let viewer = principal.user_id();
    let (conversation, ()) = write_and_reload(
        &state,
        principal,
        path.id,
        |tx, principal, conversation, now| {
            let assignee_seen = if principal
                .user_id()
                .is_some_and(|me| conversation.assignee_id == Some(me))
            {
                Some(now)
            } else {
                conversation.assignee_last_seen_at
            };
            conversations::set_last_seen(tx, conversation.id, Some(now), assignee_seen)
        },
    )
    .await?;
    render_reloaded(&state, conversation, viewer, links).await
}

/// Marks the last incoming message unread: both last-seen times become one second before it.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/unread",
    responses((status = 200, body = doc::Conversation)))]
pub async fn unread(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    links: Links,
) -> ApiResult {
    let viewer = principal.user_id();
    let (conversation, ()) =
        write_and_reload(&state, principal, path.id, |tx, _, conversation, _| {
            let seen = messages::last_incoming_at(tx, conversation.id)?.map(|at| at - 1_000_000);
            conversations::set_last_seen(tx, conversation.id, seen, seen)
        })
        .await?;
    render_reloaded(&state, conversation, viewer, links).await
}

#[derive(Deserialize)]
pub struct CustomAttributesInput {
    custom_attributes: Option<Value>,
    merge: Option<FlexBool>,
}

/// Replaces the custom attributes (or, with `merge: true`, merges them in).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/custom_attributes",
    request_body = doc::CustomAttributesInput,
    responses((status = 200, body = doc::CustomAttributesResult)))]
pub async fn custom_attributes(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<CustomAttributesInput>,
) -> ApiResult {
    let given = match body.0.custom_attributes {
        Some(Value::Object(map)) => map,
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "Invalid value for 'custom_attributes': expected an object, got {other}"
            )))
        }
    };
    let merge = body.0.merge.is_some_and(|m| m.0);
    let (conversation, ()) = write_and_reload(
        &state,
        principal,
        path.id,
        move |tx, _, conversation, now| {
            let mut attributes = if merge {
                conversation
                    .custom_attributes
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            } else {
                Map::new()
            };
            attributes.extend(given.clone());
            conversations::set_custom_attributes(
                tx,
                conversation.id,
                &Value::Object(attributes),
                now,
            )
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "custom_attributes": conversation.custom_attributes })))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{id}/labels",
    responses((status = 200, body = doc::LabelTitles)))]
pub async fn labels(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let display_id = path.id;
    let labels = state
        .db
        .read(move |conn| {
            let conversation = conversations::visible(conn, &principal, display_id)?;
            conversations::labels(conn, conversation.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "payload": labels })))
}

#[derive(Deserialize)]
pub struct LabelsInput {
    labels: Option<Value>,
}

/// The label titles sent: an array of strings (or one comma-separated string), trimmed, without
/// blanks or repeats.
fn label_titles(given: Option<Value>) -> Result<Vec<String>, ApiError> {
    let raw: Vec<String> = match given {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(csv)) => csv.split(',').map(str::to_string).collect(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                other => Err(ApiError::unprocessable(format!(
                    "Invalid label {other}: labels are strings"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "Invalid value for 'labels': {other}"
            )))
        }
    };
    let mut titles: Vec<String> = Vec::new();
    for title in raw {
        let title = title.trim().to_string();
        if title.chars().count() > MAX_LABEL_CHARS {
            return Err(ApiError::unprocessable(format!(
                "Label is too long (maximum is {MAX_LABEL_CHARS} characters)"
            )));
        }
        if !title.is_empty() && !titles.contains(&title) {
            titles.push(title);
        }
    }
    if titles.len() > MAX_LABELS {
        return Err(ApiError::unprocessable(format!(
            "At most {MAX_LABELS} labels per conversation"
        )));
    }
    Ok(titles)
}

/// Replaces the conversation's labels and answers with the new list.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/labels",
    request_body = doc::LabelsInput,
    responses((status = 200, body = doc::LabelTitles)))]
pub async fn set_labels(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<LabelsInput>,
) -> ApiResult {
    let titles = label_titles(body.0.labels)?;
    let (_, labels) = write_and_reload(
        &state,
        principal,
        path.id,
        move |tx, principal, conversation, now| {
            changes::replace_labels(tx, principal, conversation, &titles, now)?;
            conversations::labels(tx, conversation.id)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "payload": labels })))
}

#[derive(Deserialize)]
pub struct AssignmentInput {
    #[serde(default, deserialize_with = "nullable")]
    assignee_id: Option<Option<FlexId>>,
    #[serde(default, deserialize_with = "nullable")]
    team_id: Option<Option<FlexId>>,
}

/// What an assignment answers: the agent, the raw team record, or null.
enum Assigned {
    Agent(Option<crate::models::Agent>),
    Team(Option<teams::Team>, Option<(i64, i64)>),
    Nothing,
}

/// `assignee_id` wins when present (unknown or null unassigns); else `team_id` (unknown or null
/// clears the team); else nothing happens.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/assignments",
    request_body = doc::AssignmentInput,
    responses((status = 200, description = "The agent assigned, the team set, or null", body = Option<doc::Assignment>)))]
pub async fn assign(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<AssignmentInput>,
) -> ApiResult {
    let input = body.0;
    let (_, assigned) = write_and_reload(
        &state,
        principal,
        path.id,
        move |tx, principal, conversation, now| {
            let account = principal.account_id;
            if let Some(assignee) = input.assignee_id {
                let agent = match assignee {
                    Some(id) => agents::find(tx, account, id.0)?,
                    None => None,
                };
                changes::change_assignee(
                    tx,
                    principal,
                    conversation,
                    agent.as_ref().map(|a| a.id),
                    now,
                )?;
                return Ok(Assigned::Agent(agent));
            }
            if let Some(team) = input.team_id {
                let team = match team {
                    Some(id) => teams::get(tx, account, id.0, principal.user_id()).ok(),
                    None => None,
                };
                changes::change_team(
                    tx,
                    principal,
                    conversation,
                    team.as_ref().map(|t| t.id),
                    now,
                )?;
                let times = match &team {
                    Some(t) => Some(teams::timestamps(tx, t.id)?),
                    None => None,
                };
                return Ok(Assigned::Team(team, times));
            }
            Ok(Assigned::Nothing)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(match assigned {
        Assigned::Agent(Some(agent)) => views::agent(&agent),
        Assigned::Team(Some(team), Some((created_at, updated_at))) => json!({
            "id": team.id,
            "name": team.name,
            "description": team.description,
            "allow_auto_assign": team.allow_auto_assign,
            "account_id": team.account_id,
            "created_at": views::iso_millis(created_at),
            "updated_at": views::iso_millis(updated_at),
        }),
        _ => Value::Null,
    }))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

/// `GET /attachments`: newest first, 100 per page, with the total.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{id}/attachments",
    params(doc::PageQuery),
    responses((status = 200, body = doc::AttachmentList)))]
pub async fn attachments(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    query: web::Query<PageQuery>,
    links: Links,
) -> ApiResult {
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let display_id = path.id;
    let (items, total) = state
        .db
        .read(move |conn| {
            let conversation = conversations::visible(conn, &principal, display_id)?;
            let (rows, total) = messages::conversation_attachments(
                conn,
                conversation.id,
                page,
                ATTACHMENTS_PER_PAGE,
            )?;
            let mut items = Vec::with_capacity(rows.len());
            for (attachment, message) in rows {
                let message = details::message(conn, message)?;
                items.push(conversation_views::attachment_item(
                    &attachment,
                    &message,
                    &links,
                ));
            }
            Ok((items, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "meta": { "total_count": total }, "payload": items })))
}
