use reqwest::Method;
use serde_json::json;

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn the_bootstrap_inbox_is_an_api_channel_with_id_1() {
    let app = spawn_app().await;
    let list = app.get("/api/v1/accounts/1/inboxes").await.expect(200);
    let inbox = &list["payload"][0];
    assert_eq!(inbox["id"], 1);
    assert_eq!(inbox["channel_type"], "Channel::Api");
    assert!(inbox["inbox_identifier"].is_string());
    let shown = app.get("/api/v1/accounts/1/inboxes/1").await.expect(200);
    assert_eq!(shown["name"], inbox["name"]);
}

#[tokio::test]
async fn creating_and_updating_an_api_inbox() {
    let app = spawn_app().await;
    let inbox = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "name": "Support", "channel": { "type": "api", "webhook_url": "https://example.com/hook" } }),
        )
        .await
        .expect(200);
    assert_eq!(inbox["id"], 2);
    assert_eq!(inbox["name"], "Support");
    assert_eq!(inbox["channel_type"], "Channel::Api");
    assert_eq!(inbox["webhook_url"], "https://example.com/hook");
    let updated = app
        .patch(
            "/api/v1/accounts/1/inboxes/2",
            json!({ "name": "Help", "enable_auto_assignment": false, "greeting_enabled": "true", "greeting_message": "Hi" }),
        )
        .await
        .expect(200);
    assert_eq!(updated["name"], "Help");
    assert_eq!(updated["enable_auto_assignment"], false);
    assert_eq!(updated["greeting_enabled"], true);
    assert_eq!(updated["greeting_message"], "Hi");
    assert_eq!(updated["webhook_url"], "https://example.com/hook");
}

#[tokio::test]
async fn an_inbox_needs_a_name_and_an_api_channel() {
    let app = spawn_app().await;
    let body = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "channel": { "type": "api" } }),
        )
        .await
        .expect(422);
    assert_eq!(body["attributes"], json!(["name"]));
    let body = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "name": "Mail", "channel": { "type": "email" } }),
        )
        .await
        .expect(422);
    assert!(error_of(&body).contains("email"));
}

