//! Message ids and creation times agree under concurrent writers, so paging by `before` and
//! `after` (which bound by id and order by time) walks every message exactly once.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{spawn_configured, TestApp};
use wootlite::clock::Clock;

const WRITERS: usize = 16;
const MESSAGES_PER_WRITER: usize = 100;

fn ids_of(page: &Value) -> Vec<i64> {
    page["payload"]
        .as_array()
        .expect("payload")
        .iter()
        .map(|m| m["id"].as_i64().expect("message id"))
        .collect()
}

async fn page(app: &TestApp, conversation: i64, query: &str) -> Vec<i64> {
    let body = app
        .get(&format!(
            "/api/v1/accounts/1/conversations/{conversation}/messages{query}"
        ))
        .await
        .expect(200);
    ids_of(&body)
}

/// Newest to oldest with `before=`, starting from the latest page.
async fn walk_backward(app: &TestApp, conversation: i64) -> Vec<i64> {
    let mut seen = page(app, conversation, "").await;
    loop {
        let Some(&oldest) = seen.iter().min() else {
            return seen;
        };
        let older = page(app, conversation, &format!("?before={oldest}")).await;
        if older.is_empty() {
            return seen;
        }
        seen.extend(older);
    }
}

/// Oldest to newest with `after=`, starting before the first message.
async fn walk_forward(app: &TestApp, conversation: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let newer = page(app, conversation, &format!("?after={after}")).await;
        let Some(&newest) = newer.iter().max() else {
            return seen;
        };
        seen.extend(newer);
        after = newest;
    }
}

fn assert_each_once(walk: &[i64], written: &BTreeSet<i64>, direction: &str) {
    let walked: BTreeSet<i64> = walk.iter().copied().collect();
    assert_eq!(
        walked.len(),
        walk.len(),
        "{direction}: a message came twice"
    );
    let missed: Vec<_> = written.difference(&walked).collect();
    assert!(missed.is_empty(), "{direction}: never returned: {missed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paging_walks_every_message_once_under_concurrent_writers() {
    let app = spawn_configured(Clock::system(), |s| s.workers = 4).await;
    let conversation = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let app = std::sync::Arc::new(app);
    let writers = (0..WRITERS).map(|writer| {
        let app = std::sync::Arc::clone(&app);
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..MESSAGES_PER_WRITER {
                let message = app
                    .message(
                        conversation,
                        json!({ "content": format!("w{writer} m{n}") }),
                    )
                    .await;
                ids.push(message["id"].as_i64().unwrap());
            }
            ids
        })
    });
    let mut written = BTreeSet::new();
    for ids in futures_util::future::join_all(writers).await {
        written.extend(ids.unwrap());
    }
    assert_eq!(written.len(), WRITERS * MESSAGES_PER_WRITER);

    let out_of_order: i64 = app
        .read(|c| c.query_row(
            "SELECT COUNT(*) FROM messages a JOIN messages b
               ON a.conversation_id = b.conversation_id AND a.id < b.id AND a.created_at > b.created_at
             WHERE a.conversation_id = (SELECT conversation_id FROM messages WHERE id = ?1)",
            [written.first().copied().unwrap()],
            |row| row.get(0),
        ));
    assert_eq!(out_of_order, 0, "pairs whose ids and times disagree");

    assert_each_once(
        &walk_backward(&app, conversation).await,
        &written,
        "backward",
    );
    assert_each_once(&walk_forward(&app, conversation).await, &written, "forward");
}
