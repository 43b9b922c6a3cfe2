//! `/conversations/{id}/messages`: the conversation's messages, new messages as JSON or as
//! multipart with attachment files, delivery status updates, and Chatwoot's soft delete.

use crate::api::openapi::schemas as doc;
use actix_multipart::{Field, Multipart};
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::files::{self, Upload};
use super::input::JsonBody;
use super::message_input::{MessageInput, ParsedMessage};
use super::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{FileType, MessageStatus, Principal};
use crate::store::messages::{self, NewAttachment, Window};
use crate::store::{changes, conversations, details};
use crate::views::conversations::{self as conversation_views, Links};

/// Chatwoot's limit of attachments per message.
pub const MAX_ATTACHMENTS: usize = 15;

#[derive(Deserialize)]
pub struct MessagePath {
    id: i64,
    message_id: i64,
}

#[derive(Deserialize)]
pub struct ConversationPath {
    id: i64,
}

#[derive(Deserialize)]
pub struct IndexQuery {
    before: Option<String>,
    after: Option<String>,
    filter_internal_messages: Option<String>,
}

fn message_id(name: &str, value: Option<String>) -> Result<Option<i64>, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            ApiError::unprocessable(format!("Invalid {name} '{v}': expected a message id"))
        }),
    }
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{id}/messages",
    params(doc::MessagesQuery),
    responses((status = 200, body = doc::MessageList)))]
