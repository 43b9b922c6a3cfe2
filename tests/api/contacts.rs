use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn creating_a_contact_with_an_inbox_and_source_id_makes_a_contact_inbox() {
    let app = spawn_app().await;
    let body = app
        .post(
            "/api/v1/accounts/1/contacts",
            json!({ "name": "Jane", "email": "Jane@X.io", "phone_number": "+14155552671", "inbox_id": "1", "source_id": "ext-42",
                    "custom_attributes": { "plan": "pro" } }),
        )
        .await
        .expect(200);
    let contact = &body["payload"]["contact"];
    assert_eq!(contact["id"], 1);
    assert_eq!(contact["name"], "Jane");
    assert_eq!(contact["email"], "jane@x.io");
    assert_eq!(contact["phone_number"], "+14155552671");
    assert_eq!(contact["custom_attributes"], json!({ "plan": "pro" }));
    assert_eq!(contact["additional_attributes"], json!({}));
    assert_eq!(contact["blocked"], false);
    assert!(contact["created_at"].is_i64());
    assert!(
        contact.get("last_activity_at").is_none(),
        "absent while unset"
    );
    assert_eq!(contact["contact_inboxes"][0]["source_id"], "ext-42");
    assert_eq!(contact["contact_inboxes"][0]["inbox"]["id"], 1);
    assert_eq!(body["payload"]["contact_inbox"]["source_id"], "ext-42");
    assert_eq!(body["payload"]["contact_inbox"]["inbox"]["id"], 1);
}

#[tokio::test]
async fn an_api_inbox_gives_a_random_source_id_when_none_is_sent() {
    let app = spawn_app().await;
    let body = app
        .post(
            "/api/v1/accounts/1/contacts",
            json!({ "name": "Ann", "inbox_id": 1 }),
        )
        .await
        .expect(200);
    let source = body["payload"]["contact_inbox"]["source_id"]
        .as_str()
        .unwrap();
    assert_eq!(source.len(), 36, "a UUID: {source}");
    let without = app
        .post("/api/v1/accounts/1/contacts", json!({ "name": "Bo" }))
        .await
        .expect(200);
    assert_eq!(
        without["payload"]["contact_inbox"],
        json!({ "inbox": null, "source_id": null })
    );
}

#[tokio::test]
async fn a_source_id_belongs_to_one_contact_per_inbox() {
    let app = spawn_app().await;
    let path = "/api/v1/accounts/1/contacts";
    app.post(
        path,
        json!({ "name": "A", "inbox_id": 1, "source_id": "same" }),
    )
    .await
    .expect(200);
    let body = app
        .post(
            path,
            json!({ "name": "B", "inbox_id": 1, "source_id": "same" }),
        )
        .await
        .expect(422);
    assert_eq!(body["attributes"], json!(["source_id"]));
    // The refused create left nothing behind.
    let list = app.get("/api/v1/accounts/1/contacts").await.expect(200);
    assert_eq!(
        list["meta"]["count"], 0,
        "neither has an email, phone or identifier"
    );
    app.get("/api/v1/accounts/1/contacts/2").await.expect(404);
}

#[tokio::test]
async fn an_unknown_inbox_is_404_and_creates_no_contact() {
    let app = spawn_app().await;
    let other = app.create_account("Other", "o@example.com");
    for inbox_id in [999, other.inbox_id] {
        app.post(
            "/api/v1/accounts/1/contacts",
            json!({ "email": "z@example.com", "inbox_id": inbox_id }),
        )
        .await
        .expect(404);
    }
    let list = app.get("/api/v1/accounts/1/contacts").await.expect(200);
    assert_eq!(list["meta"]["count"], 0);
}

#[tokio::test]
async fn contacts_are_validated_as_chatwoot_does() {
    let app = spawn_app().await;
    let path = "/api/v1/accounts/1/contacts";
    let body = app.post(path, json!({ "email": "nope" })).await.expect(422);
    assert_eq!(
        body,
        json!({ "message": "Email Invalid email", "attributes": ["email"] })
    );
    let body = app
        .post(path, json!({ "phone_number": "4155552671" }))
        .await
        .expect(422);
    assert_eq!(body["message"], "Phone number should be in e164 format");
    app.post(
        path,
        json!({ "email": "dup@example.com", "identifier": "u-1" }),
    )
    .await
    .expect(200);
    let body = app
        .post(
            path,
            json!({ "email": "DUP@example.com", "identifier": "u-1" }),
        )
        .await
        .expect(422);
    assert_eq!(
        body["message"],
        "Email has already been taken, Identifier has already been taken"
    );
    assert_eq!(body["attributes"], json!(["email", "identifier"]));
    let body = app
        .post(path, json!({ "name": "n".repeat(300) }))
        .await
        .expect(422);
    assert_eq!(
        body["message"],
        "Name is too long (maximum is 255 characters)"
    );
}

