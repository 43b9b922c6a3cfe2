//! `api_access_token` -> who is calling. Two extractors: `CurrentUser` for account-less routes
//! (the profile) and `Principal` for everything under `/api/v1/accounts/{account_id}`, which also
//! checks, in Chatwoot's order, that the account exists and that the user is a member of it.
//!
//! Without the header, the agent app's session cookie (`SESSION_COOKIE`, from `POST
//! /auth/session`) is accepted instead: it stands for a user, never a bot. Since a browser sends
//! the cookie with any request, also one another site makes it send, a cookie-authenticated
//! request other than GET, HEAD or OPTIONS must carry the session's CSRF token in `CSRF_HEADER`,
//! which only the app can read. The header token wins when both are sent.
//!
//! The token may be an agent bot's. A bot's token opens only the endpoints of
//! `BOT_ACCESSIBLE_ENDPOINTS` (Chatwoot's list of the same name), and only in an account where
//! the bot answers an inbox; everywhere else it is a 401 "Access to this endpoint is not
//! authorized for bots". The list is checked here, by route, so a new handler is closed to bots
//! until it is added.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::Method;
use actix_web::{dev, web, FromRequest, HttpRequest};

use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::db::directory::DirectoryCache;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::sessions;
use crate::store::tokens::{self, Access, Owner};

pub const TOKEN_HEADER: &str = "api_access_token";
/// The cookie of a browser session.
pub const SESSION_COOKIE: &str = "wootlite_session";
/// The header that must repeat the session's CSRF token on a cookie-authenticated change.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The account routes an agent bot may call, as (method, route pattern below
/// `/api/v1/accounts/{account_id}`): Chatwoot's conversations show, toggle_status,
/// toggle_typing_status, toggle_priority, create, update and custom_attributes; messages create;
/// assignments create; conversation labels index and create.
const BOT_ACCESSIBLE_ENDPOINTS: &[(Method, &str)] = &[
    (Method::POST, "/conversations"),
    (Method::GET, "/conversations/{id}"),
    (Method::PATCH, "/conversations/{id}"),
    (Method::PUT, "/conversations/{id}"),
    (Method::POST, "/conversations/{id}/toggle_status"),
    (Method::POST, "/conversations/{id}/toggle_typing_status"),
    (Method::POST, "/conversations/{id}/toggle_priority"),
    (Method::POST, "/conversations/{id}/custom_attributes"),
    (Method::POST, "/conversations/{id}/messages"),
    (Method::POST, "/conversations/{id}/assignments"),
    (Method::GET, "/conversations/{id}/labels"),
    (Method::POST, "/conversations/{id}/labels"),
];

const ACCOUNT_SCOPE: &str = "/api/v1/accounts/{account_id}";

/// Whether the request's route is one a bot may call.
fn bot_accessible(req: &HttpRequest) -> bool {
    let Some(pattern) = req.match_pattern() else {
        return false;
    };
    let Some(route) = pattern.strip_prefix(ACCOUNT_SCOPE) else {
        return false;
    };
    BOT_ACCESSIBLE_ENDPOINTS
        .iter()
        .any(|(method, path)| method == req.method() && *path == route)
}

/// The header's token, if one was sent.
fn header_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// How a request says who it is.
enum Credential {
    Token(String),
    Session(SessionCookie),
}

/// The session cookie's value, and for a change the CSRF token the request presents.
pub struct SessionCookie {
    value: String,
    /// None for GET, HEAD and OPTIONS, which need no CSRF token; otherwise what the request sent
    /// (empty when nothing).
    presented_csrf: Option<String>,
}

impl SessionCookie {
    /// The session cookie of the request, if it has one.
    fn of(req: &HttpRequest) -> Option<Self> {
        let value = req.cookie(SESSION_COOKIE)?.value().trim().to_string();
        if value.is_empty() {
            return None;
        }
        let safe = [Method::GET, Method::HEAD, Method::OPTIONS].contains(req.method());
        let presented_csrf = (!safe).then(|| {
            req.headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .trim()
                .to_string()
        });
        Some(Self {
            value,
            presented_csrf,
        })
    }

    /// The session the cookie names, when it is valid and the request may use it: a change must
    /// present the session's CSRF token (403 otherwise).
    async fn session(self, state: &AppState) -> Result<sessions::Session, ApiError> {
        let now = state.now();
        let value = self.value;
        let found = state
            .db
            .read(move |conn| sessions::find(conn, &value, now))
            .await?
            .ok_or(ApiError::InvalidToken)?;
        if let Some(presented) = self.presented_csrf {
            if !same_secret(&presented, &found.csrf_token) {
                return Err(ApiError::InvalidCsrf);
            }
        }
        Ok(found)
    }
}

