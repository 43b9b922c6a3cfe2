use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, Reply, ADMIN_TOKEN};

const BASE: &str = "/api/v1/accounts/1/conversations";

#[tokio::test]
async fn toggle_status_without_status_flips_open_and_resolved() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    // No body at all, as clients send it.
    let response = app
        .request(
            Method::POST,
            &format!("{BASE}/1/toggle_status"),
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap();
    let body = Reply::from(response).await.expect(200);
    assert_eq!(
        body,
        json!({ "meta": {}, "payload": { "success": true, "conversation_id": 1, "current_status": "resolved", "snoozed_until": null } })
    );
    let body = app
        .post(&format!("{BASE}/1/toggle_status"), json!({}))
        .await
        .expect(200);
    assert_eq!(body["payload"]["current_status"], "open");
    app.post(
        &format!("{BASE}/1/toggle_status"),
        json!({ "status": "pending" }),
    )
    .await
    .expect(200);
    let body = app
        .post(&format!("{BASE}/1/toggle_status"), json!({}))
        .await
        .expect(200);
    assert_eq!(
        body["payload"]["current_status"], "open",
        "pending toggles to open"
    );
    assert_eq!(
        app.activity(1).await,
        vec![
            "Conversation was marked resolved by Administrator",
            "Conversation was reopened by Administrator",
            "Conversation was marked as pending by Administrator",
            "Conversation was reopened by Administrator",
        ]
    );
}

#[tokio::test]
async fn snoozed_until_takes_unix_seconds_or_iso_and_clears_on_leaving_snoozed() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let path = format!("{BASE}/1/toggle_status");
    let body = app
        .post(
            &path,
            json!({ "status": "snoozed", "snoozed_until": 4102444800i64 }),
        )
        .await
        .expect(200);
    assert_eq!(body["payload"]["snoozed_until"], "2100-01-01T00:00:00.000Z");
    let body = app
        .post(
            &path,
            json!({ "status": "snoozed", "snoozed_until": "2100-01-02T03:04:05Z" }),
        )
        .await
        .expect(200);
    assert_eq!(body["payload"]["snoozed_until"], "2100-01-02T03:04:05.000Z");
    assert_eq!(
        app.conversation(1).await["snoozed_until"],
        "2100-01-02T03:04:05.000Z"
    );
    let body = app
        .post(
            &path,
            json!({ "status": "snoozed", "snoozed_until": "4102444800" }),
        )
        .await
        .expect(200);
    assert_eq!(body["payload"]["snoozed_until"], "2100-01-01T00:00:00.000Z");
    // Snoozing again without a time keeps the time it had.
    let body = app
        .post(&path, json!({ "status": "snoozed" }))
        .await
        .expect(200);
    assert_eq!(body["payload"]["snoozed_until"], "2100-01-01T00:00:00.000Z");
    let body = app
        .post(
            &path,
            json!({ "status": "open", "snoozed_until": 4102444800i64 }),
        )
        .await
        .expect(200);
    assert_eq!(body["payload"]["snoozed_until"], Value::Null);
    // Snoozed without a time: until the contact writes again.
    let body = app
        .post(&path, json!({ "status": "snoozed" }))
        .await
        .expect(200);
    assert_eq!(body["payload"]["current_status"], "snoozed");
    assert_eq!(body["payload"]["snoozed_until"], Value::Null);
    let body = app
        .post(
            &path,
            json!({ "status": "snoozed", "snoozed_until": "next week" }),
        )
        .await
        .expect(422);
    assert!(error_of(&body).contains("snoozed_until"));
    let body = app
        .post(&path, json!({ "status": "archived" }))
        .await
        .expect(422);
    assert!(error_of(&body).contains("status"));
    assert_eq!(
        app.conversation(1).await["status"],
        "snoozed",
        "refused requests change nothing"
    );
}

#[tokio::test]
async fn an_agent_opening_a_conversation_becomes_its_assignee() {
    let app = spawn_app().await;
    app.create_conversation(json!({ "status": "resolved", "assignee_id": 1 }))
        .await;
    let (agent, token) = app.create_agent("Olga", "olga@example.com").await;
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [agent] }),
    )
    .await
    .expect(200);
    app.send(
        Method::POST,
        &format!("{BASE}/1/toggle_status"),
        &token,
        Some(json!({ "status": "open" })),
    )
    .await
    .expect(200);
    let conversation = app.conversation(1).await;
    assert_eq!(conversation["meta"]["assignee"]["id"], agent);
    assert_eq!(conversation["assignee"]["id"], agent);
    let activity = app.activity(1).await;
    assert!(
        activity.contains(&"Olga self-assigned this conversation".to_string()),
        "{activity:?}"
    );
    // An administrator reopening does not take the conversation.
    app.post(
        &format!("{BASE}/1/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    app.post(
        &format!("{BASE}/1/toggle_status"),
        json!({ "status": "open" }),
    )
    .await
    .expect(200);
    assert_eq!(app.conversation(1).await["meta"]["assignee"]["id"], agent);
}

