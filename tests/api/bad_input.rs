use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, Reply, ADMIN_TOKEN, BODY_LIMIT};

async fn raw(
    app: &crate::helpers::TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let response = app
        .request(method, path, Some(ADMIN_TOKEN))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("sent");
    Reply::from(response).await
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_json_error() {
    let app = spawn_app().await;
    for body in ["{\"name\": ", "{name: 1}", "{} {}", "\u{0}"] {
        let reply = raw(
            &app,
            Method::POST,
            "/api/v1/accounts/1/teams",
            "application/json",
            body.into(),
        )
        .await;
        assert!(reply.content_type.starts_with("application/json"));
        assert!(
            error_of(&reply.expect(400)).contains("Malformed"),
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn wrong_types_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let body = app
        .post("/api/v1/accounts/1/teams", json!({ "name": ["a"] }))
        .await
        .expect(422);
    assert!(error_of(&body).contains("'name'"));
    let body = app
        .post(
            "/api/v1/accounts/1/contacts",
            json!({ "custom_attributes": "x" }),
        )
        .await
        .expect(422);
    assert!(error_of(&body).contains("custom_attributes"));
    let body = app
        .post("/api/v1/accounts/1/teams", json!([1, 2]))
        .await
        .expect(422);
    assert!(body["error"].is_string());
    let body = app
        .post(
            "/api/v1/accounts/1/inbox_members",
            json!({ "inbox_id": {"id": 1}, "user_ids": [1] }),
        )
        .await
        .expect(422);
    assert!(error_of(&body).contains("inbox_id"));
}

#[tokio::test]
async fn ids_sent_as_strings_work_everywhere() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "strings" }))
        .await
        .expect(200);
    app.post(
        "/api/v1/accounts/1/teams/1/team_members",
        json!({ "user_ids": ["1"] }),
    )
    .await
    .expect(200);
    let body = app
        .post(
            "/api/v1/accounts/1/contacts",
            json!({ "email": "s@example.com", "inbox_id": "1", "blocked": "false" }),
        )
        .await
        .expect(200);
    assert_eq!(body["payload"]["contact_inbox"]["inbox"]["id"], 1);
    app.patch(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": "1", "user_ids": "1" }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn an_oversize_body_is_a_413_json_error_and_changes_nothing() {
    let app = spawn_app().await;
    let huge = json!({ "name": "x".repeat(BODY_LIMIT + 10) }).to_string();
    let reply = raw(
        &app,
        Method::POST,
        "/api/v1/accounts/1/teams",
        "application/json",
        huge.into(),
    )
    .await;
    assert!(error_of(&reply.expect(413)).contains("limit"));
    assert_eq!(
        app.get("/api/v1/accounts/1/teams").await.expect(200),
        json!([])
    );
}

#[tokio::test]
async fn a_chunked_oversize_body_is_refused_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app().await;
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let head = format!(
        "POST /api/v1/accounts/1/teams HTTP/1.1\r\nHost: {host}\r\napi_access_token: {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("400\r\n{}\r\n", " ".repeat(0x400));
    for _ in 0..(BODY_LIMIT / 0x400 + 4) {
        // The server may answer and close before all chunks are sent.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(
        app.get("/api/v1/accounts/1/teams").await.expect(200),
        json!([])
    );
}

#[tokio::test]
async fn unicode_nul_bytes_and_long_strings_get_a_clean_answer() {
    let app = spawn_app().await;
    let name = "Zoë \u{0} 日本語 🎉";
    let created = app
        .post(
            "/api/v1/accounts/1/contacts",
            json!({ "name": name, "email": "u@example.com" }),
        )
        .await;
    if crate::helpers::on_postgres() {
        // PostgreSQL's text cannot hold U+0000: refused, and nothing is kept.
        let refused = created.expect(422);
        assert!(refused.to_string().contains("NUL"), "{refused}");
        app.get("/api/v1/accounts/1/contacts/1").await.expect(404);
    } else {
        let body = created.expect(200);
        assert_eq!(body["payload"]["contact"]["name"], name);
        let shown = app.get("/api/v1/accounts/1/contacts/1").await.expect(200);
        assert_eq!(shown["payload"]["name"], name);
    }
    let long = "y".repeat(64 * 1024);
    let body = app
        .post("/api/v1/accounts/1/teams", json!({ "name": long }))
        .await
        .expect(422);
    assert!(body["message"].as_str().unwrap().contains("too long"));
    let body = app
        .post("/api/v1/accounts/1/labels", json!({ "title": "a\u{0}b" }))
        .await
        .expect(422);
    assert_eq!(body["message"], "Title is invalid");
}

