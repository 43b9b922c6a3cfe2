//! Attachment files: stored under the data dir at random keys, served back at `/files/{key}`,
//! removed when their message or conversation goes.

use std::path::{Path, PathBuf};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Responder, ResponseError};

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::storage_key_parts;

/// A storage key is `<32 hex chars>/<file name>`; anything else names no file.
fn resolve(files_dir: &Path, key: &str) -> Option<PathBuf> {
    let (folder, name) = storage_key_parts(key)?;
    Some(files_dir.join(folder).join(name))
}

/// A safe file name: the base name of what the client sent, without path or control characters.
pub fn safe_name(sent: Option<&str>) -> String {
    let base = sent
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>();
    let trimmed = base.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "file".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Writes the bytes under a fresh key and returns the key.
pub async fn store(files_dir: &Path, file_name: &str, bytes: Vec<u8>) -> Result<String, ApiError> {
    let folder = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("{folder}/{file_name}");
    let dir = files_dir.join(&folder);
    let path = dir.join(file_name);
    web::block(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&path, bytes)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::internal(format!("storing an attachment: {e}")))?;
    Ok(key)
}

/// Removes stored files (after the rows that named them are gone); failures are only logged.
pub async fn remove(files_dir: &Path, keys: Vec<String>) {
    let targets: Vec<PathBuf> = keys.iter().filter_map(|k| resolve(files_dir, k)).collect();
    let result = web::block(move || {
        for file in targets {
            if let Err(e) = std::fs::remove_file(&file) {
                log::warn!("could not remove attachment {}: {e}", file.display());
            }
            if let Some(dir) = file.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    })
    .await;
    if let Err(e) = result {
        log::warn!("attachment clean-up did not run: {e}");
    }
}

#[derive(serde::Deserialize)]
pub struct FilePath {
    folder: String,
    name: String,
}

/// `GET /files/{folder}/{name}`: the key is unguessable, like Chatwoot's signed blob URLs, so
/// no token is needed to fetch a file. The file is streamed, not read into memory.
pub async fn serve(
    state: web::Data<AppState>,
    path: web::Path<FilePath>,
    req: HttpRequest,
) -> HttpResponse {
    let key = format!("{}/{}", path.folder, path.name);
    let Some(file) = resolve(&state.files_dir, &key) else {
        return ApiError::NotFound.error_response();
    };
    match web::block(move || actix_files::NamedFile::open(file)).await {
        Ok(Ok(file)) => file
            .use_etag(true)
            .customize()
            .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
            .respond_to(&req)
            .map_into_boxed_body(),
        _ => ApiError::NotFound.error_response(),
    }
}

/// The content type for a file name's extension.
pub fn mime_guess_from_name(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_keys_resolve() {
        let dir = Path::new("/data/files");
        let folder = "0123456789abcdef0123456789abcdef";
        assert!(resolve(dir, &format!("{folder}/a.png")).is_some());
        assert!(resolve(dir, &format!("{folder}/../x")).is_none());
        assert!(resolve(dir, "../../etc/passwd").is_none());
        assert!(resolve(dir, &format!("{folder}/..")).is_none());
    }

    #[test]
    fn file_names_are_reduced_to_a_safe_base_name() {
        assert_eq!(safe_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(safe_name(Some("C:\\Users\\me\\photo.jpg")), "photo.jpg");
        assert_eq!(safe_name(Some("..")), "file");
        assert_eq!(safe_name(None), "file");
        assert_eq!(safe_name(Some(".hidden")), "hidden");
    }
}
