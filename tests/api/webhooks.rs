use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, invalid_attributes, spawn_app, TestApp, ADMIN_TOKEN};

const WEBHOOKS: &str = "/api/v1/accounts/1/webhooks";

/// Posts a webhook to account 1 and returns its JSON (the inside of the envelope).
async fn create_webhook(app: &TestApp, body: Value) -> Value {
    let reply = app.post(WEBHOOKS, body).await.expect(200);
    reply["payload"]["webhook"].clone()
}

fn webhook_rows(app: &TestApp) -> i64 {
    app.read(|c| c.query_row("SELECT COUNT(*) FROM webhooks", [], |row| row.get(0)))
}

#[tokio::test]
async fn webhooks_are_created_listed_updated_and_deleted_in_chatwoots_envelopes() {
    let app = spawn_app().await;
    assert_eq!(
        app.get(WEBHOOKS).await.expect(200),
        json!({ "payload": { "webhooks": [] } })
    );

    // Keys nested under `webhook`, as the dashboard sends them.
    let nested = create_webhook(
        &app,
        json!({ "webhook": {
            "url": "https://example.com/hooks/a",
            "name": "CRM",
            "subscriptions": ["message_created", "conversation_created"],
            "inbox_id": 1
        } }),
    )
    .await;
    let secret = nested["secret"].as_str().expect("secret").to_string();
    assert!(secret.len() >= 24, "a short secret: {secret}");
    assert_eq!(
        nested,
        json!({
            "id": 1,
            "name": "CRM",
            "url": "https://example.com/hooks/a",
            "account_id": 1,
            "subscriptions": ["message_created", "conversation_created"],
            "secret": secret,
            "inbox": { "id": 1, "name": nested["inbox"]["name"] }
        })
    );
    assert!(nested["inbox"]["name"].is_string());

    // Keys at the top level; no inbox, so no `inbox` key at all.
    let flat = create_webhook(
        &app,
        json!({ "url": "http://example.org/b", "subscriptions": ["contact_created"] }),
    )
    .await;
    assert_eq!(flat["id"], 2);
    assert_eq!(flat["name"], Value::Null);
    assert!(flat.get("inbox").is_none(), "inbox shown: {flat}");
    assert_ne!(flat["secret"], nested["secret"]);

    let list = app.get(WEBHOOKS).await.expect(200);
    assert_eq!(list["payload"]["webhooks"], json!([nested, flat]));

    // PATCH with nested keys, PUT with top-level ones; the secret never changes.
    let patched = app
        .patch(
            &format!("{WEBHOOKS}/1"),
            json!({ "webhook": { "name": "Renamed", "inbox_id": null } }),
        )
        .await
        .expect(200);
    let patched = &patched["payload"]["webhook"];
    assert_eq!(patched["name"], "Renamed");
    assert!(patched.get("inbox").is_none());
    assert_eq!(patched["secret"], secret.as_str());
    let put = app
        .send(
            Method::PUT,
            &format!("{WEBHOOKS}/1"),
            ADMIN_TOKEN,
            Some(json!({ "url": "https://example.com/hooks/new" })),
        )
        .await
        .expect(200);
    assert_eq!(
        put["payload"]["webhook"]["url"],
        "https://example.com/hooks/new"
    );
    assert_eq!(put["payload"]["webhook"]["name"], "Renamed");

    // DELETE answers Chatwoot's empty 200.
    let deleted = app.delete(&format!("{WEBHOOKS}/1")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body, Value::Null);
    let list = app.get(WEBHOOKS).await.expect(200);
    let ids: Vec<_> = list["payload"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(2)]);
    assert_eq!(app.delete(&format!("{WEBHOOKS}/1")).await.status, 404);
}

