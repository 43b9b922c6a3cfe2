use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, ADMIN_TOKEN};

const BASE: &str = "/api/v1/accounts/1/conversations";

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn the_conversation_json_is_pinned_field_by_field() {
    let app = spawn_app().await;
    let contact = app.create_contact("Jane", "jane-1").await;
    let conversation = app
        .post(
            BASE,
            json!({ "inbox_id": "1", "contact_id": contact, "additional_attributes": { "browser": "x" },
                    "custom_attributes": { "plan": "pro" }, "message": { "content": "Hello", "message_type": "incoming" } }),
        )
        .await
        .expect(200);
    assert_eq!(
        keys(&conversation),
        vec![
            "meta",
            "id",
            "messages",
            "account_id",
            "uuid",
            "additional_attributes",
            "agent_last_seen_at",
            "assignee_last_seen_at",
            "can_reply",
            "contact_last_seen_at",
            "custom_attributes",
            "inbox_id",
            "labels",
            "muted",
            "snoozed_until",
            "status",
            "created_at",
            "updated_at",
            "timestamp",
            "first_reply_created_at",
            "unread_count",
            "last_non_activity_message",
            "last_activity_at",
            "priority",
            "waiting_since",
            "sla_policy_id",
            "display_id",
            "contact",
            "assignee"
        ]
    );
    assert_eq!(
        keys(&conversation["meta"]),
        vec!["sender", "channel", "hmac_verified"]
    );
    assert_eq!(conversation["id"], 1);
    assert_eq!(conversation["display_id"], 1);
    assert_eq!(conversation["account_id"], 1);
    assert_eq!(conversation["inbox_id"], 1);
    assert_eq!(conversation["status"], "open");
    assert_eq!(conversation["meta"]["sender"]["id"], contact);
    assert_eq!(conversation["meta"]["channel"], "Channel::Api");
    assert_eq!(conversation["meta"]["hmac_verified"], false);
    assert_eq!(
        conversation["additional_attributes"],
        json!({ "browser": "x" })
    );
    assert_eq!(conversation["custom_attributes"], json!({ "plan": "pro" }));
    assert_eq!(conversation["labels"], json!([]));
    assert_eq!(conversation["muted"], false);
    assert_eq!(conversation["can_reply"], true);
    assert_eq!(conversation["snoozed_until"], Value::Null);
    assert_eq!(conversation["priority"], Value::Null);
    assert_eq!(conversation["agent_last_seen_at"], 0);
    assert_eq!(conversation["assignee_last_seen_at"], 0);
    assert_eq!(conversation["contact_last_seen_at"], 0);
    assert_eq!(conversation["first_reply_created_at"], 0);
    assert!(conversation["created_at"].is_i64());
    assert!(conversation["timestamp"].is_i64());
    assert!(conversation["waiting_since"].as_i64().unwrap() > 0);
    assert!(
        conversation["updated_at"].is_f64(),
        "a float, as Chatwoot's to_f"
    );
    assert_eq!(conversation["unread_count"], 1);
    assert_eq!(conversation["uuid"].as_str().unwrap().len(), 36);
    assert_eq!(conversation["contact"]["id"], contact);
    assert_eq!(conversation["assignee"], Value::Null);
    assert!(conversation["meta"].get("assignee").is_none());
    let message = &conversation["messages"][0];
    assert_eq!(
        keys(message),
        vec![
            "id",
            "content",
            "account_id",
            "inbox_id",
            "conversation_id",
            "message_type",
            "created_at",
            "updated_at",
            "private",
            "status",
            "source_id",
            "content_type",
            "content_attributes",
            "sender_type",
            "sender_id",
            "external_source_ids",
            "additional_attributes",
            "processed_message_content",
            "sentiment",
            "conversation",
            "sender"
        ]
    );
    assert_eq!(message["content"], "Hello");
    assert_eq!(message["message_type"], 0);
    assert_eq!(message["conversation_id"], 1);
    assert!(message["updated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(message["sender"]["type"], "contact");
    // inbox_id + contact_id without a source_id: an API inbox makes a fresh contact inbox.
    assert_eq!(
        message["conversation"]["contact_inbox"]["source_id"]
            .as_str()
            .unwrap()
            .len(),
        36
    );
    assert_eq!(
        conversation["last_non_activity_message"]["id"],
        message["id"]
    );
}

#[tokio::test]
async fn a_conversation_is_created_from_a_source_id_alone() {
    let app = spawn_app().await;
    let contact = app.create_contact("Sam", "sam-src").await;
    let conversation = app
        .post(BASE, json!({ "source_id": "sam-src", "status": "pending" }))
        .await
        .expect(200);
    assert_eq!(conversation["meta"]["sender"]["id"], contact);
    assert_eq!(conversation["status"], "pending");
    assert_eq!(conversation["messages"], json!([]));
    assert_eq!(conversation["last_non_activity_message"], Value::Null);
    let other = app
        .post(BASE, json!({ "source_id": "sam-src" }))
        .await
        .expect(200);
    assert_eq!(other["id"], 2);
}

#[tokio::test]
async fn creating_refuses_what_is_not_the_accounts() {
    let app = spawn_app().await;
    let contact = app.create_contact("Ann", "ann").await;
    let other = app.create_account("Other", "o@example.com");
    app.post(BASE, json!({ "source_id": "nope" }))
        .await
        .expect(404);
    app.post(BASE, json!({ "inbox_id": 99, "contact_id": contact }))
        .await
        .expect(404);
    app.post(
        BASE,
        json!({ "inbox_id": other.inbox_id, "contact_id": contact }),
    )
    .await
    .expect(404);
    app.post(BASE, json!({ "inbox_id": 1, "contact_id": 999 }))
        .await
        .expect(404);
    let body = app.post(BASE, json!({ "inbox_id": 1 })).await.expect(422);
    assert!(error_of(&body).contains("source_id"));
    let body = app
        .post(BASE, json!({ "source_id": "ann", "status": "closed" }))
        .await
        .expect(422);
    assert!(error_of(&body).contains("status"));
    let body = app
        .post(BASE, json!({ "source_id": "ann", "assignee_id": 4242 }))
        .await
        .expect(422);
    assert!(error_of(&body).contains("4242"));
    app.post(BASE, json!({ "source_id": "ann", "team_id": 77 }))
        .await
        .expect(422);
    app.post(BASE, json!({ "source_id": "ann", "snoozed_until": "soon" }))
        .await
        .expect(422);
    let body = app
        .post(
            BASE,
            json!({ "source_id": "ann", "message": { "content": "x", "message_type": "shout" } }),
        )
        .await
        .expect(422);
    assert!(error_of(&body).contains("message_type"));
    // Nothing was created by the refused requests.
    let meta = app
        .get(&format!("{BASE}/meta?status=all"))
        .await
        .expect(200);
    assert_eq!(meta["meta"]["all_count"], 0);
    let conversation = app
        .post(BASE, json!({ "source_id": "ann" }))
        .await
        .expect(200);
    assert_eq!(conversation["id"], 1, "refused creates used no display id");
}

#[tokio::test]
async fn a_source_id_used_by_another_contact_is_refused() {
    let app = spawn_app().await;
    app.create_contact("First", "shared").await;
    let second = app.create_contact("Second", "second").await;
    let body = app
        .post(
            BASE,
            json!({ "inbox_id": 1, "contact_id": second, "source_id": "shared" }),
        )
        .await
        .expect(422);
    assert_eq!(error_of(&body), "source_id should be unique");
}

#[tokio::test]
async fn a_blocked_contacts_new_conversation_starts_resolved() {
    let app = spawn_app().await;
    let contact = app.create_contact("Troll", "troll").await;
    app.patch(
        &format!("/api/v1/accounts/1/contacts/{contact}"),
        json!({ "blocked": true }),
    )
    .await
    .expect(200);
    let conversation = app
        .post(BASE, json!({ "source_id": "troll", "status": "open" }))
        .await
        .expect(200);
    assert_eq!(conversation["status"], "resolved");
    assert_eq!(conversation["muted"], true);
}

#[tokio::test]
async fn an_inbox_locked_to_a_single_conversation_reuses_it() {
    let app = spawn_app().await;
    app.patch(
        "/api/v1/accounts/1/inboxes/1",
        json!({ "lock_to_single_conversation": true }),
    )
    .await
    .expect(200);
    app.create_contact("Solo", "solo").await;
    let first = app
        .post(BASE, json!({ "source_id": "solo" }))
        .await
        .expect(200);
    let again = app
        .post(BASE, json!({ "source_id": "solo" }))
        .await
        .expect(200);
    assert_eq!(first["id"], again["id"]);
}

#[tokio::test]
async fn thirty_two_concurrent_creates_get_display_ids_1_to_32() {
    let app = spawn_app().await;
    app.create_contact("Crowd", "crowd").await;
    let mut handles = Vec::new();
    for _ in 0..32 {
        let client = app.client.clone();
        let url = app.url(BASE);
        handles.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .header("api_access_token", ADMIN_TOKEN)
                .json(&json!({ "source_id": "crowd" }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    for handle in handles {
        ids.push(handle.await.unwrap());
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=32).collect::<Vec<i64>>());
}

#[tokio::test]
async fn display_ids_are_per_account_and_never_reused() {
    let app = spawn_app().await;
    let first = app.create_conversation(json!({})).await;
    let second = app.create_conversation(json!({})).await;
    assert_eq!(
        (first["id"].as_i64(), second["id"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(app.delete(&format!("{BASE}/2")).await.status, 200);
    assert_eq!(app.create_conversation(json!({})).await["id"], 3);
    let other = app.create_account("Other", "o@example.com");
    let contact = app
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{}/contacts", other.account_id),
            &other.token,
            Some(json!({ "name": "X", "inbox_id": other.inbox_id, "source_id": "x" })),
        )
        .await
        .expect(200);
    assert!(contact["payload"]["contact"]["id"].is_i64());
    let theirs = app
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{}/conversations", other.account_id),
            &other.token,
            Some(json!({ "source_id": "x" })),
        )
        .await
        .expect(200);
    assert_eq!(theirs["id"], 1, "each account counts from 1");
}

#[tokio::test]
async fn another_accounts_conversation_is_404_like_a_missing_one() {
    let app = spawn_app().await;
    let other = app.create_account("Other", "o@example.com");
    app.send(
        Method::POST,
        &format!("/api/v1/accounts/{}/contacts", other.account_id),
        &other.token,
        Some(json!({ "name": "X", "inbox_id": other.inbox_id, "source_id": "x" })),
    )
    .await
    .expect(200);
    app.send(
        Method::POST,
        &format!("/api/v1/accounts/{}/conversations", other.account_id),
        &other.token,
        Some(json!({ "source_id": "x" })),
    )
    .await
    .expect(200);
    // Display id 1 exists in the other account only.
    let foreign = app.get(&format!("{BASE}/1")).await.expect(404);
    assert_eq!(foreign, json!({ "error": "Resource could not be found" }));
    app.post(&format!("{BASE}/1/toggle_status"), json!({}))
        .await
        .expect(404);
    app.get(&format!("{BASE}/1/messages")).await.expect(404);
    app.delete(&format!("{BASE}/1")).await.expect(404);
    app.get(&format!("{BASE}/abc")).await.expect(404);
}

#[tokio::test]
async fn agents_act_only_in_their_inboxes_and_never_delete() {
    let app = spawn_app().await;
    let conversation = app.create_conversation(json!({})).await;
    let id = conversation["id"].as_i64().unwrap();
    let (agent_id, token) = app.create_agent("Agent", "agent@example.com").await;
    let path = format!("{BASE}/{id}");
    let body = app.send(Method::GET, &path, &token, None).await.expect(401);
    assert_eq!(error_of(&body), "You are not authorized to do this action");
    app.send(
        Method::POST,
        &format!("{path}/toggle_status"),
        &token,
        Some(json!({})),
    )
    .await
    .expect(401);
    let list = app.send(Method::GET, BASE, &token, None).await.expect(200);
    assert_eq!(list["data"]["payload"], json!([]));
    assert_eq!(list["data"]["meta"]["all_count"], 0);
    app.create_contact("Walk-in", "walk-in").await;
    let body = app
        .send(
            Method::POST,
            BASE,
            &token,
            Some(json!({ "source_id": "walk-in" })),
        )
        .await
        .expect(401);
    assert_eq!(error_of(&body), "You are not authorized to do this action");
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [agent_id] }),
    )
    .await
    .expect(200);
    app.send(Method::GET, &path, &token, None).await.expect(200);
    let list = app.send(Method::GET, BASE, &token, None).await.expect(200);
    assert_eq!(list["data"]["meta"]["all_count"], 1);
    app.send(Method::DELETE, &path, &token, None)
        .await
        .expect(401);
    app.get(&path).await.expect(200);
}

#[tokio::test]
async fn deleting_removes_the_conversation_its_messages_and_files() {
    let app = spawn_app().await;
    let conversation = app.create_conversation(json!({})).await;
    let id = conversation["id"].as_i64().unwrap();
    let form = reqwest::multipart::Form::new()
        .text("content", "with file")
        .part(
            "attachments[]",
            reqwest::multipart::Part::bytes(b"PDFDATA".to_vec())
                .file_name("doc.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
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
    let message: Value = response.json().await.unwrap();
    let file_url = message["attachments"][0]["data_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.client
            .get(&file_url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    assert_eq!(app.delete(&format!("{BASE}/{id}")).await.status, 200);
    app.get(&format!("{BASE}/{id}")).await.expect(404);
    assert_eq!(
        app.client
            .get(&file_url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let left: i64 = app.read(|c| c.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)));
    assert_eq!(left, 0);
    let files_left = crate::helpers::stored_files(&app.data_dir);
    assert!(files_left.is_empty(), "{files_left:?}");
}

#[tokio::test]
async fn patch_changes_only_the_priority() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let updated = app
        .patch(
            &format!("{BASE}/1"),
            json!({ "priority": "high", "status": "resolved", "inbox_id": 5 }),
        )
        .await
        .expect(200);
    assert_eq!(updated["priority"], "high");
    assert_eq!(updated["status"], "open");
    assert_eq!(updated["inbox_id"], 1);
    let body = app
        .patch(&format!("{BASE}/1"), json!({ "priority": "none" }))
        .await
        .expect(422);
    assert!(error_of(&body).contains("priority"));
    let cleared = app
        .send(
            Method::PUT,
            &format!("{BASE}/1"),
            ADMIN_TOKEN,
            Some(json!({ "priority": null })),
        )
        .await
        .expect(200);
    assert_eq!(cleared["priority"], Value::Null);
}

#[tokio::test]
async fn a_contacts_conversations_are_listed_newest_first() {
    let app = spawn_app().await;
    let contact = app.create_contact("Multi", "multi").await;
    for _ in 0..3 {
        app.post(BASE, json!({ "source_id": "multi" }))
            .await
            .expect(200);
    }
    app.create_conversation(json!({})).await;
    app.message(1, json!({ "content": "bump" })).await;
    let body = app
        .get(&format!(
            "/api/v1/accounts/1/contacts/{contact}/conversations"
        ))
        .await
        .expect(200);
    let ids: Vec<i64> = body["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 3, 2]);
    app.get("/api/v1/accounts/1/contacts/999/conversations")
        .await
        .expect(404);
}

#[tokio::test]
async fn deleting_a_contact_or_an_inbox_takes_their_conversations_and_files() {
    let app = spawn_app().await;
    let contact = app.create_contact("Leaving", "leaving").await;
    app.post(BASE, json!({ "source_id": "leaving" }))
        .await
        .expect(200);
    let upload = |name: &str| {
        reqwest::multipart::Form::new()
            .text("content", "file")
            .part(
                "attachments[]",
                reqwest::multipart::Part::bytes(b"data".to_vec()).file_name(name.to_string()),
            )
    };
    let send = |form| {
        app.request(
            Method::POST,
            &format!("{BASE}/1/messages"),
            Some(ADMIN_TOKEN),
        )
        .multipart(form)
        .send()
    };
    let first: Value = send(upload("a.txt")).await.unwrap().json().await.unwrap();
    let url = first["attachments"][0]["data_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/api/v1/accounts/1/contacts/{contact}"))
            .await
            .status,
        200
    );
    app.get(&format!("{BASE}/1")).await.expect(404);
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status().as_u16(),
        404
    );

    app.post("/api/v1/accounts/1/inboxes", json!({ "name": "Temporary" }))
        .await
        .expect(200);
    let other = app.create_contact("Stays", "stays").await;
    app.post(BASE, json!({ "inbox_id": 2, "contact_id": other }))
        .await
        .expect(200);
    let response = app
        .request(
            Method::POST,
            &format!("{BASE}/2/messages"),
            Some(ADMIN_TOKEN),
        )
        .multipart(upload("b.txt"))
        .send()
        .await
        .unwrap();
    let second: Value = response.json().await.unwrap();
    let url = second["attachments"][0]["data_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.delete("/api/v1/accounts/1/inboxes/2").await.status, 200);
    app.get(&format!("{BASE}/2")).await.expect(404);
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status().as_u16(),
        404
    );
    let meta = app
        .get(&format!("{BASE}/meta?status=all"))
        .await
        .expect(200);
    assert_eq!(meta["meta"]["all_count"], 0);
}

#[tokio::test]
async fn an_assignee_outside_the_team_given_on_create_is_dropped() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "night" }))
        .await
        .expect(200);
    let (outsider, _) = app.create_agent("Outsider", "out@example.com").await;
    let dropped = app
        .create_conversation(json!({ "team_id": 1, "assignee_id": outsider }))
        .await;
    assert_eq!(dropped["meta"]["team"]["id"], 1);
    assert!(dropped["meta"].get("assignee").is_none());
    app.post(
        "/api/v1/accounts/1/teams/1/team_members",
        json!({ "user_ids": [outsider] }),
    )
    .await
    .expect(200);
    let kept = app
        .create_conversation(json!({ "team_id": 1, "assignee_id": outsider }))
        .await;
    assert_eq!(kept["meta"]["assignee"]["id"], outsider);
    let activity = app.activity(kept["id"].as_i64().unwrap()).await;
    assert_eq!(activity, vec!["Assigned to Outsider by Administrator"]);
}
