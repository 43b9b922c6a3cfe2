//! Dev mode's journal of the API requests served: method, path, status, duration and the first
//! bytes of the request body, copied as the body streams through (nothing is buffered for it).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use futures_util::StreamExt;
use serde::Serialize;

use crate::app::AppState;
use crate::views::iso_millis;

/// Bytes of each request body kept.
const BODY_PREFIX: usize = 1024;

#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    pub at: serde_json::Value,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub duration_ms: f64,
    /// The body's first bytes, as text (invalid UTF-8 replaced).
    pub body: String,
}

/// Records every request but the journal's own (`/__wootlite/...`) when dev mode is on.
pub async fn record(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // Outside dev mode this is every request's path: nothing is read or copied.
    let state = req.app_data::<web::Data<AppState>>();
    let dev = state.and_then(|s| s.dev.clone());
    let Some(dev) = dev.filter(|_| !req.path().starts_with("/__wootlite")) else {
        return next.call(req).await;
    };
    let state = state.cloned();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), |p| p.to_string());
    let copied = Arc::new(Mutex::new(Vec::new()));
    let copy = Arc::clone(&copied);
    let body = req.take_payload().map(move |chunk| {
        if let Ok(bytes) = &chunk {
            let mut kept = copy.lock().unwrap_or_else(|e| e.into_inner());
            let room = BODY_PREFIX.saturating_sub(kept.len());
            kept.extend_from_slice(&bytes[..room.min(bytes.len())]);
        }
        chunk
    });
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let method = req.method().to_string();
    let started = Instant::now();
    let at = state.map(|s| iso_millis(s.clock.now_micros()));
    let response = next.call(req).await;
    let status = match &response {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    let body = String::from_utf8_lossy(&copied.lock().unwrap_or_else(|e| e.into_inner())).into();
    dev.requests.push(RequestRecord {
        at: at.unwrap_or_default(),
        method,
        path,
        status,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        body,
    });
    response
}
