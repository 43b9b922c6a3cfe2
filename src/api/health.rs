//! Health: 200 when the database answers and every background task is up and keeping pace,
//! 503 naming what is not (a task that is down and why, or how far the search index is
//! behind the database), so that a load balancer or a supervisor of the process can act.
//! `search` tells how far the index is behind: `written_seq` is the newest change to
//! searchable messages, `indexed_seq` the newest one searches can see. `events` is the event
//! backlog: deliveries not made yet and the age of the oldest. A backlog alone is no problem of
//! this server (a receiver may be down), so it is reported, not turned into a 503.

use crate::api::openapi::schemas as doc;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiResult;
use crate::app::AppState;
use crate::db::SCHEMA_VERSION;
use crate::store::{event_outbox, search_feed};

/// The index counts as behind when changes are waiting and the indexer has not finished a pass
/// for this long (it passes every ~100 ms while it keeps up).
const INDEX_STALL: Duration = Duration::from_secs(10);

#[utoipa::path(get, path = "/health",
    responses((status = 200, description = "All is well (`status` ok)", body = doc::Health), (status = 503, description = "Degraded: a task is down or the search index is stalled (`status` degraded, with `problems`)", body = doc::Health)))]
pub async fn health(state: web::Data<AppState>) -> ApiResult {
    let (version, written_seq, (pending, oldest)) = state
        .db
        .read(|conn| {
            let version = crate::store::schema_version(conn)?;
            let backlog = event_outbox::backlog(conn)?;
            Ok((version, search_feed::latest_seq(conn)?, backlog))
        })
        .await?;
    let oldest_age_secs = oldest.map(|at| (state.now() - at).max(0) / 1_000_000);
    let tasks = state.tasks.statuses();
    let mut problems: Vec<String> = tasks
        .iter()
        .filter(|(_, status)| !status.up)
        .map(|(name, status)| {
            format!(
                "{name} is down: {}",
                status.last_error.as_deref().unwrap_or("unknown cause")
            )
        })
        .collect();
    let indexed_seq = state.search.visible_seq();
    let behind = (written_seq - indexed_seq.max(0)).max(0);
    let stalled = state.search.since_last_pass();
    if behind > 0 && stalled > INDEX_STALL {
        problems.push(format!(
            "search-indexer is behind: {behind} changes not searchable yet, no pass for {}s",
            stalled.as_secs()
        ));
    }
    let mut body = json!({
        "status": if problems.is_empty() { "ok" } else { "degraded" },
        "schema_version": version,
        "expected_schema_version": SCHEMA_VERSION,
        "search": {
            "written_seq": written_seq,
            "indexed_seq": indexed_seq,
            "behind": behind,
        },
        "events": {
            "pending": pending,
            "oldest_pending_age_secs": oldest_age_secs,
        },
        "tasks": tasks,
    });
    if problems.is_empty() {
        return Ok(HttpResponse::Ok().json(body));
    }
    body["error"] = json!(problems.join("; "));
    body["problems"] = json!(problems);
    Ok(HttpResponse::ServiceUnavailable()
        .insert_header(("Retry-After", "5"))
        .json(body))
}
