//! `GET /cable`: the ActionCable websocket (see `crate::realtime`). The socket itself needs no
//! token: each subscription carries its own (docs/actioncable.md §1.1).

use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::error::ApiError;
use crate::realtime::connection::{self, Context};
use crate::realtime::protocol::SUBPROTOCOL;

#[utoipa::path(get, path = "/cable",
    responses((status = 101, description = "Switching to the ActionCable websocket (subprotocol `actioncable-v1-json`); subscriptions carry their own token or pubsub token")))]
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Anything but a websocket upgrade finds nothing here, as in Rails.
    let (response, session, incoming) = actix_ws::handle_with_protocols(&req, body, &[SUBPROTOCOL])
        .map_err(|_| ApiError::NotFound)?;
    let context = Context {
        db: state.db.clone(),
        hub: state.hub.clone(),
        presence: state.presence.clone(),
        watching: state.watching.clone(),
        clock: state.clock.clone(),
    };
    actix_web::rt::spawn(connection::serve(context, session, incoming));
    Ok(response)
}
