//! `POST /auth/sign_in`, Chatwoot's devise_token_auth sign-in: an email and a password give a
//! new access token, usable as `api_access_token`. A wrong password and an unknown email get the
//! same answer after the same hashing work; failures are limited per address and per email
//! (`sign_in_limit`).

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::input::JsonBody;
use super::sign_in_limit::SignInLimit;
use super::{profile, ApiResult};
use crate::app::AppState;
use crate::error::ApiError;
use crate::passwords;
use crate::store::{agents, tokens};
use crate::views;

/// An email and a password, as `/auth/sign_in` and `/auth/session` take them.
#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[utoipa::path(post, path = "/auth/sign_in", request_body = doc::SignInRequest,
    responses(
        (status = 200, body = doc::SignedIn, description = "Signed in; also in the headers \
            `access-token`, `client`, `uid` (the email) and `token-type: Bearer`"),
        (status = 401, body = doc::SignInFailure, description = "Unknown email or wrong password"),
        (status = 429, body = doc::SignInFailure, description = "Too many failed sign-ins from \
            the address or for the email; retry after `Retry-After` seconds"),
    ))]
pub async fn sign_in(
    state: web::Data<AppState>,
    limit: web::Data<SignInLimit>,
    req: HttpRequest,
    JsonBody(credentials): JsonBody<Credentials>,
) -> ApiResult {
    let user_id = check(&state, &limit, &req, credentials).await?;
    let (token, now) = (tokens::generate(), state.now());
    let stored_token = token.clone();
    let inserted = state
        .db
        .write(move |tx| tokens::insert(tx, user_id, &stored_token, now))
        .await?;
    if !inserted {
        return Err(ApiError::internal("a new access token was already taken"));
    }
    let (person, memberships) = state
        .db
        .read(move |conn| profile::load(conn, user_id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("access-token", token.as_str()))
        .insert_header(("client", tokens::generate()))
        .insert_header(("uid", person.email.as_str()))
        .insert_header(("token-type", "Bearer"))
        .json(views::signed_in(&person, &memberships, &token)))
}

/// The user whose email and password these are, within the limit on failed sign-ins: the one
/// check behind every way of signing in.
pub(super) async fn check(
    state: &AppState,
    limit: &SignInLimit,
    req: &HttpRequest,
    credentials: Credentials,
) -> Result<i64, ApiError> {
    let email = credentials.email.trim().to_string();
    let address = req.peer_addr().map(|peer| peer.ip());
    let attempt = limit
        .begin(address, &email)
        .map_err(|retry_after_secs| ApiError::SignInLocked { retry_after_secs })?;
    let found = state
        .db
        .read(move |conn| agents::credentials(conn, &email))
        .await?;
    let (user_id, stored) = found.map_or((None, None), |(id, hash)| (Some(id), hash));
    let password = credentials.password;
    let valid = web::block(move || passwords::verify(stored.as_deref(), &password))
        .await
        .map_err(ApiError::internal)?;
    let Some(user_id) = user_id.filter(|_| valid) else {
        return Err(ApiError::InvalidLogin);
    };
    limit.succeeded(attempt);
    Ok(user_id)
}
