//! `POST /conversations/{id}/transcript`: queues the conversation's transcript for `email`,
//! within the account's daily email quota. The mail is sent by the mail task, after the answer.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::input::JsonBody;
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::mail::transcript;
use crate::models::Principal;
use crate::store::mail;
use crate::store::{conversations, details, messages, StoreError};

#[derive(Deserialize)]
pub struct TranscriptInput {
    email: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/transcript",
    request_body = doc::TranscriptInput,
    responses((status = 200, description = "Done; the body is empty"), (status = 429, description = "The account's emails for the day are used up; the body is empty")))]
pub async fn transcript(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<TranscriptInput>,
) -> ApiResult {
    let display_id = path.id;
    let email = body.0.email.map(|e| e.trim().to_string());
    let now = state.now();
    let limit = state.emails_per_day;
    let queued = state
        .db
        .write(move |tx| {
            // As Chatwoot: the conversation is looked up before the parameter is checked.
            let conversation = conversations::visible(tx, &principal, display_id)?;
            let email = email
                .clone()
                .filter(|e| !e.is_empty())
                .ok_or_else(|| StoreError::Rejected("email param missing".into()))?;
            if !mail::count_email(tx, principal.account_id, now, limit)? {
                return Ok(false);
            }
            let shown = details::messages(tx, messages::for_transcript(tx, conversation.id)?)?;
            let mail = transcript::render(conversation.display_id, &shown);
            mail::enqueue(tx, &mail.to(principal.account_id, &email), now)?;
            Ok(true)
        })
        .await?;
    if !queued {
        // Chatwoot answers the daily limit with an empty 429.
        return Ok(HttpResponse::TooManyRequests().finish());
    }
    state.mailer.queued();
    Ok(HttpResponse::Ok().finish())
}
