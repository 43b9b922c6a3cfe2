//! `POST /conversations/filter`: Chatwoot's filter payload, compiled to SQL by `crate::filter`,
//! under the caller's account and inbox scope, with the four counts over the filtered set.

use crate::api::openapi::schemas as doc;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::conversation_finder::{self, PageRequest};
use super::conversation_input::ListQuery;
use super::conversations::counts_json;
use super::input::JsonBody;
use super::ApiResult;
use crate::app::AppState;
use crate::error::ApiError;
use crate::filter;
use crate::models::Principal;
use crate::store::conversation_list::{
    AssigneeTab, ByValues, Filter, Sort, CONVERSATIONS_PER_PAGE,
};
use crate::store::custom_attributes;
use crate::views::conversations::{Links, MetaAndPayload};

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

/// The SQL the filter compiles to: that of the engine the server runs on.
fn dialect_of(db: &crate::db::Db) -> filter::Dialect {
    if db.is_postgres() {
        filter::Dialect::Postgres
    } else {
        filter::Dialect::Sqlite
    }
}

/// The list's own filters when the payload says no more than they can, else the compiled
/// statement.
pub fn as_list_filter(
    conditions: &[filter::Condition],
    today: chrono::NaiveDate,
    dialect: filter::Dialect,
) -> Filter {
    match filter::list_shape(conditions) {
        Some(shape) => Filter {
            status: shape.status,
            inbox_id: shape.inbox_id,
            team_id: shape.team_id,
            assignee_id: shape.assignee_id,
            ..Filter::default()
        },
        None => Filter {
            status: None,
            condition: Some(Arc::new(filter::compile(conditions, today, dialect))),
            by_values: by_values(conditions, today, dialect),
            ..Filter::default()
        },
    }
}

