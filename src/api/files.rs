//! Attachment files: received as they stream in, stored under the data dir at random keys,
//! served back at `/files/{key}`, removed when their message or conversation goes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Responder, ResponseError};
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::storage_key_parts;

/// A storage key is `<32 hex chars>/<file name>`; anything else names no file.
fn resolve(files_dir: &Path, key: &str) -> Option<PathBuf> {
    let (folder, name) = storage_key_parts(key)?;
    Some(files_dir.join(folder).join(name))
}

/// The longest file name kept, in bytes: file systems refuse names over 255 bytes, and a
/// name they refuse must not fail the upload.
const MAX_NAME_BYTES: usize = 200;

/// A safe file name: the base name of what the client sent, without path or control characters,
/// cut to `MAX_NAME_BYTES`.
pub fn safe_name(sent: Option<&str>) -> String {
    let mut base = String::new();
    let sent = sent.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    for c in sent.chars().filter(|c| !c.is_control()) {
        if base.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        base.push(c);
    }
    let trimmed = base.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "file".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Uploads are received here, inside `files/` so that moving a finished one into place is a
/// rename on one file system even when `files/` is a mount of its own. The name is no storage
/// key, so nothing in it is ever served.
const INCOMING: &str = ".incoming";
/// How much of an upload is gathered before it is handed to the disk: large enough to keep the
/// number of writes low, small enough that many uploads at once stay cheap.
const WRITE_BUFFER: usize = 256 * 1024;
/// How long an upload waits for a turn before it is answered 503.
const UPLOAD_TURN_WAIT: Duration = Duration::from_secs(2);

/// Removes the uploads a crash left half received. Runs at start, under the data dir lock and
/// before any request is served, so that nothing in `.incoming/` can belong to a live request.
pub fn sweep_incoming(files_dir: &Path) {
    let incoming = files_dir.join(INCOMING);
    match std::fs::remove_dir_all(&incoming) {
        Ok(()) => log::info!("removed unfinished uploads in {}", incoming.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::warn!(
            "could not remove unfinished uploads in {}: {e}",
            incoming.display()
        ),
    }
}

/// A turn to receive a multipart upload: `--max-concurrent-uploads` at once, so that disk
/// bandwidth and buffers stay bounded however many clients upload. Waiting is brief: a busy
/// server says so (503, Retry-After) rather than holding connections open.
pub async fn upload_turn(turns: &Semaphore) -> Result<SemaphorePermit<'_>, ApiError> {
    match tokio::time::timeout(UPLOAD_TURN_WAIT, turns.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        // The semaphore is never closed; a closed one would be as busy as a full one.
        Ok(Err(_)) | Err(_) => Err(ApiError::unavailable(
            "Too many uploads are in progress; retry shortly",
        )),
    }
}

fn io_failure(doing: &'static str) -> impl Fn(std::io::Error) -> ApiError {
    move |e| ApiError::internal(format!("{doing}: {e}"))
}

/// The attachment files of one request. Each is written to a temporary file under
/// `.incoming/` as its chunks arrive (never held whole in memory) and renamed to
/// `<folder>/<name>` once complete. Until `keep`, everything it wrote is deleted when it is
/// discarded or dropped: an upload refused, failed, or abandoned by its client (which cancels
/// the request) leaves no file behind.
pub struct Upload {
    files_dir: PathBuf,
    /// The temporary file of the part being received; named before it is created, so that a
    /// cancellation in between still removes it.
    temp: Option<PathBuf>,
    out: Option<BufWriter<tokio::fs::File>>,
    /// Keys of the files moved into place.
    placed: Vec<String>,
}

/// Runs `write` on a task of its own and keeps the upload's files if it succeeds, discards them
/// if not: a client leaving cancels its handler, and must not part a message row from its files
/// (a row naming removed files, or files no row names).
pub async fn files_follow<T, F>(upload: Upload, write: F) -> Result<T, ApiError>
where
    T: 'static,
    F: std::future::Future<Output = Result<T, ApiError>> + 'static,
{
    actix_web::rt::spawn(async move {
        let outcome = write.await;
        match &outcome {
            Ok(_) => upload.keep(),
            Err(_) => upload.discard().await,
        }
        outcome
    })
    .await
    .map_err(ApiError::internal)?
}

impl Upload {
    pub fn new(files_dir: &Path) -> Self {
        Self {
            files_dir: files_dir.to_path_buf(),
            temp: None,
            out: None,
            placed: Vec::new(),
        }
    }

    /// Opens a temporary file for the next part.
    pub async fn begin(&mut self) -> Result<(), ApiError> {
        let incoming = self.files_dir.join(INCOMING);
        tokio::fs::create_dir_all(&incoming)
            .await
            .map_err(io_failure("creating the upload folder"))?;
        let temp = incoming.join(uuid::Uuid::new_v4().simple().to_string());
        self.temp = Some(temp.clone());
        let file = tokio::fs::File::create_new(&temp)
            .await
            .map_err(io_failure("creating an upload file"))?;
        self.out = Some(BufWriter::with_capacity(WRITE_BUFFER, file));
        Ok(())
    }

    /// Appends a chunk to the part being received.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| ApiError::internal("an upload chunk came before its file"))?;
        out.write_all(chunk)
            .await
            .map_err(io_failure("writing an upload file"))
    }

    /// Completes the part being received and moves it into place under a fresh key, which it
    /// returns.
    pub async fn finish(&mut self, file_name: &str) -> Result<String, ApiError> {
        let (Some(mut out), Some(temp)) = (self.out.take(), self.temp.clone()) else {
            return Err(ApiError::internal("an upload finished before it began"));
        };
        out.flush()
            .await
            .map_err(io_failure("writing an upload file"))?;
        let file = out.into_inner();
        // On disk before a row names it: a crash must not leave a message with an empty file.
        file.sync_all()
            .await
            .map_err(io_failure("writing an upload file"))?;
        drop(file);
        let folder = uuid::Uuid::new_v4().simple().to_string();
        let key = format!("{folder}/{file_name}");
        let dir = self.files_dir.join(&folder);
        let target = dir.join(file_name);
        // Recorded first: whichever of the two paths holds the file when the request is
        // cancelled is removed.
        self.placed.push(key.clone());
        web::block(move || -> std::io::Result<()> {
            std::fs::create_dir(&dir)?;
            std::fs::rename(&temp, &target)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(io_failure("moving an upload into place"))?;
        self.temp = None;
        Ok(key)
    }

    /// The files are named by committed rows now: they stay.
    pub fn keep(mut self) {
        self.temp = None;
        self.placed.clear();
    }

    /// Deletes everything written so far, off the worker thread, before the request answers.
    pub async fn discard(mut self) {
        let doomed = self.doomed();
        if doomed.is_empty() {
            return;
        }
        if let Err(e) = web::block(move || delete_files(doomed)).await {
            log::warn!("upload clean-up did not run: {e}");
        }
    }

    fn doomed(&mut self) -> Vec<PathBuf> {
        self.out = None;
        let placed = std::mem::take(&mut self.placed);
        self.temp
            .take()
            .into_iter()
            .chain(placed.iter().filter_map(|k| resolve(&self.files_dir, k)))
            .collect()
    }
}

impl Drop for Upload {
    /// Reached with files still held only when the request was cancelled mid-way (`discard`
    /// and `keep` empty it otherwise): there is no later point to clean up at, and removing a
    /// few files is quick enough to do in place.
    fn drop(&mut self) {
        let doomed = self.doomed();
        if !doomed.is_empty() {
            delete_files(doomed);
        }
    }
}

/// Deletes files and the key folders they leave empty. A path that does not exist (a cancelled
/// part not yet created, or already moved) is fine.
fn delete_files(paths: Vec<PathBuf>) {
    for path in paths {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("could not remove upload {}: {e}", path.display()),
        }
        // `.incoming/` itself stays: other uploads are using it.
        if let Some(dir) = path.parent().filter(|dir| !dir.ends_with(INCOMING)) {
            let _ = std::fs::remove_dir(dir);
        }
    }
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
#[utoipa::path(get, path = "/files/{folder}/{name}",
    responses((status = 200, description = "The file (ranges are served)", content_type = "application/octet-stream", body = Vec<u8>)))]
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
        let long = safe_name(Some(&"€".repeat(200)));
        assert_eq!(long, "€".repeat(MAX_NAME_BYTES / 3));
    }
}
