//! The public Client API under `/public/api/v1/inboxes/{inbox_identifier}`: a customer's client
//! with no token, where the inbox identifier and the contact's source id are the credentials.

use hmac::{Hmac, Mac};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{error_of, spawn_app, spawn_configured, Reply, TestApp};
use crate::receiver::Receiver;
use wootlite::clock::Clock;

const NOT_FOUND: &str = "Resource could not be found";
const INVALID_HASH: &str = "HMAC failed: Invalid Identifier Hash Provided";

/// An inbox's public identifier and identity-hash key, as an administrator sees them.
async fn inbox_credentials(app: &TestApp, inbox_id: i64) -> (String, String) {
    let inbox = app
        .get(&format!("/api/v1/accounts/1/inboxes/{inbox_id}"))
        .await
        .expect(200);
    (
        inbox["inbox_identifier"].as_str().unwrap().to_string(),
        inbox["hmac_token"].as_str().unwrap().to_string(),
    )
}

fn identifier_hash(key: &str, identifier: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(identifier.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A request with no token at all.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut builder = app.request(method, path, None);
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    Reply::from(builder.send().await.expect("request sent")).await
}

async fn public_get(app: &TestApp, path: &str) -> Reply {
    call(app, Method::GET, path, None).await
}

async fn public_post(app: &TestApp, path: &str, body: Value) -> Reply {
    call(app, Method::POST, path, Some(body)).await
}

async fn public_patch(app: &TestApp, path: &str, body: Value) -> Reply {
    call(app, Method::PATCH, path, Some(body)).await
}

fn base(identifier: &str) -> String {
    format!("/public/api/v1/inboxes/{identifier}")
}

/// A client's contact in the inbox; returns its source id.
async fn new_client(app: &TestApp, identifier: &str, body: Value) -> String {
    new_client_and_contact(app, identifier, body).await.0
}

/// `new_client`, with the contact's id too: `(source_id, contact id)`.
async fn new_client_and_contact(app: &TestApp, identifier: &str, body: Value) -> (String, i64) {
    let contact = public_post(app, &format!("{}/contacts", base(identifier)), body)
        .await
        .expect(200);
    let source = contact["source_id"].as_str().unwrap().to_string();
    (source, contact["id"].as_i64().unwrap())
}

/// A conversation of the client's; returns its display id.
async fn new_conversation(app: &TestApp, identifier: &str, source: &str) -> i64 {
    let path = format!("{}/contacts/{source}/conversations", base(identifier));
    public_post(app, &path, json!({})).await.expect(200)["id"]
        .as_i64()
        .unwrap()
}

fn assert_not_found(reply: Reply) {
    let body = reply.expect(404);
    assert_eq!(error_of(&body), NOT_FOUND);
}

#[tokio::test]
async fn the_inbox_shows_only_its_public_settings() {
    let app = spawn_app().await;
    let (identifier, token) = inbox_credentials(&app, 1).await;
    let inbox = public_get(&app, &base(&identifier)).await.expect(200);
    assert_eq!(inbox["identifier"], identifier.as_str());
    assert_eq!(inbox["identity_validation_enabled"], false);
    assert!(inbox["name"].is_string());
    assert!(inbox["timezone"].is_string());
    assert!(inbox["working_hours"].is_array());
    for key in [
        "working_hours_enabled",
        "csat_survey_enabled",
        "greeting_enabled",
    ] {
        assert!(inbox[key].is_boolean(), "{key} in {inbox}");
    }
    let text = inbox.to_string();
    assert!(!text.contains(&token), "the HMAC token stays private");
    assert!(inbox.get("secret").is_none() && inbox.get("hmac_token").is_none());
    assert_not_found(public_get(&app, &base("no-such-inbox")).await);
}

#[tokio::test]
async fn a_client_creates_reads_and_updates_its_contact() {
    let app = spawn_app().await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let contacts = format!("{}/contacts", base(&identifier));
    let created = public_post(
        &app,
        &contacts,
        json!({"name": "Ada", "email": "ada@example.com", "phone_number": "+15550001",
               "custom_attributes": {"plan": "pro"}, "blocked": true}),
    )
    .await
    .expect(200);
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "email",
            "id",
            "name",
            "phone_number",
            "pubsub_token",
            "source_id"
        ]
    );
    assert_eq!(created["name"], "Ada");
    assert_eq!(created["email"], "ada@example.com");
    let source = created["source_id"].as_str().unwrap();
    assert_eq!(source.len(), 36, "a UUID when none is sent: {source}");
    let id = created["id"].as_i64().unwrap();

    // The application API sees the contact, with its attributes, and not blocked by the client.
    let contact = app
        .get(&format!("/api/v1/accounts/1/contacts/{id}"))
        .await
        .expect(200);
    assert_eq!(contact["payload"]["custom_attributes"]["plan"], "pro");
    assert_eq!(contact["payload"]["blocked"], false);

    let shown = public_get(&app, &format!("{contacts}/{source}"))
        .await
        .expect(200);
    assert_eq!(shown, created);

    let updated = public_patch(
        &app,
        &format!("{contacts}/{source}"),
        json!({"name": "Ada L.", "identifier": "ignored-here"}),
    )
    .await
    .expect(200);
    assert_eq!(updated["name"], "Ada L.");
    assert_eq!(updated["id"], id);
    let contact = app
        .get(&format!("/api/v1/accounts/1/contacts/{id}"))
        .await
        .expect(200);
    assert_eq!(contact["payload"]["identifier"], Value::Null);

    // A chosen source id is kept; the same one again answers the same contact.
    let chosen = new_client(
        &app,
        &identifier,
        json!({"source_id": "my-source", "name": "B"}),
    )
    .await;
    assert_eq!(chosen, "my-source");
    let again = public_post(&app, &contacts, json!({"source_id": "my-source"}))
        .await
        .expect(200);
    assert_eq!(again["name"], "B");

    // Bad input is a clear 4xx.
    let bad = public_post(&app, &contacts, json!({"email": "not-an-email"})).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let bad = public_post(&app, &contacts, json!({"name": ["x"]})).await;
    assert!((400..500).contains(&bad.status), "{}", bad.body);
    assert_not_found(public_get(&app, &format!("{contacts}/no-such-source")).await);
    assert_not_found(public_patch(&app, &format!("{contacts}/no-such-source"), json!({})).await);
}

