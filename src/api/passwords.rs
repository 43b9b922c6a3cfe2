//! `PUT /auth/password`: choosing a password with a one-time token from a set-password link
//! (printed on first start, or mailed to a new agent, on an administrator's reset or on "forgot
//! password"). Devise's names: `reset_password_token`, `password`, `password_confirmation`. The
//! token works once; the user's browser sessions end, so whoever held the old password is
//! signed out.
//!
//! `POST /auth/password` is "forgot password": it mails a link to the email when it is a user's,
//! and answers the same whether it is or not.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::input::JsonBody;
use super::sign_in_limit::ResetLimit;
use super::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::mail::password::{self as mail_template, AskedBy};
use crate::passwords;
use crate::store::{accounts, agents, mail, password_tokens, sessions, StoreError, StoreResult};
use crate::views;
use crate::views::conversations::Links;

const BAD_TOKEN: &str = "The reset_password_token is invalid, used or expired";

#[derive(Deserialize)]
pub struct NewPassword {
    #[serde(default)]
    reset_password_token: String,
    #[serde(default)]
    password: String,
    password_confirmation: Option<String>,
}

/// The password a request chose, refused (422) when too weak or unlike its confirmation.
pub(super) fn acceptable(password: &str, confirmation: Option<&str>) -> Result<(), ApiError> {
    passwords::check_strength(password)
        .map_err(|why| ApiError::unprocessable(capitalised(&why)))?;
    if confirmation.is_some_and(|c| c != password) {
        return Err(ApiError::unprocessable(
            "The password_confirmation does not match the password",
        ));
    }
    Ok(())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The hash of an accepted password, made off the request workers.
pub(super) async fn hash(password: String) -> Result<String, ApiError> {
    web::block(move || passwords::hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

#[utoipa::path(put, path = "/auth/password", request_body = doc::SetPasswordRequest,
    responses(
        (status = 200, body = doc::Confirmation, description = "The password is set; the token is \
            used up and the user's browser sessions have ended"),
        (status = 422, body = doc::Error, description = "The token is unknown, used or \
            expired, or the password is too short or unlike its confirmation"),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<NewPassword>,
) -> ApiResult {
    acceptable(&input.password, input.password_confirmation.as_deref())?;
    let (token, now) = (input.reset_password_token.trim().to_string(), state.now());
    // Checked before the slow hashing, so that a bad token costs the server little.
    let lookup = token.clone();
    let valid = state
        .db
        .read(move |conn| password_tokens::user_of(conn, &lookup, now))
        .await?;
    if token.is_empty() || valid.is_none() {
        return Err(ApiError::unprocessable(BAD_TOKEN));
    }
    let hash = hash(input.password).await?;
    state
        .write_at(move |tx, now| {
            let user_id = password_tokens::consume(tx, &token, now)?
                .ok_or_else(|| StoreError::Rejected(BAD_TOKEN.into()))?;
            agents::set_password_hash_of(tx, user_id, &hash, now)?;
            // Only the mailbox (or the start banner's reader) had the link.
            agents::confirm(tx, user_id, now)?;
            sessions::end_all(tx, user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::message("Your password is set: sign in with it")))
}

#[derive(Deserialize)]
pub struct ForgotPassword {
    #[serde(default)]
    email: String,
}

/// Queues a reset link to the user with that email, if there is one with an account whose
/// emails for the day are not used up (the mail counts in their first account). Whether it did
/// is for the log only: the answer must not tell who has an account.
fn mail_reset_link(
    tx: &Conn,
    email: &str,
    base_url: &str,
    now: i64,
    emails_per_day: Option<u32>,
) -> StoreResult<bool> {
    let Some((user_id, _)) = agents::credentials(tx, email)? else {
        return Ok(false);
    };
    let Some(account_id) = accounts::memberships_of(tx, user_id)?
        .first()
        .map(|m| m.account_id)
    else {
        return Ok(false);
    };
    if !mail::count_email(tx, account_id, now, emails_per_day)? {
        return Ok(false);
    }
    let lifetime = password_tokens::RESET_LIFETIME_MICROS;
    let issued = password_tokens::issue(tx, user_id, lifetime, now)?;
    let (recipient, _) = agents::email_and_name(tx, user_id)?;
    let rendered =
        mail_template::reset(base_url, &issued.token, issued.expires_at, AskedBy::Anyone);
    mail::enqueue(tx, &rendered.to(account_id, &recipient), now)?;
    Ok(true)
}

#[utoipa::path(post, path = "/auth/password", request_body = doc::ForgotPasswordRequest,
    responses(
        (status = 200, body = doc::Confirmation, description = "The same answer whether the \
            email is a user's or not; if it is, a set-password link (valid 24 hours) is mailed \
            to it"),
        (status = 429, body = doc::Error, description = "Too many requests from the address or \
            for the email; retry after `Retry-After` seconds"),
    ))]
pub async fn forgot(
    state: web::Data<AppState>,
    limit: web::Data<ResetLimit>,
    links: Links,
    req: HttpRequest,
    JsonBody(input): JsonBody<ForgotPassword>,
) -> ApiResult {
    let email = input.email.trim().to_string();
    let address = req.peer_addr().map(|peer| peer.ip());
    // Every request counts: none is a success to take back.
    limit
        .0
        .begin(address, &email)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let (base_url, quota) = (links.base_url, state.emails_per_day);
    let sent = state
        .write_at(move |tx, now| mail_reset_link(tx, &email, &base_url, now, quota))
        .await?;
    if sent {
        state.mailer.queued();
    }
    Ok(HttpResponse::Ok().json(views::message(
        "If the address is a user's, a link to choose a new password was mailed to it",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_or_unconfirmed_passwords_are_refused() {
        assert!(acceptable("long enough", None).is_ok());
        assert!(acceptable("long enough", Some("long enough")).is_ok());
        assert!(acceptable("short", None).is_err());
        assert!(acceptable("long enough", Some("different")).is_err());
    }
}