#[tokio::test]
async fn the_list_pages_by_15_and_shows_only_reachable_contacts() {
    let app = spawn_app().await;
    for i in 0..17 {
        app.post(
            "/api/v1/accounts/1/contacts",
            json!({ "name": format!("C{i}"), "email": format!("c{i}@example.com") }),
        )
        .await
        .expect(200);
    }
    app.post(
        "/api/v1/accounts/1/contacts",
        json!({ "name": "Anonymous" }),
    )
    .await
    .expect(200);
    let first = app.get("/api/v1/accounts/1/contacts").await.expect(200);
    assert_eq!(first["meta"], json!({ "count": 17, "current_page": 1 }));
    assert_eq!(first["payload"].as_array().unwrap().len(), 15);
    let second = app
        .get("/api/v1/accounts/1/contacts?page=2")
        .await
        .expect(200);
    assert_eq!(second["meta"]["current_page"], "2");
    assert_eq!(second["payload"].as_array().unwrap().len(), 2);
    let sorted = app
        .get("/api/v1/accounts/1/contacts?sort=-email")
        .await
        .expect(200);
    assert_eq!(sorted["payload"][0]["email"], "c9@example.com");
    let far = app
        .get("/api/v1/accounts/1/contacts?page=99999999999")
        .await
        .expect(200);
    assert_eq!(far["payload"], json!([]));
    app.get("/api/v1/accounts/1/contacts?sort=password")
        .await
        .expect(422);
}

#[tokio::test]
async fn updating_a_contact_merges_attributes_and_keeps_other_fields() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/accounts/1/contacts",
        json!({ "name": "Kim", "email": "kim@example.com", "custom_attributes": { "a": 1, "b": 2 } }),
    )
    .await
    .expect(200);
    let body = app
        .send(
            Method::PUT,
            "/api/v1/accounts/1/contacts/1",
            crate::helpers::ADMIN_TOKEN,
            Some(json!({ "custom_attributes": { "b": 3, "c": 4 }, "phone_number": "+4915112345678" })),
        )
        .await
        .expect(200);
    let contact = &body["payload"];
    assert_eq!(
        contact["custom_attributes"],
        json!({ "a": 1, "b": 3, "c": 4 })
    );
    assert_eq!(contact["phone_number"], "+4915112345678");
    assert_eq!(contact["email"], "kim@example.com");
    let cleared = app
        .patch("/api/v1/accounts/1/contacts/1", json!({ "email": null }))
        .await
        .expect(200);
    assert_eq!(cleared["payload"]["email"], json!(null));
    let shown = app.get("/api/v1/accounts/1/contacts/1").await.expect(200);
    assert_eq!(shown["payload"]["name"], "Kim");
}

#[tokio::test]
async fn only_administrators_delete_contacts() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/accounts/1/contacts",
        json!({ "email": "gone@example.com" }),
    )
    .await
    .expect(200);
    let (_, token) = app.create_agent("Agent", "agent@example.com").await;
    app.send(Method::GET, "/api/v1/accounts/1/contacts/1", &token, None)
        .await
        .expect(200);
    app.send(
        Method::DELETE,
        "/api/v1/accounts/1/contacts/1",
        &token,
        None,
    )
    .await
    .expect(401);
    assert_eq!(
        app.delete("/api/v1/accounts/1/contacts/1").await.status,
        200
    );
    app.get("/api/v1/accounts/1/contacts/1").await.expect(404);
}

#[tokio::test]
async fn another_accounts_contact_is_404() {
    let app = spawn_app().await;
    let other = app.create_account("Other", "o@example.com");
    let theirs = app
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{}/contacts", other.account_id),
            &other.token,
            Some(json!({ "email": "secret@example.com" })),
        )
        .await
        .expect(200);
    let path = format!(
        "/api/v1/accounts/1/contacts/{}",
        theirs["payload"]["contact"]["id"]
    );
    app.get(&path).await.expect(404);
    app.patch(&path, json!({ "name": "x" })).await.expect(404);
    app.delete(&path).await.expect(404);
}

#[tokio::test]
async fn an_agent_may_attach_a_contact_only_to_an_inbox_they_are_a_member_of() {
    let app = spawn_app().await;
    let (agent_id, token) = app.create_agent("Agent", "agent@example.com").await;
    let create = |inbox_id: i64, email: &str| {
        app.send(
            Method::POST,
            "/api/v1/accounts/1/contacts",
            &token,
            Some(json!({ "email": email, "inbox_id": inbox_id })),
        )
    };
    // Not a member of inbox 1: the same answer as for an inbox that does not exist.
    let hidden = create(1, "a@example.com").await;
    let missing = create(999, "b@example.com").await;
    assert_eq!(hidden.status, 404);
    assert_eq!(hidden.body, missing.body);
    assert_eq!(
        hidden.body,
        json!({ "error": "Resource could not be found" })
    );
    let list = app.get("/api/v1/accounts/1/contacts").await.expect(200);
    assert_eq!(list["meta"]["count"], 0, "the refused creates left nothing");
    // As a member of the inbox, they may.
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [agent_id] }),
    )
    .await
    .expect(200);
    let body = create(1, "c@example.com").await.expect(200);
    assert_eq!(body["payload"]["contact_inbox"]["inbox"]["id"], 1);
}
