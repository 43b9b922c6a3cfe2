//! `/api/v1/accounts/{a}/teams/{id}/team_members`. Reading is open to members of the account;
//! changes are for administrators.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};

use super::input::JsonBody;
use super::members::{self, Change, UserIds};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::members::Group;
use crate::store::{teams, StoreError};
use crate::views;

fn team_group(
    principal: &Principal,
    team_id: i64,
) -> impl FnMut(&Conn) -> Result<Group, StoreError> {
    let (account_id, viewer) = (principal.account_id, principal.user_id());
    move |conn| teams::get(conn, account_id, team_id, viewer).map(|_| Group::Team(team_id))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/teams/{id}/team_members",
    responses((status = 200, body = Vec<doc::Agent>)))]
pub async fn index(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let agents = members::list(
        &state,
        principal.account_id,
        team_group(&principal, path.id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(views::agents(&agents)))
}

async fn change(
    state: &AppState,
    principal: Principal,
    team_id: i64,
    input: UserIds,
    change: Change,
) -> ApiResult {
    principal.require_administrator()?;
    let user_ids = input.ids()?;
    let locate = team_group(&principal, team_id);
    let applied = members::apply(state, &principal, user_ids, change, locate)
        .await?
        // Chatwoot answers a team change naming a stranger with 401.
        .ok_or_else(|| ApiError::Unauthorized(members::INVALID_USER_IDS.into()))?;
    Ok(match change {
        Change::Remove => HttpResponse::Ok().finish(),
        Change::Add => HttpResponse::Ok().json(views::agents(&applied.added)),
        Change::Replace => HttpResponse::Ok().json(views::agents(&applied.members)),
    })
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/teams/{id}/team_members",
    request_body = doc::UserIdsInput,
    responses((status = 200, description = "The agents just added", body = Vec<doc::Agent>)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<UserIds>,
) -> ApiResult {
    change(&state, principal, path.id, body.0, Change::Add).await
}

#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/teams/{id}/team_members",
    request_body = doc::UserIdsInput,
    responses((status = 200, description = "The team's members, now exactly `user_ids`", body = Vec<doc::Agent>)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<UserIds>,
) -> ApiResult {
    change(&state, principal, path.id, body.0, Change::Replace).await
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/teams/{id}/team_members",
    request_body = doc::UserIdsInput,
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<UserIds>,
) -> ApiResult {
    change(&state, principal, path.id, body.0, Change::Remove).await
}
