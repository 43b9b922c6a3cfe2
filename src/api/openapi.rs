//! The API's own OpenAPI 3.1 document, generated from the code: each handler carries a short
//! `#[utoipa::path]` (method, path, body, answers), `ApiDoc` lists them, and `Conventions` adds
//! what every operation shares (path parameters, the token, the error answers, tags and
//! operation ids). Served at `GET /api-docs/openapi.json`, with a Redoc page at `GET /api-docs`
//! whose script is embedded in the binary.
//!
//! A new route needs a `#[utoipa::path]` on its handler and the handler in `ApiDoc`'s `paths`;
//! the test `tests/api/openapi.rs` reads the route table and fails for a route the document
//! lacks.

pub mod schemas;

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Object, Ref, Required, ResponseBuilder, Schema, Type};
use utoipa::{Modify, OpenApi};

use super::{
    agent_bots, agent_passwords, agents, cable, contacts, conversation_actions,
    conversation_filter, conversations, custom_attributes, dev, files, health, inbox_members,
    inboxes, invitations, labels, messages, metrics, passwords, profile, public, session, sign_in,
    team_members, teams, transcript, webhooks,
};

/// Where the document and its page are served.
pub const DOCUMENT_PATH: &str = "/api-docs/openapi.json";

/// Redoc's standalone bundle, from the npm package `redoc@2.5.4` (MIT; see
/// `assets/redoc/README.md`).
const REDOC_JS: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

/// The application API, under `/api/v1`, needs this header.
const TOKEN_SCHEME: &str = "api_access_token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wootlite",
        description = "A Chatwoot-compatible conversations server. The application API \
            (`/api/v1/...`) takes the `api_access_token` header, or the agent app's session \
            cookie `wootlite_session` from `POST /auth/session` (then every change but GET, \
            HEAD and OPTIONS also needs the session's `X-CSRF-Token` header); the Client API \
            (`/public/api/v1/inboxes/{inbox_identifier}/...`) is the customer's side of an API \
            inbox and takes no token: the inbox identifier and the contact's `source_id` in the \
            path are its credentials.",
        license(name = "MIT"),
    ),
    paths(
        dev::clock::show,
        dev::clock::change,
        dev::info::show,
        dev::mails::index,
        dev::mails::show,
        dev::mails::clear,
        dev::reset::reset,
        dev::requests,
        dev::clear_requests,
        dev::webhooks,
        dev::clear_webhooks,
        health::health,
        metrics::metrics,
        cable::connect,
        files::serve,
        document,
        page,
        redoc_js,
        sign_in::sign_in,
        session::create,
        session::show,
        session::destroy,
        passwords::update,
        passwords::forgot,
        profile::show,
        invitations::accept,
        agents::index,
        agents::create,
        agents::update,
        agents::destroy,
        agent_passwords::set,
        agent_passwords::reset,
        inboxes::index,
        inboxes::create,
        inboxes::show,
        inboxes::update,
        inboxes::destroy,
        inboxes::agent_bot,
        inboxes::set_agent_bot,
        inboxes::reset_secret,
        inboxes::rotate_hmac_token,
        agent_bots::index,
        agent_bots::create,
        agent_bots::show,
        agent_bots::update,
        agent_bots::destroy,
        agent_bots::reset_access_token,
        agent_bots::reset_secret,
        inbox_members::show,
        inbox_members::create,
        inbox_members::update,
        inbox_members::destroy,
        teams::index,
        teams::create,
        teams::show,
        teams::update,
        teams::destroy,
        team_members::index,
        team_members::create,
        team_members::update,
        team_members::destroy,
        contacts::index,
        contacts::create,
        contacts::show,
        contacts::update,
        contacts::destroy,
        conversations::of_contact,
        conversations::index,
        conversations::create,
        conversations::meta,
        conversations::search,
        conversation_filter::filter,
        conversations::show,
        conversations::update,
        conversations::destroy,
        conversation_actions::toggle_status,
        conversation_actions::toggle_priority,
        conversation_actions::toggle_typing_status,
        transcript::transcript,
        conversation_actions::mute,
        conversation_actions::unmute,
        conversation_actions::unread,
        conversation_actions::update_last_seen,
        conversation_actions::custom_attributes,
        conversation_actions::attachments,
        conversation_actions::labels,
        conversation_actions::set_labels,
        conversation_actions::assign,
        messages::index,
        messages::create,
        messages::update,
        messages::destroy,
        labels::index,
        labels::create,
        labels::show,
        labels::update,
        labels::destroy,
        webhooks::index,
        webhooks::create,
        webhooks::update,
        webhooks::destroy,
        custom_attributes::index,
        custom_attributes::create,
        custom_attributes::show,
        custom_attributes::update,
        custom_attributes::destroy,
        public::inboxes::show,
        public::contacts::create,
        public::contacts::show,
        public::contacts::update,
        public::conversations::index,
        public::conversations::create,
        public::conversations::show,
        public::conversations::toggle_status,
        public::conversations::toggle_typing,
        public::conversations::update_last_seen,
        public::messages::index,
        public::messages::create,
        public::messages::update,
    ),
    components(schemas(schemas::Error)),
    modifiers(&Conventions),
)]
pub struct ApiDoc;

