//! Health: 200 when the database answers and every background task is up and keeping pace,
//! 503 naming what is not (a task that is down and why, or how far the search index is
//! behind the database), so that a load balancer or a supervisor of the process can act.
//! `search` tells how far the index is behind: `written_seq` is the newest change to
//! searchable messages, `indexed_seq` the newest one searches can see.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiResult;
use crate::app::AppState;
use crate::db::SCHEMA_VERSION;
use crate::store::search_feed;

/// The index counts as behind when changes are waiting and the indexer has not finished a pass
/// for this long (it passes every ~100 ms while it keeps up).
const INDEX_STALL: Duration = Duration::from_secs(10);

pub async fn health(state: web::Data<AppState>) -> ApiResult {
    let (version, written_seq): (i64, i64) = state
        .db
        .read(|conn| {
            let version = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
            Ok((version, search_feed::latest_seq(conn)?))
        })
        .await?;
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
