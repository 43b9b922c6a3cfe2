//! Readiness: the server only listens once migrations have run, so answering at all means ready;
//! the query proves the database is reachable.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiResult;
use crate::app::AppState;
use crate::db::SCHEMA_VERSION;

pub async fn health(state: web::Data<AppState>) -> ApiResult {
    let version: i64 = state
        .db
        .read(|conn| Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "schema_version": version,
        "expected_schema_version": SCHEMA_VERSION,
    })))
}