/// The document as served, built once.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the API document serialises")
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api-docs", web::get().to(page))
        .route(DOCUMENT_PATH, web::get().to(document))
        .route("/api-docs/redoc.standalone.js", web::get().to(redoc_js));
}

/// This document.
#[utoipa::path(get, path = "/api-docs/openapi.json",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

/// The page that shows the document: Redoc, served from here with everything it needs. Paths
/// are relative, so the page also works behind a proxy that adds a prefix.
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wootlite API</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="api-docs/openapi.json"></redoc>
<script src="api-docs/redoc.standalone.js"></script>
</body>
</html>
"#;

/// What the page may load: only this server's files. Redoc's styles are inline and its search
/// runs in a worker made from a blob; its footer logo (on a CDN) is not loaded, as it may not be.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; worker-src 'self' blob:; \
    connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
    font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The API's documentation page.
#[utoipa::path(get, path = "/api-docs",
    responses((status = 200, description = "An HTML page that renders this document", content_type = "text/html", body = String)))]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .body(PAGE)
}

/// The documentation page's script (Redoc 2.5.4, MIT).
#[utoipa::path(get, path = "/api-docs/redoc.standalone.js",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript", body = String)))]
pub async fn redoc_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(REDOC_JS)
}

/// What every operation shares, added here rather than repeated on each handler.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            TOKEN_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "api_access_token",
                "A user's or an agent bot's access token (`wootlite token create`, or the \
                 one printed on the first start).",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                operation.operation_id = Some(operation_id(method, path));
                operation.tags = Some(vec![tag(path).to_string()]);
                add_path_parameters(operation, path);
                if needs_token(path) {
                    operation.security = Some(vec![SecurityRequirement::new(
                        TOKEN_SCHEME,
                        Vec::<String>::new(),
                    )]);
                }
                add_error_responses(operation, path);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|o| (method, o)))
    .collect()
}

const ACCOUNT_PREFIX: &str = "/api/v1/accounts/{account_id}/";
const CLIENT_PREFIX: &str = "/public/api/v1/inboxes/{inbox_identifier}";

/// The application API, but for accepting an invitation (its token is in the path).
fn needs_token(path: &str) -> bool {
    path.starts_with("/api/v1/") && !path.starts_with("/api/v1/invitations/")
        || path.starts_with("/__wootlite/")
}

/// Operations are grouped by the resource they act on.
fn tag(path: &str) -> &'static str {
    if path.starts_with(CLIENT_PREFIX) {
        return "Client API";
    }
    if let Some(rest) = path.strip_prefix(ACCOUNT_PREFIX) {
        let mut segments = rest.split('/');
        let resource = segments.next().unwrap_or("");
        if resource == "conversations" && path.contains("/messages") {
            return "Messages";
        }
        if resource == "contacts" && path.ends_with("/conversations") {
            return "Conversations";
        }
        if resource == "teams" && path.ends_with("/team_members") {
            return "Team members";
        }
        return match resource {
            "agents" => "Agents",
            "inboxes" => "Inboxes",
            "inbox_members" => "Inbox members",
            "agent_bots" => "Agent bots",
            "teams" => "Teams",
            "contacts" => "Contacts",
            "conversations" => "Conversations",
            "labels" => "Labels",
            "webhooks" => "Webhooks",
            "custom_attribute_definitions" => "Custom attributes",
            _ => "Accounts",
        };
    }
    if path.starts_with("/api/v1/") {
        return "Profile";
    }
    if path.starts_with("/auth/") {
        return "Sign-in";
    }
    if path.starts_with("/api-docs") {
        return "Documentation";
    }
    if path.starts_with("/__wootlite/") {
        return "Dev mode";
    }
    "Server"
}

