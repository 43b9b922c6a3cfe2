use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    error_of, spawn_app, stored_files, Reply, TestApp, ADMIN_TOKEN, ATTACHMENT_LIMIT,
};

const BASE: &str = "/api/v1/accounts/1/conversations";

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

async fn send_form(app: &TestApp, id: i64, form: Form) -> Reply {
    let response = app
        .request(
            Method::POST,
            &format!("{BASE}/{id}/messages"),
            Some(ADMIN_TOKEN),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    Reply::from(response).await
}

#[tokio::test]
async fn a_message_json_is_pinned_field_by_field() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let message = app
        .message(
            1,
            json!({ "content": "Hi there", "echo_id": "e-1", "content_attributes": { "x": 1 } }),
        )
        .await;
    assert_eq!(
        keys(&message),
        vec![
            "id",
            "content",
            "inbox_id",
            "echo_id",
            "conversation_id",
            "message_type",
            "content_type",
            "status",
            "content_attributes",
            "created_at",
            "private",
            "source_id",
            "sender"
        ]
    );
    assert_eq!(message["message_type"], 1);
    assert_eq!(message["content_type"], "text");
    assert_eq!(message["status"], "sent");
    assert_eq!(message["private"], false);
    assert_eq!(message["conversation_id"], 1);
    assert_eq!(message["echo_id"], "e-1");
    assert_eq!(message["content_attributes"], json!({ "x": 1 }));
    assert!(message["created_at"].is_i64());
    assert_eq!(
        keys(&message["sender"]),
        vec![
            "id",
            "name",
            "available_name",
            "avatar_url",
            "type",
            "availability_status",
            "thumbnail"
        ]
    );
    assert_eq!(message["sender"]["type"], "user");
    // The echo id is only handed back on create.
    let listed = app.messages(1).await;
    assert!(listed[0].get("echo_id").is_none());
    assert_eq!(listed[0]["id"], message["id"]);
}

