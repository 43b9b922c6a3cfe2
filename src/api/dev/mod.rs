//! Dev mode's admin endpoints under `/__wootlite/` (no Chatwoot path starts so): the clock, the
//! journals of requests and webhook attempts, the mail catcher, what the server runs with, and a
//! reset to the state right after the first start.
//! They exist only with `--dev`; without it every such path is a 404 like any unknown one. An
//! administrator's token (of any account) opens them.

pub(super) mod clock;
pub(super) mod info;
pub(super) mod mails;
pub mod request_journal;
pub(super) mod reset;
pub mod shared;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{dev, web, FromRequest, HttpRequest, HttpResponse};
use serde_json::Value;

use super::ApiResult;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::events::sender::AttemptRecord;
use crate::journal::Journal;
use crate::models::Role;
use crate::store::accounts;
use request_journal::RequestRecord;

/// What dev mode keeps beside the server's state.
pub struct DevTools {
    pub requests: Journal<RequestRecord>,
    pub webhooks: Arc<Journal<AttemptRecord>>,
    /// What `/__wootlite/info` shows: the settings in effect, secrets hidden.
    pub info: Value,
    pub mail_dir: std::path::PathBuf,
    /// The first administrator's token, given again by a reset.
    pub bootstrap_token: Option<String>,
    /// What a reset loads: the fixtures the server was started with, if any.
    pub fixtures: Option<Arc<crate::fixtures::Fixtures>>,
    /// What this node has followed of the clock and resets that nodes share (PostgreSQL).
    pub shared: shared::Seen,
}

/// An administrator of some account, calling in dev mode.
pub struct DevAdmin;

impl FromRequest for DevAdmin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let user = user.await?;
            let state = state.ok_or_else(|| ApiError::Internal("no state".into()))?;
            let memberships = state
                .db
                .read(move |conn| accounts::memberships_of(conn, user.user_id))
                .await?;
            if memberships.iter().any(|m| m.role == Role::Administrator) {
                Ok(DevAdmin)
            } else {
                Err(ApiError::NotAllowed)
            }
        })
    }
}

/// The dev tools, which exist whenever these routes do.
fn tools(state: &AppState) -> Result<&DevTools, ApiError> {
    state.dev.as_deref().ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/__wootlite/requests",
    responses((status = 200, description = "The requests served, oldest first", body = Vec<serde_json::Value>)))]
pub(super) async fn requests(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    Ok(HttpResponse::Ok().json(tools(&state)?.requests.entries()))
}

#[utoipa::path(delete, path = "/__wootlite/requests",
    responses((status = 204, description = "Emptied")))]
pub(super) async fn clear_requests(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    tools(&state)?.requests.clear();
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/__wootlite/webhooks",
    responses((status = 200, description = "The delivery attempts, oldest first", body = Vec<serde_json::Value>)))]
pub(super) async fn webhooks(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    Ok(HttpResponse::Ok().json(tools(&state)?.webhooks.entries()))
}

#[utoipa::path(delete, path = "/__wootlite/webhooks",
    responses((status = 204, description = "Emptied")))]
pub(super) async fn clear_webhooks(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    tools(&state)?.webhooks.clear();
    Ok(HttpResponse::NoContent().finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/__wootlite")
            .service(web::resource("/clock").get(clock::show).post(clock::change))
            .route("/info", web::get().to(info::show))
            .route("/reset", web::post().to(reset::reset))
            .service(
                web::resource("/mails")
                    .get(mails::index)
                    .delete(mails::clear),
            )
            .route("/mails/{id}", web::get().to(mails::show))
            .service(
                web::resource("/requests")
                    .get(requests)
                    .delete(clear_requests),
            )
            .service(
                web::resource("/webhooks")
                    .get(webhooks)
                    .delete(clear_webhooks),
            ),
    );
}
