use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_first_administrator_is_agent_1() {
    let app = spawn_app().await;
    let agents = app.get("/api/v1/accounts/1/agents").await.expect(200);
    let admin = &agents.as_array().unwrap()[0];
    assert_eq!(admin["id"], 1);
    assert_eq!(admin["account_id"], 1);
    assert_eq!(admin["role"], "administrator");
    assert_eq!(admin["availability_status"], "online");
    assert_eq!(admin["thumbnail"], "");
    assert!(admin["confirmed"].is_boolean());
    assert!(admin["available_name"].is_string());
    assert!(
        admin.get("custom_attributes").is_none(),
        "absent while empty, as Chatwoot"
    );
}

#[tokio::test]
async fn creating_an_agent_returns_the_agent() {
    let app = spawn_app().await;
    let agent = app
        .post(
            "/api/v1/accounts/1/agents",
            json!({ "name": "Alice", "email": "Alice@Example.com", "role": "agent", "availability_status": "busy" }),
        )
        .await
        .expect(200);
    assert_eq!(agent["name"], "Alice");
    assert_eq!(agent["email"], "alice@example.com");
    assert_eq!(agent["role"], "agent");
    assert_eq!(agent["availability_status"], "busy");
    assert_eq!(
        agent["confirmed"], false,
        "invited agents start unconfirmed"
    );
    assert_eq!(agent["id"], 2);
    let listed = app.get("/api/v1/accounts/1/agents").await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_agent_needs_a_valid_unique_email_and_a_known_role() {
    let app = spawn_app().await;
    let path = "/api/v1/accounts/1/agents";
    let body = app
        .post(path, json!({ "name": "No mail" }))
        .await
        .expect(422);
    assert_eq!(body["attributes"], json!(["email"]));
    app.post(path, json!({ "name": "Bad", "email": "not-an-email" }))
        .await
        .expect(422);
    app.post(path, json!({ "name": "A", "email": "a@example.com" }))
        .await
        .expect(200);
    let body = app
        .post(path, json!({ "name": "A2", "email": "A@example.com" }))
        .await
        .expect(422);
    assert_eq!(
        body,
        json!({ "message": "User has already been taken", "attributes": ["user_id"] })
    );
    let body = app
        .post(
            path,
            json!({ "name": "R", "email": "r@example.com", "role": "owner" }),
        )
        .await
        .expect(422);
    assert!(body["error"].as_str().unwrap().contains("role"));
}

#[tokio::test]
async fn updating_an_agent_changes_name_and_role() {
    let app = spawn_app().await;
    let (id, _) = app.create_agent("Bob", "bob@example.com").await;
    let path = format!("/api/v1/accounts/1/agents/{id}");
    let agent = app
        .patch(
            &path,
            json!({ "name": "Robert", "role": "administrator", "email": "ignored@example.com" }),
        )
        .await
        .expect(200);
    assert_eq!(agent["name"], "Robert");
    assert_eq!(agent["role"], "administrator");
    assert_eq!(agent["email"], "bob@example.com");
    let agent = app
        .send(
            Method::PUT,
            &path,
            crate::helpers::ADMIN_TOKEN,
            Some(json!({ "availability": "offline" })),
        )
        .await
        .expect(200);
    assert_eq!(agent["availability_status"], "offline");
    assert_eq!(agent["name"], "Robert");
}

#[tokio::test]
async fn deleting_an_agent_removes_them_from_the_account_and_its_inboxes() {
    let app = spawn_app().await;
    let (id, token) = app.create_agent("Carol", "carol@example.com").await;
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [id] }),
    )
    .await
    .expect(200);
    let reply = app.delete(&format!("/api/v1/accounts/1/agents/{id}")).await;
    assert_eq!(reply.status, 200);
    let agents = app.get("/api/v1/accounts/1/agents").await.expect(200);
    assert!(agents.as_array().unwrap().iter().all(|a| a["id"] != id));
    let members = app
        .get("/api/v1/accounts/1/inbox_members/1")
        .await
        .expect(200);
    assert!(members["payload"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != id));
    // Their token no longer opens the account.
    app.send(Method::GET, "/api/v1/accounts/1/agents", &token, None)
        .await
        .expect(401);
    app.delete(&format!("/api/v1/accounts/1/agents/{id}"))
        .await
        .expect(404);
}

/// What a token grants is remembered between requests; a change of role or membership is
/// still seen by the very next request.
#[tokio::test]
async fn what_a_token_grants_follows_role_changes_and_removal_at_once() {
    let app = spawn_app().await;
    let (id, token) = app.create_agent("Erin", "erin@example.com").await;
    let agent = format!("/api/v1/accounts/1/agents/{id}");
    let create_team = |name: &str| Some(json!({ "name": name }));
    let teams = "/api/v1/accounts/1/teams";
    for _ in 0..2 {
        app.send(Method::POST, teams, &token, create_team("a"))
            .await
            .expect(401);
    }
    app.patch(&agent, json!({ "role": "administrator" }))
        .await
        .expect(200);
    app.send(Method::POST, teams, &token, create_team("b"))
        .await
        .expect(200);
    app.patch(&agent, json!({ "role": "agent" }))
        .await
        .expect(200);
    app.send(Method::POST, teams, &token, create_team("c"))
        .await
        .expect(401);
    app.send(Method::GET, teams, &token, None).await.expect(200);
    app.delete(&agent).await.expect(200);
    let refused = app.send(Method::GET, teams, &token, None).await;
    assert_eq!(refused.status, 401);
}