/// The payload as list filters and an attribute condition the values' indexes answer alone.
fn by_values(
    conditions: &[filter::Condition],
    today: chrono::NaiveDate,
    dialect: filter::Dialect,
) -> Option<Arc<ByValues>> {
    let (shape, other) = filter::values_shape(conditions)?;
    let selection = filter::values_selection(other, today, dialect)?;
    Some(Arc::new(ByValues {
        listed: Filter {
            status: shape.status,
            inbox_id: shape.inbox_id,
            team_id: shape.team_id,
            assignee_id: shape.assignee_id,
            ..Filter::default()
        },
        selection,
    }))
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
    let query = ListQuery {
        filter: as_list_filter(&conditions, today, dialect_of(&state.db)),
        tab: AssigneeTab::All,
        sort,
        page,
        current_page: page,
        q: None,
        team_must_exist: false,
    };
    let page = PageRequest {
        page,
        per_page: CONVERSATIONS_PER_PAGE,
        links,
    };
    let found = conversation_finder::find(&state, principal, query, Some(page)).await?;
    Ok(HttpResponse::Ok().json(MetaAndPayload {
        meta: counts_json(&found.counts),
        payload: &found.payload,
    }))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use serde_json::json;

    use super::*;
    use crate::api::test_accounts::{generated, ADMIN_AND_AGENT};
    use crate::models::Status;
    use crate::store::conversation_list::{self, Sort};

    /// A payload of list filters and one attribute condition, answered from the ids the
    /// values' indexes give and the conversations' summaries, gives the counts and pages the
    /// compiled statement gives: every kind of attribute and positive operator, for an
    /// administrator and for an agent who sees some inboxes only.
    #[test]
    fn attribute_payloads_answer_from_the_values_as_the_compiled_statement() {
        let dir = tempfile::tempdir().unwrap();
        let db = generated(dir.path(), 5);
        let today = chrono::NaiveDate::from_ymd_opt(2023, 11, 14).unwrap();
        let definitions = db
            .read_now(|conn| custom_attributes::list(conn, 1, None))
            .unwrap();
        let summaries = db.read_now(crate::search::Summaries::load).unwrap();
        let attributes = [
            ("region", "equal_to", json!(["North"])),
            ("region", "contains", json!(["st"])),
            ("plan", "equal_to", json!(["pro", "free"])),
            ("plan", "is_present", json!([])),
            ("seats", "is_greater_than", json!([100])),
            ("seats", "is_less_than", json!([20])),
            ("seats", "equal_to", json!([50])),
            ("escalated", "equal_to", json!([true])),
            ("escalated", "equal_to", json!([false])),
        ];
        let mut rng = StdRng::seed_from_u64(29);
        let mut nonempty = 0;
        for round in 0..150 {
            let mut payload = Vec::new();
            let condition = |key: &str, operator: &str, values: serde_json::Value| {
                json!({
                    "attribute_key": key,
                    "filter_operator": operator,
                    "values": values,
                    "query_operator": "and",
                })
            };
            if rng.gen_bool(0.6) {
                let status = Status::ALL[rng.gen_range(0..4)].as_str();
                payload.push(condition("status", "equal_to", json!([status])));
            }
            if rng.gen_bool(0.4) {
                payload.push(condition(
                    "inbox_id",
                    "equal_to",
                    json!([rng.gen_range(1..=5)]),
                ));
            }
            if rng.gen_bool(0.3) {
                let assignee = rng.gen_range(1..=7);
                payload.push(condition("assignee_id", "equal_to", json!([assignee])));
            }
            let (key, operator, values) = &attributes[round % attributes.len()];
            let at = rng.gen_range(0..=payload.len());
            payload.insert(at, condition(key, operator, values.clone()));
            if let Some(last) = payload.last_mut() {
                last["query_operator"] = serde_json::Value::Null;
            }
            let conditions = filter::parse(&json!({ "payload": payload }), &definitions).unwrap();
            let shaped = as_list_filter(&conditions, today, filter::Dialect::Sqlite);
            let by_values = shaped.by_values.clone().expect("said by the values");
            let principal = &ADMIN_AND_AGENT[round % 2];
            let sort = Sort::parse(
                ["last_activity_at_desc", "created_at_asc", "priority_desc"][round % 3],
            )
            .unwrap();
            for page in 1..=2 {
                let window = Some((page, 25));
                let summarise = |(counts, rows): (conversation_list::Counts, Vec<_>)| {
                    let ids: Vec<i64> = rows
                        .iter()
                        .map(|c: &crate::store::conversations::Conversation| c.id)
                        .collect();
                    ((counts.all, counts.mine, counts.unassigned), ids)
                };
                let (expected, found) = db
                    .read_now(|conn| {
                        let compiled = conversation_list::counts_and_page(
                            conn,
                            principal,
                            &shaped,
                            AssigneeTab::All,
                            sort,
                            window,
                        )?;
                        let ids =
                            conversation_list::selected_ids(conn, &by_values.selection, 1 << 20)?
                                .unwrap();
                        let from_values = conversation_list::counts_and_page_of_summaries(
                            conn,
                            principal,
                            &by_values.listed,
                            AssigneeTab::All,
                            sort,
                            window,
                            summaries.of(&ids),
                        )?;
                        Ok((summarise(compiled), summarise(from_values)))
                    })
                    .unwrap();
                assert_eq!(found, expected, "round {round}, page {page}: {payload:?}");
                nonempty += usize::from(expected.0 .0 > 0);
            }
        }
        assert!(nonempty > 100, "{nonempty} answers with conversations");
    }

    /// A payload the list's filters can answer gives the counts and pages the compiled
    /// statement gives, for an administrator and for an agent who sees some inboxes only.
    #[test]
    fn list_shaped_payloads_answer_as_the_compiled_statement() {
        let dir = tempfile::tempdir().unwrap();
        let db = generated(dir.path(), 3);
        let today = chrono::NaiveDate::from_ymd_opt(2023, 11, 14).unwrap();
        let mut rng = StdRng::seed_from_u64(17);
        let mut nonempty = 0;
        for round in 0..150 {
            let mut payload = Vec::new();
            let mut add = |key: &str, value: serde_json::Value| {
                payload.push(json!({
                    "attribute_key": key,
                    "filter_operator": "equal_to",
                    "values": [value],
                    "query_operator": "and",
                }));
                payload.len()
            };
            let mut added = 0;
            if rng.gen_bool(0.7) {
                added = add("status", json!(Status::ALL[rng.gen_range(0..4)].as_str()));
            }
            if rng.gen_bool(0.6) {
                added = add("inbox_id", json!(rng.gen_range(1..=5)));
            }
            if rng.gen_bool(0.4) {
                added = add("team_id", json!(rng.gen_range(1..=4)));
            }
            if rng.gen_bool(0.4) || added == 0 {
                add("assignee_id", json!(rng.gen_range(1..=7)));
            }
            if let Some(last) = payload.last_mut() {
                last["query_operator"] = serde_json::Value::Null;
            }
            let conditions = filter::parse(&json!({ "payload": payload }), &[]).unwrap();
            let shaped = as_list_filter(&conditions, today, filter::Dialect::Sqlite);
            assert!(shaped.condition.is_none(), "round {round}: {payload:?}");
            let compiled = Filter {
                status: None,
                condition: Some(Arc::new(filter::compile(
                    &conditions,
                    today,
                    filter::Dialect::Sqlite,
                ))),
                ..Filter::default()
            };
            let principal = &ADMIN_AND_AGENT[round % 2];
            let sort = Sort::parse(
                ["last_activity_at_desc", "created_at_asc", "priority_desc"][round % 3],
            )
            .unwrap();
            for page in 1..=2 {
                let answer = |f: &Filter| {
                    db.read_now(|conn| {
                        let (counts, rows) = conversation_list::counts_and_page(
                            conn,
                            principal,
                            f,
                            AssigneeTab::All,
                            sort,
                            Some((page, 25)),
                        )?;
                        let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
                        Ok(((counts.all, counts.mine, counts.unassigned), ids))
                    })
                    .unwrap()
                };
                let expected = answer(&compiled);
                assert_eq!(
                    answer(&shaped),
                    expected,
                    "round {round}, page {page}: {payload:?}"
                );
                nonempty += usize::from(expected.0 .0 > 0);
            }
        }
        assert!(nonempty > 100, "{nonempty} answers with conversations");
    }
}
