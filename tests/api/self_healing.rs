//! Background tasks heal: a failed search indexer is reported by `/health` (503, naming it and
//! the cause), restarted with backoff, and the index reopened or rebuilt from the database.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{eventually, remove_dir_in_use, spawn_app, Reply, TestApp};
use wootlite::search::Fault;

const LIMIT: Duration = Duration::from_secs(60);

async fn search_ids(app: &TestApp, q: &str) -> Option<Vec<i64>> {
    let reply = app
        .get(&format!("/api/v1/accounts/1/conversations/search?q={q}"))
        .await;
    (reply.status == 200).then(|| {
        reply.body["payload"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    })
}

async fn health(app: &TestApp) -> Reply {
    Reply::from(app.client.get(app.url("/health")).send().await.unwrap()).await
}

async fn conversation_saying(app: &TestApp, words: &str) -> i64 {
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(id, json!({ "content": words, "message_type": "incoming" }))
        .await;
    id
}

/// Waits for `/health` to answer 200 again, and returns the indexer's status there.
async fn healthy_indexer(app: &TestApp) -> Value {
    eventually("health to answer 200", LIMIT, || async {
        let reply = health(app).await;
        (reply.status == 200).then(|| reply.body["tasks"]["search-indexer"].clone())
    })
    .await
}

async fn an_indexer_fault_is_reported_then_healed(fault: Fault) {
    let app = spawn_app().await;
    let before = conversation_saying(&app, "plain walrus").await;
    assert_eq!(
        eventually("the first search", LIMIT, || search_ids(&app, "walrus")).await,
        [before]
    );
    assert_eq!(health(&app).await.status, 200);

    app.search.inject_fault(fault, 3);
    let after = conversation_saying(&app, "striped narwhal").await;
    let down = eventually("health to report the indexer down", LIMIT, || async {
        let reply = health(&app).await;
        (reply.status == 503).then_some(reply.body)
    })
    .await;
    assert_eq!(down["status"], "degraded");
    assert_eq!(down["tasks"]["search-indexer"]["up"], false);
    let problem = down["error"].as_str().unwrap();
    assert!(
        problem.contains("search-indexer is down"),
        "health names the task: {problem}"
    );
    assert!(
        problem.contains("injected"),
        "health gives the cause: {problem}"
    );

    let indexer = healthy_indexer(&app).await;
    assert_eq!(indexer["up"], true);
    assert!(indexer["restarts"].as_u64().unwrap() >= 3, "{indexer}");
    assert_eq!(
        eventually("the new message to be searchable", LIMIT, || search_ids(
            &app, "narwhal"
        ))
        .await,
        [after]
    );
    assert_eq!(search_ids(&app, "walrus").await.unwrap(), [before]);
}

#[tokio::test]
async fn an_indexer_error_is_reported_by_health_and_the_indexer_restarts() {
    an_indexer_fault_is_reported_then_healed(Fault::Error).await;
}

#[tokio::test]
async fn an_indexer_panic_is_reported_by_health_and_the_indexer_restarts() {
    an_indexer_fault_is_reported_then_healed(Fault::Panic).await;
}

#[tokio::test]
async fn deleting_the_search_dir_while_serving_rebuilds_the_index() {
    let app = spawn_app().await;
    let before = conversation_saying(&app, "quiet heron").await;
    assert_eq!(
        eventually("the first search", LIMIT, || search_ids(&app, "heron")).await,
        [before]
    );

    remove_dir_in_use(&app.data_dir.join("search"));
    let after = conversation_saying(&app, "loud pelican").await;
    // The indexer's next commit fails on the missing directory; it restarts and rebuilds.
    app.index_caught_up().await;
    assert_eq!(app.search.document_count(), 2);
    assert_eq!(
        eventually("the new message to be searchable", LIMIT, || search_ids(
            &app, "pelican"
        ))
        .await,
        [after]
    );
    assert_eq!(search_ids(&app, "heron").await.unwrap(), [before]);
    let indexer = healthy_indexer(&app).await;
    assert!(indexer["restarts"].as_u64().unwrap() >= 1, "{indexer}");
    assert!(app.data_dir.join("search").join("meta.json").exists());
}
