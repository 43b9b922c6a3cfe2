//! `/api/v1/accounts/{a}/inbox_members`: who works in an inbox. Administrators change it; the
//! list is readable by whoever may see the inbox.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::input::{FlexId, JsonBody};
use super::members::{self, Change, UserIds};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::inboxes;
use crate::store::members::Group;
use crate::views;

#[derive(Deserialize)]
pub struct MembersInput {
    inbox_id: Option<FlexId>,
    #[serde(flatten)]
    users: UserIds,
}

fn inbox_group(
    account_id: i64,
    inbox_id: i64,
) -> impl FnMut(&Conn) -> Result<Group, crate::store::StoreError> {
    move |conn| inboxes::get(conn, account_id, inbox_id).map(|_| Group::Inbox(inbox_id))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/inbox_members/{id}",
    responses((status = 200, description = "The inbox's members; `id` is the inbox's", body = doc::AgentPayload)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let inbox_id = path.id;
    let viewer = principal.clone();
    let allowed = state
        .db
        .read(move |conn| inboxes::can_access(conn, &viewer, inbox_id))
        .await?;
    if !allowed {
        return Err(ApiError::NotAllowed);
    }
    let agents = members::list(
        &state,
        principal.account_id,
        inbox_group(principal.account_id, inbox_id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "payload": views::agents(&agents) })))
}

async fn change(
    state: &AppState,
    principal: Principal,
    input: MembersInput,
    change: Change,
) -> ApiResult {
    principal.require_administrator()?;
    let inbox_id = input
        .inbox_id
        .ok_or_else(|| ApiError::unprocessable("param is missing or the value is empty: inbox_id"))?
        .0;
    let user_ids = input.users.ids()?;
    let locate = inbox_group(principal.account_id, inbox_id);
    let applied = members::apply(state, &principal, user_ids, change, locate)
        .await?
        .ok_or_else(|| ApiError::unprocessable(members::INVALID_USER_IDS))?;
    Ok(match change {
        Change::Remove => HttpResponse::Ok().finish(),
        Change::Add | Change::Replace => {
            HttpResponse::Ok().json(json!({ "payload": views::agents(&applied.members) }))
        }
    })
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inbox_members",
    request_body = doc::InboxMembersInput,
    responses((status = 200, description = "The inbox's members", body = doc::AgentPayload)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<MembersInput>,
) -> ApiResult {
    change(&state, principal, body.0, Change::Add).await
}

#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/inbox_members",
    request_body = doc::InboxMembersInput,
    responses((status = 200, description = "The inbox's members, now exactly `user_ids`", body = doc::AgentPayload)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<MembersInput>,
) -> ApiResult {
    change(&state, principal, body.0, Change::Replace).await
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/inbox_members",
    request_body = doc::InboxMembersInput,
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<MembersInput>,
) -> ApiResult {
    change(&state, principal, body.0, Change::Remove).await
}
