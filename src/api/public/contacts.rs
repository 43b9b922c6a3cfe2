//! `/public/api/v1/inboxes/{inbox_identifier}/contacts`: a client makes, reads and edits its
//! contact. Identity validation: when an `identifier_hash` is sent, or the inbox makes it
//! mandatory, the hash must be the hex HMAC-SHA256 of `identifier` keyed with the inbox's HMAC
//! token; a contact inbox that proved it reaches all its contact's conversations in the inbox.

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{ContactPath, InboxPath};
use crate::api::contacts::ContactInput as ContactFields;
use crate::api::validate::{self, MAX_NAME_CHARS};
use crate::api::{input::JsonBody, ApiResult};
use crate::app::AppState;
use crate::error::ApiError;
use crate::events::signature::hmac_sha256_hex;
use crate::store::contacts::{self, Contact, ContactChange};
use crate::store::inboxes::Inbox;
use crate::store::public::{self, ContactInbox};
use crate::store::{StoreError, StoreResult};
use crate::views;

/// Chatwoot's message when the identifier hash does not match.
pub const INVALID_HASH: &str = "HMAC failed: Invalid Identifier Hash Provided";
/// Chatwoot's message when a verified identifier is not the contact's.
pub const IDENTIFIER_MISMATCH: &str = "HMAC failed: Identifier does not match contact";

#[derive(Deserialize, Default)]
pub struct Identity {
    identifier: Option<String>,
    identifier_hash: Option<String>,
}

impl Identity {
    fn identifier(&self) -> Option<&str> {
        self.identifier
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// Whether the identity was proven: false when no hash was sent and the inbox does not ask
    /// for one; a wrong or missing hash the inbox asks for is a 401.
    fn verify(&self, inbox: &Inbox) -> StoreResult<bool> {
        let hash = self
            .identifier_hash
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if hash.is_none() && !inbox.hmac_mandatory {
            return Ok(false);
        }
        let expected = hmac_sha256_hex(
            inbox.hmac_token.as_bytes(),
            &[self.identifier().unwrap_or("").as_bytes()],
        );
        match hash {
            Some(hash) if same_bytes(hash.as_bytes(), expected.as_bytes()) => Ok(true),
            _ => Err(StoreError::Unauthorized(INVALID_HASH.into())),
        }
    }
}

/// Compares without stopping at the first difference, so timing tells nothing about the hash.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
pub struct ContactInput {
    source_id: Option<String>,
    identifier_hash: Option<String>,
    #[serde(flatten)]
    fields: ContactFields,
}

impl ContactInput {
    /// The contact fields a client may set: not `blocked`, not `additional_attributes`.
    fn parse(mut self) -> Result<(ContactChange, Identity, Option<String>), ApiError> {
        let mut change = self.fields.change()?;
        change.blocked = None;
        change.additional_attributes = None;
        let identity = Identity {
            identifier: change.identifier.clone().flatten(),
            identifier_hash: self.identifier_hash.take(),
        };
        let source_id = self
            .source_id
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .map(|s| validate::max_chars("source_id", "Source", s, MAX_NAME_CHARS))
            .transpose()?;
        Ok((change, identity, source_id))
    }
}

/// The contact inbox with its contact, for the answer.
fn with_contact(conn: &Conn, id: i64) -> StoreResult<(Contact, ContactInbox)> {
    let entry = public::contact_inbox_by_id(conn, id)?;
    Ok((contacts::get_by_id(conn, entry.contact_id)?, entry))
}

fn render((contact, entry): (Contact, ContactInbox)) -> ApiResult {
    Ok(HttpResponse::Ok().json(views::public::contact(&contact, &entry)))
}

#[utoipa::path(post, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts",
    request_body = doc::PublicContactInput,
    responses((status = 200, body = doc::PublicContact)))]
pub async fn create(
    state: web::Data<AppState>,
    path: web::Path<InboxPath>,
    body: JsonBody<ContactInput>,
) -> ApiResult {
    let (change, identity, source_id) = body.0.parse()?;
    let source_id = source_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let identifier = path.into_inner().inbox_identifier;
    let recording = state.recording();
    let created = state
        .write_at(move |tx, now| {
            let inbox = public::inbox(tx, &identifier)?;
            let verified = identity.verify(&inbox)?;
            let entry =
                public::create_contact(tx, &inbox, &source_id, change.clone(), verified, now)?;
            super::record_by_contact(tx, entry.contact_id, &recording, now)?;
            with_contact(tx, entry.id)
        })
        .await?;
    render(created)
}

/// GET: the identity is checked from the query when the inbox makes it mandatory. A read, unless
/// a proven identity first marks the contact inbox verified.
#[utoipa::path(get, path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}",
    params(doc::IdentityQuery),
    responses((status = 200, body = doc::PublicContact)))]
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<ContactPath>,
    query: web::Query<Identity>,
) -> ApiResult {
    let path = path.into_inner();
    let identity = query.into_inner();
    let (shown, newly_verified) = state
        .db
        .read(move |conn| {
            let (inbox, entry) =
                super::contact_inbox(conn, &path.inbox_identifier, &path.source_id)?;
            let proven = proves_identity(conn, &inbox, &entry, &identity)?;
            Ok((with_contact(conn, entry.id)?, proven))
        })
        .await?;
    if !newly_verified {
        return render(shown);
    }
    let id = shown.1.id;
    let verified = state
        .write_at(move |tx, now| {
            public::set_hmac_verified(tx, id, now)?;
            with_contact(tx, id)
        })
        .await?;
    render(verified)
}

/// Checks the identity against the contact inbox's contact: true when it proves the contact's
/// own identifier and the contact inbox is not verified yet.
fn proves_identity(
    conn: &Conn,
    inbox: &Inbox,
    entry: &ContactInbox,
    identity: &Identity,
) -> StoreResult<bool> {
    if !identity.verify(inbox)? {
        return Ok(false);
    }
    let contact = contacts::get_by_id(conn, entry.contact_id)?;
    match (contact.identifier.as_deref(), identity.identifier()) {
        (Some(own), Some(sent)) if own == sent => Ok(!entry.hmac_verified),
        (Some(_), _) => Err(StoreError::Unauthorized(IDENTIFIER_MISMATCH.into())),
        (None, _) => Ok(false),
    }
}

/// PATCH: name, email, phone number, avatar and custom attributes; the identifier is not changed
/// here, only proven.
#[utoipa::path(method(patch, put), path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{source_id}",
    request_body = doc::PublicContactInput,
    responses((status = 200, body = doc::PublicContact)))]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<ContactPath>,
    body: JsonBody<ContactInput>,
) -> ApiResult {
    let (mut change, identity, _) = body.0.parse()?;
    change.identifier = None;
    let path = path.into_inner();
    let recording = state.recording();
    let updated = state
        .write_at(move |tx, now| {
            let (inbox, entry) = super::contact_inbox(tx, &path.inbox_identifier, &path.source_id)?;
            if proves_identity(tx, &inbox, &entry, &identity)? {
                public::set_hmac_verified(tx, entry.id, now)?;
            }
            contacts::update(tx, inbox.account_id, entry.contact_id, change.clone(), now)?;
            super::record_by_contact(tx, entry.contact_id, &recording, now)?;
            with_contact(tx, entry.id)
        })
        .await?;
    render(updated)
}
