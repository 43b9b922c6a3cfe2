//! `/api/v1/accounts/{a}/conversations`: list, meta, create, show, update, delete, and a
//! contact's conversations.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::conversation_finder::{self, PageRequest};
pub use super::conversation_finder::{render, render_written};
use super::conversation_input::{parse_list_query, ListQuery};
use super::input::{enum_value, nullable, object_or_null, FlexId, FlexTime, JsonBody, NameOrCode};
use super::message_input::{MessageInput, ParsedMessage};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{Principal, Priority, Status};
use crate::store::conversation_list::{self, AssigneeTab, Filter, Sort, CONVERSATIONS_PER_PAGE};
use crate::store::conversations::{self, Conversation, NewConversation};
use crate::store::{agents, changes, contacts, details, inboxes, teams, StoreError, StoreResult};
use crate::views::conversations::{
    self as conversation_views, Links, ListEnvelope, MetaAndPayload, Payload,
};

/// Chatwoot does not page a list asked with `updated_within`; this bounds that response.
const MAX_UPDATED_WITHIN_ROWS: i64 = 1000;
/// Chatwoot shows a contact's 20 latest conversations.
const CONTACT_CONVERSATIONS: i64 = 20;

pub fn counts_json(counts: &conversation_list::Counts) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert("mine_count".into(), json!(counts.mine));
    meta.insert("assigned_count".into(), json!(counts.assigned));
    meta.insert("unassigned_count".into(), json!(counts.unassigned));
    meta.insert("all_count".into(), json!(counts.all));
    meta
}

/// The list and `/search` page alike, except that `updated_within` lists a window unpaged.
fn page_of(query: &ListQuery, links: Links) -> PageRequest {
    let (page, per_page) = if query.filter.updated_after.is_some() {
        (1, MAX_UPDATED_WITHIN_ROWS)
    } else {
        (query.page, CONVERSATIONS_PER_PAGE)
    };
    PageRequest {
        page,
        per_page,
        links,
    }
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations",
    params(doc::ConversationListQuery),
    responses((status = 200, body = doc::ConversationList)))]
pub async fn index(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    links: Links,
) -> ApiResult {
    let query = parse_list_query(req.query_string(), state.now())?;
    let (tab, current_page) = (query.tab, query.current_page);
    let page = page_of(&query, links);
    let found = conversation_finder::find(&state, principal, query, Some(page)).await?;
    let mut meta = counts_json(&found.counts);
    meta.insert("count".into(), json!(found.counts.of_tab(tab)));
    meta.insert("current_page".into(), json!(current_page));
    Ok(HttpResponse::Ok().json(ListEnvelope {
        data: MetaAndPayload {
            meta,
            payload: &found.payload,
        },
    }))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/meta",
    params(doc::ConversationListQuery),
    responses((status = 200, body = doc::ConversationMetaOnly)))]
pub async fn meta(state: web::Data<AppState>, principal: Principal, req: HttpRequest) -> ApiResult {
    let query = parse_list_query(req.query_string(), state.now())?;
    let found = conversation_finder::find(&state, principal, query, None).await?;
    Ok(HttpResponse::Ok().json(json!({ "meta": counts_json(&found.counts) })))
}

/// `GET /conversations/search?q=`: conversations with a message containing `q`, any status,
/// each showing a matching message. Without `q` it is the list in another envelope.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/search",
    params(doc::ConversationListQuery),
    responses((status = 200, body = doc::ConversationPage)))]
pub async fn search(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    links: Links,
) -> ApiResult {
    let query = parse_list_query(req.query_string(), state.now())?;
    let page = page_of(&query, links);
    let found = conversation_finder::find(&state, principal, query, Some(page)).await?;
    Ok(HttpResponse::Ok().json(MetaAndPayload {
        meta: counts_json(&found.counts),
        payload: &found.payload,
    }))
}

#[derive(Deserialize, Clone)]
pub struct CreateInput {
    inbox_id: Option<FlexId>,
    contact_id: Option<FlexId>,
    source_id: Option<String>,
    status: Option<NameOrCode>,
    #[serde(default, deserialize_with = "nullable")]
    assignee_id: Option<Option<FlexId>>,
    #[serde(default, deserialize_with = "nullable")]
    team_id: Option<Option<FlexId>>,
    #[serde(default, deserialize_with = "object_or_null")]
    additional_attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "object_or_null")]
    custom_attributes: Option<Map<String, Value>>,
    snoozed_until: Option<FlexTime>,
    message: Option<MessageInput>,
}

