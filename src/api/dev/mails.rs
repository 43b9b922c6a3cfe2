//! The mail catcher: in dev mode mail is never sent but written to the data dir as `.eml` files,
//! which these endpoints list, show (parsed, or raw at `{id}.eml`) and empty.

use std::path::{Path, PathBuf};

use actix_web::{web, HttpResponse};
use mail_parser::MessageParser;
use serde_json::{json, Value};

use super::{tools, DevAdmin};
use crate::api::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::views;

/// The `.eml` files, oldest first, with their ids (the file names without `.eml`).
async fn files(dir: PathBuf) -> Vec<(String, PathBuf)> {
    web::block(move || {
        let mut found: Vec<(std::time::SystemTime, String, PathBuf)> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                let id = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".eml")?
                    .to_string();
                let modified = entry.metadata().ok()?.modified().ok()?;
                Some((modified, id, path))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, id, path)| (id, path)).collect()
    })
    .await
    .unwrap_or_default()
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// A mail as the catcher shows it.
fn shown(id: &str, raw: &[u8]) -> Value {
    let Some(parsed) = MessageParser::default().parse(raw) else {
        return views::dev::unreadable_mail(id);
    };
    let addresses = |list: Option<&mail_parser::Address>| -> Vec<String> {
        list.map(|a| {
            a.iter()
                .filter_map(|addr| addr.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    };
    views::dev::mail(&views::dev::CaughtMail {
        id,
        from: addresses(parsed.from()),
        to: addresses(parsed.to()),
        subject: parsed.subject(),
        date: parsed.date().map(|d| d.to_rfc3339()),
        text: parsed.body_text(0).map(|t| t.into_owned()),
        html: parsed.body_html(0).map(|h| h.into_owned()),
    })
}

#[utoipa::path(get, path = "/__wootlite/mails",
    responses((status = 200, description = "The caught mails, oldest first", body = Vec<serde_json::Value>)))]
pub async fn index(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    let mut mails = Vec::new();
    for (id, path) in files(tools(&state)?.mail_dir.clone()).await {
        if let Some(raw) = read(&path) {
            mails.push(shown(&id, &raw));
        }
    }
    Ok(HttpResponse::Ok().json(mails))
}

/// One mail; `{id}.eml` answers the file itself.
#[utoipa::path(get, path = "/__wootlite/mails/{id}",
    params(("id" = String, Path, description = "A mail's id; with `.eml`, the raw file")),
    responses((status = 200, description = "The mail with its `raw` text, or the `.eml` file itself", body = serde_json::Value)))]
pub async fn show(state: web::Data<AppState>, _: DevAdmin, path: web::Path<String>) -> ApiResult {
    let asked = path.into_inner();
    let (id, raw_wanted) = match asked.strip_suffix(".eml") {
        Some(id) => (id.to_string(), true),
        None => (asked, false),
    };
    // Only names the catcher itself lists: nothing else in the data dir can be read this way.
    let found = files(tools(&state)?.mail_dir.clone())
        .await
        .into_iter()
        .find(|(name, _)| *name == id);
    let raw = found
        .and_then(|(_, path)| read(&path))
        .ok_or(ApiError::NotFound)?;
    if raw_wanted {
        return Ok(HttpResponse::Ok().content_type("message/rfc822").body(raw));
    }
    let mut mail = shown(&id, &raw);
    mail["raw"] = json!(String::from_utf8_lossy(&raw));
    Ok(HttpResponse::Ok().json(mail))
}

#[utoipa::path(delete, path = "/__wootlite/mails",
    responses((status = 204, description = "Emptied")))]
pub async fn clear(state: web::Data<AppState>, _: DevAdmin) -> ApiResult {
    for (_, path) in files(tools(&state)?.mail_dir.clone()).await {
        let _ = tokio::fs::remove_file(path).await;
    }
    Ok(HttpResponse::NoContent().finish())
}
