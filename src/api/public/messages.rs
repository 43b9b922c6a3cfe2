//! `.../conversations/{display_id}/messages`: the conversation's public messages, the contact's
//! new messages (JSON, or multipart with attachment files) and answers to forms.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::{ConversationPath, MessagePath};
use crate::api::input::JsonBody;
use crate::api::message_input::MessageInput;
use crate::api::messages::{receive, Received};
use crate::api::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::MessageType;
use crate::store::messages::{self, Window};
use crate::store::{changes, details, public};
use crate::views;
use crate::views::conversations::Links;

#[derive(Deserialize)]
pub struct IndexQuery {
    before: Option<String>,
}

/// GET: the newest 20 public messages, or the 20 before the message id `before`, oldest first;
/// private notes and activity messages are never shown.
#[utoipa::path(get, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations/{display_id}/messages",
    params(doc::PublicMessagesQuery),
    responses((status = 200, body = Vec<doc::PublicMessage>)))]
pub async fn index(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    query: web::Query<IndexQuery>,
    links: Links,
) -> ApiResult {
    let window = match query.into_inner().before.as_deref().map(str::trim) {
        None | Some("") => Window::Latest,
        Some(v) => Window::Before(v.parse::<i64>().map_err(|_| {
            ApiError::unprocessable(format!("Invalid before '{v}': expected a message id"))
        })?),
    };
    let path = path.into_inner();
    let list = state
        .db
        .read(move |conn| {
            let (_, entry) = super::contact_inbox(conn, &path.inbox_identifier, &path.source_id)?;
            let conversation = public::conversation(conn, &entry, path.display_id)?;
            let page = messages::page(conn, conversation.id, window, false)?;
            Ok(details::messages(conn, page)?
                .iter()
                .map(|m| views::public::message(m, &links))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// POST: a message from the contact (`content`, `echo_id`, `attachments[]`), with everything a
/// contact's message does to the conversation (see `changes::post_message`).
#[utoipa::path(post, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations/{display_id}/messages",
    request_body(content((doc::PublicMessageInput = "application/json"), (doc::MessageForm = "multipart/form-data"))),
    responses((status = 200, body = doc::PublicMessage)))]
pub async fn create(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    links: Links,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult {
    let (input, attachments, upload): Received = receive(&state, &req, payload).await?;
    let path = path.into_inner();
    crate::api::files::files_follow(upload, async move {
        create_message(&state, path, links, input, attachments).await
    })
    .await
}

async fn create_message(
    state: &AppState,
    path: ConversationPath,
    links: Links,
    input: MessageInput,
    attachments: Vec<messages::NewAttachment>,
) -> ApiResult {
    if input.content.as_deref().is_none_or(|c| c.trim().is_empty()) && attachments.is_empty() {
        return Err(ApiError::unprocessable(
            "A message needs content or at least one attachment",
        ));
    }
    // Only the content and the echo id are the client's to choose.
    let parsed = MessageInput {
        content: input.content,
        echo_id: input.echo_id,
        ..MessageInput::default()
    }
    .parse()?;
    let (mut message, echo_id) = (parsed.message, parsed.echo_id);
    message.message_type = MessageType::Incoming;
    let created = super::write_in_conversation(state, path, move |tx, entry, c, now| {
        message.sender = Some(("Contact", entry.contact_id));
        let message_id = changes::post_message(tx, &c, &message, now)?;
        if let Some(echo_id) = &echo_id {
            messages::set_echo_id(tx, message_id, echo_id)?;
        }
        for attachment in &attachments {
            messages::insert_attachment(tx, c.account_id, message_id, attachment, now)?;
        }
        details::message(tx, messages::get(tx, c.id, message_id)?)
    })
    .await?;
    // The contact's message wakes a snoozed conversation: the waker need not wait for it.
    state.snoozes.snoozes_changed();
    Ok(HttpResponse::Ok().json(views::public::message(&created, &links)))
}

#[derive(Deserialize)]
pub struct UpdateInput {
    submitted_values: Option<Value>,
}

/// PATCH: the contact's answers to a form or options message, as `submitted_values` (a list of
/// `{name, title, value}` objects).
#[utoipa::path(method(patch, put), path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations/{display_id}/messages/{message_id}",
    request_body = doc::PublicMessageUpdateInput,
    responses((status = 200, body = doc::PublicMessage)))]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<MessagePath>,
    links: Links,
    body: JsonBody<UpdateInput>,
) -> ApiResult {
    let values = match body.0.submitted_values {
        Some(Value::Array(list)) if list.iter().all(Value::is_object) => Some(Value::Array(list)),
        None | Some(Value::Null) => None,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "submitted_values must be a list of objects",
            ))
        }
    };
    let path = path.into_inner();
    let message_id = path.message_id;
    let conversation_path = ConversationPath {
        inbox_identifier: path.inbox_identifier,
        source_id: path.source_id,
        display_id: path.display_id,
    };
    let updated = super::write_in_conversation(&state, conversation_path, move |tx, _, c, now| {
        let message = messages::get(tx, c.id, message_id)?;
        if message.private || message.message_type == MessageType::Activity {
            return Err(crate::store::StoreError::NotFound);
        }
        if let Some(values) = &values {
            public::set_submitted_values(tx, message_id, values, now)?;
        }
        details::message(tx, messages::get(tx, c.id, message_id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(views::public::message(&updated, &links)))
}