pub fn parse_status(given: Option<NameOrCode>) -> Result<Option<Status>, ApiError> {
    enum_value(
        given,
        "status",
        Status::parse,
        Status::from_code,
        Status::names,
    )
}

/// Where the new conversation goes: (contact_inbox_id, contact_id, inbox_id).
fn contact_inbox_for(
    conn: &Conn,
    principal: &Principal,
    input: &CreateInput,
    now: i64,
) -> StoreResult<(i64, i64, i64)> {
    let source_id = input
        .source_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let account_id = principal.account_id;
    let (contact_inbox, contact_id, inbox_id) = match (input.inbox_id, input.contact_id, source_id)
    {
        (Some(inbox), Some(contact), source) => {
            let inbox = inboxes::get(conn, account_id, inbox.0)?;
            let contact = contacts::get(conn, account_id, contact.0)?;
            // An API inbox gives the contact a fresh source id when none is sent.
            let source = source.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
            let taken = || StoreError::Rejected("source_id should be unique".into());
            let id = contacts::attach_inbox(conn, contact.id, inbox.id, &source, now, taken)?;
            (id, contact.id, inbox.id)
        }
        (None, None, Some(source))
        | (Some(_), None, Some(source))
        | (None, Some(_), Some(source)) => {
            contacts::contact_inbox_by_source(conn, account_id, source)?
        }
        _ => {
            return Err(StoreError::Rejected(
                "Send inbox_id and contact_id, or the source_id of a contact inbox".into(),
            ))
        }
    };
    if !inboxes::can_access(conn, principal, inbox_id)? {
        return Err(StoreError::NotAllowed);
    }
    Ok((contact_inbox, contact_id, inbox_id))
}

/// An assignee or team named on create must be the account's (Chatwoot would fail later).
fn member_or_reject(conn: &Conn, account_id: i64, user_id: i64) -> StoreResult<i64> {
    if agents::is_member(conn, account_id, user_id)? {
        Ok(user_id)
    } else {
        Err(StoreError::Rejected(format!(
            "Assignee {user_id} is not an agent of this account"
        )))
    }
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations",
    request_body = doc::ConversationInput,
    responses((status = 200, body = doc::Conversation)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    links: Links,
    body: JsonBody<CreateInput>,
) -> ApiResult {
    let mut input = body.0;
    let status = parse_status(input.status.take())?;
    let message = input.message.take().map(MessageInput::parse).transpose()?;
    let rendered = state
        .write_by(principal.actor, move |tx, now| {
            let conversation =
                open_conversation(tx, &principal, input.clone(), status, message.clone(), now)?;
            render_written(tx, conversation, principal.user_id(), &links)
        })
        .await?;
    if status == Some(Status::Snoozed) {
        state.snoozes.snoozes_changed();
    }
    Ok(HttpResponse::Ok().json(rendered))
}

/// Everything a create does, in the caller's transaction: find the contact inbox, honour an
/// inbox locked to one conversation, check the assignee and team, insert, assign, post the
/// initial message.
fn open_conversation(
    tx: &Conn,
    principal: &Principal,
    mut input: CreateInput,
    requested_status: Option<Status>,
    message: Option<ParsedMessage>,
    now: i64,
) -> StoreResult<Conversation> {
    let account_id = principal.account_id;
    let (contact_inbox_id, contact_id, inbox_id) = contact_inbox_for(tx, principal, &input, now)?;
    if inboxes::get(tx, account_id, inbox_id)?.lock_to_single_conversation {
        if let Some(existing) = conversations::latest_of_contact_inbox(tx, contact_inbox_id)? {
            return Ok(existing);
        }
    }
    let team_id = match input.team_id.flatten() {
        Some(team) => Some(
            teams::get(tx, account_id, team.0, principal.user_id())
                .map_err(|_| {
                    StoreError::Rejected(format!("Team {} is not a team of this account", team.0))
                })?
                .id,
        ),
        None => None,
    };
    let mut assignee_id = input
        .assignee_id
        .flatten()
        .map(|a| member_or_reject(tx, account_id, a.0))
        .transpose()?;
    // An assignee outside the conversation's team is dropped, as Chatwoot's assignment handler.
    if let (Some(team), Some(assignee)) = (team_id, assignee_id) {
        if !teams::has_member(tx, team, assignee)? {
            assignee_id = None;
        }
    }
    // A blocked contact's conversations start resolved, and those of an inbox with an agent bot
    // pending: `conversations::create` decides, as Chatwoot's model callback does.
    let new = NewConversation {
        inbox_id,
        contact_id,
        contact_inbox_id,
        status: requested_status.unwrap_or(Status::Open),
        assignee_id: None,
        team_id,
        snoozed_until: input.snoozed_until.map(|t| t.0),
        additional_attributes: input.additional_attributes.take().unwrap_or_default(),
        custom_attributes: input.custom_attributes.take().unwrap_or_default(),
    };
    let conversation = conversations::create(tx, account_id, &new, now)?;
    if let Some(assignee) = assignee_id {
        changes::change_assignee(tx, principal, &conversation, Some(assignee), now)?;
    }
    if let Some(parsed) = message {
        let parsed = parsed.sent_by(principal.sender(), contact_id);
        let current = conversations::get_by_id(tx, conversation.id)?;
        changes::post_message(tx, &current, &parsed.message, now)?;
    }
    conversations::get_by_id(tx, conversation.id)
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{id}",
    responses((status = 200, body = doc::Conversation)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    links: Links,
) -> ApiResult {
    let display_id = path.id;
    let catalog = state.catalog.view();
    let rendered = state
        .db
        .read(move |conn| {
            let conversation = conversations::visible(conn, &principal, display_id)?;
            render(conn, &catalog, conversation, principal.user_id(), &links)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rendered))
}

#[derive(Deserialize)]
pub struct PriorityInput {
    #[serde(default, deserialize_with = "nullable")]
    priority: Option<Option<String>>,
}

/// `priority`: a name, or null / "" to clear. Chatwoot answers 500 for other values; 422 here.
pub fn parse_priority(given: Option<String>) -> Result<Option<Priority>, ApiError> {
    match given.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) => Priority::parse(name).map(Some).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "'{name}' is not a valid priority; use one of: {}",
                Priority::names()
            ))
        }),
    }
}