#[tokio::test]
async fn agents_see_only_the_inboxes_they_are_members_of() {
    let app = spawn_app().await;
    let (agent_id, token) = app.create_agent("Agent", "agent@example.com").await;
    app.post("/api/v1/accounts/1/inboxes", json!({ "name": "Second" }))
        .await
        .expect(200);
    let seen = app
        .send(Method::GET, "/api/v1/accounts/1/inboxes", &token, None)
        .await
        .expect(200);
    assert_eq!(seen["payload"], json!([]));
    app.send(Method::GET, "/api/v1/accounts/1/inboxes/2", &token, None)
        .await
        .expect(401);

    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": "2", "user_ids": [agent_id.to_string()] }),
    )
    .await
    .expect(200);
    let seen = app
        .send(Method::GET, "/api/v1/accounts/1/inboxes", &token, None)
        .await
        .expect(200);
    let ids: Vec<_> = seen["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(2)]);
    app.send(Method::GET, "/api/v1/accounts/1/inboxes/2", &token, None)
        .await
        .expect(200);
    // Administrators see every inbox.
    let all = app.get("/api/v1/accounts/1/inboxes").await.expect(200);
    assert_eq!(all["payload"].as_array().unwrap().len(), 2);
    // Agents may not create inboxes.
    app.send(
        Method::POST,
        "/api/v1/accounts/1/inboxes",
        &token,
        Some(json!({ "name": "X" })),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn inbox_members_are_added_replaced_and_removed() {
    let app = spawn_app().await;
    let (a, _) = app.create_agent("A", "a@example.com").await;
    let (b, _) = app.create_agent("B", "b@example.com").await;
    let added = app
        .post(
            "/api/v1/accounts/1/inbox_members",
            json!({ "inbox_id": 1, "user_ids": [a] }),
        )
        .await
        .expect(200);
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["payload"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    };
    // POST answers the whole member set; the bootstrap administrator was already a member.
    assert_eq!(ids(&added), vec![1, a]);
    assert_eq!(
        ids(&app
            .get("/api/v1/accounts/1/inbox_members/1")
            .await
            .expect(200)),
        vec![1, a]
    );

    let replaced = app
        .patch(
            "/api/v1/accounts/1/inbox_members",
            json!({ "inbox_id": 1, "user_ids": [b] }),
        )
        .await
        .expect(200);
    assert_eq!(ids(&replaced), vec![b]);

    let removed = app
        .send(
            Method::DELETE,
            "/api/v1/accounts/1/inbox_members",
            crate::helpers::ADMIN_TOKEN,
            Some(json!({ "inbox_id": 1, "user_ids": [b] })),
        )
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(
        ids(&app
            .get("/api/v1/accounts/1/inbox_members/1")
            .await
            .expect(200)),
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn inbox_members_must_be_users_of_the_account() {
    let app = spawn_app().await;
    let other = app.create_account("Other", "o@example.com");
    let body = app
        .post(
            "/api/v1/accounts/1/inbox_members",
            json!({ "inbox_id": 1, "user_ids": [other.user_id] }),
        )
        .await
        .expect(422);
    assert_eq!(error_of(&body), "Invalid User IDs");
    let body = app
        .post("/api/v1/accounts/1/inbox_members", json!({ "inbox_id": 1 }))
        .await
        .expect(422);
    assert!(error_of(&body).contains("user_ids"));
}

#[tokio::test]
async fn another_accounts_inbox_is_404_like_a_missing_one() {
    let app = spawn_app().await;
    let other = app.create_account("Other", "o@example.com");
    let path = format!("/api/v1/accounts/1/inboxes/{}", other.inbox_id);
    let foreign = app.get(&path).await.expect(404);
    let missing = app.get("/api/v1/accounts/1/inboxes/999").await.expect(404);
    assert_eq!(foreign, missing);
    app.patch(&path, json!({ "name": "mine now" }))
        .await
        .expect(404);
    app.get(&format!(
        "/api/v1/accounts/1/inbox_members/{}",
        other.inbox_id
    ))
    .await
    .expect(404);
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": other.inbox_id, "user_ids": [1] }),
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn deleting_an_inbox_removes_it() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/inboxes", json!({ "name": "Temp" }))
        .await
        .expect(200);
    assert_eq!(app.delete("/api/v1/accounts/1/inboxes/2").await.status, 200);
    app.get("/api/v1/accounts/1/inboxes/2").await.expect(404);
}

#[tokio::test]
async fn inbox_names_follow_chatwoots_rule() {
    let app = spawn_app().await;
    for bad in ["a<b", "mail@home", "-leading", "trailing!", "x/y"] {
        let body = app
            .post("/api/v1/accounts/1/inboxes", json!({ "name": bad }))
            .await
            .expect(422);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Name should not"),
            "{bad}"
        );
    }
    app.post(
        "/api/v1/accounts/1/inboxes",
        json!({ "name": "Support (EU) 2" }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn only_administrators_see_the_hmac_token() {
    let app = spawn_app().await;
    let (agent_id, token) = app.create_agent("Agent", "agent@example.com").await;
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [agent_id] }),
    )
    .await
    .expect(200);
    let as_admin = app.get("/api/v1/accounts/1/inboxes/1").await.expect(200);
    assert!(as_admin["hmac_token"].is_string());
    assert_eq!(as_admin["working_hours"].as_array().unwrap().len(), 7);
    let as_agent = app
        .send(Method::GET, "/api/v1/accounts/1/inboxes/1", &token, None)
        .await
        .expect(200);
    assert!(as_agent.get("hmac_token").is_none());
    assert_eq!(as_agent["inbox_identifier"], as_admin["inbox_identifier"]);
}
