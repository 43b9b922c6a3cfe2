//! `GET /metrics` (routed only with `--metrics`): the operational metrics in Prometheus' text
//! format. Like `/health` it asks for no token, so the path belongs on a private network only
//! (see the README). What needs the database, the index or the file system is read here, at
//! scrape time, in one cheap read.

use actix_web::{web, HttpResponse};

use super::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::metrics::{Snapshot, CONTENT_TYPE};
use crate::store::{mail, search_feed};

#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> ApiResult {
    let Some(metrics) = state.metrics.as_deref() else {
        return Err(ApiError::NotFound);
    };
    let snapshot = snapshot(&state).await?;
    let text = metrics
        .render(&snapshot)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}

async fn snapshot(state: &AppState) -> Result<Snapshot, ApiError> {
    // Taken before the newest change is read, so the lag is never negative; -1 (nothing
    // visible yet) counts as 0, as `/health` does.
    let visible = state.search.visible_seq().max(0);
    let position = state
        .search
        .visible_position()
        .unwrap_or(search_feed::Position::Seq(0));
    let (written, search_backlog, mail_backlog) = state
        .db
        .read(move |conn| {
            Ok((
                search_feed::latest_seq(conn)?,
                search_feed::count_unapplied(conn, &position)?,
                mail::count_pending(conn)?,
            ))
        })
        .await?;
    let files = state.db.file_sizes();
    Ok(Snapshot {
        write_queue_depth: state.db.write_queue_depth(),
        index_lag: (written - visible).max(0),
        index_documents: state.search.document_count(),
        outbox_backlog: vec![("search", search_backlog), ("mail", mail_backlog)],
        database_bytes: files.database,
        wal_bytes: files.wal,
        tasks: state.tasks.statuses(),
    })
}