pub async fn index(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ConversationPath>,
    query: web::Query<IndexQuery>,
    links: Links,
) -> ApiResult {
    let query = query.into_inner();
    let window = match (
        message_id("after", query.after)?,
        message_id("before", query.before)?,
    ) {
        (Some(after), Some(before)) => Window::Between(after, before),
        (None, Some(before)) => Window::Before(before),
        (Some(after), None) => Window::After(after),
        (None, None) => Window::Latest,
    };
    let catalog = state.catalog.view();
    let internal = query
        .filter_internal_messages
        .is_none_or(|v| v.trim().is_empty());
    let display_id = path.id;
    let body = state
        .db
        .read(move |conn| {
            let conversation = conversations::visible(conn, &principal, display_id)?;
            let card =
                details::conversation(conn, &catalog, conversation.clone(), principal.user_id())?;
            let page = messages::page(conn, conversation.id, window, internal)?;
            let payload: Vec<Value> = details::messages(conn, page)?
                .iter()
                .map(|m| conversation_views::message(m, &links))
                .collect();
            Ok(json!({ "meta": conversation_views::messages_meta(&card), "payload": payload }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Chatwoot's file types by content type: a few image and video types, any audio, else file.
fn file_type(mime: &str) -> FileType {
    match mime {
        "image/jpeg" | "image/png" | "image/gif" | "image/bmp" | "image/webp" => FileType::Image,
        "video/ogg" | "video/mp4" | "video/webm" | "video/quicktime" => FileType::Video,
        m if m.contains("audio/") => FileType::Audio,
        _ => FileType::File,
    }
}

/// A message input with its attachments, and the upload that holds their files.
pub(in crate::api) type Received = (MessageInput, Vec<NewAttachment>, Upload);

/// Reads a multipart body in its turn (see `files::upload_turn`). The turn lasts until a
/// failed upload's files are gone, so a turn given back never leaves files behind it.
async fn read_multipart(
    state: &AppState,
    req: &HttpRequest,
    payload: actix_web::dev::Payload,
) -> Result<Received, ApiError> {
    let _turn = files::upload_turn(&state.upload_turns).await?;
    let mut upload = Upload::new(&state.files_dir);
    match read_parts(state, req, payload, &mut upload).await {
        Ok((input, attachments)) => Ok((input, attachments, upload)),
        Err(error) => {
            upload.discard().await;
            Err(error)
        }
    }
}

/// Text fields become the message input, `attachments[]` parts stream to disk as they arrive.
async fn read_parts(
    state: &AppState,
    req: &HttpRequest,
    payload: actix_web::dev::Payload,
    upload: &mut Upload,
) -> Result<(MessageInput, Vec<NewAttachment>), ApiError> {
    let mut body = Multipart::new(req.headers(), payload);
    let mut fields = Map::new();
    let mut attachments = Vec::new();
    // Each limit also holds for the parts together: text in memory, files on disk.
    let (mut text_bytes, mut file_bytes) = (0, 0);
    while let Some(part) = body.next().await {
        let mut part = part.map_err(malformed)?;
        let name = part.name().unwrap_or("").to_string();
        if name.starts_with("attachments") {
            if attachments.len() >= MAX_ATTACHMENTS {
                return Err(ApiError::unprocessable(format!(
                    "A message may carry at most {MAX_ATTACHMENTS} attachments"
                )));
            }
            attachments.push(receive_file(state, &mut part, upload, &mut file_bytes).await?);
        } else {
            let text = read_text(state, &name, &mut part, &mut text_bytes).await?;
            if !name.is_empty() {
                let text = String::from_utf8(text).map_err(|_| {
                    ApiError::unprocessable(format!("Field '{name}' is not UTF-8 text"))
                })?;
                fields.insert(name, Value::String(text));
            }
        }
    }
    let input = serde_json::from_value::<MessageInput>(Value::Object(fields))
        .map_err(|e| ApiError::unprocessable(format!("Invalid message field: {e}")))?;
    Ok((input, attachments))
}

fn malformed(e: actix_multipart::MultipartError) -> ApiError {
    match &e {
        actix_multipart::MultipartError::Payload(error)
            if super::body_timeout::is_too_slow(error) =>
        {
            ApiError::RequestTimeout(error.to_string())
        }
        _ => ApiError::BadRequest(format!("Malformed multipart body: {e}")),
    }
}

/// One file part, written to disk chunk by chunk; `message_bytes` counts the message's files.
async fn receive_file(
    state: &AppState,
    part: &mut Field,
    upload: &mut Upload,
    message_bytes: &mut usize,
) -> Result<NewAttachment, ApiError> {
    upload.begin().await?;
    let mut size = 0;
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(malformed)?;
        size += chunk.len();
        *message_bytes += chunk.len();
        if size > state.max_attachment_bytes {
            return Err(ApiError::PayloadTooLarge {
                limit: state.max_attachment_bytes,
            });
        }
        if *message_bytes > state.max_message_attachments_bytes {
            return Err(ApiError::AttachmentsTooLarge {
                limit: state.max_message_attachments_bytes,
            });
        }
        upload.write(&chunk).await?;
    }
    let sent_name = part
        .content_disposition()
        .and_then(|d| d.get_filename())
        .map(str::to_string);
    let file_name = files::safe_name(sent_name.as_deref());
    let mime_type = part
        .content_type()
        .map(|m| m.essence_str().to_string())
        .filter(|m| m != "application/octet-stream")
        .unwrap_or_else(|| files::mime_guess_from_name(&file_name));
    let extension = std::path::Path::new(&file_name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase());
    let storage_key = upload.finish(&file_name).await?;
    Ok(NewAttachment {
        file_type: file_type(&mime_type),
        file_name,
        mime_type,
        extension,
        file_size: size as i64,
        storage_key,
    })
}

/// One text part, in memory: `message_bytes` counts the message's text parts.
async fn read_text(
    state: &AppState,
    name: &str,
    part: &mut Field,
    message_bytes: &mut usize,
) -> Result<Vec<u8>, ApiError> {
    let limit = state.max_body_bytes;
    let mut bytes = Vec::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(malformed)?;
        *message_bytes += chunk.len();
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::unprocessable(format!(
                "Field '{name}' is larger than {limit} bytes"
            )));
        }
        if *message_bytes > limit {
            return Err(ApiError::unprocessable(format!(
                "The text fields are larger than {limit} bytes together"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A new message's body: JSON, or multipart with `attachments[]` files streamed to disk. The
/// caller keeps the upload's files once the message row is written, or discards them.
pub(in crate::api) async fn receive(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Received, ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let mut payload = payload.into_inner();
    if is_multipart {
        read_multipart(state, req, payload).await
    } else {
        let JsonBody(input) = JsonBody::<MessageInput>::from_request(req, &mut payload).await?;
        Ok((input, Vec::new(), Upload::new(&state.files_dir)))
    }
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{id}/messages",
    request_body(content((doc::MessageInput = "application/json"), (doc::MessageForm = "multipart/form-data"))),
    responses((status = 200, body = doc::Message)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ConversationPath>,
    links: Links,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult {
    let (input, attachments, upload) = receive(&state, &req, payload).await?;
    let display_id = path.id;
    super::files::files_follow(upload, async move {
        create_message(&state, principal, display_id, links, input, attachments).await
    })
    .await
}

async fn create_message(
    state: &AppState,
    principal: Principal,
    display_id: i64,
    links: Links,
    input: MessageInput,
    attachments: Vec<NewAttachment>,
) -> ApiResult {
    if input.content.as_deref().is_none_or(|c| c.trim().is_empty()) && attachments.is_empty() {
        return Err(ApiError::unprocessable(
            "A message needs content or at least one attachment",
        ));
    }
    let parsed = input.parse()?;
    let created = state
        .write_by(principal.actor, move |tx, now| {
            let conversation = conversations::visible(tx, &principal, display_id)?;
            let ParsedMessage { message, echo_id } = parsed
                .clone()
                .sent_by(principal.sender(), conversation.contact_id);
            let message_id = changes::post_message(tx, &conversation, &message, now)?;
            if let Some(echo_id) = &echo_id {
                messages::set_echo_id(tx, message_id, echo_id)?;
            }
            for attachment in &attachments {
                messages::insert_attachment(
                    tx,
                    conversation.account_id,
                    message_id,
                    attachment,
                    now,
                )?;
            }
            details::message(tx, messages::get(tx, conversation.id, message_id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(conversation_views::created_message(&created, &links)))
}

#[derive(Deserialize)]
pub struct UpdateInput {
    status: Option<String>,
    external_error: Option<String>,
}

/// PATCH: the delivery status (every wootlite inbox is an API inbox, where Chatwoot allows it).
/// A read message does not go back to delivered.
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/conversations/{id}/messages/{message_id}",
    request_body = doc::MessageUpdateInput,
    responses((status = 200, body = doc::Message)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<MessagePath>,
    links: Links,
    body: JsonBody<UpdateInput>,
) -> ApiResult {
    let input = body.0;
    let status = match input.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(MessageStatus::parse(name).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "'{name}' is not a valid status; use one of: {}",
                MessageStatus::names()
            ))
        })?),
    };
    let (display_id, message_id) = (path.id, path.message_id);
    let updated = state
        .write_by(principal.actor, move |tx, now| {
            let conversation = conversations::visible(tx, &principal, display_id)?;
            let message = messages::get(tx, conversation.id, message_id)?;
            let downgrade =
                message.status == MessageStatus::Read && status == Some(MessageStatus::Delivered);
            if let (Some(status), false) = (status, downgrade) {
                messages::set_status(tx, message_id, status, input.external_error.as_deref(), now)?;
            }
            details::message(tx, messages::get(tx, conversation.id, message_id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(conversation_views::message(&updated, &links)))
}

/// DELETE: Chatwoot's soft delete; the attachment files are removed before answering.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/conversations/{id}/messages/{message_id}",
    responses((status = 200, description = "The message, its content now deleted", body = doc::Message)))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<MessagePath>,
    links: Links,
) -> ApiResult {
    let (display_id, message_id) = (path.id, path.message_id);
    let (deleted, files) = state
        .write_by(principal.actor, move |tx, now| {
            let conversation = conversations::visible(tx, &principal, display_id)?;
            messages::get(tx, conversation.id, message_id)?;
            let files = messages::soft_delete(tx, message_id, now)?;
            Ok((
                details::message(tx, messages::get(tx, conversation.id, message_id)?)?,
                files,
            ))
        })
        .await?;
    files::remove(&state.files_dir, files).await;
    Ok(HttpResponse::Ok().json(conversation_views::message(&deleted, &links)))
}
