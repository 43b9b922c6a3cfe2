//! A full database (here: full at `--max-database-bytes`, as SQLite reports a full disk) turns
//! writes into 507 with a JSON error; reads and search go on, and writes work again once
//! space is freed, without a restart.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{error_of, eventually, spawn_configured};
use wootlite::clock::Clock;

const LIMIT_BYTES: u64 = 2 << 20;

#[tokio::test]
async fn a_full_database_answers_507_keeps_reads_and_writes_again_once_space_is_freed() {
    let app = spawn_configured(Clock::system(), |s| {
        s.max_database_bytes = Some(LIMIT_BYTES)
    })
    .await;
    let kept = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(
        kept,
        json!({ "content": "the pangolin file", "message_type": "incoming" }),
    )
    .await;
    let filler = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let bulk = "lorem ipsum ".repeat(1500);
    let path = format!("/api/v1/accounts/1/conversations/{filler}/messages");
    let mut full = None;
    for _ in 0..1000 {
        let reply = app.post(&path, json!({ "content": bulk })).await;
        match reply.status {
            200 => continue,
            _ => {
                full = Some(reply);
                break;
            }
        }
    }
    let full = full.expect("the database filled up");
    assert_eq!(full.status, 507, "{}", full.body);
    assert!(
        error_of(&full.body).contains("disk is full"),
        "{}",
        full.body
    );

    // Reads, lists and search go on.
    assert_eq!(app.conversation(kept).await["id"], kept);
    let listed = app
        .get("/api/v1/accounts/1/conversations")
        .await
        .expect(200);
    assert!(listed["data"]["meta"]["all_count"].as_i64().unwrap() >= 2);
    // The index takes in the filler's long messages first; on a busy machine that can outlast
    // one search's wait, which then answers 503 "catching up" and is asked again.
    let found = eventually("the search to answer", Duration::from_secs(60), || async {
        let reply = app
            .get("/api/v1/accounts/1/conversations/search?q=pangolin")
            .await;
        match reply.status {
            503 => None,
            _ => Some(reply.expect(200)),
        }
    })
    .await;
    assert_eq!(found["payload"][0]["id"], kept);
    // Another write is refused the same way, and nothing half-written shows.
    let again = app
        .post(
            &format!("/api/v1/accounts/1/conversations/{kept}/messages"),
            json!({ "content": bulk }),
        )
        .await;
    assert_eq!(again.status, 507);

    // Freeing space (the filler conversation goes) lets writes through again.
    app.delete(&format!("/api/v1/accounts/1/conversations/{filler}"))
        .await
        .expect(200);
    let message = app
        .message(
            kept,
            json!({ "content": "written after the space came back" }),
        )
        .await;
    assert!(message["id"].as_i64().is_some());
}