#[tokio::test]
async fn identity_hashes_must_match_and_verify_the_contact_inbox() {
    let app = spawn_app().await;
    let (identifier, key) = inbox_credentials(&app, 1).await;
    let contacts = format!("{}/contacts", base(&identifier));

    let wrong = public_post(
        &app,
        &contacts,
        json!({"identifier": "user-1", "identifier_hash": "00ff"}),
    )
    .await
    .expect(401);
    assert_eq!(error_of(&wrong), INVALID_HASH);

    let hash = identifier_hash(&key, "user-1");
    let created = public_post(
        &app,
        &contacts,
        json!({"identifier": "user-1", "identifier_hash": hash, "name": "Verified"}),
    )
    .await
    .expect(200);
    let source = created["source_id"].as_str().unwrap().to_string();
    let verified: bool = app.read(|c| {
        c.query_row(
            "SELECT hmac_verified FROM contact_inboxes WHERE source_id = ?1",
            [&source],
            |row| row.get(0),
        )
    });
    assert!(verified);
    let contact = app
        .get(&format!("/api/v1/accounts/1/contacts/{}", created["id"]))
        .await
        .expect(200);
    assert_eq!(contact["payload"]["identifier"], "user-1");

    // Without a valid hash the identifier is not taken: nobody claims "user-1" by naming it.
    let unproven = public_post(
        &app,
        &contacts,
        json!({"identifier": "user-1", "name": "X"}),
    )
    .await
    .expect(200);
    assert_ne!(unproven["id"], created["id"]);

    // A second contact inbox proving the same identity reaches the contact's conversations.
    let other_source = new_client(
        &app,
        &identifier,
        json!({"identifier": "user-1", "identifier_hash": hash}),
    )
    .await;
    let display_id = new_conversation(&app, &identifier, &source).await;
    let path = format!("{contacts}/{other_source}/conversations/{display_id}");
    public_get(&app, &path).await.expect(200);
    let list = public_get(&app, &format!("{contacts}/{other_source}/conversations"))
        .await
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);

    // With identity validation mandatory, a request without the hash is refused.
    app.patch(
        "/api/v1/accounts/1/inboxes/1",
        json!({"channel": {"hmac_mandatory": true}}),
    )
    .await
    .expect(200);
    let shown = public_get(&app, &base(&identifier)).await.expect(200);
    assert_eq!(shown["identity_validation_enabled"], true);
    let refused = public_post(&app, &contacts, json!({"name": "No hash"}))
        .await
        .expect(401);
    assert_eq!(error_of(&refused), INVALID_HASH);
    public_patch(&app, &format!("{contacts}/{source}"), json!({"name": "N"}))
        .await
        .expect(401);
    public_patch(
        &app,
        &format!("{contacts}/{source}"),
        json!({"name": "N", "identifier": "user-1", "identifier_hash": hash}),
    )
    .await
    .expect(200);
    let mismatch = public_patch(
        &app,
        &format!("{contacts}/{source}"),
        json!({"identifier": "user-2", "identifier_hash": identifier_hash(&key, "user-2")}),
    )
    .await
    .expect(401);
    assert_eq!(
        error_of(&mismatch),
        "HMAC failed: Identifier does not match contact"
    );
    public_get(&app, &format!("{contacts}/{source}"))
        .await
        .expect(401);
    public_get(
        &app,
        &format!("{contacts}/{source}?identifier=user-1&identifier_hash={hash}"),
    )
    .await
    .expect(200);

    // A rotated key makes old hashes fail.
    let rotated = app
        .post("/api/v1/accounts/1/inboxes/1/rotate_hmac_token", json!({}))
        .await
        .expect(200);
    assert_ne!(rotated["hmac_token"], key.as_str());
    assert_eq!(rotated["id"], 1);
    public_post(
        &app,
        &contacts,
        json!({"identifier": "user-1", "identifier_hash": hash}),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn only_administrators_rotate_the_hmac_token() {
    let app = spawn_app().await;
    let (_, agent_token) = app.create_agent("Agent", "agent@example.com").await;
    let reply = app
        .send(
            Method::POST,
            "/api/v1/accounts/1/inboxes/1/rotate_hmac_token",
            &agent_token,
            None,
        )
        .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    app.post(
        "/api/v1/accounts/1/inboxes/999/rotate_hmac_token",
        json!({}),
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn conversations_have_the_public_shape_and_actions() {
    let app = spawn_app().await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let source = new_client(&app, &identifier, json!({"name": "Ada"})).await;
    let conversations = format!("{}/contacts/{source}/conversations", base(&identifier));

    let created = public_post(
        &app,
        &conversations,
        json!({"custom_attributes": {"order": 7}, "additional_attributes": {"x": 1}}),
    )
    .await
    .expect(200);
    let display_id = created["id"].as_i64().unwrap();
    let mut keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "agent_last_seen_at",
            "contact",
            "contact_last_seen_at",
            "id",
            "inbox_id",
            "messages",
            "status",
            "uuid"
        ]
    );
    assert_eq!(created["status"], "open");
    assert_eq!(created["inbox_id"], 1);
    assert_eq!(created["contact_last_seen_at"], 0);
    assert_eq!(created["contact"]["name"], "Ada");
    assert_eq!(created["messages"], json!([]));
    let agent_view = app.conversation(display_id).await;
    assert_eq!(agent_view["custom_attributes"]["order"], 7);
    assert_eq!(agent_view["additional_attributes"], json!({}));

    let list = public_get(&app, &conversations).await.expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], display_id);
    let one = format!("{conversations}/{display_id}");
    assert_eq!(
        public_get(&app, &one).await.expect(200)["uuid"],
        created["uuid"]
    );

    // Typing: an empty 200 either way; unknown values do nothing.
    for status in ["on", "off", "sideways"] {
        let reply = public_post(
            &app,
            &format!("{one}/toggle_typing"),
            json!({"typing_status": status}),
        )
        .await;
        assert_eq!(reply.expect(200), Value::Null);
    }

    let reply = app.message(display_id, json!({"content": "Hi Ada"})).await;
    assert_eq!(reply["status"], "sent");
    public_post(&app, &format!("{one}/update_last_seen"), json!({}))
        .await
        .expect(200);
    let seen = public_get(&app, &one).await.expect(200);
    assert!(seen["contact_last_seen_at"].as_i64().unwrap() > 0);
    assert_eq!(seen["messages"][0]["content"], "Hi Ada");
    let read = app.messages(display_id).await;
    let read = read.iter().find(|m| m["id"] == reply["id"]).unwrap();
    assert_eq!(read["status"], "read", "what the contact saw is read");

    let resolved = public_post(&app, &format!("{one}/toggle_status"), json!({}))
        .await
        .expect(200);
    assert_eq!(resolved["status"], "resolved");
    let again = public_post(&app, &format!("{one}/toggle_status"), json!({}))
        .await
        .expect(200);
    assert_eq!(
        again["status"], "resolved",
        "resolving twice changes nothing"
    );
    assert_eq!(
        app.activity(display_id).await,
        ["Conversation was resolved by Ada"]
    );

    assert_not_found(public_get(&app, &format!("{conversations}/99999")).await);
    assert_not_found(public_get(&app, &format!("{conversations}/abc")).await);
}