#[tokio::test]
async fn patching_only_subscriptions_keeps_the_url_name_and_inbox() {
    let app = spawn_app().await;
    let created = create_webhook(
        &app,
        json!({ "url": "https://example.com/keep", "name": "Keep", "subscriptions": ["message_created"], "inbox_id": 1 }),
    )
    .await;
    let updated = app
        .patch(
            &format!("{WEBHOOKS}/1"),
            json!({ "subscriptions": ["message_updated", "contact_updated"] }),
        )
        .await
        .expect(200);
    let updated = &updated["payload"]["webhook"];
    assert_eq!(
        updated["subscriptions"],
        json!(["message_updated", "contact_updated"])
    );
    for key in ["url", "name", "inbox", "secret"] {
        assert_eq!(updated[key], created[key], "{key} changed");
    }
}

#[tokio::test]
async fn a_url_that_is_not_http_or_https_is_refused_on_url() {
    let app = spawn_app().await;
    for url in [
        json!("javascript:alert(1)"),
        json!("ftp://example.com/file"),
        json!("http://"),
        json!("https:///no-host"),
        json!("just garbage"),
        json!(""),
        json!(12),
        json!(null),
    ] {
        let body = app
            .post(
                WEBHOOKS,
                json!({ "url": url, "subscriptions": ["message_created"] }),
            )
            .await
            .expect(422);
        assert_eq!(body["message"], "Url is invalid", "for {url}");
        assert_eq!(invalid_attributes(&body), vec!["url"]);
    }
    // Nor may an update put one in.
    create_webhook(
        &app,
        json!({ "url": "https://example.com/ok", "subscriptions": ["message_created"] }),
    )
    .await;
    let body = app
        .patch(
            &format!("{WEBHOOKS}/1"),
            json!({ "url": "ftp://example.com" }),
        )
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&body), vec!["url"]);
    assert_eq!(webhook_rows(&app), 1);
}

#[tokio::test]
async fn a_url_is_unique_within_an_account_but_not_across_accounts() {
    let app = spawn_app().await;
    let body = json!({ "url": "https://example.com/same", "subscriptions": ["message_created"] });
    create_webhook(&app, body.clone()).await;
    let again = app.post(WEBHOOKS, body.clone()).await.expect(422);
    assert_eq!(again["message"], "Url has already been taken");
    assert_eq!(invalid_attributes(&again), vec!["url"]);

    // Moving another webhook onto the URL is refused the same way.
    let other = create_webhook(
        &app,
        json!({ "url": "https://example.com/other", "subscriptions": ["message_created"] }),
    )
    .await;
    let moved = app
        .patch(
            &format!("{WEBHOOKS}/{}", other["id"]),
            json!({ "url": "https://example.com/same" }),
        )
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&moved), vec!["url"]);

    let second = app.create_account("Second", "second@example.com");
    let reply = app
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{}/webhooks", second.account_id),
            &second.token,
            Some(body),
        )
        .await
        .expect(200);
    assert_eq!(reply["payload"]["webhook"]["account_id"], second.account_id);
}

#[tokio::test]
async fn subscriptions_must_be_a_non_empty_list_of_known_events() {
    let app = spawn_app().await;
    for subscriptions in [
        json!([]),
        json!(["message_created", "message_deleted"]),
        json!(["conversation_opened"]),
        json!("message_created"),
        json!(null),
    ] {
        let body = app
            .post(
                WEBHOOKS,
                json!({ "url": "https://example.com/h", "subscriptions": subscriptions }),
            )
            .await
            .expect(422);
        assert_eq!(
            body["message"], "Subscriptions Invalid events",
            "for {subscriptions}"
        );
        assert_eq!(invalid_attributes(&body), vec!["subscriptions"]);
    }
    // Every one of the twelve names is accepted.
    let all = json!([
        "conversation_created",
        "conversation_status_changed",
        "conversation_updated",
        "contact_created",
        "contact_updated",
        "conversation_typing_on",
        "conversation_typing_off",
        "message_created",
        "message_updated",
        "webwidget_triggered",
        "inbox_created",
        "inbox_updated"
    ]);
    let created = create_webhook(
        &app,
        json!({ "url": "https://example.com/all", "subscriptions": all }),
    )
    .await;
    assert_eq!(created["subscriptions"], all);
}