#[tokio::test]
async fn the_messages_index_has_chatwoots_meta_and_pages() {
    let app = spawn_app().await;
    app.create_conversation(json!({ "assignee_id": 1 })).await;
    app.post(&format!("{BASE}/1/labels"), json!({ "labels": ["vip"] }))
        .await
        .expect(200);
    for i in 0..30 {
        app.message(1, json!({ "content": format!("m{i}"), "message_type": if i % 2 == 0 { "incoming" } else { "outgoing" } }))
            .await;
    }
    let body = app.get(&format!("{BASE}/1/messages")).await.expect(200);
    let meta = &body["meta"];
    assert_eq!(meta["labels"], json!(["vip"]));
    assert_eq!(meta["contact"]["type"], "contact");
    assert_eq!(meta["assignee"]["id"], 1);
    assert_eq!(meta["agent_last_seen_at"], Value::Null);
    let page: Vec<i64> = body["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(page.len(), 20, "the latest 20");
    assert!(page.windows(2).all(|w| w[0] < w[1]), "oldest first");
    let newest = *page.last().unwrap();
    let before = app
        .get(&format!("{BASE}/1/messages?before={}", page[0]))
        .await
        .expect(200);
    let earlier: Vec<i64> = before["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(earlier.len(), 20.min((page[0] - 1) as usize));
    assert!(earlier.iter().all(|id| *id < page[0]));
    let after = app
        .get(&format!("{BASE}/1/messages?after={}", page[0]))
        .await
        .expect(200);
    let later: Vec<i64> = after["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(later.first(), Some(&(page[0] + 1)), "after is exclusive");
    assert_eq!(later.last(), Some(&newest));
    let between = app
        .get(&format!(
            "{BASE}/1/messages?after={}&before={}",
            page[0], page[3]
        ))
        .await
        .expect(200);
    assert_eq!(
        between["payload"].as_array().unwrap().len(),
        3,
        "after inclusive, before exclusive"
    );
    let public = app
        .get(&format!("{BASE}/1/messages?filter_internal_messages=true"))
        .await
        .expect(200);
    assert!(public["payload"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["message_type"] != 2));
    app.get(&format!("{BASE}/1/messages?before=abc"))
        .await
        .expect(422);
}

#[tokio::test]
async fn incoming_messages_reopen_and_replies_set_waiting_times() {
    let app = spawn_app().await;
    let created = app.create_conversation(json!({})).await;
    assert!(
        created["waiting_since"].as_i64().unwrap() > 0,
        "waiting since creation"
    );
    app.message(1, json!({ "content": "private", "private": "true" }))
        .await;
    assert_eq!(
        app.conversation(1).await["first_reply_created_at"],
        0,
        "a private note is no reply"
    );
    let reply = app.message(1, json!({ "content": "reply" })).await;
    let conversation = app.conversation(1).await;
    assert_eq!(conversation["first_reply_created_at"], reply["created_at"]);
    assert_eq!(conversation["waiting_since"], 0);
    let incoming = app
        .message(
            1,
            json!({ "content": "thanks", "message_type": "incoming" }),
        )
        .await;
    assert_eq!(incoming["sender"]["type"], "contact");
    assert_eq!(
        app.conversation(1).await["waiting_since"],
        incoming["created_at"]
    );

    for status in ["resolved", "snoozed"] {
        app.post(
            &format!("{BASE}/1/toggle_status"),
            json!({ "status": status, "snoozed_until": 4102444800i64 }),
        )
        .await
        .expect(200);
        app.message(1, json!({ "content": "again", "message_type": "incoming" }))
            .await;
        let conversation = app.conversation(1).await;
        assert_eq!(
            conversation["status"], "open",
            "an incoming message reopens a {status} conversation"
        );
        assert_eq!(conversation["snoozed_until"], Value::Null);
    }
    app.post(
        &format!("{BASE}/1/toggle_status"),
        json!({ "status": "pending" }),
    )
    .await
    .expect(200);
    app.message(1, json!({ "content": "pending stays", "message_type": 0 }))
        .await;
    assert_eq!(app.conversation(1).await["status"], "pending");
    let latest = app.conversation(1).await;
    assert_eq!(latest["messages"][0]["content"], "pending stays");
    assert_eq!(latest["timestamp"], latest["messages"][0]["created_at"]);
}

#[tokio::test]
async fn bad_messages_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let path = format!("{BASE}/1/messages");
    assert!(error_of(&app.post(&path, json!({})).await.expect(422)).contains("content"));
    assert!(error_of(
        &app.post(&path, json!({ "content": "x", "message_type": "loud" }))
            .await
            .expect(422)
    )
    .contains("message_type"));
    app.post(&path, json!({ "content": "x", "content_type": "hologram" }))
        .await
        .expect(422);
    let body = app
        .post(&path, json!({ "content": "x".repeat(150_001) }))
        .await
        .expect(422);
    assert!(error_of(&body).contains("150000"));
    app.post(&format!("{BASE}/77/messages"), json!({ "content": "x" }))
        .await
        .expect(404);
    assert_eq!(app.messages(1).await.len(), 0);
}

#[tokio::test]
async fn message_status_updates_and_soft_deletes() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let message = app.message(1, json!({ "content": "secret" })).await;
    let path = format!("{BASE}/1/messages/{}", message["id"]);
    let body = app
        .patch(&path, json!({ "status": "read" }))
        .await
        .expect(200);
    assert_eq!(body["status"], "read");
    let body = app
        .patch(&path, json!({ "status": "delivered" }))
        .await
        .expect(200);
    assert_eq!(body["status"], "read", "read does not go back to delivered");
    let body = app
        .patch(
            &path,
            json!({ "status": "failed", "external_error": "bounced" }),
        )
        .await
        .expect(200);
    assert_eq!(body["content_attributes"]["external_error"], "bounced");
    let body = app
        .patch(&path, json!({ "status": "sent" }))
        .await
        .expect(200);
    assert!(body["content_attributes"].get("external_error").is_none());
    app.patch(&path, json!({ "status": "lost" }))
        .await
        .expect(422);
    app.patch(
        &format!("{BASE}/1/messages/99999"),
        json!({ "status": "read" }),
    )
    .await
    .expect(404);

    let deleted = app.delete(&path).await.expect(200);
    assert_eq!(deleted["content"], "This message was deleted");
    assert_eq!(deleted["content_attributes"], json!({ "deleted": true }));
    let listed = app.messages(1).await;
    assert_eq!(
        listed[0]["content"], "This message was deleted",
        "the row stays"
    );
    app.delete(&format!("{BASE}/1/messages/99999"))
        .await
        .expect(404);
}

#[tokio::test]
async fn multipart_uploads_round_trip_byte_for_byte() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let image: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let form = Form::new()
        .text("content", "two files")
        .text("private", "false")
        .text("message_type", "outgoing")
        .part(
            "attachments[]",
            Part::bytes(image.clone())
                .file_name("photo.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .part(
            "attachments[]",
            Part::bytes(b"hello".to_vec())
                .file_name("../../notes.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let message = send_form(&app, 1, form).await.expect(200);
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["file_type"], "image");
    assert_eq!(attachments[0]["file_size"], 70_000);
    assert_eq!(attachments[0]["extension"], "png");
    assert_eq!(attachments[1]["file_type"], "file");
    assert_eq!(
        keys(&attachments[0]),
        vec![
            "id",
            "message_id",
            "file_type",
            "account_id",
            "extension",
            "data_url",
            "thumb_url",
            "file_size",
            "width",
            "height"
        ]
    );
    let url = attachments[0]["data_url"].as_str().unwrap();
    assert!(url.starts_with(&app.address));
    let served = app.client.get(url).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().to_vec(), image);
    let text_url = attachments[1]["data_url"].as_str().unwrap();
    assert!(text_url.ends_with("/notes.txt"), "{text_url}");
    assert_eq!(
        app.client
            .get(text_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "hello"
    );

    let listed = app.get(&format!("{BASE}/1/attachments")).await.expect(200);
    assert_eq!(listed["meta"]["total_count"], 2);
    let item = &listed["payload"][0];
    assert_eq!(item["created_at"], message["created_at"]);
    assert_eq!(item["sender"]["type"], "user");
    assert_eq!(
        app.conversation(1).await["messages"][0]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_chunked_multipart_upload_works() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let boundary = "XyZboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nchunked hi\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nABCDEFGHIJ\r\n--{boundary}--\r\n"
    );
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {BASE}/1/messages HTTP/1.1\r\nHost: {host}\r\napi_access_token: {ADMIN_TOKEN}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for piece in body.as_bytes().chunks(17) {
        stream
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .await
            .unwrap();
        stream.write_all(piece).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let messages = app.messages(1).await;
    let last = messages.last().unwrap();
    assert_eq!(last["content"], "chunked hi");
    let url = last["attachments"][0]["data_url"].as_str().unwrap();
    assert_eq!(
        app.client
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ABCDEFGHIJ"
    );
}

#[tokio::test]
async fn multipart_without_a_file_or_with_a_huge_one_is_refused() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let empty = send_form(&app, 1, Form::new().text("private", "false")).await;
    assert!(error_of(&empty.expect(422)).contains("attachment"));
    let huge = vec![0u8; ATTACHMENT_LIMIT + 1];
    let form = Form::new()
        .text("content", "big")
        .part("attachments[]", Part::bytes(huge).file_name("big.bin"));
    let reply = send_form(&app, 1, form).await;
    assert_eq!(reply.status, 413);
    let mut many = Form::new().text("content", "many");
    for i in 0..16 {
        many = many.part(
            "attachments[]",
            Part::bytes(vec![1u8]).file_name(format!("f{i}.txt")),
        );
    }
    assert!(error_of(&send_form(&app, 1, many).await.expect(422)).contains("15"));
    assert_eq!(app.messages(1).await.len(), 0, "nothing was stored");
    let left = stored_files(&app.data_dir);
    assert!(left.is_empty(), "no stray files: {left:?}");
    app.client
        .get(format!("{}/files/../wootlite.sqlite3", app.address))
        .send()
        .await
        .unwrap();
    let probe = app
        .client
        .get(format!("{}/files/abc/def", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status().as_u16(), 404);
}
