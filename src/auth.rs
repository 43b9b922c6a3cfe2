//! `api_access_token` -> who is calling. Two extractors: `CurrentUser` for account-less routes
//! (the profile) and `Principal` for everything under `/api/v1/accounts/{account_id}`, which also
//! checks, in Chatwoot's order, that the account exists and that the user is a member of it.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev, web, FromRequest, HttpRequest};

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::tokens::{self, Access};

pub const TOKEN_HEADER: &str = "api_access_token";

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
            let user_id = state
                .db
                .read(move |conn| tokens::user_of(conn, &lookup))
                .await?;
            let user_id = user_id.ok_or(ApiError::InvalidToken)?;
            Ok(CurrentUser { user_id, token })
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
                .read(move |conn| match account_id {
                    Some(id) => tokens::access(conn, &token, id),
                    None => tokens::user_of(conn, &token).map(|user| {
                        if user.is_some() {
                            Access::UnknownAccount
                        } else {
                            Access::UnknownToken
                        }
                    }),
                })
                .await?;
            match access {
                Access::UnknownToken => Err(ApiError::InvalidToken),
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