#[tokio::test]
async fn every_failed_validation_is_named_in_one_answer() {
    let app = spawn_app().await;
    let body = app
        .post(
            WEBHOOKS,
            json!({ "webhook": { "url": "ftp://x", "subscriptions": [] } }),
        )
        .await
        .expect(422);
    assert_eq!(
        body["message"],
        "Url is invalid, Subscriptions Invalid events"
    );
    assert_eq!(invalid_attributes(&body), vec!["url", "subscriptions"]);
}

#[tokio::test]
async fn overlong_urls_and_names_are_refused_with_their_own_message() {
    let app = spawn_app().await;
    let long_url = format!("https://example.com/{}", "a".repeat(2100));
    let body = app
        .post(
            WEBHOOKS,
            json!({ "url": long_url, "subscriptions": ["message_created"] }),
        )
        .await
        .expect(422);
    assert_eq!(
        body["message"],
        "Url is too long (maximum is 2048 characters)"
    );
    assert_eq!(invalid_attributes(&body), vec!["url"]);
    let body = app
        .post(
            WEBHOOKS,
            json!({ "url": "https://example.com/n", "name": "n".repeat(256), "subscriptions": ["message_created"] }),
        )
        .await
        .expect(422);
    assert_eq!(
        body["message"],
        "Name is too long (maximum is 255 characters)"
    );
    assert_eq!(invalid_attributes(&body), vec!["name"]);
    assert_eq!(webhook_rows(&app), 0);
}

#[tokio::test]
async fn a_body_without_any_webhook_key_is_a_missing_parameter() {
    let app = spawn_app().await;
    for body in [json!({}), json!({ "webhook": {} }), json!({ "other": 1 })] {
        let reply = app.post(WEBHOOKS, body).await.expect(422);
        assert!(error_of(&reply).contains("param is missing"), "{reply}");
    }
}

#[tokio::test]
async fn agents_may_not_read_or_change_webhooks() {
    let app = spawn_app().await;
    create_webhook(
        &app,
        json!({ "url": "https://example.com/a", "subscriptions": ["message_created"] }),
    )
    .await;
    let (_, token) = app.create_agent("Agent", "agent@example.com").await;
    let body = json!({ "url": "https://example.com/b", "subscriptions": ["message_created"] });
    let item = format!("{WEBHOOKS}/1");
    for (method, path, body) in [
        (Method::GET, WEBHOOKS, None),
        (Method::POST, WEBHOOKS, Some(body.clone())),
        (Method::PATCH, item.as_str(), Some(body.clone())),
        (Method::PUT, item.as_str(), Some(body)),
        (Method::DELETE, item.as_str(), None),
    ] {
        let reply = app.send(method.clone(), path, &token, body).await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.body);
        assert_eq!(
            error_of(&reply.body),
            "You are not authorized to do this action"
        );
    }
    assert_eq!(webhook_rows(&app), 1);
}

#[tokio::test]
async fn another_accounts_webhook_is_not_found_for_update_and_delete() {
    let app = spawn_app().await;
    let second = app.create_account("Second", "second@example.com");
    let theirs = app
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{}/webhooks", second.account_id),
            &second.token,
            Some(json!({ "url": "https://example.com/theirs", "subscriptions": ["message_created"] })),
        )
        .await
        .expect(200);
    let id = theirs["payload"]["webhook"]["id"].as_i64().unwrap();
    let path = format!("{WEBHOOKS}/{id}");
    let missing = app
        .patch(&format!("{WEBHOOKS}/999"), json!({ "name": "x" }))
        .await;
    let patched = app.patch(&path, json!({ "name": "x" })).await;
    assert_eq!(patched.status, 404);
    assert_eq!(patched.body, missing.body);
    assert_eq!(error_of(&patched.body), "Resource could not be found");
    let deleted = app.delete(&path).await;
    assert_eq!(deleted.status, 404);
    assert_eq!(deleted.body, missing.body);
    // Account 1's list does not show it, and it is still there, unchanged.
    let ours = app.get(WEBHOOKS).await.expect(200);
    assert_eq!(ours["payload"]["webhooks"], json!([]));
    let list = app
        .send(
            Method::GET,
            &format!("/api/v1/accounts/{}/webhooks", second.account_id),
            &second.token,
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        list["payload"]["webhooks"],
        json!([theirs["payload"]["webhook"]])
    );
}

