//! `api_access_token` -> who is calling. Two extractors: `CurrentUser` for account-less routes
//! (the profile) and `Principal` for everything under `/api/v1/accounts/{account_id}`, which also
//! checks, in Chatwoot's order, that the account exists and that the user is a member of it.
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

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::tokens::{self, Access, Owner};

pub const TOKEN_HEADER: &str = "api_access_token";

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

/// The header's token. A missing header is treated like an unknown token: Chatwoot falls back to
/// its session login and answers 401, and clients only read the status.
fn presented_token(req: &HttpRequest) -> Result<String, ApiError> {
    req.headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or(ApiError::InvalidToken)
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

/// The token's user, whatever account they belong to.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user_id: i64,
    /// The token the request was made with; the profile echoes it as `access_token`, since only
    /// digests are stored.
    pub token: String,
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let found = presented_token(req).and_then(|token| Ok((token, state(req)?)));
        Box::pin(async move {
            let (token, state) = found?;
            let lookup = token.clone();
            let owner = state
                .db
                .read(move |conn| tokens::owner(conn, &lookup))
                .await?;
            match owner {
                Some(Owner::User(user_id)) => Ok(CurrentUser { user_id, token }),
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
        let token = presented_token(req);
        // A non-numeric account id cannot name an account: Rails' `find` answers 404 for it.
        let account_id = req
            .match_info()
            .get("account_id")
            .map(|raw| raw.parse::<i64>());
        let bot_route = bot_accessible(req);
        let state = state(req);
        Box::pin(async move {
            let token = token?;
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
            let access = state
                .db
                .read(move |conn| tokens::access(conn, &token, account_id, bot_route))
                .await?;
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