/// `get /api/v1/accounts/{account_id}/agents/{id}` becomes `get_agents_by_id`: unique, and
/// readable in generated clients.
fn operation_id(method: &str, path: &str) -> String {
    let rest = path
        .strip_prefix(ACCOUNT_PREFIX)
        .map(|rest| rest.to_string())
        .or_else(|| {
            path.strip_prefix(CLIENT_PREFIX)
                .map(|rest| format!("public{rest}"))
        })
        .or_else(|| path.strip_prefix("/api/v1/").map(str::to_string))
        .unwrap_or_else(|| path.trim_start_matches('/').to_string());
    let words: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|segment| match segment.strip_prefix('{') {
            Some(name) => format!("by_{}", name.trim_end_matches('}')),
            None => segment.replace(['-', '.'], "_"),
        })
        .collect();
    format!("{method}_{}", words.join("_"))
}

/// Ids are integers; identifiers, tokens and file names are strings.
fn path_parameter(name: &str) -> Parameter {
    let (integer, description) = match name {
        "account_id" => (true, "The account's id"),
        "id" => (
            true,
            "The item's id (a conversation's display id under /conversations)",
        ),
        "message_id" => (true, "The message's id"),
        "display_id" => (true, "The conversation's display id"),
        "inbox_identifier" => (false, "The API inbox's `inbox_identifier`"),
        "source_id" => (
            false,
            "The contact inbox's `source_id`, from creating the contact",
        ),
        "token" => (false, "The invitation's token, from its email"),
        "folder" | "name" => (false, "A part of an attachment's storage key (`data_url`)"),
        _ => (false, ""),
    };
    let schema = if integer {
        Object::with_type(Type::Integer)
    } else {
        Object::with_type(Type::String)
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description((!description.is_empty()).then_some(description))
        .schema(Some(Schema::Object(schema)))
        .build()
}

fn add_path_parameters(operation: &mut Operation, path: &str) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let names = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
    for (position, name) in names.enumerate() {
        let declared = parameters
            .iter()
            .any(|p| p.name == name && p.parameter_in == ParameterIn::Path);
        if !declared {
            parameters.insert(position, path_parameter(name));
        }
    }
}

/// The error answers of `crate::error::ApiError`, all with the `Error` body.
fn add_error_responses(operation: &mut Operation, path: &str) {
    let mut answers = vec![
        ("404", "Not found: the path, or an item it names (`{\"error\": \"Resource could not be found\"}`)"),
        ("4XX", "Another client error: 400 bad request, 405, 408 request body too slow, 413 body too large, 415 unsupported content type, 429 too many requests"),
        ("5XX", "A server error: 500, 503 unavailable (retry after `Retry-After`), 507 disk full"),
    ];
    if needs_token(path) {
        answers.push((
            "401",
            "No valid token, not a member of the account, or not allowed to do this (`{\"error\": ...}`)",
        ));
        answers.push((
            "403",
            "Made with the session cookie, without the session's `X-CSRF-Token` (`{\"error\": \"Invalid CSRF token\"}`)",
        ));
    }
    if path.starts_with("/api/v1/") || path.starts_with("/public/") {
        answers.push((
            "422",
            "Invalid input: `{\"error\": ...}`, or `{\"message\": ..., \"attributes\": [...]}` for a validation failure",
        ));
    }
    for (status, description) in answers {
        if operation.responses.responses.contains_key(status) {
            continue;
        }
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .insert(status.to_string(), response.into());
    }
}
