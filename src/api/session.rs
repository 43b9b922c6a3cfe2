//! `/auth/session`: the agent app's browser session. Signing in with an email and a password
//! (the checks and limits of `/auth/sign_in`) sets an HttpOnly, SameSite=Strict cookie, which
//! every API route then accepts in place of `api_access_token` (see `auth`), and answers the
//! CSRF token that changes made with the cookie must repeat in `X-CSRF-Token`. Signing out
//! deletes the session on the server, so its cookie authenticates nothing afterwards.

use crate::api::openapi::schemas as doc;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};

use super::input::JsonBody;
use super::sign_in::{self, Credentials};
use super::sign_in_limit::SignInLimit;
use super::{profile, ApiResult};
use crate::app::AppState;
use crate::auth::{BrowserSession, SESSION_COOKIE};
use crate::error::ApiError;
use crate::store::{sessions, tokens};
use crate::views;

/// The session cookie: out of script's reach, never sent by another site's request, and over
/// https only when the request came that way (`X-Forwarded-Proto` and `Forwarded` count).
fn cookie(req: &HttpRequest, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time::Duration::seconds(max_age_secs))
        .secure(req.connection_info().scheme() == "https")
        .finish()
}

/// Whether a browser sent the sign-in from another site's page. A form there can post to
/// `/auth/session` and would sign the visitor's browser in as whoever the form names (login
/// forgery); browsers say where a request comes from in `Sec-Fetch-Site` and `Origin`. Clients
/// that are not browsers send neither and are let through.
fn cross_site(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    // Trusted first where present: a proxy in front may rewrite Host, never this.
    if let Some(site) = header("Sec-Fetch-Site") {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = header("Origin") else {
        return false;
    };
    let host = req.connection_info().host().to_ascii_lowercase();
    let origin_host = origin
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .trim_end_matches('/')
        .to_ascii_lowercase();
    origin_host != host
}

/// The session's answer: its CSRF token and the user's profile.
async fn answer(
    state: &AppState,
    user_id: i64,
    csrf_token: &str,
) -> Result<HttpResponse, ApiError> {
    let (person, memberships) = state
        .db
        .read(move |conn| profile::load(conn, user_id))
        .await?;
    let mut response = HttpResponse::Ok();
    // A session's answer is for the one browser that holds it.
    response.insert_header(("Cache-Control", "no-store"));
    Ok(response.json(views::browser_session(&person, &memberships, csrf_token)))
}

#[utoipa::path(post, path = "/auth/session", request_body = doc::SignInRequest,
    responses(
        (status = 200, body = doc::BrowserSession, description = "Signed in: the session cookie \
            `wootlite_session` is set (HttpOnly, SameSite=Strict, Path=/, 14 days; Secure over \
            https)"),
        (status = 401, body = doc::SignInFailure, description = "Unknown email or wrong password"),
        (status = 403, body = doc::Error, description = "Sent by a browser from another site's page"),
        (status = 429, body = doc::SignInFailure, description = "Too many failed sign-ins from \
            the address or for the email; retry after `Retry-After` seconds"),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    limit: web::Data<SignInLimit>,
    req: HttpRequest,
    JsonBody(credentials): JsonBody<Credentials>,
) -> ApiResult {
    if cross_site(&req) {
        return Err(ApiError::InvalidCsrf);
    }
    let user_id = sign_in::check(&state, &limit, &req, credentials).await?;
    let (value, csrf_token, now) = (session_token(), session_token(), state.now());
    let (stored, stored_csrf) = (value.clone(), csrf_token.clone());
    let created = state
        .db
        .write(move |tx| sessions::create(tx, user_id, &stored, &stored_csrf, now))
        .await?;
    if !created {
        return Err(ApiError::internal("a new session token was already taken"));
    }
    let mut response = answer(&state, user_id, &csrf_token).await?;
    response
        .add_cookie(&cookie(&req, value, sessions::LIFETIME_SECS))
        .map_err(ApiError::internal)?;
    Ok(response)
}

/// A session's secrets are longer than access tokens: two of them.
fn session_token() -> String {
    format!("{}{}", tokens::generate(), tokens::generate())
}

#[utoipa::path(get, path = "/auth/session",
    responses(
        (status = 200, body = doc::BrowserSession, description = "The session of the cookie"),
        (status = 401, body = doc::Error, description = "No valid session cookie"),
    ))]
pub async fn show(state: web::Data<AppState>, session: BrowserSession) -> ApiResult {
    answer(&state, session.user_id, &session.csrf_token).await
}

#[utoipa::path(delete, path = "/auth/session",
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses(
        (status = 200, body = doc::Confirmation, description = "Signed out: the session is deleted \
            and the cookie expired"),
        (status = 401, body = doc::Error, description = "No valid session cookie"),
        (status = 403, body = doc::Error, description = "`X-CSRF-Token` missing or wrong"),
    ))]
pub async fn destroy(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: BrowserSession,
) -> ApiResult {
    let value = session.cookie;
    state
        .db
        .write(move |tx| sessions::delete(tx, &value))
        .await?;
    let mut response = HttpResponse::Ok().json(views::message("Signed out"));
    response
        .add_cookie(&cookie(&req, String::new(), 0))
        .map_err(ApiError::internal)?;
    Ok(response)
}