/// Compares two secrets in time that depends only on their lengths, not on where they differ.
fn same_secret(presented: &str, expected: &str) -> bool {
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The header's token, else the session cookie. Neither is treated like an unknown token:
/// Chatwoot falls back to its session login and answers 401, and clients only read the status.
fn credential(req: &HttpRequest) -> Result<Credential, ApiError> {
    if let Some(token) = header_token(req) {
        return Ok(Credential::Token(token));
    }
    SessionCookie::of(req)
        .map(Credential::Session)
        .ok_or(ApiError::InvalidToken)
}

/// A token, the account of the path, and whether the route is open to bots.
type AccessKey = (String, i64, bool);

/// Every request asks what its token grants; the answer changes only with the directory, so a
/// granted one is kept. Refusals are not, so made-up tokens take no room.
pub type Principals = DirectoryCache<AccessKey, Principal>;

/// `tokens::access`, answered from `state.principals` when it can be.
async fn token_access(
    state: &AppState,
    token: String,
    account_id: Option<i64>,
    bot_route: bool,
) -> Result<Access, ApiError> {
    let Some(account_id) = account_id else {
        return state
            .db
            .read(move |conn| tokens::access(conn, &token, None, bot_route))
            .await;
    };
    let key = (token, account_id, bot_route);
    if let Some(principal) = state.principals.get(&key) {
        return Ok(Access::Granted(principal));
    }
    let generation = state.principals.generation();
    let token = key.0.clone();
    let access = state
        .db
        .read(move |conn| tokens::access(conn, &token, Some(account_id), bot_route))
        .await?;
    if let Access::Granted(principal) = &access {
        state.principals.put(key, generation, principal.clone());
    }
    Ok(access)
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

/// The token's (or the session's) user, whatever account they belong to.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user_id: i64,
    /// The token the request was made with; the profile echoes it as `access_token`, since only
    /// digests are stored. None under a session: its cookie must stay out of the app's script.
    pub token: Option<String>,
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let found = credential(req).and_then(|credential| Ok((credential, state(req)?)));
        Box::pin(async move {
            let (credential, state) = found?;
            let token = match credential {
                Credential::Token(token) => token,
                Credential::Session(cookie) => {
                    let session = cookie.session(&state).await?;
                    return Ok(CurrentUser {
                        user_id: session.user_id,
                        token: None,
                    });
                }
            };
            let lookup = token.clone();
            let owner = state
                .db
                .read(move |conn| tokens::owner(conn, &lookup))
                .await?;
            match owner {
                Some(Owner::User(user_id)) => Ok(CurrentUser {
                    user_id,
                    token: Some(token),
                }),
                Some(Owner::Bot(_)) => Err(ApiError::BotNotAllowed),
                None => Err(ApiError::InvalidToken),
            }
        })
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let credential = credential(req);
        // A non-numeric account id cannot name an account: Rails' `find` answers 404 for it.
        let account_id = req
            .match_info()
            .get("account_id")
            .map(|raw| raw.parse::<i64>());
        let bot_route = bot_accessible(req);
        let state = state(req);
        Box::pin(async move {
            let credential = credential?;
            let state = state?;
            let account_id = match account_id {
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => None,
                None => {
                    return Err(ApiError::internal(
                        "Principal used outside an account route",
                    ))
                }
            };
            let access = match credential {
                Credential::Token(token) => {
                    token_access(&state, token, account_id, bot_route).await?
                }
                Credential::Session(cookie) => {
                    let user_id = cookie.session(&state).await?.user_id;
                    state
                        .db
                        .read(move |conn| tokens::user_access(conn, user_id, account_id))
                        .await?
                }
            };
            match access {
                Access::UnknownToken => Err(ApiError::InvalidToken),
                Access::BotNotAllowed => Err(ApiError::BotNotAllowed),
                Access::UnknownAccount => Err(ApiError::NotFound),
                Access::NotMember => Err(ApiError::NotAccountMember),
                Access::Granted(principal) => Ok(principal),
            }
        })
    }
}

/// The browser session of `/auth/session`, from its cookie alone (the header token plays no
/// part): its user, and the cookie value to end it with. A DELETE must present the CSRF token.
pub struct BrowserSession {
    pub user_id: i64,
    pub csrf_token: String,
    pub cookie: String,
}

impl FromRequest for BrowserSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let cookie = SessionCookie::of(req);
        let state = state(req);
        Box::pin(async move {
            let not_signed_in = || ApiError::Unauthorized(crate::error::NOT_SIGNED_IN.into());
            let cookie = cookie.ok_or_else(not_signed_in)?;
            let value = cookie.value.clone();
            let state = state?;
            let session = cookie.session(&state).await.map_err(|e| match e {
                ApiError::InvalidToken => not_signed_in(),
                other => other,
            })?;
            Ok(BrowserSession {
                user_id: session.user_id,
                csrf_token: session.csrf_token,
                cookie: value,
            })
        })
    }
}

impl Principal {
    /// Chatwoot's administrator-only actions answer 401 "not authorized to do this action".
    pub fn require_administrator(&self) -> Result<(), ApiError> {
        if self.is_administrator() {
            Ok(())
        } else {
            Err(ApiError::NotAllowed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(same_secret("abc123", "abc123"));
        assert!(!same_secret("abc124", "abc123"));
        assert!(!same_secret("abc12", "abc123"));
        assert!(!same_secret("", "abc123"));
    }
}
