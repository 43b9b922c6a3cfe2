//! `GET /__wootlite/info`: what this server is and runs with.

use actix_web::{web, HttpResponse};

use super::{tools, DevAdmin};
use crate::api::ApiResult;
use crate::app::AppState;
use crate::store;
use crate::views;

#[utoipa::path(get, path = "/__wootlite/info",
    responses((status = 200, description = "Version, schema version, settings (secrets only as set), data dir, clock", body = serde_json::Value)))]
pub async fn show(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    let tools = tools(&state)?;
    let schema_version = state.db.read(store::schema_version).await?;
    let clock = views::dev::clock(state.clock.now_micros(), state.clock.is_frozen());
    let info = views::dev::info(schema_version, &tools.info, clock);
    Ok(HttpResponse::Ok().json(info))
}