#[tokio::test]
async fn other_inboxes_and_other_contacts_are_not_found() {
    let app = spawn_app().await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let second = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({"name": "Second", "channel": {"type": "api"}}),
        )
        .await
        .expect(200);
    let other_identifier = second["inbox_identifier"].as_str().unwrap().to_string();

    let mine = new_client(&app, &identifier, json!({"name": "Mine"})).await;
    let theirs = new_client(&app, &identifier, json!({"name": "Theirs"})).await;
    let their_conversation = new_conversation(&app, &identifier, &theirs).await;
    let my_conversation = new_conversation(&app, &identifier, &mine).await;

    // My source id through another inbox's identifier.
    assert_not_found(
        public_get(
            &app,
            &format!("{}/contacts/{mine}", base(&other_identifier)),
        )
        .await,
    );
    assert_not_found(
        public_get(
            &app,
            &format!(
                "{}/contacts/{mine}/conversations/{my_conversation}",
                base(&other_identifier)
            ),
        )
        .await,
    );
    // Another contact's conversation, every route.
    let foreign = format!(
        "{}/contacts/{mine}/conversations/{their_conversation}",
        base(&identifier)
    );
    assert_not_found(public_get(&app, &foreign).await);
    assert_not_found(public_get(&app, &format!("{foreign}/messages")).await);
    assert_not_found(
        public_post(
            &app,
            &format!("{foreign}/messages"),
            json!({"content": "hi"}),
        )
        .await,
    );
    assert_not_found(public_post(&app, &format!("{foreign}/toggle_status"), json!({})).await);
    assert_not_found(
        public_post(
            &app,
            &format!("{foreign}/toggle_typing"),
            json!({"typing_status": "on"}),
        )
        .await,
    );
    assert_not_found(public_post(&app, &format!("{foreign}/update_last_seen"), json!({})).await);
    let mine_list = public_get(
        &app,
        &format!("{}/contacts/{mine}/conversations", base(&identifier)),
    )
    .await
    .expect(200);
    assert_eq!(mine_list.as_array().unwrap().len(), 1);
    assert_eq!(mine_list[0]["id"], my_conversation);
    // Nothing changed on their conversation.
    assert_eq!(app.conversation(their_conversation).await["status"], "open");
    assert_eq!(app.messages(their_conversation).await.len(), 0);
}

