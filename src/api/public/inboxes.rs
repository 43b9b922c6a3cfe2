//! `GET /public/api/v1/inboxes/{inbox_identifier}`: what a client needs to know about the inbox.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};

use super::InboxPath;
use crate::api::ApiResult;
use crate::app::AppState;
use crate::store::public;
use crate::views;

#[utoipa::path(get, path = "/public/api/v1/inboxes/{inbox_identifier}",
    responses((status = 200, body = doc::PublicInbox)))]
pub async fn show(state: web::Data<AppState>, path: web::Path<InboxPath>) -> ApiResult {
    let identifier = path.into_inner().inbox_identifier;
    let inbox = state
        .db
        .read(move |conn| public::inbox(conn, &identifier))
        .await?;
    Ok(HttpResponse::Ok().json(views::public::inbox(&inbox)))
}
