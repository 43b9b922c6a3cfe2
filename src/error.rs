//! `ApiError`: the one HTTP error type. Bodies follow Chatwoot: `{"error": "..."}` for most cases,
//! `{"message": "...", "attributes": [...]}` for model validation failures. Internal causes are
//! logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::store::StoreError;

pub const INVALID_TOKEN: &str = "Invalid Access Token";
pub const NOT_ACCOUNT_MEMBER: &str = "You are not authorized to access this account";
pub const NOT_ALLOWED: &str = "You are not authorized to do this action";
pub const NOT_FOUND: &str = "Resource could not be found";
pub const BOT_NOT_ALLOWED: &str = "Access to this endpoint is not authorized for bots";
/// devise_token_auth's answer to a wrong email or password, the same for both.
pub const INVALID_LOGIN: &str = "Invalid login credentials. Please try again.";
/// A session cookie request whose `X-CSRF-Token` is missing or wrong.
pub const INVALID_CSRF: &str = "Invalid CSRF token";
/// `/auth/session` without a valid session cookie.
pub const NOT_SIGNED_IN: &str = "You are not signed in";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid access token")]
    InvalidToken,
    #[error("not a member of the account")]
    NotAccountMember,
    #[error("action not allowed for this user")]
    NotAllowed,
    /// An agent bot's token on an endpoint bots may not call.
    #[error("endpoint not open to bots")]
    BotNotAllowed,
    #[error("not found")]
    NotFound,
    /// `POST /auth/sign_in` with an unknown email or a wrong password (devise_token_auth's body).
    #[error("invalid login credentials")]
    InvalidLogin,
    /// Too many failed sign-ins from the address or for the email; retry after this many seconds.
    #[error("too many failed sign-ins")]
    SignInLocked { retry_after_secs: u64 },
    /// A change made with the session cookie without the session's CSRF token.
    #[error("invalid CSRF token")]
    InvalidCsrf,
    /// Another 401 with Chatwoot's own message (e.g. "Invalid User IDs").
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// A model validation failure, as Rails renders `ActiveRecord::RecordInvalid`.
    #[error("invalid record: {message}")]
    Invalid {
        message: String,
        attributes: Vec<String>,
    },
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body stalled or trickled below the minimum rate.
    #[error("request body too slow: {0}")]
    RequestTimeout(String),
    /// A quota is used up (e.g. the account's emails for the day).
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// One client address sent more than its share; it may come back after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("request body over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The attachment files of one message add up to more than the per-message limit.
    #[error("message attachments over {limit} bytes")]
    AttachmentsTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The server cannot answer right now (the search index is catching up, searches are
    /// queued); the client should retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The disk is full: the change was not made; reads go on, and writes work again once
    /// space is freed.
    #[error("disk full: {0}")]
    DiskFull(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::Unprocessable(message.into())
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(message.into())
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidToken
            | Self::NotAccountMember
            | Self::NotAllowed
            | Self::BotNotAllowed
            | Self::InvalidLogin
            | Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::InvalidCsrf => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) | Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) | Self::RateLimited { .. } | Self::SignInLocked { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::PayloadTooLarge { .. } | Self::AttachmentsTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::DiskFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            Self::InvalidToken => json!({ "error": INVALID_TOKEN }),
            Self::NotAccountMember => json!({ "error": NOT_ACCOUNT_MEMBER }),
            Self::NotAllowed => json!({ "error": NOT_ALLOWED }),
            Self::BotNotAllowed => json!({ "error": BOT_NOT_ALLOWED }),
            Self::NotFound => json!({ "error": NOT_FOUND }),
            Self::InvalidCsrf => json!({ "error": INVALID_CSRF }),
            Self::InvalidLogin => json!({ "errors": [INVALID_LOGIN], "success": false }),
            Self::SignInLocked { retry_after_secs } => json!({
                "errors": [format!("Too many failed sign-in attempts; retry in {retry_after_secs} s")],
                "success": false,
            }),
            Self::RequestTimeout(why) => {
                json!({ "error": format!("Request body timed out: {why}") })
            }
            Self::MethodNotAllowed => {
                json!({ "error": "This method is not supported on this path" })
            }
            Self::BadRequest(message)
            | Self::Unprocessable(message)
            | Self::Unauthorized(message)
            | Self::TooManyRequests(message)
            | Self::Unavailable(message) => {
                json!({ "error": message })
            }
            Self::UnsupportedMediaType(kind) => {
                json!({ "error": format!("Unsupported content type: {kind}; send application/json") })
            }
            Self::Invalid {
                message,
                attributes,
            } => json!({ "message": message, "attributes": attributes }),
            Self::PayloadTooLarge { limit } => {
                json!({ "error": format!("Request body is larger than the limit of {limit} bytes") })
            }
            Self::AttachmentsTooLarge { limit } => json!({
                "error": format!("The attachments of one message may total at most {limit} bytes")
            }),
            Self::DiskFull(_) => json!({
                "error": "The server's disk is full: the change was not saved. Retry once space has been freed."
            }),
            Self::RateLimited { retry_after_secs } => json!({
                "error": format!("Too many requests from this address; retry in {retry_after_secs} s")
            }),
            // The cause is logged with the request (`api::house_errors`), never sent.
            Self::Internal(_) => json!({ "error": "Internal server error" }),
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unavailable(_) => {
                response.insert_header(("Retry-After", "1"));
            }
            Self::DiskFull(_) => {
                response.insert_header(("Retry-After", "30"));
            }
            Self::RateLimited { retry_after_secs } | Self::SignInLocked { retry_after_secs } => {
                response.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            // What is left of the body is never read: the connection cannot be reused.
            Self::RequestTimeout(_) => {
                response.force_close();
            }
            _ => {}
        }
        response.json(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::Invalid {
                message,
                attributes,
            } => Self::Invalid {
                message,
                attributes,
            },
            StoreError::Rejected(message) => Self::Unprocessable(message),
            StoreError::NotAllowed => Self::NotAllowed,
            StoreError::Unauthorized(message) => Self::Unauthorized(message),
            StoreError::Full(cause) => Self::DiskFull(cause),
            StoreError::Database(cause) => Self::Internal(cause),
        }
    }
}