#[tokio::test]
async fn a_contacts_message_is_incoming_and_reopens_a_resolved_conversation() {
    let app = spawn_app().await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let (source, contact_id) =
        new_client_and_contact(&app, &identifier, json!({"name": "Ada"})).await;
    let display_id = new_conversation(&app, &identifier, &source).await;
    let one = format!(
        "{}/contacts/{source}/conversations/{display_id}",
        base(&identifier)
    );
    app.post(
        &format!("/api/v1/accounts/1/conversations/{display_id}/toggle_status"),
        json!({"status": "resolved"}),
    )
    .await
    .expect(200);

    let message = public_post(
        &app,
        &format!("{one}/messages"),
        json!({"content": "Hello?", "echo_id": "e-1", "message_type": "outgoing", "private": true}),
    )
    .await
    .expect(200);
    assert_eq!(message["content"], "Hello?");
    assert_eq!(message["message_type"], 0);
    assert_eq!(message["conversation_id"], display_id);
    assert_eq!(message["content_type"], "text");
    assert!(message["created_at"].is_i64());
    assert_eq!(message["sender"]["id"], contact_id);
    assert_eq!(message["sender"]["type"], "contact");

    let agent_view = app.conversation(display_id).await;
    assert_eq!(agent_view["status"], "open");
    assert_eq!(agent_view["unread_count"], 1);
    let messages = app.messages(display_id).await;
    let last = messages.last().unwrap();
    assert_eq!(last["message_type"], 0);
    assert_eq!(last["private"], false);
    assert_eq!(last["sender"]["type"], "contact");

    // An agent's reply, a private note and activity: the client sees only the reply.
    app.message(display_id, json!({"content": "Hi Ada"})).await;
    app.message(display_id, json!({"content": "internal", "private": true}))
        .await;
    let listed = public_get(&app, &format!("{one}/messages"))
        .await
        .expect(200);
    let contents: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["Hello?", "Hi Ada"]);
    assert_eq!(listed[1]["message_type"], 1);
    let before = listed[1]["id"].as_i64().unwrap();
    let older = public_get(&app, &format!("{one}/messages?before={before}"))
        .await
        .expect(200);
    assert_eq!(older.as_array().unwrap().len(), 1);
    assert_eq!(older[0]["content"], "Hello?");
    public_get(&app, &format!("{one}/messages?before=abc"))
        .await
        .expect(422);
    let conversation = public_get(&app, &one).await.expect(200);
    assert_eq!(conversation["messages"].as_array().unwrap().len(), 2);

    // Empty messages are refused.
    public_post(&app, &format!("{one}/messages"), json!({"content": "  "}))
        .await
        .expect(422);

    // Answers to a form land in content_attributes.submitted_values.
    let id = message["id"].as_i64().unwrap();
    let answered = public_patch(
        &app,
        &format!("{one}/messages/{id}"),
        json!({"submitted_values": [{"name": "email", "value": "a@b.c"}]}),
    )
    .await
    .expect(200);
    assert_eq!(
        answered["content_attributes"]["submitted_values"][0]["value"],
        "a@b.c"
    );
    public_patch(
        &app,
        &format!("{one}/messages/{id}"),
        json!({"submitted_values": "nope"}),
    )
    .await
    .expect(422);
    assert_not_found(public_patch(&app, &format!("{one}/messages/999999"), json!({})).await);
}

