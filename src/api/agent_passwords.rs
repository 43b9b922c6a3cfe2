//! An administrator and an agent's password: `POST /agents/{id}/password` sets it, `POST
//! /agents/{id}/reset_password` mails the agent a set-password link (one email of the account's
//! daily quota). A password opens every account of its user, so only an administrator of all of
//! them may do either (else Chatwoot's 401 "not authorized"); another account's agent is a 404.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::input::JsonBody;
use super::passwords::{acceptable, hash};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::mail::password as mail_template;
use crate::models::{Actor, Principal};
use crate::store::{agents, mail, password_tokens, sessions, StoreError, StoreResult};
use crate::views;
use crate::views::conversations::Links;

#[derive(Deserialize)]
pub struct PasswordInput {
    #[serde(default)]
    password: String,
}

/// The calling administrator's user id.
fn administrator(principal: &Principal) -> Result<i64, ApiError> {
    principal.require_administrator()?;
    match principal.actor {
        Actor::User(id) => Ok(id),
        Actor::Bot(_) => Err(ApiError::NotAllowed),
    }
}

/// The target must be the account's agent (404) whose every account the caller administers.
fn may_manage(conn: &Conn, account_id: i64, admin_id: i64, user_id: i64) -> StoreResult<()> {
    if !agents::is_member(conn, account_id, user_id)? {
        return Err(StoreError::NotFound);
    }
    if !agents::administers_every_account_of(conn, admin_id, user_id)? {
        return Err(StoreError::NotAllowed);
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/agents/{id}/password",
    request_body = doc::AgentPasswordRequest,
    responses((status = 200, body = doc::Confirmation, description = "The password is set and the \
        agent's browser sessions have ended; 422 when it is too short")))]
pub async fn set(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    JsonBody(input): JsonBody<PasswordInput>,
) -> ApiResult {
    let admin_id = administrator(&principal)?;
    let (account_id, user_id) = (principal.account_id, path.id);
    state
        .db
        .read(move |conn| may_manage(conn, account_id, admin_id, user_id))
        .await?;
    acceptable(&input.password, None)?;
    let hash = hash(input.password).await?;
    state
        .write_at(move |tx, now| {
            may_manage(tx, account_id, admin_id, user_id)?;
            agents::set_password_hash_of(tx, user_id, &hash, now)?;
            sessions::end_all(tx, user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::message("The password is set")))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/agents/{id}/reset_password",
    responses((status = 200, body = doc::Confirmation, description = "A set-password link is mailed \
        to the agent (valid 24 hours; 429 when the account's emails for the day are used up)")))]
pub async fn reset(
    state: web::Data<AppState>,
    principal: Principal,
    links: Links,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let admin_id = administrator(&principal)?;
    let (account_id, user_id, quota) = (principal.account_id, path.id, state.emails_per_day);
    let sent = state
        .write_at(move |tx, now| {
            may_manage(tx, account_id, admin_id, user_id)?;
            if !mail::count_email(tx, account_id, now, quota)? {
                return Ok(false);
            }
            let issued =
                password_tokens::issue(tx, user_id, password_tokens::RESET_LIFETIME_MICROS, now)?;
            let (email, _) = agents::email_and_name(tx, user_id)?;
            let rendered = mail_template::reset(
                &links.base_url,
                &issued.token,
                issued.expires_at,
                mail_template::AskedBy::Administrator,
            );
            mail::enqueue(tx, &rendered.to(account_id, &email), now)?;
            Ok(true)
        })
        .await?;
    if !sent {
        return Err(ApiError::TooManyRequests(
            "The account's daily email limit is reached: the mail was not sent".into(),
        ));
    }
    state.mailer.queued();
    Ok(HttpResponse::Ok().json(views::message(
        "A link to choose a new password was mailed to the agent",
    )))
}
