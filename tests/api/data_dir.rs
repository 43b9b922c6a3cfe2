//! One data dir, one process, and a clean stop that leaves the data dir as one database file.

use std::path::Path;

use reqwest::Method;

use crate::helpers::remove_dir_in_use;
use crate::process::{start, try_start, Server};

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn write_some(server: &Server, token: &str) {
    for n in 0..5 {
        server.create_conversation(token, &format!("src-{n}")).await;
    }
}

#[tokio::test]
async fn a_clean_stop_leaves_only_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..4 {
        let server = start(dir.path(), Some("clean-stop")).await;
        if round == 0 {
            write_some(&server, "clean-stop").await;
        }
        server.stop().await;
        let left = entries(dir.path());
        assert!(
            !left
                .iter()
                .any(|name| name.ends_with("-wal") || name.ends_with("-shm")),
            "round {round}: {left:?}"
        );
        assert!(left.contains(&"wootlite.sqlite3".to_string()));
    }
}

#[tokio::test]
async fn a_second_serve_is_refused_and_changes_nothing_even_without_the_search_dir() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path(), Some("first-token")).await;
    let refused = try_start(dir.path(), Some("second-token"))
        .await
        .err()
        .expect("a second serve on the same data dir is refused");
    assert!(refused.contains("in use"), "{refused}");
    let (status, _) = first
        .get("/api/v1/accounts/1/inboxes", "second-token")
        .await;
    assert_eq!(status, 401, "the refused process stored its token");

    remove_dir_in_use(&dir.path().join("search"));
    let refused = try_start(dir.path(), None).await.err();
    assert!(
        refused.is_some(),
        "deleting search/ released the data dir lock"
    );
    let (status, _) = first.get("/api/v1/accounts/1/inboxes", "first-token").await;
    assert_eq!(status, 200);
    first.stop().await;
}

#[tokio::test]
async fn two_first_starts_at_the_same_moment_leave_exactly_one_server() {
    for round in 0..6 {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = tokio::join!(
            try_start(dir.path(), Some("race-token")),
            try_start(dir.path(), Some("race-token"))
        );
        let (server, refused) = match (a, b) {
            (Ok(server), Err(refused)) | (Err(refused), Ok(server)) => (server, refused),
            (Ok(_), Ok(_)) => panic!("round {round}: both started"),
            (Err(a), Err(b)) => panic!("round {round}: neither started: {a} / {b}"),
        };
        assert!(refused.contains("in use"), "{refused}");
        let body = server
            .ok(
                Method::GET,
                "/api/v1/accounts/1/inboxes",
                "race-token",
                None,
            )
            .await;
        assert_eq!(body["payload"].as_array().unwrap().len(), 1);
        server.stop().await;
    }
}
