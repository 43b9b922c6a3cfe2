//! `POST /conversations/filter`: Chatwoot's filter payload, compiled to SQL by `crate::filter`,
//! under the caller's account and inbox scope, with the four counts over the filtered set.

use crate::api::openapi::schemas as doc;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::conversation_finder::{self, PageRequest};
use super::conversation_input::ListQuery;
use super::conversations::counts_json;
use super::input::JsonBody;
use super::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::filter;
use crate::models::Principal;
use crate::store::conversation_list::{AssigneeTab, Filter, Sort, CONVERSATIONS_PER_PAGE};
use crate::store::custom_attributes;
use crate::views::conversations::Links;

/// `page` and `sort_by` may come in the body or the query string; the body wins.
fn list_parameter(body: &Value, req: &HttpRequest, name: &str) -> Option<String> {
    match body.get(name) {
        Some(Value::String(s)) => return Some(s.clone()),
        Some(Value::Number(n)) => return Some(n.to_string()),
        _ => {}
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/filter",
    request_body = doc::FilterInput,
    responses((status = 200, body = doc::ConversationPage)))]
pub async fn filter(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    links: Links,
    body: JsonBody<Value>,
) -> ApiResult {
    let body = body.0;
    let page = match list_parameter(&body, &req, "page") {
        Some(page) => page
            .trim()
            .parse::<i64>()
            .map_err(|_| {
                ApiError::unprocessable(format!("Invalid page '{page}': expected a page number"))
            })?
            .max(1),
        None => 1,
    };
    let sort = list_parameter(&body, &req, "sort_by")
        .and_then(|s| Sort::parse(&s))
        .unwrap_or(Sort::LastActivityAtDesc);
    let account_id = principal.account_id;
    let definitions = state
        .db
        .read(move |conn| custom_attributes::list(conn, account_id, None))
        .await?;
    let conditions =
        filter::parse(&body, &definitions).map_err(|e| ApiError::unprocessable(e.0))?;
    let today = chrono::DateTime::from_timestamp_micros(state.now())
        .unwrap_or_default()
        .date_naive();
    let compiled = filter::compile(&conditions, today);
    let query = ListQuery {
        filter: Filter {
            status: None,
            condition: Some(Arc::new(compiled)),
            ..Filter::default()
        },
        tab: AssigneeTab::All,
        sort,
        page,
        current_page: page,
        q: None,
    };
    let page = PageRequest {
        page,
        per_page: CONVERSATIONS_PER_PAGE,
        links,
    };
    let found = conversation_finder::find(&state, principal, query, Some(page)).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "meta": counts_json(&found.counts), "payload": found.payload })))
}
