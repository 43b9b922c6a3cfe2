//! The agent app: a handful of static files built into the binary and served under `/app/`.
//! The app itself talks to wootlite only through the public API and `/cable`, like any other
//! client; nothing here reads the database.
//!
//! The page loads its script and style with the files' content digest in the query string, so
//! those can be cached for a year, while the page itself is revalidated on every visit.

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// Where the app lives.
pub const APP_PATH: &str = "/app/";

/// What the browser may load and run: only our own files; no inline script or style, no
/// frames, no plugins. Message content is attacker-controlled, so this is the second wall
/// behind rendering every piece of it as text.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
    manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The page, with `{{app.js}}` and `{{app.css}}` standing for the versioned file names.
const PAGE: &str = include_str!("../../assets/app/index.html");

/// The files the page loads, by name.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app/app.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/app/icon.svg"),
    ),
];

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: web::Bytes,
    etag: String,
}

/// The app's files, built once at start-up; or, with `--web-dir`, read from that directory on
/// every request.
pub struct WebAssets {
    page: Asset,
    files: Vec<Asset>,
    dir: Option<PathBuf>,
}

fn digest(bytes: &[u8]) -> String {
    let sum = Sha256::digest(bytes);
    sum.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn asset(name: &'static str, content_type: &'static str, body: Vec<u8>) -> Asset {
    let etag = format!("\"{}\"", digest(&body));
    Asset {
        name,
        content_type,
        body: body.into(),
        etag,
    }
}

impl WebAssets {
    pub fn new(dir: Option<PathBuf>) -> Arc<Self> {
        let files: Vec<Asset> = FILES
            .iter()
            .map(|(name, content_type, body)| asset(name, content_type, body.to_vec()))
            .collect();
        let page = asset(
            "index.html",
            "text/html; charset=utf-8",
            versioned_page(PAGE, &files),
        );
        Arc::new(Self { page, files, dir })
    }

    /// The file to send, from the directory when one is set (then never cached).
    fn find(&self, name: &str) -> Option<(Asset, bool)> {
        let known = std::iter::once(&self.page)
            .chain(&self.files)
            .find(|a| a.name == name)?;
        let Some(dir) = &self.dir else {
            return Some((
                Asset {
                    name: known.name,
                    content_type: known.content_type,
                    body: known.body.clone(),
                    etag: known.etag.clone(),
                },
                true,
            ));
        };
        let read = |file: &str| std::fs::read(dir.join(file));
        let body = match known.name {
            "index.html" => {
                let text = String::from_utf8(read("index.html").ok()?).ok()?;
                let files: Vec<Asset> = FILES
                    .iter()
                    .filter_map(|(n, t, _)| Some(asset(n, t, read(n).ok()?)))
                    .collect();
                versioned_page(&text, &files)
            }
            other => read(other).ok()?,
        };
        Some((asset(known.name, known.content_type, body), false))
    }
}

/// The page with each `{{name}}` replaced by `name?v=digest`.
fn versioned_page(page: &str, files: &[Asset]) -> Vec<u8> {
    let mut out = page.to_string();
    for file in files {
        let version = file.etag.trim_matches('"');
        out = out.replace(
            &format!("{{{{{}}}}}", file.name),
            &format!("{}?v={version}", file.name),
        );
    }
    out.into_bytes()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(to_app))
        .route("/app", web::get().to(to_app))
        .service(
            web::scope("/app")
                .wrap(Compress::default())
                .route("/", web::get().to(page))
                .route("/{name}", web::get().to(file)),
        );
}

async fn to_app() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, APP_PATH))
        .finish()
}

async fn page(req: HttpRequest, assets: web::Data<WebAssets>) -> HttpResponse {
    send(&req, &assets, "index.html")
}

async fn file(
    req: HttpRequest,
    assets: web::Data<WebAssets>,
    name: web::Path<String>,
) -> HttpResponse {
    send(&req, &assets, &name)
}

fn send(req: &HttpRequest, assets: &WebAssets, name: &str) -> HttpResponse {
    let Some((asset, cacheable)) = assets.find(name) else {
        return HttpResponse::NotFound()
            .content_type("application/json")
            .body(r#"{"error":"Resource could not be found"}"#);
    };
    let cache = match (cacheable, asset.name) {
        (false, _) => "no-store",
        (true, "index.html") => "no-cache",
        (true, _) => "public, max-age=31536000, immutable",
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag));
    let mut answer = if fresh && cacheable {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, asset.etag.as_str()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
    if fresh && cacheable {
        return answer.finish();
    }
    answer.content_type(asset.content_type).body(asset.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_each_file_with_its_digest() {
        let assets = WebAssets::new(None);
        let page = String::from_utf8(assets.page.body.to_vec()).unwrap();
        for file in &assets.files {
            if file.name == "icon.svg" {
                continue;
            }
            let version = file.etag.trim_matches('"');
            assert!(
                page.contains(&format!("{}?v={version}", file.name)),
                "{} is not versioned in the page",
                file.name
            );
        }
        assert!(!page.contains("{{"), "a placeholder was left in the page");
    }

    #[test]
    fn the_page_carries_no_inline_script_or_handler() {
        let page = PAGE.to_ascii_lowercase();
        assert!(!page.contains("<script>"), "inline script in the page");
        assert!(!page.contains(" onclick="), "inline handler in the page");
        assert!(!page.contains("<style"), "inline style in the page");
    }
}
