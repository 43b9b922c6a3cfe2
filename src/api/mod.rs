//! The one route table. Handlers live in one file per resource and stay short: authorise,
//! parse, call the store, render the view.

mod agent_bots;
mod agent_passwords;
mod agents;
pub mod body_timeout;
mod cable;
mod contacts;
mod conversation_actions;
mod conversation_filter;
mod conversation_finder;
mod conversation_input;
mod conversations;
pub mod cors;
mod custom_attributes;
pub mod dev;
pub mod files;
mod health;
pub mod house_errors;
mod inbox_members;
mod inboxes;
pub mod input;
mod invitations;
mod labels;
mod links;
mod members;
mod message_input;
mod messages;
mod metrics;
pub mod openapi;
mod passwords;
mod profile;
pub mod public;
mod session;
mod sign_in;
pub mod sign_in_limit;
mod team_members;
mod teams;
#[cfg(test)]
pub(crate) mod test_accounts;
mod transcript;
pub mod validate;
mod webhooks;

/// How `POST /conversations/filter` turns a payload into list filters (the benches time it).
pub use conversation_filter::as_list_filter;

use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::StoreResult;

pub type ApiResult = Result<HttpResponse, ApiError>;

/// `{id}` of an item route under an account.
#[derive(Deserialize)]
pub struct ItemPath {
    pub id: i64,
}

/// What a delete leaves to clean up after its transaction: attachment files, for the deletes
/// that take conversations with them.
pub trait LeftoverFiles: Send + 'static {
    fn into_files(self) -> Vec<String>;
}

impl LeftoverFiles for () {
    fn into_files(self) -> Vec<String> {
        Vec::new()
    }
}

impl LeftoverFiles for Vec<String> {
    fn into_files(self) -> Vec<String> {
        self
    }
}

/// The administrator-only DELETE of one of the account's rows, answered with an empty 200 (or
/// 404) once its attachment files are gone too.
pub async fn delete_as_administrator<R: LeftoverFiles>(
    state: &AppState,
    principal: &Principal,
    id: i64,
    delete: fn(&Conn, i64, i64) -> StoreResult<R>,
) -> ApiResult {
    principal.require_administrator()?;
    let account_id = principal.account_id;
    let leftover = state.db.write(move |tx| delete(tx, account_id, id)).await?;
    files::remove(&state.files_dir, leftover.into_files()).await;
    Ok(HttpResponse::Ok().finish())
}

/// The routes; `/metrics` only with `with_metrics` and `/__wootlite/` only with `with_dev`, so
/// that without them those paths are unknown like any other.
///
/// Every route is in the API document: a new one needs `#[utoipa::path]` on its handler and the
/// handler in `openapi::ApiDoc`'s `paths` (tests/api/openapi.rs reads this table and fails for a
/// route the document lacks).
pub fn routes(
    cfg: &mut web::ServiceConfig,
    with_metrics: bool,
    with_dev: bool,
    origins: &cors::AllowedOrigins,
) {
    if with_metrics {
        cfg.route("/metrics", web::get().to(metrics::metrics));
    }
    if with_dev {
        cfg.configure(dev::routes);
    }
    cfg.route("/health", web::get().to(health::health))
        .route("/cable", web::get().to(cable::connect))
        .route("/files/{folder}/{name}", web::get().to(files::serve))
        .configure(openapi::routes)
        .configure(public::routes)
        .route("/auth/sign_in", web::post().to(sign_in::sign_in))
        .service(
            web::resource("/auth/session")
                .get(session::show)
                .post(session::create)
                .delete(session::destroy),
        )
        .service(
            web::resource("/auth/password")
                .put(passwords::update)
                .post(passwords::forgot),
        )
        .service(
            web::scope("/api/v1")
                .wrap(cors::application(origins))
                .route("/profile", web::get().to(profile::show))
                .route(
                    "/invitations/{token}/accept",
                    web::post().to(invitations::accept),
                )
                .service(account_routes()),
        )
        // Rails answers an unrouted path or method with 404.
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound)
        }));
}

