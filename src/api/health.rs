//! Readiness: the server only listens once migrations have run, so answering at all means ready;
//! the query proves the database is reachable. `search` tells how far the index is behind the
//! database: `written_seq` is the newest change to searchable messages, `indexed_seq` the newest
//! one searches can see.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiResult;
use crate::app::AppState;
use crate::db::SCHEMA_VERSION;
use crate::store::search_feed;

pub async fn health(state: web::Data<AppState>) -> ApiResult {
    let (version, written_seq): (i64, i64) = state
        .db
        .read(|conn| {
            let version = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
            Ok((version, search_feed::latest_seq(conn)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "schema_version": version,
        "expected_schema_version": SCHEMA_VERSION,
        "search": {
            "written_seq": written_seq,
            "indexed_seq": state.search.visible_seq(),
        },
    })))
}
