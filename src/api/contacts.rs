//! `/api/v1/accounts/{a}/contacts`. Every member may list, read, create and update contacts;
//! deleting is for administrators (Chatwoot's ContactPolicy).

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::input::{nullable, object_or_null, FlexBool, FlexId, JsonBody};
use super::validate::{self, MAX_NAME_CHARS};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::contacts::{self, ContactChange, SortKey};
use crate::store::{inboxes, StoreError};
use crate::views;

#[derive(Deserialize)]
pub struct ContactInput {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    phone_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    identifier: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    avatar_url: Option<Option<String>>,
    blocked: Option<FlexBool>,
    #[serde(default, deserialize_with = "object_or_null")]
    additional_attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "object_or_null")]
    custom_attributes: Option<Map<String, Value>>,
    inbox_id: Option<FlexId>,
    source_id: Option<String>,
}

/// Blank reads as "clear", as Rails' `presence`.
fn cleared(value: Option<Option<String>>) -> Option<Option<String>> {
    value.map(|v| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
}

impl ContactInput {
    pub(in crate::api) fn change(&mut self) -> Result<ContactChange, ApiError> {
        let name = match self.name.take() {
            Some(name) => Some(validate::max_chars(
                "name",
                "Name",
                name.trim().to_string(),
                MAX_NAME_CHARS,
            )?),
            None => None,
        };
        let email = cleared(self.email.take()).map(|e| e.map(|e| e.to_lowercase()));
        if let Some(Some(email)) = &email {
            if !validate::is_email(email) || email.len() > MAX_NAME_CHARS {
                return Err(validate::invalid("email", "Email Invalid email".into()));
            }
        }
        let phone_number = cleared(self.phone_number.take());
        if let Some(Some(phone)) = &phone_number {
            if !validate::is_e164(phone) {
                return Err(validate::invalid(
                    "phone_number",
                    "Phone number should be in e164 format".into(),
                ));
            }
        }
        let identifier = cleared(self.identifier.take())
            .map(|i| {
                i.map(|i| validate::max_chars("identifier", "Identifier", i, MAX_NAME_CHARS))
                    .transpose()
            })
            .transpose()?;
        Ok(ContactChange {
            name,
            email,
            phone_number,
            identifier,
            avatar_url: cleared(self.avatar_url.take()),
            blocked: self.blocked.map(|b| b.0),
            additional_attributes: self.additional_attributes.take(),
            custom_attributes: self.custom_attributes.take(),
        })
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    sort: Option<String>,
    include_contact_inboxes: Option<String>,
}

fn parse_sort(raw: Option<&str>) -> Result<Option<(SortKey, bool)>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let (key, descending) = match raw.strip_prefix('-') {
        Some(key) => (key, true),
        None => (raw, false),
    };
    SortKey::parse(key)
        .map(|key| Some((key, descending)))
        .ok_or_else(|| ApiError::unprocessable(format!("'{raw}' is not a contact sort key")))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts",
    params(doc::ContactListQuery),
    responses((status = 200, body = doc::ContactList)))]
pub async fn index(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListQuery>,
) -> ApiResult {
    let query = query.into_inner();
    let sort = parse_sort(query.sort.as_deref())?;
    // Chatwoot echoes `page` back as it was sent; a non-number reads as page 1.
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let current_page = query.page.map_or(json!(1), Value::from);
    let with_inboxes = query.include_contact_inboxes.as_deref() != Some("false");
    let (list, count, inboxes) = state
        .db
        .read(move |conn| {
            let (list, count) = contacts::list(conn, principal.account_id, page, sort)?;
            let ids: Vec<i64> = if with_inboxes {
                list.iter().map(|c| c.id).collect()
            } else {
                Vec::new()
            };
            Ok((list, count, contacts::inboxes_of(conn, &ids)?))
        })
        .await?;
    let payload: Vec<_> = list
        .iter()
        .map(|c| views::contact(c, inboxes.get(&c.id).map(Vec::as_slice)))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "meta": { "count": count, "current_page": current_page },
        "payload": payload,
    })))
}

async fn render_one(state: &AppState, account_id: i64, contact_id: i64) -> Result<Value, ApiError> {
    let (contact, inboxes) = state
        .db
        .read(move |conn| {
            let contact = contacts::get(conn, account_id, contact_id)?;
            let inboxes = contacts::inboxes_of(conn, &[contact_id])?;
            Ok((contact, inboxes))
        })
        .await?;
    Ok(views::contact(
        &contact,
        inboxes.get(&contact_id).map(Vec::as_slice),
    ))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{id}",
    responses((status = 200, body = doc::ContactPayload)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let contact = render_one(&state, principal.account_id, path.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "payload": contact })))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/contacts",
    request_body = doc::ContactInput,
    responses((status = 200, body = doc::CreatedContact)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<ContactInput>,
) -> ApiResult {
    let mut input = body.0;
    let change = input.change()?;
    let inbox_id = input.inbox_id.map(|id| id.0);
    let source_id = match input
        .source_id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    {
        Some(source) => Some(validate::max_chars(
            "source_id",
            "Source",
            source,
            MAX_NAME_CHARS,
        )?),
        None => None,
    };
    let (account_id, now) = (principal.account_id, state.now());
    let (contact_id, inbox, source_id) = state
        .write_by(principal.actor, move |tx, _| {
            let contact_id = contacts::create(tx, account_id, change.clone(), now)?;
            let Some(inbox_id) = inbox_id else {
                return Ok((contact_id, None, None));
            };
            // An unknown inbox, or one an agent is not a member of, is a 404 and rolls the
            // contact back with it.
            let inbox = inboxes::get_accessible(tx, &principal, inbox_id)?;
            // API inboxes identify a contact by a random UUID unless the client picks one.
            let source_id = source_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let taken = || StoreError::invalid("source_id", "Source has already been taken");
            contacts::attach_inbox(tx, contact_id, inbox_id, &source_id, now, taken)?;
            Ok((contact_id, Some(inbox), Some(source_id)))
        })
        .await?;
    let contact = render_one(&state, account_id, contact_id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "payload": {
            "contact": contact,
            "contact_inbox": {
                "inbox": inbox.as_ref().map(views::inbox_record),
                "source_id": source_id,
            },
        }
    })))
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/contacts/{id}",
    request_body = doc::ContactInput,
    responses((status = 200, body = doc::ContactPayload)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<ContactInput>,
) -> ApiResult {
    let mut input = body.0;
    let change = input.change()?;
    let (account_id, contact_id, now) = (principal.account_id, path.id, state.now());
    state
        .write_by(principal.actor, move |tx, _| {
            contacts::update(tx, account_id, contact_id, change.clone(), now)
        })
        .await?;
    let contact = render_one(&state, account_id, contact_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "payload": contact })))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/contacts/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, contacts::delete).await
}
