//! Invitations. `POST /agents` with the email of an existing user who is not a member of the
//! account invites them by mail (`invite`) instead of adding them: only the user may agree to
//! join another account. `POST /api/v1/invitations/{token}/accept` makes them a member; the
//! mailed token is the credential, so no access token is needed.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::ApiResult;
use crate::app::AppState;
use crate::mail::invitation;
use crate::store::invitations::{self, NewInvitation};
use crate::store::{mail, StoreResult};
use crate::views;

/// Issues the invitation and queues its mail (the caller has counted it in the account's daily
/// email quota).
pub(super) fn invite(tx: &Conn, new: &NewInvitation, base_url: &str, now: i64) -> StoreResult<()> {
    let issued = invitations::issue(tx, new, now)?;
    let rendered = invitation::render(&issued, base_url);
    mail::enqueue(tx, &rendered.to(new.account_id, &issued.recipient), now)?;
    Ok(())
}

#[derive(Deserialize)]
pub struct TokenPath {
    token: String,
}

#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept",
    responses((status = 200, body = doc::InvitationAccepted)))]
pub async fn accept(state: web::Data<AppState>, path: web::Path<TokenPath>) -> ApiResult {
    let (token, now) = (path.into_inner().token, state.now());
    let accepted = state
        .db
        .write(move |tx| invitations::accept(tx, &token, now))
        .await?;
    Ok(HttpResponse::Ok().json(views::invitation_accepted(&accepted)))
}
