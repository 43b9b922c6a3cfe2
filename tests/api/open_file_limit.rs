//! The fault the issue tracker saw: the server under a limit of 1,024 open files while about
//! 1,100 connections hold stalled uploads and messages keep being written. The stalled bodies
//! are cut, connections stay under the cap, the search index never runs out of files, and
//! everything written meanwhile is searchable afterwards.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{eventually, stored_files};
use crate::process::{try_send, try_start_with, Server};

const TOKEN: &str = "open-files-token";
const STALLED: usize = 1_100;
const WRITES: usize = 40;
const BOUND: Duration = Duration::from_secs(120);

async fn stalled_upload(server: &Server, conversation: i64) -> Option<TcpStream> {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.ok()?;
    let head = format!(
        "POST /api/v1/accounts/1/conversations/{conversation}/messages HTTP/1.1\r\n\
         Host: {address}\r\napi_access_token: {TOKEN}\r\n\
         Content-Type: multipart/form-data; boundary=cut\r\nContent-Length: 10000000\r\n\r\n\
         --cut\r\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"a.bin\"\r\n\r\n0123"
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    Some(stream)
}

/// Reads until the server closes the connection (or answers and closes it).
async fn closed_by_server(mut stream: TcpStream) {
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_uploads_at_the_open_file_limit_leave_the_server_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = try_start_with(
        dir.path(),
        Some(TOKEN),
        &["--body-timeout-secs", "2", "--workers", "2"],
        Some(1024),
    )
    .await
    .expect("serves under the limit");
    let conversation = server.create_conversation(TOKEN, "open-files").await;
    let messages = format!("/api/v1/accounts/1/conversations/{conversation}/messages");

    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        if let Some(stream) = stalled_upload(&server, conversation).await {
            stalled.push(stream);
        }
    }
    assert!(
        stalled.len() > 1_000,
        "{} connections opened",
        stalled.len()
    );
    // Writes go on while those hang; each waits its turn for a connection slot.
    let writes = (0..WRITES).map(|n| {
        let (url, path) = (server.url.clone(), messages.clone());
        async move {
            let body = json!({ "content": format!("written under siege {n}"), "message_type": "incoming" });
            try_send(&url, Method::POST, &path, TOKEN, Some(body)).await
        }
    });
    let (written, ()) = tokio::time::timeout(
        BOUND,
        futures_util::future::join(futures_util::future::join_all(writes), async {
            futures_util::future::join_all(stalled.into_iter().map(closed_by_server)).await;
        }),
    )
    .await
    .expect("stalled uploads are cut and the writes answered");
    for reply in &written {
        let (status, body) = reply.as_ref().expect("the server answered");
        assert_eq!(*status, 200, "{body}");
    }

    let found = server
        .ok(
            Method::GET,
            "/api/v1/accounts/1/conversations/search?q=siege",
            TOKEN,
            None,
        )
        .await;
    assert_eq!(found["payload"][0]["id"], conversation);
    let (status, health) = server.get("/health", TOKEN).await;
    assert_eq!(status, 200, "{health}");
    for (task, state) in health["tasks"].as_object().unwrap() {
        assert_eq!(
            state["restarts"], 0,
            "{task} failed under the siege: {state}"
        );
    }
    eventually("cut uploads to leave no file behind", BOUND, || async {
        stored_files(dir.path()).is_empty().then_some(())
    })
    .await;
    server.stop().await;
}