#[tokio::test]
async fn an_inbox_of_another_account_is_refused_on_inbox_id() {
    let app = spawn_app().await;
    let second = app.create_account("Second", "second@example.com");
    let their_inbox = second.inbox_id;
    let body = app
        .post(
            WEBHOOKS,
            json!({ "url": "https://example.com/i", "subscriptions": ["message_created"], "inbox_id": their_inbox }),
        )
        .await
        .expect(422);
    assert_eq!(body["message"], "Inbox must exist");
    assert_eq!(invalid_attributes(&body), vec!["inbox_id"]);
    let unknown = app
        .post(
            WEBHOOKS,
            json!({ "url": "https://example.com/i", "subscriptions": ["message_created"], "inbox_id": 999 }),
        )
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&unknown), vec!["inbox_id"]);
    create_webhook(
        &app,
        json!({ "url": "https://example.com/i", "subscriptions": ["message_created"] }),
    )
    .await;
    let moved = app
        .patch(
            &format!("{WEBHOOKS}/1"),
            json!({ "webhook": { "inbox_id": their_inbox.to_string() } }),
        )
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&moved), vec!["inbox_id"]);
    assert_eq!(webhook_rows(&app), 1);
}

#[tokio::test]
async fn deleting_the_inbox_deletes_its_webhooks() {
    let app = spawn_app().await;
    let inbox = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "name": "Second inbox" }),
        )
        .await
        .expect(200);
    let inbox_id = inbox["id"].as_i64().unwrap();
    create_webhook(
        &app,
        json!({ "url": "https://example.com/inbox", "subscriptions": ["message_created"], "inbox_id": inbox_id }),
    )
    .await;
    create_webhook(
        &app,
        json!({ "url": "https://example.com/account", "subscriptions": ["message_created"] }),
    )
    .await;
    app.delete(&format!("/api/v1/accounts/1/inboxes/{inbox_id}"))
        .await
        .expect(200);
    let list = app.get(WEBHOOKS).await.expect(200);
    let urls: Vec<_> = list["payload"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["url"].clone())
        .collect();
    assert_eq!(urls, vec![json!("https://example.com/account")]);
    assert_eq!(webhook_rows(&app), 1);
}

#[tokio::test]
async fn deleting_the_account_leaves_no_webhook_row() {
    let app = spawn_app().await;
    let second = app.create_account("Second", "second@example.com");
    let path = format!("/api/v1/accounts/{}/webhooks", second.account_id);
    for url in ["https://example.com/1", "https://example.com/2"] {
        app.send(
            Method::POST,
            &path,
            &second.token,
            Some(json!({ "url": url, "subscriptions": ["message_created"], "inbox_id": second.inbox_id })),
        )
        .await
        .expect(200);
    }
    create_webhook(
        &app,
        json!({ "url": "https://example.com/1", "subscriptions": ["message_created"] }),
    )
    .await;
    // There is no API to delete an account: delete it in the database, with foreign keys on as
    // the server has them.
    app.db()
        .write_now(|tx| Ok(tx.execute("DELETE FROM accounts WHERE id = ?1", [second.account_id])?))
        .unwrap();
    let left: i64 = app.read(|c| {
        c.query_row(
            "SELECT COUNT(*) FROM webhooks WHERE account_id = ?1",
            [second.account_id],
            |row| row.get(0),
        )
    });
    assert_eq!(left, 0);
    assert_eq!(webhook_rows(&app), 1);
}
