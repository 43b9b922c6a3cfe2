//! `/api/v1/accounts/{a}/teams`. Every member reads; administrators change (TeamPolicy).

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::input::{nullable, FlexBool, JsonBody};
use super::validate::{self, MAX_TEXT_CHARS};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::teams::{self, Team, TeamFields};
use crate::views;

#[derive(Deserialize)]
pub struct TeamInput {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    allow_auto_assign: Option<FlexBool>,
}

/// Validated input; fields not sent stay as they are.
#[derive(Clone)]
struct TeamPatch {
    name: Option<String>,
    description: Option<Option<String>>,
    allow_auto_assign: Option<bool>,
}

impl TeamInput {
    /// Names are lower-cased, as Chatwoot stores them.
    fn validate(self) -> Result<TeamPatch, ApiError> {
        Ok(TeamPatch {
            name: self
                .name
                .map(|name| validate::required("name", "Name", Some(name), "must not be blank"))
                .transpose()?
                .map(|name| name.to_lowercase()),
            description: self
                .description
                .map(|text| validate::optional("description", "Description", text, MAX_TEXT_CHARS))
                .transpose()?,
            allow_auto_assign: self.allow_auto_assign.map(|b| b.0),
        })
    }
}

impl TeamPatch {
    fn over(self, current: &Team) -> TeamFields {
        TeamFields {
            name: self.name.unwrap_or_else(|| current.name.clone()),
            description: self
                .description
                .unwrap_or_else(|| current.description.clone()),
            allow_auto_assign: self.allow_auto_assign.unwrap_or(current.allow_auto_assign),
        }
    }

    fn into_new(self) -> Result<TeamFields, ApiError> {
        Ok(TeamFields {
            name: self
                .name
                .ok_or_else(|| validate::invalid("name", "Name must not be blank".into()))?,
            description: self.description.flatten(),
            allow_auto_assign: self.allow_auto_assign.unwrap_or(true),
        })
    }
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/teams",
    responses((status = 200, body = Vec<doc::Team>)))]
pub async fn index(state: web::Data<AppState>, principal: Principal) -> ApiResult {
    let list = state
        .db
        .read(move |conn| teams::list(conn, principal.account_id, principal.user_id()))
        .await?;
    Ok(HttpResponse::Ok().json(list.iter().map(views::team).collect::<Vec<_>>()))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/teams/{id}",
    responses((status = 200, body = doc::Team)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let team_id = path.id;
    let team = state
        .db
        .read(move |conn| teams::get(conn, principal.account_id, team_id, principal.user_id()))
        .await?;
    Ok(HttpResponse::Ok().json(views::team(&team)))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/teams",
    request_body = doc::TeamInput,
    responses((status = 200, body = doc::Team)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<TeamInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let fields = body.0.validate()?.into_new()?;
    let now = state.now();
    let team = state
        .db
        .write(move |tx| {
            let team_id = teams::create(tx, principal.account_id, &fields, now)?;
            teams::get(tx, principal.account_id, team_id, principal.user_id())
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::team(&team)))
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/teams/{id}",
    request_body = doc::TeamInput,
    responses((status = 200, body = doc::Team)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<TeamInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let (team_id, now, patch) = (path.id, state.now(), body.0.validate()?);
    let team = state
        .db
        .write(move |tx| {
            let (account_id, viewer) = (principal.account_id, principal.user_id());
            let current = teams::get(tx, account_id, team_id, viewer)?;
            let fields = patch.clone().over(&current);
            teams::update(tx, account_id, team_id, &fields, now)?;
            teams::get(tx, account_id, team_id, viewer)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::team(&team)))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/teams/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, teams::delete).await
}