/// Conversations show their assignee and team as they are now, even right after a rename
/// made between two reads of the same conversation.
#[tokio::test]
async fn a_renamed_assignee_and_team_show_their_new_names_at_once() {
    let app = spawn_app().await;
    let (agent_id, _) = app.create_agent("Fay", "fay@example.com").await;
    let team = app
        .post("/api/v1/accounts/1/teams", json!({ "name": "tier one" }))
        .await
        .expect(200);
    let conversation = app.create_conversation(json!({})).await;
    let path = format!("/api/v1/accounts/1/conversations/{}", conversation["id"]);
    // One of the two per call, as Chatwoot's assignments endpoint.
    for assign in [
        json!({ "team_id": team["id"] }),
        json!({ "assignee_id": agent_id }),
    ] {
        app.post(&format!("{path}/assignments"), assign)
            .await
            .expect(200);
    }
    let names = |shown: &serde_json::Value| {
        (
            shown["meta"]["assignee"]["name"]
                .as_str()
                .map(str::to_owned),
            shown["meta"]["team"]["name"].as_str().map(str::to_owned),
        )
    };
    let listed = |list: serde_json::Value| {
        let row = list["data"]["payload"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == conversation["id"])
            .cloned()
            .expect("listed");
        names(&row)
    };
    let list = "/api/v1/accounts/1/conversations?status=open";
    let before = (Some("Fay".to_string()), Some("tier one".to_string()));
    assert_eq!(names(&app.get(&path).await.expect(200)), before);
    assert_eq!(listed(app.get(list).await.expect(200)), before);

    app.patch(
        &format!("/api/v1/accounts/1/agents/{agent_id}"),
        json!({ "name": "Faye" }),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/v1/accounts/1/teams/{}", team["id"]),
        json!({ "name": "tier two" }),
    )
    .await
    .expect(200);
    let after = (Some("Faye".to_string()), Some("tier two".to_string()));
    assert_eq!(names(&app.get(&path).await.expect(200)), after);
    assert_eq!(listed(app.get(list).await.expect(200)), after);
}

#[tokio::test]
async fn agents_may_list_agents_but_not_change_them() {
    let app = spawn_app().await;
    let (id, token) = app.create_agent("Dan", "dan@example.com").await;
    app.send(Method::GET, "/api/v1/accounts/1/agents", &token, None)
        .await
        .expect(200);
    let create = json!({ "name": "X", "email": "x@example.com" });
    app.send(
        Method::POST,
        "/api/v1/accounts/1/agents",
        &token,
        Some(create),
    )
    .await
    .expect(401);
    let path = format!("/api/v1/accounts/1/agents/{id}");
    app.send(
        Method::PATCH,
        &path,
        &token,
        Some(json!({ "role": "administrator" })),
    )
    .await
    .expect(401);
    app.send(Method::DELETE, "/api/v1/accounts/1/agents/1", &token, None)
        .await
        .expect(401);
}

#[tokio::test]
async fn another_accounts_agent_is_404() {
    let app = spawn_app().await;
    let other = app.create_account("Other", "boss@other.example");
    let path = format!("/api/v1/accounts/1/agents/{}", other.user_id);
    app.patch(&path, json!({ "name": "Hijack" }))
        .await
        .expect(404);
    app.delete(&path).await.expect(404);
    app.patch("/api/v1/accounts/1/agents/999", json!({ "name": "Nobody" }))
        .await
        .expect(404);
}

#[tokio::test]
async fn an_administrator_cannot_rename_an_agent_who_also_belongs_to_another_account() {
    let app = spawn_app().await;
    let (id, _) = app.create_agent("Bob", "bob@example.com").await;
    let other = app.create_account("Other", "boss@other.example");
    app.join_account(other.account_id, id);
    let path = format!("/api/v1/accounts/1/agents/{id}");
    let body = app
        .patch(&path, json!({ "name": "Robert", "role": "administrator" }))
        .await
        .expect(422);
    assert_eq!(body["attributes"], json!(["name"]));
    assert!(body["message"].as_str().unwrap().starts_with("Name "));
    // Nothing changed, in either account.
    let theirs = app
        .agents_as(other.account_id, &other.token)
        .await
        .expect(200);
    let seen = theirs.as_array().unwrap().iter().find(|a| a["id"] == id);
    assert_eq!(seen.unwrap()["name"], "Bob");
    let ours = app.get("/api/v1/accounts/1/agents").await.expect(200);
    let seen = ours.as_array().unwrap().iter().find(|a| a["id"] == id);
    assert_eq!(seen.unwrap()["role"], "agent");
}

#[tokio::test]
async fn the_role_and_availability_of_an_agent_shared_with_another_account_can_still_change() {
    let app = spawn_app().await;
    let (id, _) = app.create_agent("Bob", "bob@example.com").await;
    let other = app.create_account("Other", "boss@other.example");
    app.join_account(other.account_id, id);
    let path = format!("/api/v1/accounts/1/agents/{id}");
    let agent = app
        .patch(
            &path,
            json!({ "role": "administrator", "availability": "busy" }),
        )
        .await
        .expect(200);
    assert_eq!(agent["role"], "administrator");
    assert_eq!(agent["availability_status"], "busy");
    // Edit forms send the name back unchanged with the rest: that is not a rename.
    let agent = app
        .patch(&path, json!({ "name": "Bob", "role": "agent" }))
        .await
        .expect(200);
    assert_eq!(agent["role"], "agent");
    assert_eq!(agent["name"], "Bob");
    // In the other account the membership is untouched.
    let theirs = app
        .agents_as(other.account_id, &other.token)
        .await
        .expect(200);
    let seen = theirs.as_array().unwrap().iter().find(|a| a["id"] == id);
    assert_eq!(seen.unwrap()["role"], "agent");
    assert_eq!(seen.unwrap()["availability_status"], "online");
}