#[tokio::test]
async fn an_empty_body_reads_as_an_empty_object() {
    let app = spawn_app().await;
    let reply = raw(
        &app,
        Method::POST,
        "/api/v1/accounts/1/teams",
        "application/json",
        Vec::new(),
    )
    .await;
    assert_eq!(reply.expect(422)["message"], "Name must not be blank");
    app.post("/api/v1/accounts/1/teams", json!({ "name": "x1" }))
        .await
        .expect(200);
    // DELETE with a `{}` body, as some clients send it.
    let reply = raw(
        &app,
        Method::DELETE,
        "/api/v1/accounts/1/teams/1",
        "application/json; charset=utf-8",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_json_body_without_a_json_content_type_is_still_json() {
    let app = spawn_app().await;
    let reply = raw(
        &app,
        Method::POST,
        "/api/v1/accounts/1/teams",
        "application/x-www-form-urlencoded",
        br#"{"name":"curl"}"#.to_vec(),
    )
    .await;
    assert_eq!(reply.expect(200)["name"], "curl");
    let reply = raw(
        &app,
        Method::POST,
        "/api/v1/accounts/1/teams",
        "application/x-www-form-urlencoded",
        b"name=form&description=d".to_vec(),
    )
    .await;
    assert_eq!(reply.expect(200)["description"], "d");
}

#[tokio::test]
async fn unparseable_ids_and_unknown_routes_are_404_json() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/accounts/1/teams/abc",
        "/api/v1/accounts/1/teams/99999999999999999999999",
        "/api/v1/accounts/1/nothing-here",
        "/nowhere",
    ] {
        let body: Value = app.get(path).await.expect(404);
        assert_eq!(
            body,
            json!({ "error": "Resource could not be found" }),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_bad_query_string_is_a_400_json_error() {
    let app = spawn_app().await;
    let reply = app
        .get("/api/v1/accounts/1/custom_attribute_definitions?attribute_model=%ZZ")
        .await;
    assert!(
        reply.status == 400 || reply.status == 422,
        "{}",
        reply.status
    );
    assert!(reply.body["error"].is_string());
}

#[tokio::test]
async fn no_endpoint_answers_a_5xx_to_hostile_input() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "t1" }))
        .await
        .expect(200);
    app.post("/api/v1/accounts/1/labels", json!({ "title": "l1" }))
        .await
        .expect(200);
    app.post(
        "/api/v1/accounts/1/contacts",
        json!({ "email": "c@example.com" }),
    )
    .await
    .expect(200);
    app.create_conversation(json!({})).await;
    let message = app.message(1, json!({ "content": "target" })).await;
    let message_path = format!(
        "/api/v1/accounts/1/conversations/1/messages/{}",
        message["id"]
    );
    let routes = [
        (Method::POST, "/api/v1/accounts/1/conversations"),
        (Method::PATCH, "/api/v1/accounts/1/conversations/1"),
        (
            Method::POST,
            "/api/v1/accounts/1/conversations/1/toggle_status",
        ),
        (
            Method::POST,
            "/api/v1/accounts/1/conversations/1/toggle_priority",
        ),
        (
            Method::POST,
            "/api/v1/accounts/1/conversations/1/custom_attributes",
        ),
        (Method::POST, "/api/v1/accounts/1/conversations/1/labels"),
        (
            Method::POST,
            "/api/v1/accounts/1/conversations/1/assignments",
        ),
        (Method::POST, "/api/v1/accounts/1/conversations/1/messages"),
        (Method::PATCH, message_path.as_str()),
        (Method::POST, "/api/v1/accounts/1/agents"),
        (Method::PATCH, "/api/v1/accounts/1/agents/1"),
        (Method::POST, "/api/v1/accounts/1/inboxes"),
        (Method::PATCH, "/api/v1/accounts/1/inboxes/1"),
        (Method::POST, "/api/v1/accounts/1/inbox_members"),
        (Method::PATCH, "/api/v1/accounts/1/inbox_members"),
        (Method::DELETE, "/api/v1/accounts/1/inbox_members"),
        (Method::POST, "/api/v1/accounts/1/teams"),
        (Method::PATCH, "/api/v1/accounts/1/teams/1"),
        (Method::POST, "/api/v1/accounts/1/teams/1/team_members"),
        (Method::PATCH, "/api/v1/accounts/1/teams/1/team_members"),
        (Method::POST, "/api/v1/accounts/1/contacts"),
        (Method::PUT, "/api/v1/accounts/1/contacts/1"),
        (Method::POST, "/api/v1/accounts/1/labels"),
        (Method::PATCH, "/api/v1/accounts/1/labels/1"),
        (
            Method::POST,
            "/api/v1/accounts/1/custom_attribute_definitions",
        ),
    ];
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let hostile: Vec<Vec<u8>> = vec![
        b"null".to_vec(),
        b"\"text\"".to_vec(),
        b"12".to_vec(),
        deep.clone().into_bytes(),
        format!(r#"{{"name": {deep}}}"#).into_bytes(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        br#"{"name": "\u0000", "email": "\u0000@x.io", "title": "\u0000"}"#.to_vec(),
        br#"{"inbox_id": 1e400, "user_ids": [99999999999999999999]}"#.to_vec(),
        br#"{"inbox_id": -1, "user_ids": [-1, 0], "role": null, "availability": 7}"#.to_vec(),
        br#"{"name": "x", "email": "e@example.com", "role": "administrator", "channel": "api"}"#.to_vec(),
        br#"{"custom_attributes": {"a": {"b": {"c": [1, 2, {"d": null}]}}}, "additional_attributes": []}"#.to_vec(),
        br#"{"attribute_display_name": "X", "attribute_key": "k", "attribute_display_type": 99, "attribute_model": -1}"#
            .to_vec(),
        br#"{"attribute_display_name": "X", "attribute_key": "k2", "attribute_values": [1, 2]}"#.to_vec(),
        format!(r#"{{"name": "{0}", "title": "{0}", "description": "{0}"}}"#, "é".repeat(40_000)).into_bytes(),
        br#"{"source_id": "c", "inbox_id": "1", "contact_id": -9, "status": 7, "priority": 99, "snoozed_until": -1}"#
            .to_vec(),
        br#"{"status": "snoozed", "snoozed_until": 1e300, "labels": {"a": 1}, "assignee_id": "x", "team_id": []}"#
            .to_vec(),
        br#"{"content": null, "message_type": 9, "attachments": "no", "content_attributes": 5, "echo_id": {}}"#
            .to_vec(),
        br#"{"custom_attributes": "text", "merge": "perhaps", "priority": ["high"]}"#.to_vec(),
    ];
    for (method, path) in &routes {
        for body in &hostile {
            let reply = raw(&app, method.clone(), path, "application/json", body.clone()).await;
            assert!(
                reply.status < 500,
                "{method} {path} answered {} to {:?}: {}",
                reply.status,
                String::from_utf8_lossy(&body[..body.len().min(80)]),
                reply.body
            );
            assert!(
                reply.status == 200 || reply.status == 204 || reply.body.is_object(),
                "{method} {path}"
            );
        }
    }
    // And the data is still there and readable.
    app.get("/api/v1/accounts/1/contacts/1").await.expect(200);
    app.get("/api/v1/accounts/1/agents").await.expect(200);
}

#[tokio::test]
async fn an_unsupported_method_gets_a_405_with_the_house_json_error() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::PUT, "/api/v1/accounts/1/conversations"),
        (Method::DELETE, "/api/v1/accounts/1/agents"),
        (Method::POST, "/api/v1/accounts/1/conversations/meta"),
    ] {
        let reply = app.send(method.clone(), path, ADMIN_TOKEN, None).await;
        assert_eq!(reply.status, 405, "{method} {path}");
        assert!(reply.content_type.starts_with("application/json"));
        assert!(error_of(&reply.body).contains("not supported"));
    }
}
