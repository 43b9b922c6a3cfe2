//! `POST /__wootlite/reset`: back to the state right after the first start, for the next test.
//! The database is emptied and provisioned again (the fixtures the server started with, or the
//! default account) in one write transaction, so a request sees
//! the state before or after, never a mix; ids start at 1 again. Then what lives beside the
//! database follows: files, caught mail, journals, presence, the clock, and the live sockets,
//! which are told to come back.

use actix_web::{web, HttpResponse};

use super::{tools, DevAdmin, DevTools};
use crate::api::openapi::schemas as doc;
use crate::api::ApiResult;
use crate::app::AppState;
use crate::provision;
use crate::store::{dev_state, event_capture, reset};
use crate::views;

#[utoipa::path(post, path = "/__wootlite/reset",
    responses((status = 200, body = doc::DevReset)))]
pub async fn reset(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    let tools = tools(&state)?;
    // The clock first, so that what is provisioned is dated now.
    let clock = &state.clock;
    clock.freeze(false);
    clock.set_micros(chrono::Utc::now().timestamp_micros());
    let token = tools.bootstrap_token.clone();
    let fixtures = tools.fixtures.clone();
    let dated = clock.clone();
    let fresh = state
        .db
        .write(move |tx| {
            let now = dated.now_micros();
            reset::wipe(tx)?;
            let fresh = match fixtures.as_deref() {
                Some(fixtures) => {
                    let loaded = provision::fixtures_start(tx, fixtures, token.as_deref(), now)?;
                    views::dev::reset_loaded(&loaded, token.as_deref())
                }
                None => views::dev::reset_made(&provision::first_start(tx, token.as_deref(), now)?),
            };
            // The fresh state is where everyone starts, not news: no events, no broadcasts.
            event_capture::take(tx)?;
            // Other nodes see the reset and its clock together.
            let shared = if tx.is_postgres() {
                let clock_version = dated
                    .setting()
                    .map(|(at, frozen)| dev_state::share_clock(tx, at, frozen))
                    .transpose()?;
                Some((dev_state::note_reset(tx)?, clock_version))
            } else {
                None
            };
            Ok((fresh, shared))
        })
        .await?;
    let (fresh, shared) = fresh;
    empty(&state.files_dir).await;
    forget_beside_the_database(&state, tools).await;
    if let Some((resets, clock_version)) = shared {
        // Other nodes forget theirs when they see the count move; this one has.
        tools.shared.resets(resets);
        if let Some(version) = clock_version {
            tools.shared.clock(version);
        }
    }
    Ok(HttpResponse::Ok().json(fresh))
}

/// What a node keeps beside the database, emptied after a reset: caught mail, journals,
/// presence, and the live sockets, which are told to come back.
pub(super) async fn forget_beside_the_database(state: &AppState, tools: &DevTools) {
    empty(&tools.mail_dir).await;
    tools.requests.clear();
    tools.webhooks.clear();
    state.presence.clear();
    state.hub.release_all();
    state.snoozes.snoozes_changed();
}

/// Removes what a directory holds, keeping the directory.
async fn empty(dir: &std::path::Path) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        let removed = match entry.file_type().await {
            Ok(kind) if kind.is_dir() => tokio::fs::remove_dir_all(&path).await,
            _ => tokio::fs::remove_file(&path).await,
        };
        if let Err(e) = removed {
            log::warn!("reset: cannot remove {}: {e}", path.display());
        }
    }
}