/// PATCH/PUT: only the priority can change (Chatwoot ignores other keys).
#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/conversations/{id}",
    request_body = doc::PriorityInput,
    responses((status = 200, body = doc::Conversation)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    links: Links,
    body: JsonBody<PriorityInput>,
) -> ApiResult {
    let priority = body.0.priority.map(parse_priority).transpose()?;
    let display_id = path.id;
    let rendered = state
        .write_by(principal.actor, move |tx, now| {
            let conversation = conversations::visible(tx, &principal, display_id)?;
            if let Some(priority) = priority {
                changes::change_priority(tx, &principal, &conversation, priority, now)?;
            }
            let conversation = conversations::get_by_id(tx, conversation.id)?;
            render_written(tx, conversation, principal.user_id(), &links)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rendered))
}

/// Deletes the conversation with its messages and attachment files, before answering.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/conversations/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let display_id = path.id;
    let files = state
        .db
        .write(move |tx| {
            let conversation = conversations::visible(tx, &principal, display_id)?;
            if !principal.is_administrator() {
                return Err(StoreError::NotAllowed);
            }
            conversations::delete(tx, conversation.id)
        })
        .await?;
    super::files::remove(&state.files_dir, files).await;
    Ok(HttpResponse::Ok().finish())
}

/// `GET /contacts/{id}/conversations`: the contact's 20 latest visible conversations.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{id}/conversations",
    responses((status = 200, body = doc::ConversationPayload)))]
pub async fn of_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    links: Links,
) -> ApiResult {
    let contact_id = path.id;
    let catalog = state.catalog.view();
    let payload = state
        .db
        .read(move |conn| {
            contacts::get(conn, principal.account_id, contact_id)?;
            let filter = Filter {
                status: None,
                contact_id: Some(contact_id),
                ..Filter::default()
            };
            let rows = conversation_list::page(
                conn,
                &principal,
                &filter,
                AssigneeTab::All,
                Sort::LastActivityAtDesc,
                1,
                CONTACT_CONVERSATIONS,
            )?;
            Ok(
                details::conversations(conn, &catalog, rows, principal.user_id())?
                    .iter()
                    .map(|found| conversation_views::conversation(found, &links))
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(Payload { payload }))
}