#[tokio::test]
async fn toggle_priority_sets_changes_and_clears_with_activity() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let path = format!("{BASE}/1/toggle_priority");
    let reply = app.post(&path, json!({ "priority": "high" })).await;
    assert_eq!((reply.status, reply.body), (200, Value::Null));
    app.post(&path, json!({ "priority": "urgent" }))
        .await
        .expect(200);
    app.post(&path, json!({ "priority": "" })).await;
    assert_eq!(app.conversation(1).await["priority"], Value::Null);
    app.post(&path, json!({ "priority": "low" })).await;
    app.post(&path, json!({ "priority": null })).await;
    assert_eq!(
        app.post(&path, json!({ "priority": "extreme" }))
            .await
            .status,
        422
    );
    assert_eq!(
        app.activity(1).await,
        vec![
            "Administrator set the priority to high",
            "Administrator changed the priority from high to urgent",
            "Administrator removed the priority",
            "Administrator set the priority to low",
            "Administrator removed the priority",
        ]
    );
    assert_eq!(
        app.conversation(1).await["status"],
        "open",
        "priority never touches the status"
    );
}

#[tokio::test]
async fn mute_resolves_and_blocks_the_contact_until_unmuted() {
    let app = spawn_app().await;
    let contact = app.create_contact("Loud", "loud").await;
    app.post(BASE, json!({ "source_id": "loud" }))
        .await
        .expect(200);
    app.post(BASE, json!({ "source_id": "loud" }))
        .await
        .expect(200);
    assert_eq!(
        app.post(&format!("{BASE}/1/mute"), json!({})).await.status,
        200
    );
    let first = app.conversation(1).await;
    assert_eq!(
        (first["status"].as_str(), first["muted"].as_bool()),
        (Some("resolved"), Some(true))
    );
    assert_eq!(
        app.conversation(2).await["muted"],
        true,
        "muting is the contact's"
    );
    let shown = app
        .get(&format!("/api/v1/accounts/1/contacts/{contact}"))
        .await
        .expect(200);
    assert_eq!(shown["payload"]["blocked"], true);
    // A muted contact's message does not reopen the conversation.
    app.message(
        1,
        json!({ "content": "hello?", "message_type": "incoming" }),
    )
    .await;
    assert_eq!(app.conversation(1).await["status"], "resolved");
    assert_eq!(
        app.post(&format!("{BASE}/1/unmute"), json!({}))
            .await
            .status,
        200
    );
    let after = app.conversation(1).await;
    assert_eq!(
        (after["status"].as_str(), after["muted"].as_bool()),
        (Some("resolved"), Some(false))
    );
    let activity = app.activity(1).await;
    assert_eq!(
        activity,
        vec![
            "Conversation was marked resolved by Administrator",
            "Administrator has muted the conversation",
            "Administrator has unmuted the conversation",
        ]
    );
    app.message(1, json!({ "content": "now?", "message_type": "incoming" }))
        .await;
    assert_eq!(app.conversation(1).await["status"], "open");
}

#[tokio::test]
async fn update_last_seen_and_unread_move_the_last_seen_times() {
    let app = spawn_app().await;
    app.create_conversation(json!({ "assignee_id": 1 })).await;
    app.message(1, json!({ "content": "one", "message_type": "incoming" }))
        .await;
    app.message(1, json!({ "content": "two", "message_type": "incoming" }))
        .await;
    let before = app.conversation(1).await;
    assert_eq!(before["unread_count"], 2);
    let seen = app
        .post(&format!("{BASE}/1/update_last_seen"), json!({}))
        .await
        .expect(200);
    assert_eq!(seen["unread_count"], 0);
    assert!(seen["agent_last_seen_at"].as_i64().unwrap() > 0);
    assert_eq!(
        seen["assignee_last_seen_at"], seen["agent_last_seen_at"],
        "the caller is the assignee"
    );
    assert_eq!(
        seen["updated_at"], before["updated_at"],
        "last-seen writes leave updated_at alone"
    );
    let unread = app
        .post(&format!("{BASE}/1/unread"), json!({}))
        .await
        .expect(200);
    assert!(unread["unread_count"].as_i64().unwrap() >= 1);
    let last_incoming = unread["messages"][0]["created_at"].as_i64().unwrap();
    assert_eq!(unread["agent_last_seen_at"], last_incoming - 1);
}

