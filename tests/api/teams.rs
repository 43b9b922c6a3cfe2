use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, ADMIN_TOKEN};

#[tokio::test]
async fn a_team_is_created_with_a_lowercase_unique_name() {
    let app = spawn_app().await;
    let team = app
        .post(
            "/api/v1/accounts/1/teams",
            json!({ "name": "Sales", "description": "Deals" }),
        )
        .await
        .expect(200);
    assert_eq!(team["id"], 1);
    assert_eq!(team["name"], "sales");
    assert_eq!(team["description"], "Deals");
    assert_eq!(team["allow_auto_assign"], true);
    assert_eq!(team["account_id"], 1);
    assert_eq!(team["is_member"], false);
    let body = app
        .post("/api/v1/accounts/1/teams", json!({ "name": "SALES" }))
        .await
        .expect(422);
    assert_eq!(
        body,
        json!({ "message": "Name has already been taken", "attributes": ["name"] })
    );
    let body = app
        .post("/api/v1/accounts/1/teams", json!({ "name": "  " }))
        .await
        .expect(422);
    assert_eq!(body["message"], "Name must not be blank");
    let list = app.get("/api/v1/accounts/1/teams").await.expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_team_is_shown_updated_and_deleted() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "support" }))
        .await
        .expect(200);
    let updated = app
        .patch(
            "/api/v1/accounts/1/teams/1",
            json!({ "description": "Tier 1", "allow_auto_assign": false }),
        )
        .await
        .expect(200);
    assert_eq!(updated["name"], "support");
    assert_eq!(updated["description"], "Tier 1");
    assert_eq!(updated["allow_auto_assign"], false);
    let shown = app.get("/api/v1/accounts/1/teams/1").await.expect(200);
    assert_eq!(shown, updated);
    assert_eq!(app.delete("/api/v1/accounts/1/teams/1").await.status, 200);
    app.get("/api/v1/accounts/1/teams/1").await.expect(404);
}

#[tokio::test]
async fn team_members_are_added_replaced_and_removed() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "billing" }))
        .await
        .expect(200);
    let (a, _) = app.create_agent("A", "a@example.com").await;
    let (b, _) = app.create_agent("B", "b@example.com").await;
    let path = "/api/v1/accounts/1/teams/1/team_members";
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    };

    assert_eq!(
        ids(&app
            .post(path, json!({ "user_ids": [a, 1] }))
            .await
            .expect(200)),
        vec![1, a]
    );
    // Adding again adds nothing and answers the empty list of newly added agents.
    assert_eq!(
        ids(&app.post(path, json!({ "user_ids": [a] })).await.expect(200)),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&app
            .patch(path, json!({ "user_ids": [b, 1] }))
            .await
            .expect(200)),
        vec![1, b]
    );
    let removed = app
        .send(
            Method::DELETE,
            path,
            ADMIN_TOKEN,
            Some(json!({ "user_ids": [1] })),
        )
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(ids(&app.get(path).await.expect(200)), vec![b]);
    // The caller's own membership shows as is_member.
    app.post(path, json!({ "user_ids": [1] })).await.expect(200);
    assert_eq!(
        app.get("/api/v1/accounts/1/teams/1").await.expect(200)["is_member"],
        true
    );
}

#[tokio::test]
async fn team_members_must_belong_to_the_account_and_the_team_to_the_account() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "ops" }))
        .await
        .expect(200);
    let other = app.create_account("Other", "o@example.com");
    let body = app
        .post(
            "/api/v1/accounts/1/teams/1/team_members",
            json!({ "user_ids": [other.user_id] }),
        )
        .await
        .expect(401);
    assert_eq!(body["error"], "Invalid User IDs");
    app.get("/api/v1/accounts/1/teams/7/team_members")
        .await
        .expect(404);
    let foreign = app
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{}/teams", other.account_id),
            &other.token,
            Some(json!({ "name": "theirs" })),
        )
        .await
        .expect(200);
    let path = format!("/api/v1/accounts/1/teams/{}", foreign["id"]);
    app.get(&path).await.expect(404);
    app.delete(&path).await.expect(404);
}

#[tokio::test]
async fn agents_read_teams_but_only_administrators_change_them() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/teams", json!({ "name": "qa" }))
        .await
        .expect(200);
    let (_, token) = app.create_agent("Agent", "agent@example.com").await;
    app.send(Method::GET, "/api/v1/accounts/1/teams", &token, None)
        .await
        .expect(200);
    app.send(Method::GET, "/api/v1/accounts/1/teams/1", &token, None)
        .await
        .expect(200);
    app.send(
        Method::GET,
        "/api/v1/accounts/1/teams/1/team_members",
        &token,
        None,
    )
    .await
    .expect(200);
    app.send(
        Method::PATCH,
        "/api/v1/accounts/1/teams/1",
        &token,
        Some(json!({ "name": "x" })),
    )
    .await
    .expect(401);
    app.send(Method::DELETE, "/api/v1/accounts/1/teams/1", &token, None)
        .await
        .expect(401);
    app.send(
        Method::POST,
        "/api/v1/accounts/1/teams/1/team_members",
        &token,
        Some(json!({ "user_ids": [1] })),
    )
    .await
    .expect(401);
}
