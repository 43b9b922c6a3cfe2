//! The index after trouble: missing, corrupt, of another format, or older than the outbox
//! behind it, it is rebuilt from the database; `wootlite reindex` rebuilds it on demand.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use crate::process::{run, start, Server};

const TOKEN: &str = "recovery-token";

/// Creates a conversation holding one incoming message per word; returns its display id.
async fn conversation_saying(server: &Server, words: &[&str]) -> i64 {
    let id = server.create_conversation(TOKEN, &uuid()).await;
    for word in words {
        server
            .ok(
                Method::POST,
                &format!("/api/v1/accounts/1/conversations/{id}/messages"),
                TOKEN,
                Some(json!({ "content": format!("about {word}"), "message_type": "incoming" })),
            )
            .await;
    }
    id
}

fn uuid() -> String {
    format!("{:x}", rand::random::<u128>())
}

async fn found(server: &Server, q: &str) -> Vec<i64> {
    let body: Value = server
        .ok(
            Method::GET,
            &format!("/api/v1/accounts/1/conversations/search?q={q}"),
            TOKEN,
            None,
        )
        .await;
    let mut ids: Vec<i64> = body["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

fn segment_files(index: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx" || e == "pos"))
        .collect()
}

#[tokio::test]
async fn a_missing_corrupt_or_foreign_index_is_rebuilt_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("search");
    let server = start(dir.path(), Some(TOKEN)).await;
    let first = conversation_saying(&server, &["walrus", "otter"]).await;
    let second = conversation_saying(&server, &["walrus"]).await;
    assert_eq!(found(&server, "walrus").await, vec![first, second]);
    server.stop().await;

    type Damage = fn(&Path);
    let damages: [(&str, Damage); 4] = [
        ("deleted", |index| std::fs::remove_dir_all(index).unwrap()),
        ("garbage meta.json", |index| {
            std::fs::write(index.join("meta.json"), "{ not json").unwrap()
        }),
        ("older format", |index| {
            let file = index.join("meta.json");
            let mut meta: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            let mut payload: Value =
                serde_json::from_str(meta["payload"].as_str().unwrap()).unwrap();
            payload["format"] = json!(0);
            meta["payload"] = json!(payload.to_string());
            std::fs::write(&file, meta.to_string()).unwrap();
        }),
        ("truncated segment files", |index| {
            let files = segment_files(index);
            assert!(!files.is_empty());
            for file in files {
                std::fs::write(file, b"oops").unwrap();
            }
        }),
    ];
    for (what, damage) in damages {
        damage(&index);
        let server = start(dir.path(), None).await;
        assert_eq!(
            found(&server, "walrus").await,
            vec![first, second],
            "{what}"
        );
        assert_eq!(found(&server, "otter").await, vec![first], "{what}");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_index_older_than_the_pruned_outbox_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("search");
    let backup = dir.path().join("search-backup");
    let server = start(dir.path(), Some(TOKEN)).await;
    let early = conversation_saying(&server, &["early"]).await;
    assert_eq!(found(&server, "early").await, vec![early]);
    server.stop().await;
    copy_dir(&index, &backup);

    let server = start(dir.path(), None).await;
    let late = conversation_saying(&server, &["late"]).await;
    // The search waits for the commit, after which the outbox rows are pruned.
    assert_eq!(found(&server, "late").await, vec![late]);
    server.stop().await;

    std::fs::remove_dir_all(&index).unwrap();
    copy_dir(&backup, &index);
    let server = start(dir.path(), None).await;
    assert_eq!(found(&server, "late").await, vec![late]);
    assert_eq!(found(&server, "early").await, vec![early]);
    server.stop().await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn reindex_rebuilds_on_demand_and_refuses_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Some(TOKEN)).await;
    let id = conversation_saying(&server, &["heron", "ibis", "stork"]).await;

    let busy = run(&["reindex"], dir.path()).await;
    assert!(!busy.status.success());
    let said = String::from_utf8_lossy(&busy.stderr);
    assert!(said.contains("in use"), "{said}");
    server.stop().await;

    let output = run(&["reindex"], dir.path()).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("indexed 3 messages"), "{said}");
    assert_eq!(
        wootlite::search::count_documents(&dir.path().join("search")).unwrap(),
        3
    );

    let server = start(dir.path(), None).await;
    assert_eq!(found(&server, "ibis").await, vec![id]);
    server.stop().await;
}
