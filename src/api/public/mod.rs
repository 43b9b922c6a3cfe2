//! Chatwoot's public Client API, `/public/api/v1/inboxes/{inbox_identifier}`: the customer's side
//! of an API inbox. There is no token: the inbox identifier and the contact inbox's source id
//! are the credentials, so a wrong one of either (or a conversation the contact may not reach)
//! is the same 404 as a missing one.

pub(super) mod contacts;
pub(super) mod conversations;
pub(super) mod inboxes;
pub(super) mod messages;
pub mod rate_limit;

use crate::db::Conn;
use actix_web::web;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::events;
use crate::models::Performer;
use crate::store::conversations::Conversation;
use crate::store::inboxes::Inbox;
use crate::store::public::{self, ContactInbox};
use crate::store::StoreResult;

#[derive(Deserialize)]
pub struct InboxPath {
    inbox_identifier: String,
}

#[derive(Deserialize)]
pub struct ContactPath {
    inbox_identifier: String,
    source_id: String,
}

#[derive(Deserialize)]
pub struct ConversationPath {
    inbox_identifier: String,
    source_id: String,
    display_id: i64,
}

#[derive(Deserialize)]
pub struct MessagePath {
    inbox_identifier: String,
    source_id: String,
    display_id: i64,
    message_id: i64,
}

/// The inbox and the contact inbox a path names.
fn contact_inbox(
    conn: &Conn,
    inbox_identifier: &str,
    source_id: &str,
) -> StoreResult<(Inbox, ContactInbox)> {
    let inbox = public::inbox(conn, inbox_identifier)?;
    let entry = public::contact_inbox(conn, inbox.id, source_id)?;
    Ok((inbox, entry))
}

/// Records the transaction's events as the contact's doing. The contact is known only once the
/// path is resolved inside the transaction, so this stands in for `AppState::write_by`.
fn record_by_contact(
    tx: &Conn,
    contact_id: i64,
    recording: &events::Recording,
    now: i64,
) -> StoreResult<()> {
    recording.record(tx, Some(Performer::Contact(contact_id)), now)
}

/// A write on the conversation a path names, on behalf of its contact inbox's contact.
async fn write_in_conversation<T, F>(
    state: &AppState,
    path: ConversationPath,
    mut work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnMut(&Conn, &ContactInbox, Conversation, i64) -> StoreResult<T> + Send + 'static,
{
    let recording = state.recording();
    state
        .write_at(move |tx, now| {
            let (_, entry) = contact_inbox(tx, &path.inbox_identifier, &path.source_id)?;
            let conversation = public::conversation(tx, &entry, path.display_id)?;
            let value = work(tx, &entry, conversation, now)?;
            record_by_contact(tx, entry.contact_id, &recording, now)?;
            Ok(value)
        })
        .await
}

/// What browsers may do with the Client API: any page may call it, without credentials (the
/// inbox identifier and the contact's `source_id` travel in the path), as Chatwoot allows.
fn cors() -> actix_cors::Cors {
    actix_cors::Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allow_any_method()
        .allow_any_header()
        .max_age(86_400)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/public/api/v1/inboxes/{inbox_identifier}")
            .wrap(actix_web::middleware::from_fn(rate_limit::limit))
            .wrap(cors())
            .route("", web::get().to(inboxes::show))
            .route("/contacts", web::post().to(contacts::create))
            .route("/contacts/{source_id}", web::get().to(contacts::show))
            .route("/contacts/{source_id}", web::patch().to(contacts::update))
            .route("/contacts/{source_id}", web::put().to(contacts::update))
            .service(
                web::scope("/contacts/{source_id}/conversations")
                    .route("", web::get().to(conversations::index))
                    .route("", web::post().to(conversations::create))
                    .route("/{display_id}", web::get().to(conversations::show))
                    .route(
                        "/{display_id}/toggle_status",
                        web::post().to(conversations::toggle_status),
                    )
                    .route(
                        "/{display_id}/toggle_typing",
                        web::post().to(conversations::toggle_typing),
                    )
                    .route(
                        "/{display_id}/update_last_seen",
                        web::post().to(conversations::update_last_seen),
                    )
                    .route("/{display_id}/messages", web::get().to(messages::index))
                    .route("/{display_id}/messages", web::post().to(messages::create))
                    .route(
                        "/{display_id}/messages/{message_id}",
                        web::patch().to(messages::update),
                    )
                    .route(
                        "/{display_id}/messages/{message_id}",
                        web::put().to(messages::update),
                    ),
            ),
    );
}