#[tokio::test]
async fn a_contacts_message_reaches_the_webhook_as_the_contacts_incoming_message() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    app.post(
        "/api/v1/accounts/1/webhooks",
        json!({"webhook": {"url": receiver.url("/hook"),
                            "subscriptions": ["message_created", "conversation_typing_on"]}}),
    )
    .await
    .expect(200);
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let (source, contact_id) =
        new_client_and_contact(&app, &identifier, json!({"name": "Ada"})).await;
    let display_id = new_conversation(&app, &identifier, &source).await;
    public_post(
        &app,
        &format!(
            "{}/contacts/{source}/conversations/{display_id}/messages",
            base(&identifier)
        ),
        json!({"content": "From the client"}),
    )
    .await
    .expect(200);
    public_post(
        &app,
        &format!(
            "{}/contacts/{source}/conversations/{display_id}/toggle_typing",
            base(&identifier)
        ),
        json!({"typing_status": "on"}),
    )
    .await
    .expect(200);
    let typing = receiver
        .wait_for_event("/hook", "conversation_typing_on")
        .await
        .json();
    // The contact as Contact#webhook_data shows it (which has no `type`).
    assert_eq!(typing["user"]["id"], contact_id);
    assert_eq!(typing["user"]["name"], "Ada");
    assert_eq!(typing["conversation"]["id"], display_id);
    let received = receiver.wait_for_event("/hook", "message_created").await;
    let payload = received.json();
    assert_eq!(payload["content"], "From the client");
    assert_eq!(payload["message_type"], "incoming");
    assert_eq!(
        payload["performed_by"],
        json!({"type": "contact", "id": contact_id})
    );
    assert_eq!(payload["sender"]["id"], contact_id);
}

