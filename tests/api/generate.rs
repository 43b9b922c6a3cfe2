//! `wootlite generate`: a data dir `serve` opens as it is, shaped as documented, the same for the
//! same seed.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;
use serde_json::json;

use crate::process::{run, start};

const CONVERSATIONS: i64 = 2_000;
const END: &str = "2026-06-01T00:00:00Z";

async fn generate(dir: &Path, seed: &str) {
    let output = run(
        &[
            "generate",
            "--conversations",
            &CONVERSATIONS.to_string(),
            "--seed",
            seed,
            "--end",
            END,
            "--bootstrap-token",
            "generated-token",
        ],
        dir,
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every conversation and message row, as text, in id order.
fn dump(dir: &Path) -> String {
    let conn = Connection::open(dir.join("wootlite.sqlite3")).unwrap();
    let mut out = String::new();
    for sql in [
        "SELECT id, display_id, uuid, inbox_id, contact_id, status, assignee_id, team_id, custom_attributes, created_at, last_activity_at FROM conversations ORDER BY id",
        "SELECT id, conversation_id, message_type, content, private, sender_type, sender_id, created_at FROM messages ORDER BY id",
        "SELECT conversation_id, title FROM conversation_labels ORDER BY conversation_id, title",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                out.push_str(&format!("{:?}|", row.get_ref(i).unwrap()));
            }
            out.push('\n');
        }
    }
    out
}

fn share(conn: &Connection, sql: &str) -> f64 {
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_dataset_and_another_seed_another() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(a.path(), "7").await;
    generate(b.path(), "7").await;
    generate(c.path(), "8").await;
    let first = dump(a.path());
    assert!(first.len() > 100_000);
    assert_eq!(first, dump(b.path()));
    assert_ne!(first, dump(c.path()));
}

#[tokio::test]
async fn a_generated_data_dir_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "3").await;
    let conn = Connection::open(dir.path().join("wootlite.sqlite3")).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM inboxes"), 10);
    assert_eq!(count("SELECT COUNT(*) FROM account_users"), 50);
    assert_eq!(count("SELECT COUNT(*) FROM teams"), 5);
    assert_eq!(count("SELECT COUNT(*) FROM labels"), 30);
    assert_eq!(
        count("SELECT COUNT(*) FROM custom_attribute_definitions"),
        4
    );
    assert_eq!(count("SELECT COUNT(*) FROM contacts"), CONVERSATIONS / 3);
    // Ids from 1, as in a fresh server.
    assert_eq!(
        count("SELECT MIN(id) * 1000000 + MAX(id) FROM conversations"),
        1_000_000 + CONVERSATIONS
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM conversations WHERE id <> display_id"),
        0
    );
    assert_eq!(count("SELECT MIN(id) FROM messages"), 1);
    // Status mix 20 / 70 / 7 / 3, 15% unassigned, 0-3 labels, ~10 messages, 45/45/10 types.
    let status_share = |code: i64| {
        share(
            &conn,
            &format!("SELECT AVG(status = {code}) FROM conversations"),
        )
    };
    for (code, expected) in [(0, 0.20), (1, 0.70), (2, 0.07), (3, 0.03)] {
        let seen = status_share(code);
        assert!((seen - expected).abs() < 0.03, "status {code}: {seen}");
    }
    let unassigned = share(&conn, "SELECT AVG(assignee_id IS NULL) FROM conversations");
    assert!((unassigned - 0.15).abs() < 0.03, "unassigned {unassigned}");
    assert_eq!(
        count("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM conversation_labels GROUP BY conversation_id)"),
        3
    );
    let per_conversation = share(
        &conn,
        "SELECT CAST(COUNT(*) AS REAL) / (SELECT COUNT(*) FROM conversations) FROM messages",
    );
    assert!(
        (8.0..12.5).contains(&per_conversation),
        "{per_conversation}"
    );
    assert!(
        count("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM messages GROUP BY conversation_id)")
            > 40
    );
    let activity = share(&conn, "SELECT AVG(message_type = 2) FROM messages");
    assert!((0.06..0.12).contains(&activity), "activity {activity}");
    let span_days = share(
        &conn,
        "SELECT (MAX(created_at) - MIN(created_at)) / 86400e6 FROM conversations",
    );
    assert!((700.0..=730.0).contains(&span_days), "{span_days}");
    let attributes: HashMap<String, i64> = conn
        .prepare("SELECT key, COUNT(*) FROM conversation_attribute_values GROUP BY key")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for key in ["region", "plan", "seats", "escalated"] {
        assert_eq!(attributes.get(key), Some(&CONVERSATIONS), "{key}");
    }
    let escalated = share(
        &conn,
        "SELECT AVG(json_extract(custom_attributes, '$.escalated')) FROM conversations",
    );
    assert!(escalated < 0.03, "the checkbox is rare: {escalated}");
    // Full statistics: every conversation is in account 1, which a sample would not tell.
    let stat: String = conn
        .query_row(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'conversations_list'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        stat.starts_with(&format!("{CONVERSATIONS} {CONVERSATIONS} ")),
        "{stat}"
    );
}

#[tokio::test]
async fn serve_opens_a_generated_data_dir_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "5").await;
    let server = start(dir.path(), None).await;
    let token = "generated-token";
    let base = "/api/v1/accounts/1/conversations";
    let (status, meta) = server.get(&format!("{base}/meta?status=all"), token).await;
    assert_eq!(status, 200);
    assert_eq!(meta["meta"]["all_count"], CONVERSATIONS);
    // The index came with the data dir: nothing left to index.
    let mut health = serde_json::Value::Null;
    for _ in 0..100 {
        health = server.get("/health", token).await.1;
        if health["search"]["indexed_seq"] == health["search"]["written_seq"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        health["search"]["indexed_seq"],
        health["search"]["written_seq"]
    );
    assert!(
        health["search"]["written_seq"].as_i64().unwrap() > 10_000,
        "{health}"
    );
    let (status, found) = server.get(&format!("{base}/search?q=refund"), token).await;
    assert_eq!(status, 200);
    assert!(found["meta"]["all_count"].as_i64().unwrap() > 10, "{found}");
    // The next conversation follows on from the generated ones.
    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{}{base}", server.url))
        .header("api_access_token", token)
        .json(&json!({ "inbox_id": 1, "contact_id": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["id"], CONVERSATIONS + 1, "{created}");
    server.stop().await;
}
