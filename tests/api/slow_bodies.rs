//! Request bodies that stall or trickle are cut (408, connection closed) instead of held
//! forever, and the server keeps answering everyone else meanwhile.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{eventually, spawn_configured, stored_files, TestApp, ADMIN_TOKEN};
use wootlite::clock::Clock;

const STALLED: usize = 300;
/// Every wait in this file is bounded by this; none is asserted on.
const BOUND: Duration = Duration::from_secs(60);

async fn stalled_post(app: &TestApp, path: &str) -> TcpStream {
    stalled_body(app, path, "application/json", "{\"content\": \"").await
}

/// A POST whose headers promise 100,000 bytes and whose body stops after `start`.
async fn stalled_body(app: &TestApp, path: &str, content_type: &str, start: &str) -> TcpStream {
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .expect("connects");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\napi_access_token: {ADMIN_TOKEN}\r\n\
         Content-Type: {content_type}\r\nContent-Length: 100000\r\n\r\n{start}"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Everything the server sends until it closes the connection.
async fn answer_then_close(mut stream: TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes a stalled connection")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_bodies_are_cut_with_408_while_other_clients_are_served() {
    let app = spawn_configured(Clock::system(), |s| {
        s.workers = 2;
        s.body_timeout_secs = 2;
    })
    .await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/accounts/1/conversations/{id}/messages");
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        stalled.push(stalled_post(&app, &path).await);
    }

    // Others are served while those hang.
    let client = reqwest::Client::builder().timeout(BOUND).build().unwrap();
    let health = client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let shown = client
        .get(app.url(&format!("/api/v1/accounts/1/conversations/{id}")))
        .header("api_access_token", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);

    let answers = futures_util::future::join_all(stalled.into_iter().map(answer_then_close)).await;
    for answer in &answers {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
        assert!(answer.contains("timed out"), "{answer:?}");
    }
    assert!(
        app.messages(id).await.is_empty(),
        "a cut body was stored as a message"
    );
    app.message(id, json!({ "content": "still writing" })).await;
}

#[tokio::test]
async fn a_trickling_body_is_cut_like_a_stalled_one() {
    let app = spawn_configured(Clock::system(), |s| {
        s.body_timeout_secs = 1;
        s.body_min_bytes_per_sec = 1024;
    })
    .await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let mut stream = stalled_post(
        &app,
        &format!("/api/v1/accounts/1/conversations/{id}/messages"),
    )
    .await;
    // A byte every 200 ms: never idle for a second, but far below 1 KB/s.
    let trickle = async {
        for _ in 0..300 {
            if stream.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        stream
    };
    let stream = tokio::time::timeout(BOUND, trickle).await.expect("bounded");
    let answer = answer_then_close(stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}

#[tokio::test]
async fn a_stalled_upload_is_cut_with_408_and_leaves_no_file() {
    let app = spawn_configured(Clock::system(), |s| s.body_timeout_secs = 1).await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let part = "--cut\r\nContent-Disposition: form-data; name=\"attachments[]\"; \
                filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n0123456789";
    let stream = stalled_body(
        &app,
        &format!("/api/v1/accounts/1/conversations/{id}/messages"),
        "multipart/form-data; boundary=cut",
        part,
    )
    .await;
    let answer = answer_then_close(stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    eventually("the partial file to be removed", BOUND, || async {
        stored_files(&app.data_dir).is_empty().then_some(())
    })
    .await;
    assert!(app.messages(id).await.is_empty());
}