#[tokio::test]
async fn a_contact_sends_attachments_as_multipart() {
    let app = spawn_app().await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let source = new_client(&app, &identifier, json!({"name": "Ada"})).await;
    let display_id = new_conversation(&app, &identifier, &source).await;
    let path = format!(
        "{}/contacts/{source}/conversations/{display_id}/messages",
        base(&identifier)
    );
    let form = Form::new().text("content", "see file").part(
        "attachments[]",
        Part::bytes(b"hello file".to_vec())
            .file_name("note.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let response = app
        .request(Method::POST, &path, None)
        .multipart(form)
        .send()
        .await
        .expect("request sent");
    let message = Reply::from(response).await.expect(200);
    assert_eq!(message["content"], "see file");
    assert_eq!(message["message_type"], 0);
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["file_type"], "file");
    let url = attachments[0]["data_url"].as_str().unwrap();
    let body = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "hello file");
}

#[tokio::test]
async fn a_contacts_message_wakes_a_snooze_that_waits_for_it() {
    let app = spawn_app().await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let source = new_client(&app, &identifier, json!({"name": "Ada"})).await;
    let display_id = new_conversation(&app, &identifier, &source).await;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{display_id}/toggle_status"),
        json!({"status": "snoozed"}),
    )
    .await
    .expect(200);
    assert_eq!(app.conversation(display_id).await["status"], "snoozed");
    let path = format!(
        "{}/contacts/{source}/conversations/{display_id}/messages",
        base(&identifier)
    );
    public_post(&app, &path, json!({"content": "Any news?"}))
        .await
        .expect(200);
    let conversation = app.conversation(display_id).await;
    assert_eq!(conversation["status"], "open");
    assert_eq!(conversation["snoozed_until"], Value::Null);
    assert!(
        conversation["waiting_since"].as_i64().unwrap_or(0) > 0,
        "{conversation}"
    );
}

#[tokio::test]
async fn browsers_on_any_page_may_call_the_client_api_without_credentials() {
    let app = spawn_app().await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let url = app.url(&format!("/public/api/v1/inboxes/{identifier}/contacts"));
    let preflight = app
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", "https://shop.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(headers.get("access-control-allow-credentials").is_none());

    let created = app
        .client
        .post(&url)
        .header("Origin", "https://shop.example.com")
        .json(&serde_json::json!({"name": "Browser visitor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    assert_eq!(created.headers()["access-control-allow-origin"], "*");
    // The application API is not opened to other pages.
    let private = app
        .client
        .get(app.url("/api/v1/accounts/1/conversations"))
        .header("Origin", "https://shop.example.com")
        .header("api_access_token", crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(private
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn one_address_past_the_client_api_limit_gets_429_with_retry_after_and_others_go_on() {
    let app = crate::helpers::spawn_configured(wootlite::clock::Clock::system(), |s| {
        s.public_rate_limit = 5
    })
    .await;
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let path = format!("/public/api/v1/inboxes/{identifier}");
    for _ in 0..5 {
        public_get(&app, &path).await.expect(200);
    }
    let limited = app
        .client
        .get(app.url(&path))
        .header("Origin", "https://shop.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&wait), "{wait}");
    // The browser can read the refusal.
    assert_eq!(limited.headers()["access-control-allow-origin"], "*");
    let body: Value = limited.json().await.unwrap();
    assert!(error_of(&body).contains("Too many requests"), "{body}");
    // The application API is not limited by it.
    app.get("/api/v1/accounts/1/inboxes").await.expect(200);
}

#[tokio::test]
async fn listed_origins_may_call_the_application_api_and_others_may_not() {
    let app = spawn_configured(Clock::system(), |settings| {
        settings.cors_origins = vec!["https://desk.example.com".into()];
    })
    .await;
    let url = app.url("/api/v1/accounts/1/conversations");
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "api_access_token")
            .send()
    };
    let listed = preflight("https://desk.example.com").await.unwrap();
    assert!(listed.status().is_success(), "{}", listed.status());
    assert_eq!(
        listed.headers()["access-control-allow-origin"],
        "https://desk.example.com"
    );
    let other = preflight("https://elsewhere.example.com").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let read = app
        .client
        .get(&url)
        .header("Origin", "https://desk.example.com")
        .header("api_access_token", crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.headers()["access-control-allow-origin"],
        "https://desk.example.com"
    );
    // The Client API still welcomes every page.
    let (identifier, _) = inbox_credentials(&app, 1).await;
    let inbox = app
        .client
        .get(app.url(&format!("/public/api/v1/inboxes/{identifier}")))
        .header("Origin", "https://elsewhere.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.headers()["access-control-allow-origin"], "*");
}