/// Everything under `/api/v1/accounts/{account_id}`.
fn account_routes() -> actix_web::Scope {
    web::scope("/accounts/{account_id}")
        .service(
            web::resource("/agents")
                .get(agents::index)
                .post(agents::create),
        )
        .service(
            web::resource("/agents/{id}")
                .patch(agents::update)
                .put(agents::update)
                .delete(agents::destroy),
        )
        .service(web::resource("/agents/{id}/password").post(agent_passwords::set))
        .service(web::resource("/agents/{id}/reset_password").post(agent_passwords::reset))
        .service(
            web::resource("/inboxes")
                .get(inboxes::index)
                .post(inboxes::create),
        )
        .service(
            web::resource("/inboxes/{id}")
                .get(inboxes::show)
                .patch(inboxes::update)
                .put(inboxes::update)
                .delete(inboxes::destroy),
        )
        .service(web::resource("/inboxes/{id}/agent_bot").get(inboxes::agent_bot))
        .service(web::resource("/inboxes/{id}/set_agent_bot").post(inboxes::set_agent_bot))
        .service(web::resource("/inboxes/{id}/reset_secret").post(inboxes::reset_secret))
        .service(web::resource("/inboxes/{id}/rotate_hmac_token").post(inboxes::rotate_hmac_token))
        .service(
            web::resource("/agent_bots")
                .get(agent_bots::index)
                .post(agent_bots::create),
        )
        .service(
            web::resource("/agent_bots/{id}")
                .get(agent_bots::show)
                .patch(agent_bots::update)
                .put(agent_bots::update)
                .delete(agent_bots::destroy),
        )
        .service(
            web::resource("/agent_bots/{id}/reset_access_token")
                .post(agent_bots::reset_access_token),
        )
        .service(web::resource("/agent_bots/{id}/reset_secret").post(agent_bots::reset_secret))
        .service(
            web::resource("/inbox_members")
                .post(inbox_members::create)
                .patch(inbox_members::update)
                .delete(inbox_members::destroy),
        )
        .service(web::resource("/inbox_members/{id}").get(inbox_members::show))
        .service(
            web::resource("/teams")
                .get(teams::index)
                .post(teams::create),
        )
        .service(
            web::resource("/teams/{id}")
                .get(teams::show)
                .patch(teams::update)
                .put(teams::update)
                .delete(teams::destroy),
        )
        .service(
            web::resource("/teams/{id}/team_members")
                .get(team_members::index)
                .post(team_members::create)
                .patch(team_members::update)
                .delete(team_members::destroy),
        )
        .service(
            web::resource("/contacts")
                .get(contacts::index)
                .post(contacts::create),
        )
        .service(
            web::resource("/contacts/{id}")
                .get(contacts::show)
                .patch(contacts::update)
                .put(contacts::update)
                .delete(contacts::destroy),
        )
        .service(web::resource("/contacts/{id}/conversations").get(conversations::of_contact))
        .service(
            web::resource("/conversations")
                .get(conversations::index)
                .post(conversations::create),
        )
        // Before `/conversations/{id}`, which would otherwise take "meta" as an id.
        .service(web::resource("/conversations/meta").get(conversations::meta))
        .service(web::resource("/conversations/search").get(conversations::search))
        .service(web::resource("/conversations/filter").post(conversation_filter::filter))
        .service(
            web::resource("/conversations/{id}")
                .get(conversations::show)
                .patch(conversations::update)
                .put(conversations::update)
                .delete(conversations::destroy),
        )
        .service(
            web::scope("/conversations/{id}")
                .route(
                    "/toggle_status",
                    web::post().to(conversation_actions::toggle_status),
                )
                .route(
                    "/toggle_priority",
                    web::post().to(conversation_actions::toggle_priority),
                )
                .route(
                    "/toggle_typing_status",
                    web::post().to(conversation_actions::toggle_typing_status),
                )
                .route("/transcript", web::post().to(transcript::transcript))
                .route("/mute", web::post().to(conversation_actions::mute))
                .route("/unmute", web::post().to(conversation_actions::unmute))
                .route("/unread", web::post().to(conversation_actions::unread))
                .route(
                    "/update_last_seen",
                    web::post().to(conversation_actions::update_last_seen),
                )
                .route(
                    "/custom_attributes",
                    web::post().to(conversation_actions::custom_attributes),
                )
                .route(
                    "/attachments",
                    web::get().to(conversation_actions::attachments),
                )
                .route("/labels", web::get().to(conversation_actions::labels))
                .route("/labels", web::post().to(conversation_actions::set_labels))
                .route("/assignments", web::post().to(conversation_actions::assign))
                .route("/messages", web::get().to(messages::index))
                .route("/messages", web::post().to(messages::create))
                .route("/messages/{message_id}", web::patch().to(messages::update))
                .route(
                    "/messages/{message_id}",
                    web::delete().to(messages::destroy),
                ),
        )
        .service(
            web::resource("/labels")
                .get(labels::index)
                .post(labels::create),
        )
        .service(
            web::resource("/labels/{id}")
                .get(labels::show)
                .patch(labels::update)
                .put(labels::update)
                .delete(labels::destroy),
        )
        .service(
            web::resource("/webhooks")
                .get(webhooks::index)
                .post(webhooks::create),
        )
        .service(
            web::resource("/webhooks/{id}")
                .patch(webhooks::update)
                .put(webhooks::update)
                .delete(webhooks::destroy),
        )
        .service(
            web::resource("/custom_attribute_definitions")
                .get(custom_attributes::index)
                .post(custom_attributes::create),
        )
        .service(
            web::resource("/custom_attribute_definitions/{id}")
                .get(custom_attributes::show)
                .patch(custom_attributes::update)
                .put(custom_attributes::update)
                .delete(custom_attributes::destroy),
        )
}
