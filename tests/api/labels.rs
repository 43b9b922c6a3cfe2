use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn labels_are_created_listed_updated_and_deleted() {
    let app = spawn_app().await;
    let label = app
        .post(
            "/api/v1/accounts/1/labels",
            json!({ "title": "Billing", "description": "Money", "color": "#ff0000" }),
        )
        .await
        .expect(200);
    assert_eq!(
        label,
        json!({ "id": 1, "title": "billing", "description": "Money", "color": "#ff0000", "show_on_sidebar": null })
    );
    let plain = app
        .post("/api/v1/accounts/1/labels", json!({ "title": "vip" }))
        .await
        .expect(200);
    assert_eq!(plain["color"], "#1f93ff");
    let shown_on_sidebar = app
        .post(
            "/api/v1/accounts/1/labels",
            json!({ "title": "shown", "show_on_sidebar": true }),
        )
        .await
        .expect(200);
    assert_eq!(shown_on_sidebar["show_on_sidebar"], true);
    let list = app.get("/api/v1/accounts/1/labels").await.expect(200);
    assert_eq!(list["payload"].as_array().unwrap().len(), 3);
    let updated = app
        .patch(
            "/api/v1/accounts/1/labels/1",
            json!({ "title": "payments", "show_on_sidebar": false }),
        )
        .await
        .expect(200);
    assert_eq!(updated["title"], "payments");
    assert_eq!(updated["description"], "Money");
    assert_eq!(updated["show_on_sidebar"], false);
    assert_eq!(
        app.get("/api/v1/accounts/1/labels/1").await.expect(200),
        updated
    );
    assert_eq!(app.delete("/api/v1/accounts/1/labels/1").await.status, 200);
    app.get("/api/v1/accounts/1/labels/1").await.expect(404);
}

#[tokio::test]
async fn label_titles_are_validated() {
    let app = spawn_app().await;
    let path = "/api/v1/accounts/1/labels";
    for bad in ["a", "two words", "-dash", "semi;colon"] {
        let body = app.post(path, json!({ "title": bad })).await.expect(422);
        assert_eq!(
            body,
            json!({ "message": "Title is invalid", "attributes": ["title"] }),
            "{bad}"
        );
    }
    app.post(path, json!({ "title": "" })).await.expect(422);
    app.post(path, json!({ "title": "ok_1" })).await.expect(200);
    let body = app.post(path, json!({ "title": "OK_1" })).await.expect(422);
    assert_eq!(body["message"], "Title has already been taken");
}

#[tokio::test]
async fn agents_list_labels_and_nothing_more() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/labels", json!({ "title": "bug" }))
        .await
        .expect(200);
    let (_, token) = app.create_agent("Agent", "agent@example.com").await;
    app.send(Method::GET, "/api/v1/accounts/1/labels", &token, None)
        .await
        .expect(200);
    app.send(Method::GET, "/api/v1/accounts/1/labels/1", &token, None)
        .await
        .expect(401);
    app.send(
        Method::POST,
        "/api/v1/accounts/1/labels",
        &token,
        Some(json!({ "title": "new" })),
    )
    .await
    .expect(401);
    app.send(Method::DELETE, "/api/v1/accounts/1/labels/1", &token, None)
        .await
        .expect(401);
}
