//! `/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations`: the client's
//! conversations, and what it may do to one: resolve it, type, and mark it seen.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ContactPath, ConversationPath};
use crate::api::input::{object_or_null, JsonBody};
use crate::api::ApiResult;
use crate::app::AppState;
use crate::events;
use crate::models::{Performer, Status};
use crate::store::conversations::{self, Conversation, NewConversation};
use crate::store::{contacts, details, messages, public, StoreResult};
use crate::views;
use crate::views::conversations::Links;

/// The conversation as the public shape shows it, with its public messages.
pub(super) fn render(
    conn: &Conn,
    conversation: &Conversation,
    links: &Links,
) -> StoreResult<Value> {
    let contact = contacts::get_by_id(conn, conversation.contact_id)?;
    let list = details::messages(conn, messages::for_transcript(conn, conversation.id)?)?;
    Ok(views::public::conversation(
        conversation,
        &list,
        &contact,
        links,
    ))
}

#[utoipa::path(get, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations",
    responses((status = 200, body = Vec<doc::PublicConversation>)))]
pub async fn index(
    state: web::Data<AppState>,
    path: web::Path<ContactPath>,
    links: Links,
) -> ApiResult {
    let path = path.into_inner();
    let list = state
        .db
        .read(move |conn| {
            let (_, entry) = super::contact_inbox(conn, &path.inbox_identifier, &path.source_id)?;
            public::conversations(conn, &entry)?
                .iter()
                .map(|c| render(conn, c, &links))
                .collect::<StoreResult<Vec<_>>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize)]
pub struct CreateInput {
    #[serde(default, deserialize_with = "object_or_null")]
    custom_attributes: Option<Map<String, Value>>,
}

/// POST: a new conversation for the contact inbox (or its latest, in an inbox locked to a single
/// conversation); only `custom_attributes` is taken from the body.
#[utoipa::path(post, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations",
    request_body = doc::PublicConversationInput,
    responses((status = 200, body = doc::PublicConversation)))]
pub async fn create(
    state: web::Data<AppState>,
    path: web::Path<ContactPath>,
    links: Links,
    body: JsonBody<CreateInput>,
) -> ApiResult {
    let custom_attributes = body.0.custom_attributes.unwrap_or_default();
    let path = path.into_inner();
    let recording = state.recording();
    let rendered = state
        .write_at(move |tx, now| {
            let (inbox, entry) = super::contact_inbox(tx, &path.inbox_identifier, &path.source_id)?;
            let existing = match inbox.lock_to_single_conversation {
                true => conversations::latest_of_contact_inbox(tx, entry.id)?,
                false => None,
            };
            let conversation = match existing {
                Some(conversation) => conversation,
                None => {
                    let new = NewConversation {
                        inbox_id: inbox.id,
                        contact_id: entry.contact_id,
                        contact_inbox_id: entry.id,
                        status: Status::Open,
                        assignee_id: None,
                        team_id: None,
                        snoozed_until: None,
                        additional_attributes: Map::new(),
                        custom_attributes: custom_attributes.clone(),
                    };
                    conversations::create(tx, inbox.account_id, &new, now)?
                }
            };
            super::record_by_contact(tx, entry.contact_id, &recording, now)?;
            render(tx, &conversation, &links)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rendered))
}

#[utoipa::path(get, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations/{display_id}",
    responses((status = 200, body = doc::PublicConversation)))]
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    links: Links,
) -> ApiResult {
    let path = path.into_inner();
    let rendered = state
        .db
        .read(move |conn| {
            let (_, entry) = super::contact_inbox(conn, &path.inbox_identifier, &path.source_id)?;
            let conversation = public::conversation(conn, &entry, path.display_id)?;
            render(conn, &conversation, &links)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rendered))
}

/// POST toggle_status: the contact resolves the conversation (a resolved one stays as it is).
#[utoipa::path(post, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations/{display_id}/toggle_status",
    responses((status = 200, body = doc::PublicConversation)))]
pub async fn toggle_status(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    links: Links,
) -> ApiResult {
    let rendered = super::write_in_conversation(&state, path.into_inner(), move |tx, _, c, now| {
        public::resolve(tx, &c, now)?;
        render(tx, &conversations::get_by_id(tx, c.id)?, &links)
    })
    .await?;
    // A snoozed conversation the contact resolves has no snooze left to wake.
    state.snoozes.snoozes_changed();
    Ok(HttpResponse::Ok().json(rendered))
}

#[derive(Deserialize, Default)]
pub struct TypingInput {
    typing_status: Option<String>,
}

/// POST toggle_typing: `typing_status` "on" or "off" tells the agents the contact is typing;
/// anything else does nothing, as in Chatwoot.
#[utoipa::path(post, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations/{display_id}/toggle_typing",
    request_body = doc::PublicTypingInput,
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn toggle_typing(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    body: JsonBody<TypingInput>,
) -> ApiResult {
    let on = match body.0.typing_status.as_deref().map(str::trim) {
        Some("on") => Some(true),
        Some("off") => Some(false),
        _ => None,
    };
    super::write_in_conversation(&state, path.into_inner(), move |tx, entry, c, _| match on {
        Some(on) => {
            events::record::typing(tx, c.id, Performer::Contact(entry.contact_id), on, false)
        }
        None => Ok(()),
    })
    .await?;
    Ok(HttpResponse::Ok().finish())
}

/// POST update_last_seen: the contact has read the conversation up to now.
#[utoipa::path(post, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}/conversations/{display_id}/update_last_seen",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn update_last_seen(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
) -> ApiResult {
    super::write_in_conversation(&state, path.into_inner(), |tx, _, c, now| {
        public::set_contact_last_seen(tx, c.id, now)
    })
    .await?;
    Ok(HttpResponse::Ok().finish())
}
