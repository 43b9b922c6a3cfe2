//! `GET /api/v1/profile`.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};

use super::ApiResult;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::store::{accounts, agents};
use crate::views;

#[utoipa::path(get, path = "/api/v1/profile",
    responses((status = 200, body = doc::Profile)))]
pub async fn show(state: web::Data<AppState>, user: CurrentUser) -> ApiResult {
    let user_id = user.user_id;
    let (person, memberships) = state
        .db
        .read(move |conn| {
            let memberships = accounts::memberships_of(conn, user_id)?;
            let person = agents::user(conn, user_id, memberships.first().map(|m| m.account_id))?;
            Ok((person, memberships))
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::profile(&person, &memberships, &user.token)))
}
