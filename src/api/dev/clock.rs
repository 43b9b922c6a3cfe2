//! `GET`/`POST /__wootlite/clock`: the server's time, which dev mode lets a test set, advance
//! and freeze. Everything that reads the time reads this clock: timestamps written, snoozes
//! waking, mail quotas, webhook retries.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::DevAdmin;
use crate::api::input::JsonBody;
use crate::api::openapi::schemas as doc;
use crate::api::ApiResult;
use crate::app::AppState;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::views;

fn now(clock: &Clock) -> Value {
    views::dev::clock(clock.now_micros(), clock.is_frozen())
}

#[utoipa::path(get, path = "/__wootlite/clock",
    responses((status = 200, body = doc::DevClock)))]
pub async fn show(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    Ok(HttpResponse::Ok().json(now(&state.clock)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Unix seconds, or an ISO 8601 time.
    set: Option<Value>,
    /// Seconds, forwards or back.
    advance: Option<f64>,
    frozen: Option<bool>,
}

/// Microseconds since the epoch of `set`.
fn instant(set: &Value) -> Result<i64, ApiError> {
    let invalid = || ApiError::Unprocessable("set must be unix seconds or an ISO 8601 time".into());
    match set {
        Value::Number(n) => n
            .as_f64()
            .filter(|s| s.is_finite() && s.abs() < 1e11)
            .map(|s| (s * 1e6) as i64)
            .ok_or_else(invalid),
        Value::String(text) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.timestamp_micros())
            .map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// Applies `set`, then `advance`, then `frozen`, and answers like `GET`.
#[utoipa::path(post, path = "/__wootlite/clock", request_body = doc::DevClockChange,
    responses((status = 200, body = doc::DevClock)))]
pub async fn change(state: web::Data<AppState>, _: DevAdmin, body: JsonBody<Change>) -> ApiResult {
    let change = body.0;
    let set = change.set.as_ref().map(instant).transpose()?;
    let advance = match change.advance {
        Some(seconds) if seconds.is_finite() && seconds.abs() < 1e10 => {
            Some((seconds * 1e6) as i64)
        }
        Some(_) => return Err(ApiError::Unprocessable("advance must be seconds".into())),
        None => None,
    };
    let clock = &state.clock;
    if let Some(micros) = set {
        clock.set_micros(micros);
    }
    if let Some(by) = advance {
        clock.advance_micros(by);
    }
    if let Some(frozen) = change.frozen {
        clock.freeze(frozen);
    }
    // Timers waiting on the clock see its move themselves; the snooze waker looks again too.
    state.snoozes.snoozes_changed();
    if state.db.is_postgres() {
        super::shared::share_clock(&state, super::tools(&state)?).await?;
    }
    Ok(HttpResponse::Ok().json(now(clock)))
}
