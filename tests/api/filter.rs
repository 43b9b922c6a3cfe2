//! `POST /conversations/filter`: every standard key, custom attributes by type, chaining
//! precedence, Chatwoot's 422 messages, scope and envelope.

use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, TestApp};

const FILTER: &str = "/api/v1/accounts/1/conversations/filter";

fn condition(key: &str, operator: &str, values: Value) -> Value {
    json!({ "attribute_key": key, "filter_operator": operator, "values": values, "query_operator": null })
}

/// The display ids the filter selects (first page), sorted.
async fn filtered(app: &TestApp, payload: Value) -> Vec<i64> {
    let body = app
        .post(FILTER, json!({ "payload": payload }))
        .await
        .expect(200);
    let mut ids: Vec<i64> = body["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

async fn one(app: &TestApp, key: &str, operator: &str, values: Value) -> Vec<i64> {
    filtered(app, json!([condition(key, operator, values)])).await
}

async fn refused(app: &TestApp, payload: Value) -> String {
    let reply = app.post(FILTER, json!({ "payload": payload })).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    error_of(&reply.body).to_string()
}

async fn conversation(app: &TestApp, extra: Value) -> i64 {
    app.create_conversation(extra).await["id"].as_i64().unwrap()
}

#[tokio::test]
async fn standard_columns_follow_chatwoots_operators_and_null_rules() {
    let app = spawn_app().await;
    let assigned = conversation(&app, json!({ "assignee_id": 1 })).await;
    let unassigned = conversation(&app, json!({})).await;
    let resolved = conversation(&app, json!({ "status": "resolved" })).await;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{assigned}/toggle_priority"),
        json!({ "priority": "high" }),
    )
    .await
    .expect(200);

    assert_eq!(
        one(&app, "status", "equal_to", json!(["open"])).await,
        vec![assigned, unassigned]
    );
    assert_eq!(
        one(&app, "status", "equal_to", json!(["all"])).await,
        vec![assigned, unassigned, resolved]
    );
    assert_eq!(
        one(&app, "status", "not_equal_to", json!(["open"])).await,
        vec![resolved]
    );
    assert!(one(&app, "status", "equal_to", json!(["closed"]))
        .await
        .is_empty());
    assert_eq!(
        one(&app, "assignee_id", "equal_to", json!([1])).await,
        vec![assigned]
    );
    assert_eq!(
        one(&app, "assignee_id", "equal_to", json!(["1"])).await,
        vec![assigned]
    );
    // NOT IN leaves unassigned conversations out, as SQL does upstream.
    assert!(one(&app, "assignee_id", "not_equal_to", json!([1]))
        .await
        .is_empty());
    assert_eq!(
        one(&app, "assignee_id", "is_present", json!([])).await,
        vec![assigned]
    );
    assert_eq!(
        one(&app, "assignee_id", "is_not_present", json!(null)).await,
        vec![unassigned, resolved]
    );
    assert_eq!(one(&app, "inbox_id", "equal_to", json!([1])).await.len(), 3);
    assert!(one(&app, "team_id", "is_present", json!([]))
        .await
        .is_empty());
    // A team no one made matches nothing, where the list's `team_id` is a 404.
    assert!(one(&app, "team_id", "equal_to", json!([999]))
        .await
        .is_empty());
    app.get("/api/v1/accounts/1/conversations?team_id=999")
        .await
        .expect(404);
    let and = |key: &str, values: Value| json!({ "attribute_key": key, "filter_operator": "equal_to", "values": values, "query_operator": "and" });
    assert_eq!(
        filtered(
            &app,
            json!([
                and("status", json!(["open"])),
                and("inbox_id", json!([1])),
                condition("assignee_id", "equal_to", json!([1])),
            ])
        )
        .await,
        vec![assigned]
    );
    assert!(filtered(
        &app,
        json!([
            and("status", json!(["resolved"])),
            condition("assignee_id", "equal_to", json!([1])),
        ])
    )
    .await
    .is_empty());
    assert_eq!(
        one(&app, "priority", "equal_to", json!(["high"])).await,
        vec![assigned]
    );
    assert!(one(&app, "priority", "not_equal_to", json!(["high"]))
        .await
        .is_empty());
    assert_eq!(
        one(&app, "display_id", "equal_to", json!([unassigned])).await,
        vec![unassigned]
    );
    assert_eq!(
        one(&app, "display_id", "not_equal_to", json!([unassigned])).await,
        vec![assigned, resolved]
    );
    assert_eq!(
        one(
            &app,
            "display_id",
            "contains",
            json!([unassigned.to_string()])
        )
        .await,
        vec![unassigned]
    );
    assert!(one(&app, "campaign_id", "is_present", json!([]))
        .await
        .is_empty());
}

#[tokio::test]
async fn labels_match_any_or_none() {
    let app = spawn_app().await;
    let vip = conversation(&app, json!({})).await;
    let bug = conversation(&app, json!({})).await;
    let plain = conversation(&app, json!({})).await;
    for (id, labels) in [(vip, json!(["vip"])), (bug, json!(["bug", "urgent"]))] {
        app.post(
            &format!("/api/v1/accounts/1/conversations/{id}/labels"),
            json!({ "labels": labels }),
        )
        .await
        .expect(200);
    }
    assert_eq!(
        one(&app, "labels", "equal_to", json!(["vip", "bug"])).await,
        vec![vip, bug]
    );
    assert_eq!(
        one(&app, "labels", "not_equal_to", json!(["vip"])).await,
        vec![bug, plain]
    );
    assert_eq!(
        one(&app, "labels", "is_present", json!([])).await,
        vec![vip, bug]
    );
    assert_eq!(
        one(&app, "labels", "is_not_present", json!([])).await,
        vec![plain]
    );
}

#[tokio::test]
async fn additional_attributes_are_case_sensitive_for_equality_but_not_for_contains() {
    let app = spawn_app().await;
    let german = conversation(
        &app,
        json!({ "additional_attributes": { "browser_language": "de", "mail_subject": "Übergröße Bestellung" } }),
    )
    .await;
    let english = conversation(
        &app,
        json!({ "additional_attributes": { "browser_language": "en", "referer": "https://Example.com/pricing" } }),
    )
    .await;
    let bare = conversation(&app, json!({})).await;
    assert_eq!(
        one(&app, "browser_language", "equal_to", json!(["de"])).await,
        vec![german]
    );
    assert!(one(&app, "browser_language", "equal_to", json!(["DE"]))
        .await
        .is_empty());
    // NULL rows never match a negative operator.
    assert_eq!(
        one(&app, "browser_language", "not_equal_to", json!(["de"])).await,
        vec![english]
    );
    assert_eq!(
        one(&app, "mail_subject", "contains", json!([" übergröße "])).await,
        vec![german]
    );
    assert!(one(
        &app,
        "mail_subject",
        "does_not_contain",
        json!(["übergröße"])
    )
    .await
    .is_empty());
    assert_eq!(
        one(
            &app,
            "referer",
            "contains",
            json!(["example.COM", "nothing"])
        )
        .await,
        vec![english]
    );
    assert!(one(&app, "country_code", "equal_to", json!(["DE"]))
        .await
        .is_empty());
    let _ = bare;
}

#[tokio::test]
async fn dates_compare_utc_calendar_days() {
    let app = spawn_app().await;
    let id = conversation(&app, json!({})).await;
    let today = chrono::Utc::now().date_naive();
    let day = |offset: i64| {
        (today + chrono::Duration::days(offset))
            .format("%Y-%m-%d")
            .to_string()
    };
    assert_eq!(
        one(&app, "created_at", "is_greater_than", json!([day(-1)])).await,
        vec![id]
    );
    // "After today" means from tomorrow on.
    assert!(one(&app, "created_at", "is_greater_than", json!([day(0)]))
        .await
        .is_empty());
    assert_eq!(
        one(&app, "created_at", "is_less_than", json!([day(1)])).await,
        vec![id]
    );
    assert!(
        one(&app, "last_activity_at", "is_less_than", json!([day(0)]))
            .await
            .is_empty()
    );
    assert_eq!(
        one(
            &app,
            "created_at",
            "is_greater_than",
            json!([format!("{}T23:59:59Z", day(-1))])
        )
        .await,
        vec![id]
    );
    assert!(one(&app, "created_at", "days_before", json!([1]))
        .await
        .is_empty());
}

async fn define(app: &TestApp, key: &str, display_type: &str, model: &str) {
    app.post(
        "/api/v1/accounts/1/custom_attribute_definitions",
        json!({ "attribute_display_name": key, "attribute_key": key,
                "attribute_display_type": display_type, "attribute_model": model }),
    )
    .await
    .expect(200);
}

async fn set_attributes(app: &TestApp, id: i64, attributes: Value) {
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/custom_attributes"),
        json!({ "custom_attributes": attributes }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn custom_attributes_compare_by_their_definitions_type() {
    let app = spawn_app().await;
    define(&app, "plan", "list", "conversation_attribute").await;
    define(&app, "seats", "number", "conversation_attribute").await;
    define(&app, "renewal", "date", "conversation_attribute").await;
    define(&app, "trial", "checkbox", "conversation_attribute").await;
    let pro = conversation(&app, json!({})).await;
    let free = conversation(&app, json!({})).await;
    let unset = conversation(&app, json!({})).await;
    set_attributes(
        &app,
        pro,
        json!({ "plan": "Pro", "seats": 12, "renewal": "2030-05-01", "trial": false }),
    )
    .await;
    set_attributes(
        &app,
        free,
        json!({ "plan": "free", "seats": 1.5, "renewal": "2020-01-01", "trial": true }),
    )
    .await;

    // Text: lowercased, first value only.
    assert_eq!(
        one(&app, "plan", "equal_to", json!(["PRO", "free"])).await,
        vec![pro]
    );
    // Chatwoot's exception: an unset custom attribute is "not equal".
    assert_eq!(
        one(&app, "plan", "not_equal_to", json!(["pro"])).await,
        vec![free, unset]
    );
    assert_eq!(one(&app, "plan", "contains", json!(["O"])).await, vec![pro]);
    assert_eq!(
        one(&app, "plan", "is_present", json!([])).await,
        vec![pro, free]
    );
    assert_eq!(
        one(&app, "plan", "is_not_present", json!([])).await,
        vec![unset]
    );
    assert_eq!(
        one(&app, "seats", "is_greater_than", json!([2])).await,
        vec![pro]
    );
    assert_eq!(
        one(&app, "seats", "is_less_than", json!(["2"])).await,
        vec![free]
    );
    assert_eq!(one(&app, "seats", "equal_to", json!([12])).await, vec![pro]);
    assert_eq!(
        one(&app, "renewal", "is_greater_than", json!(["2025-01-01"])).await,
        vec![pro]
    );
    assert_eq!(
        one(&app, "renewal", "days_before", json!([30])).await,
        vec![free]
    );
    assert_eq!(
        one(&app, "trial", "equal_to", json!([true])).await,
        vec![free]
    );
    assert_eq!(
        one(&app, "trial", "equal_to", json!(["false"])).await,
        vec![pro]
    );
    // An operator Chatwoot does not know matches nothing on a custom attribute.
    assert!(one(&app, "plan", "starts_with", json!(["p"]))
        .await
        .is_empty());

    define(&app, "tier", "text", "contact_attribute").await;
    let contact = app.conversation(pro).await["meta"]["sender"]["id"]
        .as_i64()
        .unwrap();
    app.patch(
        &format!("/api/v1/accounts/1/contacts/{contact}"),
        json!({ "custom_attributes": { "tier": "Gold" } }),
    )
    .await
    .expect(200);
    let by_contact = filtered(
        &app,
        json!([{ "attribute_key": "tier", "filter_operator": "equal_to", "values": ["gold"],
                 "custom_attribute_type": "contact_attribute" }]),
    )
    .await;
    assert_eq!(by_contact, vec![pro]);
}

#[tokio::test]
async fn and_binds_tighter_than_or_as_in_chatwoots_unparenthesised_chain() {
    let app = spawn_app().await;
    let a = conversation(&app, json!({ "assignee_id": 1 })).await;
    let b = conversation(&app, json!({ "status": "resolved" })).await;
    let c = conversation(&app, json!({ "status": "pending", "assignee_id": 1 })).await;
    // status = resolved OR status = open AND assigned  ==  resolved OR (open AND assigned)
    let chain = json!([
        { "attribute_key": "status", "filter_operator": "equal_to", "values": ["resolved"], "query_operator": "or" },
        { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "AND" },
        { "attribute_key": "assignee_id", "filter_operator": "is_present", "values": [] },
    ]);
    assert_eq!(filtered(&app, chain).await, vec![a, b]);
    // assigned AND open OR pending  ==  (assigned AND open) OR pending
    let chain = json!([
        { "attribute_key": "assignee_id", "filter_operator": "is_present", "query_operator": "AND" },
        { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "OR" },
        { "attribute_key": "status", "filter_operator": "equal_to", "values": ["pending"] },
    ]);
    assert_eq!(filtered(&app, chain).await, vec![a, c]);
    assert_eq!(filtered(&app, json!([])).await, vec![a, b, c]);
}

#[tokio::test]
async fn malformed_payloads_get_422_naming_the_problem() {
    let app = spawn_app().await;
    conversation(&app, json!({})).await;
    assert_eq!(
        refused(
            &app,
            json!([condition("status", "contains", json!(["open"]))])
        )
        .await,
        "Invalid operator. The allowed operators for status are [equal_to,not_equal_to]."
    );
    assert_eq!(
        refused(&app, json!([condition("status", "equal_to", json!([]))])).await,
        "Invalid value. The values provided for status are invalid"
    );
    assert!(
        refused(&app, json!([condition("nope", "equal_to", json!(["x"]))]))
            .await
            .starts_with(
                "Invalid attribute key - [nope]. The key should be one of [status,assignee_id,"
            )
    );
    let bad_joiner = json!([
        { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "XOR" },
        condition("status", "equal_to", json!(["open"])),
    ]);
    assert_eq!(
        refused(&app, bad_joiner).await,
        "Query operator must be either \"AND\" or \"OR\"."
    );
    let dangling = json!([{ "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "AND" }]);
    assert!(refused(&app, dangling)
        .await
        .contains("last filter condition"));
    assert!(refused(
        &app,
        json!([condition("status", "equal_to", json!("open"))])
    )
    .await
    .contains("array"));
    assert!(refused(
        &app,
        json!([condition(
            "created_at",
            "is_greater_than",
            json!(["yesterday"])
        )])
    )
    .await
    .starts_with("Invalid value."));
    assert!(refused(
        &app,
        json!([condition("assignee_id", "equal_to", json!(["abc"]))])
    )
    .await
    .starts_with("Invalid value."));
    assert!(refused(
        &app,
        json!([condition("created_at", "days_before", json!([0]))])
    )
    .await
    .starts_with("Invalid value."));
    assert!(refused(&app, json!(["status"])).await.contains("object"));
    let many: Vec<Value> = (0..51)
        .map(|_| condition("status", "equal_to", json!(["open"])))
        .collect();
    assert!(refused(&app, Value::from(many)).await.contains("at most"));
    let reply = app.post(FILTER, json!({})).await;
    assert_eq!(reply.status, 422);
    let reply = app.post(FILTER, json!({ "payload": "status" })).await;
    assert_eq!(reply.status, 422);
}

#[tokio::test]
async fn the_envelope_counts_scope_and_pages() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..27 {
        let extra = if n == 0 {
            json!({ "assignee_id": 1 })
        } else {
            json!({})
        };
        ids.push(conversation(&app, extra).await);
    }
    let body = app
        .post(
            FILTER,
            json!({ "payload": [condition("status", "equal_to", json!(["open"]))], "page": 2 }),
        )
        .await
        .expect(200);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["meta", "payload"]);
    assert_eq!(body["meta"]["all_count"], 27);
    assert_eq!(body["meta"]["mine_count"], 1);
    assert_eq!(body["meta"]["assigned_count"], 1);
    assert_eq!(body["meta"]["unassigned_count"], 26);
    assert_eq!(body["payload"].as_array().unwrap().len(), 2);
    let first = app
        .post(&format!("{FILTER}?page=1"), json!({ "payload": [] }))
        .await
        .expect(200);
    assert_eq!(first["payload"].as_array().unwrap().len(), 25);

    let (_, token) = app.create_agent("Agent", "agent@example.com").await;
    let outsider = app
        .send(
            reqwest::Method::POST,
            FILTER,
            &token,
            Some(json!({ "payload": [] })),
        )
        .await
        .expect(200);
    assert_eq!(outsider["meta"]["all_count"], 0);
}

/// A random JSON value, biased towards the shapes a filter payload has.
fn random_json(rng: &mut rand::rngs::StdRng, depth: u32) -> Value {
    use rand::Rng;
    const KEYS: &[&str] = &[
        "status",
        "assignee_id",
        "labels",
        "created_at",
        "display_id",
        "mail_subject",
        "plan",
        "seats",
        "nope",
        "",
        "payload",
        "values",
    ];
    const WORDS: &[&str] = &[
        "open",
        "all",
        "equal_to",
        "contains",
        "is_present",
        "days_before",
        "is_greater_than",
        "AND",
        "or",
        "2024-01-01",
        "-1",
        "1e999",
        "",
        "'; DROP TABLE x; --",
        "🎉",
        "\u{0}",
    ];
    match rng.gen_range(0..if depth > 2 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen_range(-5..1_000_000_000_i64)),
        3 => json!(rng.gen::<f64>() * 1e12),
        4 => json!(WORDS[rng.gen_range(0..WORDS.len())]),
        5 | 6 => {
            let mut object = serde_json::Map::new();
            for field in [
                "attribute_key",
                "filter_operator",
                "values",
                "query_operator",
                "custom_attribute_type",
            ] {
                if rng.gen_bool(0.8) {
                    let value = match field {
                        "attribute_key" if rng.gen_bool(0.7) => {
                            json!(KEYS[rng.gen_range(0..KEYS.len())])
                        }
                        "values" if rng.gen_bool(0.5) => json!([random_json(rng, depth + 1)]),
                        _ => random_json(rng, depth + 1),
                    };
                    object.insert(field.to_string(), value);
                }
            }
            Value::Object(object)
        }
        _ => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
    }
}

#[tokio::test]
async fn random_payloads_never_get_a_500() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = rand::random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let app = spawn_app().await;
    define(&app, "plan", "list", "conversation_attribute").await;
    define(&app, "seats", "number", "conversation_attribute").await;
    let id = conversation(&app, json!({})).await;
    set_attributes(&app, id, json!({ "plan": "pro", "seats": "not a number" })).await;
    let mut answered = [0; 2];
    for _ in 0..400 {
        let conditions: Vec<Value> = (0..rng.gen_range(0..4))
            .map(|_| random_json(&mut rng, 0))
            .collect();
        let body = if rng.gen_bool(0.9) {
            json!({ "payload": conditions, "page": random_json(&mut rng, 3) })
        } else {
            random_json(&mut rng, 0)
        };
        let reply = app.post(FILTER, body.clone()).await;
        assert!(
            reply.status == 200 || reply.status == 422,
            "seed {seed}: {} for {body}: {}",
            reply.status,
            reply.body
        );
        answered[usize::from(reply.status == 200)] += 1;
    }
    assert!(
        answered[1] > 10,
        "seed {seed}: only {} accepted",
        answered[1]
    );
}

/// A payload of list filters and one attribute condition sees each change written before it:
/// the attribute, the status and the assignee, whether or not the search index (whose copy of
/// the summaries such a payload may be counted from) has taken them in yet.
#[tokio::test]
async fn an_attribute_payload_sees_every_change_written_before_it() {
    let app = spawn_app().await;
    define(&app, "tier", "list", "conversation_attribute").await;
    let first = conversation(&app, json!({})).await;
    let second = conversation(&app, json!({})).await;
    let gold_and_open = json!([
        { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
        condition("tier", "equal_to", json!(["gold"])),
    ]);
    app.index_caught_up().await;
    for round in 0..10 {
        let (gold, other) = if round % 2 == 0 {
            (first, second)
        } else {
            (second, first)
        };
        set_attributes(&app, gold, json!({ "tier": "Gold" })).await;
        set_attributes(&app, other, json!({ "tier": "Silver" })).await;
        assert_eq!(
            filtered(&app, gold_and_open.clone()).await,
            vec![gold],
            "round {round}"
        );
        set_status(&app, gold, "resolved").await;
        assert!(
            filtered(&app, gold_and_open.clone()).await.is_empty(),
            "round {round}"
        );
        set_status(&app, gold, "open").await;
    }
}

async fn set_status(app: &TestApp, id: i64, status: &str) {
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
        json!({ "status": status }),
    )
    .await
    .expect(200);
}
