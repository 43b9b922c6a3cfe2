//! `PUT /auth/password`: choosing a password with a one-time token from a set-password link
//! (printed on first start, or mailed to a new agent or on an administrator's reset). Devise's
//! names: `reset_password_token`, `password`, `password_confirmation`. The token works once; the
//! user's browser sessions end, so whoever held the old password is signed out.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::input::JsonBody;
use super::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::passwords;
use crate::store::{agents, password_tokens, sessions, StoreError};
use crate::views;

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
            sessions::end_all(tx, user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::message("Your password is set: sign in with it")))
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
