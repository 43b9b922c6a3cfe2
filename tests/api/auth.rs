use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, Reply, ADMIN_TOKEN};

#[tokio::test]
async fn an_unknown_token_is_401_invalid_access_token() {
    let app = spawn_app().await;
    let body = app
        .send(
            Method::GET,
            "/api/v1/accounts/1/agents",
            "not-a-token",
            None,
        )
        .await
        .expect(401);
    assert_eq!(body, json!({ "error": "Invalid Access Token" }));
    let body = app
        .send(Method::GET, "/api/v1/profile", "nope", None)
        .await
        .expect(401);
    assert_eq!(error_of(&body), "Invalid Access Token");
}

#[tokio::test]
async fn a_request_without_a_token_is_401() {
    let app = spawn_app().await;
    let reply = Reply::from(
        app.request(Method::GET, "/api/v1/accounts/1/inboxes", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert!(reply.content_type.starts_with("application/json"));
    assert!(reply.body["error"].is_string());
}

#[tokio::test]
async fn a_bearer_header_sent_alongside_the_token_is_ignored() {
    let app = spawn_app().await;
    let with_both = app
        .request(Method::GET, "/api/v1/profile", Some(ADMIN_TOKEN))
        .header("Authorization", "Bearer something-else")
        .send()
        .await
        .unwrap();
    assert_eq!(Reply::from(with_both).await.expect(200)["id"], 1);
    // A bearer token alone does not authenticate: Chatwoot reads only api_access_token.
    let bearer_only = app
        .request(Method::GET, "/api/v1/profile", None)
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(Reply::from(bearer_only).await.status, 401);
}

#[tokio::test]
async fn an_unknown_account_is_404_for_a_valid_token() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/accounts/99/agents",
        "/api/v1/accounts/abc/agents",
        "/api/v1/accounts/-1/teams",
    ] {
        let body = app.get(path).await.expect(404);
        assert_eq!(
            body,
            json!({ "error": "Resource could not be found" }),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_user_of_another_account_is_401_not_authorized_for_this_account() {
    let app = spawn_app().await;
    let other = app.create_account("Other", "other@example.com");
    let body = app
        .send(Method::GET, "/api/v1/accounts/1/agents", &other.token, None)
        .await
        .expect(401);
    assert_eq!(
        body,
        json!({ "error": "You are not authorized to access this account" })
    );
    // ... while their own account works.
    let agents = app
        .agents_as(other.account_id, &other.token)
        .await
        .expect(200);
    assert_eq!(agents.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_agent_doing_an_administrators_action_is_401_not_authorized_to_do_this() {
    let app = spawn_app().await;
    let (_, agent_token) = app.create_agent("Agent", "agent@example.com").await;
    let body = app
        .send(
            Method::POST,
            "/api/v1/accounts/1/teams",
            &agent_token,
            Some(json!({ "name": "sales" })),
        )
        .await
        .expect(401);
    assert_eq!(
        body,
        json!({ "error": "You are not authorized to do this action" })
    );
}

#[tokio::test]
async fn the_profile_is_the_tokens_user_with_its_accounts() {
    let app = spawn_app().await;
    let body = app.get("/api/v1/profile").await.expect(200);
    assert_eq!(body["id"], 1);
    assert_eq!(body["email"], "admin@wootlite.local");
    assert_eq!(body["access_token"], ADMIN_TOKEN);
    assert_eq!(body["role"], "administrator");
    let accounts = body["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["id"], 1);
    assert_eq!(accounts[0]["role"], "administrator");
    assert_eq!(accounts[0]["permissions"], json!(["administrator"]));
    assert!(body["pubsub_token"].is_string());
    assert_eq!(
        body["type"],
        json!(null),
        "a plain user, as Chatwoot renders it"
    );
    assert!(
        body.get("custom_attributes").is_none(),
        "absent while empty"
    );
}

#[tokio::test]
async fn health_is_200_once_the_server_listens() {
    let app = spawn_app().await;
    let reply = Reply::from(
        app.request(Method::GET, "/health", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.expect(200)["status"], "ok");
}

#[tokio::test]
async fn health_tells_how_far_the_search_index_is_behind() {
    let app = spawn_app().await;
    let conversation = app.create_conversation(json!({})).await;
    let id = conversation["id"].as_i64().unwrap();
    app.message(id, json!({ "content": "one" })).await;
    app.message(id, json!({ "content": "two" })).await;
    let mut health = Value::Null;
    for _ in 0..200 {
        health = app.get("/health").await.expect(200);
        if health["search"]["indexed_seq"] == health["search"]["written_seq"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Both messages, and the conversation's changes beside them.
    let written = health["search"]["written_seq"].as_i64().unwrap();
    assert!(written >= 2, "{health}");
    assert_eq!(health["search"]["indexed_seq"], written, "{health}");
    assert_eq!(health["search"]["behind"], 0, "{health}");
}