#[tokio::test]
async fn unread_count_is_capped_at_ten() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    for i in 0..12 {
        app.message(
            1,
            json!({ "content": format!("m{i}"), "message_type": "incoming" }),
        )
        .await;
    }
    assert_eq!(app.conversation(1).await["unread_count"], 10);
}

#[tokio::test]
async fn custom_attributes_are_replaced_unless_merged() {
    let app = spawn_app().await;
    app.create_conversation(json!({ "custom_attributes": { "a": 1, "b": 2 } }))
        .await;
    let path = format!("{BASE}/1/custom_attributes");
    let body = app
        .post(&path, json!({ "custom_attributes": { "c": 3 } }))
        .await
        .expect(200);
    assert_eq!(body, json!({ "custom_attributes": { "c": 3 } }));
    let body = app
        .post(
            &path,
            json!({ "custom_attributes": { "d": 4 }, "merge": true }),
        )
        .await
        .expect(200);
    assert_eq!(body, json!({ "custom_attributes": { "c": 3, "d": 4 } }));
    app.post(&path, json!({ "custom_attributes": [1] }))
        .await
        .expect(422);
    assert_eq!(
        app.conversation(1).await["custom_attributes"],
        json!({ "c": 3, "d": 4 })
    );
}

#[tokio::test]
async fn labels_are_replaced_with_added_and_removed_activity() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let path = format!("{BASE}/1/labels");
    let body = app
        .post(&path, json!({ "labels": ["billing", "vip"] }))
        .await
        .expect(200);
    assert_eq!(body, json!({ "payload": ["billing", "vip"] }));
    let body = app
        .post(&path, json!({ "labels": ["vip", "bug", "vip"] }))
        .await
        .expect(200);
    assert_eq!(body, json!({ "payload": ["vip", "bug"] }));
    assert_eq!(
        app.get(&path).await.expect(200),
        json!({ "payload": ["vip", "bug"] })
    );
    assert_eq!(app.conversation(1).await["labels"], json!(["vip", "bug"]));
    assert_eq!(
        app.activity(1).await,
        vec![
            "Administrator added billing, vip",
            "Administrator added bug",
            "Administrator removed billing"
        ]
    );
    app.post(&path, json!({ "labels": [1, 2] }))
        .await
        .expect(422);
    app.post(&path, json!({ "labels": [] })).await.expect(200);
    assert_eq!(app.conversation(1).await["labels"], json!([]));
}

#[tokio::test]
async fn assignments_take_an_agent_a_team_or_nothing() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let (agent, _) = app.create_agent("Ravi", "ravi@example.com").await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "tier2" }))
        .await
        .expect(200);
    let path = format!("{BASE}/1/assignments");
    let body = app
        .post(&path, json!({ "assignee_id": agent.to_string() }))
        .await
        .expect(200);
    assert_eq!(body["id"], agent);
    assert_eq!(body["name"], "Ravi");
    let body = app.post(&path, json!({ "team_id": 1 })).await.expect(200);
    assert_eq!(body["name"], "tier2");
    assert!(body["created_at"].is_string());
    let conversation = app.conversation(1).await;
    assert_eq!(conversation["meta"]["team"]["id"], 1);
    assert!(
        conversation["meta"].get("assignee").is_none(),
        "an assignee outside the team is dropped"
    );
    app.post(&path, json!({ "assignee_id": 1 }))
        .await
        .expect(200);
    let reply = app.post(&path, json!({ "assignee_id": null })).await;
    assert_eq!((reply.status, reply.body), (200, Value::Null));
    let reply = app.post(&path, json!({ "team_id": null })).await;
    assert_eq!((reply.status, reply.body), (200, Value::Null));
    let reply = app.post(&path, json!({})).await;
    assert_eq!((reply.status, reply.body), (200, Value::Null));
    let conversation = app.conversation(1).await;
    assert!(conversation["meta"].get("team").is_none());
    assert_eq!(
        app.activity(1).await,
        vec![
            "Assigned to Ravi by Administrator",
            "Assigned to tier2 by Administrator",
            "Administrator self-assigned this conversation",
            "Conversation unassigned by Administrator",
            "Unassigned from tier2 by Administrator",
        ]
    );
}

#[tokio::test]
async fn typing_status_is_accepted() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let reply = app
        .post(
            &format!("{BASE}/1/toggle_typing_status"),
            json!({ "typing_status": "on", "is_private": false }),
        )
        .await;
    assert_eq!(reply.status, 200);
    app.post(&format!("{BASE}/9/toggle_typing_status"), json!({}))
        .await
        .expect(404);
}
