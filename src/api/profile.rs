//! `GET /api/v1/profile`.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};

use super::ApiResult;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::db::Conn;
use crate::models::Agent;
use crate::store::accounts::Membership;
use crate::store::{accounts, agents, StoreResult};
use crate::views;

#[utoipa::path(get, path = "/api/v1/profile",
    responses((status = 200, body = doc::Profile)))]
pub async fn show(state: web::Data<AppState>, user: CurrentUser) -> ApiResult {
    let user_id = user.user_id;
    let (person, memberships) = state.db.read(move |conn| load(conn, user_id)).await?;
    Ok(HttpResponse::Ok().json(views::profile(&person, &memberships, user.token.as_deref())))
}

/// The user as their profile shows them: as seen from their first account, and their accounts.
pub(super) fn load(conn: &Conn, user_id: i64) -> StoreResult<(Agent, Vec<Membership>)> {
    let memberships = accounts::memberships_of(conn, user_id)?;
    let person = agents::user(conn, user_id, memberships.first().map(|m| m.account_id))?;
    Ok((person, memberships))
}
