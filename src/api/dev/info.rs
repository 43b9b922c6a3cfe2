//! `GET /__wootlite/info`: what this server is and runs with.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{tools, DevAdmin};
use crate::api::ApiResult;
use crate::app::AppState;
use crate::store;

#[utoipa::path(get, path = "/__wootlite/info",
    responses((status = 200, description = "Version, schema version, settings (secrets only as set), data dir, clock", body = serde_json::Value)))]
pub async fn show(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    let tools = tools(&state)?;
    let schema_version = state.db.read(store::schema_version).await?;
    Ok(HttpResponse::Ok().json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": schema_version,
        "settings": tools.info,
        "data_dir": tools.info["data_dir"],
        "clock": {
            "now": state.clock.now_micros().div_euclid(1_000_000),
            "frozen": state.clock.is_frozen(),
        },
    })))
}
