//! Event payloads, built straight from the database the API wrote: every field Chatwoot sends,
//! with Chatwoot's JSON types.

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use wootlite::db::Conn;

use wootlite::events::payloads::{self, Subject, TypingUser};
use wootlite::views::conversations::Links;

use crate::helpers::{spawn_app, TestApp, ADMIN_TOKEN};

const BASE: &str = "/api/v1/accounts/1/conversations";

fn links(app: &TestApp) -> Links {
    Links {
        base_url: app.address.clone(),
    }
}

fn one<T: wootlite::db::Column>(conn: &Conn, sql: &str, id: i64) -> T {
    conn.query_row(sql, [id], |row| row.get(0)).unwrap()
}

/// The row id of account 1's conversation with this display id.
fn row_id(conn: &Conn, display_id: i64) -> i64 {
    one(
        conn,
        "SELECT id FROM conversations WHERE account_id = 1 AND display_id = ?1",
        display_id,
    )
}

/// Runs `check` on the server's database, on either engine.
fn with_conn<T: Send>(app: &TestApp, check: impl FnOnce(&Conn) -> T + Send) -> T {
    app.read(|conn| Ok(check(conn)))
}

/// Makes a state the API cannot make yet: one statement on one row, beside the server.
fn write_row(app: &TestApp, sql: &'static str, id: i64) {
    app.db().write_now(|tx| Ok(tx.execute(sql, [id])?)).unwrap();
}

/// Every object key anywhere in `value`.
fn all_keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                out.push(key.clone());
                all_keys(inner, out);
            }
        }
        Value::Array(list) => list.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

fn keys_of(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Rails' time JSON: ISO 8601 in UTC with milliseconds.
fn assert_iso_millis(value: &Value, micros: i64) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    let at = chrono::DateTime::parse_from_rfc3339(text).unwrap();
    assert!(text.ends_with('Z') && text.len() == 24, "{text}");
    assert_eq!(at.timestamp_millis(), micros.div_euclid(1000), "{text}");
}

/// A conversation in a second account comes first, so that in account 1 row ids and display
/// ids differ.
async fn conversation_elsewhere(app: &TestApp) {
    let other = app.create_account("Elsewhere", "owner@elsewhere.example");
    let base = format!("/api/v1/accounts/{}", other.account_id);
    let contact = json!({ "name": "Far", "inbox_id": other.inbox_id, "source_id": "far-away" });
    app.send(
        Method::POST,
        &format!("{base}/contacts"),
        &other.token,
        Some(contact),
    )
    .await
    .expect(200);
    app.send(
        Method::POST,
        &format!("{base}/conversations"),
        &other.token,
        Some(json!({ "source_id": "far-away" })),
    )
    .await
    .expect(200);
}

/// What `busy_conversation` made.
struct Busy {
    display_id: i64,
    contact_id: i64,
    agent_id: i64,
    team_id: i64,
    incoming_id: i64,
    reply_id: i64,
    note_id: i64,
}

/// A conversation with a team, an assignee, labels, a priority, a snooze, an incoming message,
/// an agent's reply and a private note after it.
async fn busy_conversation(app: &TestApp) -> Busy {
    conversation_elsewhere(app).await;
    let (agent_id, _) = app.create_agent("Ravi", "ravi@example.com").await;
    let team = app
        .post("/api/v1/accounts/1/teams", json!({ "name": "tier2" }))
        .await
        .expect(200);
    let team_id = team["id"].as_i64().unwrap();
    let conversation = app.create_conversation(json!({})).await;
    let display_id = conversation["id"].as_i64().unwrap();
    let contact_id = conversation["meta"]["sender"]["id"].as_i64().unwrap();
    let path = |action: &str| format!("{BASE}/{display_id}/{action}");
    app.post(&path("assignments"), json!({ "team_id": team_id }))
        .await
        .expect(200);
    app.post(&path("assignments"), json!({ "assignee_id": agent_id }))
        .await
        .expect(200);
    app.post(&path("labels"), json!({ "labels": ["billing", "vip"] }))
        .await
        .expect(200);
    app.post(&path("toggle_priority"), json!({ "priority": "high" }))
        .await
        .expect(200);
    let incoming = app
        .message(
            display_id,
            json!({ "content": "hello", "message_type": "incoming" }),
        )
        .await;
    let reply = app
        .message(display_id, json!({ "content": "hi there" }))
        .await;
    let note = app
        .message(
            display_id,
            json!({ "content": "internal", "private": true }),
        )
        .await;
    app.post(
        &path("toggle_status"),
        json!({ "status": "snoozed", "snoozed_until": 4102444800i64 }),
    )
    .await
    .expect(200);
    Busy {
        display_id,
        contact_id,
        agent_id,
        team_id,
        incoming_id: incoming["id"].as_i64().unwrap(),
        reply_id: reply["id"].as_i64().unwrap(),
        note_id: note["id"].as_i64().unwrap(),
    }
}

#[tokio::test]
async fn the_conversation_payload_has_chatwoots_fields_and_mixed_time_formats() {
    let app = spawn_app().await;
    let busy = busy_conversation(&app).await;
    with_conn(&app, |conn| {
        let id = row_id(conn, busy.display_id);
        assert_ne!(
            id, busy.display_id,
            "the test needs row and display ids apart"
        );
        let payload = payloads::webhook_of(conn, &links(&app), Subject::Conversation(id)).unwrap();

        assert_eq!(payload["id"], busy.display_id);
        assert!(payload.get("event").is_none());
        assert!(payload.get("changed_attributes").is_none());
        assert_eq!(payload["inbox_id"], 1);
        assert_eq!(payload["status"], "snoozed");
        assert_eq!(payload["priority"], "high");
        assert_eq!(payload["labels"], json!(["billing", "vip"]));
        assert_eq!(payload["can_reply"], true);
        assert_eq!(payload["channel"], "Channel::Api");
        assert!(payload["additional_attributes"].is_object());
        assert!(payload["custom_attributes"].is_object());
        assert_eq!(
            payload["unread_count"], 1,
            "one incoming message, never seen"
        );

        // Epoch seconds, a float updated_at, ISO strings for the snooze and the first reply.
        let (created, updated, activity, first_reply): (i64, i64, i64, i64) = conn
            .query_row(
                "SELECT created_at, updated_at, last_activity_at, first_reply_created_at
               FROM conversations WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(payload["created_at"], created / 1_000_000);
        assert!(payload["created_at"].is_i64());
        assert_eq!(payload["last_activity_at"], activity / 1_000_000);
        assert_eq!(payload["timestamp"], payload["last_activity_at"]);
        for key in [
            "agent_last_seen_at",
            "contact_last_seen_at",
            "waiting_since",
        ] {
            assert_eq!(
                payload[key], 0,
                "{key} is unset, and Chatwoot's nil.to_i is 0"
            );
        }
        assert!(payload["updated_at"].is_f64(), "{}", payload["updated_at"]);
        let seconds = payload["updated_at"].as_f64().unwrap();
        assert!((seconds - updated as f64 / 1e6).abs() < 1e-5);
        assert_eq!(payload["snoozed_until"], "2100-01-01T00:00:00.000Z");
        assert_iso_millis(&payload["first_reply_created_at"], first_reply);

        // The contact inbox record, less its pubsub token.
        let contact_inbox = &payload["contact_inbox"];
        assert_eq!(
            keys_of(contact_inbox),
            vec![
                "contact_id",
                "created_at",
                "hmac_verified",
                "id",
                "inbox_id",
                "source_id",
                "updated_at"
            ]
        );
        assert_eq!(contact_inbox["contact_id"], busy.contact_id);
        assert_eq!(contact_inbox["inbox_id"], 1);
        assert!(contact_inbox["source_id"]
            .as_str()
            .unwrap()
            .starts_with("src-"));
        assert_eq!(contact_inbox["hmac_verified"], false);
        assert!(contact_inbox["created_at"].is_string());

        let meta = &payload["meta"];
        assert_eq!(meta["sender"]["id"], busy.contact_id);
        assert_eq!(meta["sender"]["type"], "contact");
        assert_eq!(meta["assignee"]["id"], busy.agent_id);
        assert_eq!(meta["assignee"]["name"], "Ravi");
        assert_eq!(meta["assignee"]["type"], "user");
        assert_eq!(meta["assignee_type"], "User");
        assert_eq!(meta["team"], json!({ "id": busy.team_id, "name": "tier2" }));
        assert_eq!(meta["hmac_verified"], false);

        // The newest public message: the reply, not the later private note or the snooze activity.
        let messages = payload["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 1);
        let last = &messages[0];
        assert_eq!(last["id"], busy.reply_id);
        assert_eq!(last["message_type"], 1);
        assert!(last["message_type"].is_i64());
        assert!(last["created_at"].is_i64());
        assert!(last["updated_at"].is_string());
        assert_eq!(last["private"], false);
        assert_eq!(last["status"], "sent");
        assert_eq!(last["conversation_id"], busy.display_id);
        assert_eq!(last["sender"]["type"], "user");
        assert_eq!(
            last["conversation"]["contact_inbox"]["source_id"],
            contact_inbox["source_id"]
        );

        let account_name: String = one(conn, "SELECT name FROM accounts WHERE id = ?1", 1);
        assert_eq!(payload["account"], json!({ "id": 1, "name": account_name }));
        let mut keys = Vec::new();
        all_keys(&payload, &mut keys);
        assert!(!keys.iter().any(|k| k == "pubsub_token"), "{keys:?}");
    });
}

#[tokio::test]
async fn a_private_note_payload_is_the_note_while_its_conversation_shows_the_latest_public_message()
{
    let app = spawn_app().await;
    let busy = busy_conversation(&app).await;
    with_conn(&app, |conn| {
        let payload =
            payloads::webhook_of(conn, &links(&app), Subject::Message(busy.note_id)).unwrap();

        assert_eq!(payload["id"], busy.note_id);
        assert!(payload.get("event").is_none());
        assert_eq!(payload["content"], "internal");
        assert_eq!(payload["private"], true);
        assert_eq!(payload["message_type"], "outgoing");
        assert_eq!(payload["content_type"], "text");
        assert!(payload["content_attributes"].is_object());
        assert!(payload["additional_attributes"].is_object());
        assert_eq!(payload["source_id"], Value::Null);
        assert_eq!(payload["status"], "sent");
        assert!(payload.get("echo_id").is_none());
        assert!(
            payload.get("attachments").is_none(),
            "only present when there are any"
        );
        let created: i64 = one(
            conn,
            "SELECT created_at FROM messages WHERE id = ?1",
            busy.note_id,
        );
        assert_iso_millis(&payload["created_at"], created);

        let (name, email): (String, String) = conn
            .query_row("SELECT name, email FROM users WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            payload["sender"],
            json!({ "id": 1, "name": name, "email": email, "type": "user" })
        );
        let inbox_name: String = one(conn, "SELECT name FROM inboxes WHERE id = ?1", 1);
        assert_eq!(payload["inbox"], json!({ "id": 1, "name": inbox_name }));
        let account_name: String = one(conn, "SELECT name FROM accounts WHERE id = ?1", 1);
        assert_eq!(payload["account"], json!({ "id": 1, "name": account_name }));

        let conversation = &payload["conversation"];
        assert_eq!(conversation["id"], busy.display_id);
        assert_eq!(conversation["account"]["id"], 1);
        assert_eq!(conversation["messages"][0]["id"], busy.reply_id);
        assert_eq!(conversation["messages"][0]["message_type"], 1);

        // The reply's own payload nests itself as the latest message.
        let reply =
            payloads::webhook_of(conn, &links(&app), Subject::Message(busy.reply_id)).unwrap();
        assert_eq!(reply["private"], false);
        assert_eq!(reply["conversation"]["messages"][0]["id"], busy.reply_id);
        assert_eq!(
            reply["conversation"]["messages"][0]["content"],
            reply["content"]
        );
    });
}

#[tokio::test]
async fn an_incoming_message_payload_has_the_contact_as_sender() {
    let app = spawn_app().await;
    let busy = busy_conversation(&app).await;
    with_conn(&app, |conn| {
        let payload =
            payloads::webhook_of(conn, &links(&app), Subject::Message(busy.incoming_id)).unwrap();
        assert_eq!(payload["message_type"], "incoming");
        assert_eq!(payload["private"], false);
        let sender = &payload["sender"];
        assert_eq!(sender["id"], busy.contact_id);
        assert_eq!(sender["name"], "Customer");
        assert_eq!(sender["account"]["id"], 1);
        assert_eq!(sender["avatar"], "");
        assert!(
            sender.get("type").is_none(),
            "the contact's webhook_data has no type"
        );
        assert_eq!(payload["conversation"]["messages"][0]["id"], busy.reply_id);
    });
}

async fn post_with_file(app: &TestApp, display_id: i64) -> Value {
    let form = Form::new().text("content", "see file").part(
        "attachments[]",
        Part::bytes(b"PDFDATA".to_vec())
            .file_name("doc.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let response = app
        .request(
            Method::POST,
            &format!("{BASE}/{display_id}/messages"),
            Some(ADMIN_TOKEN),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_message_payload_carries_attachments_status_and_echo_id() {
    let app = spawn_app().await;
    let conversation = app.create_conversation(json!({})).await;
    let display_id = conversation["id"].as_i64().unwrap();
    let message = post_with_file(&app, display_id).await;
    let message_id = message["id"].as_i64().unwrap();

    let payload = with_conn(&app, |conn| {
        payloads::webhook_of(conn, &links(&app), Subject::Message(message_id))
    })
    .unwrap();
    let attachments = payload["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    let file = &attachments[0];
    assert_eq!(file["message_id"], message_id);
    assert_eq!(file["account_id"], 1);
    assert_eq!(file["file_type"], "file");
    assert_eq!(file["file_size"], 7);
    assert_eq!(file["data_url"], message["attachments"][0]["data_url"]);
    assert!(file["data_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/files/", app.address)));
    assert_eq!(
        payload["conversation"]["messages"][0]["attachments"][0]["id"],
        file["id"]
    );

    app.patch(
        &format!("{BASE}/{display_id}/messages/{message_id}"),
        json!({ "status": "failed", "external_error": "bounced" }),
    )
    .await
    .expect(200);
    write_row(
        &app,
        "UPDATE messages SET echo_id = 'client-7' WHERE id = ?1",
        message_id,
    );
    let payload = with_conn(&app, |conn| {
        payloads::webhook_of(conn, &links(&app), Subject::Message(message_id))
    })
    .unwrap();
    assert_eq!(payload["status"], "failed");
    assert_eq!(payload["content_attributes"]["external_error"], "bounced");
    assert_eq!(payload["echo_id"], "client-7");
}

#[tokio::test]
async fn a_message_from_an_agent_bot_that_cannot_be_found_has_a_null_sender() {
    let app = spawn_app().await;
    let conversation = app.create_conversation(json!({})).await;
    let display_id = conversation["id"].as_i64().unwrap();
    let message = app.message(display_id, json!({ "content": "beep" })).await;
    let message_id = message["id"].as_i64().unwrap();
    write_row(
        &app,
        "UPDATE messages SET sender_type = 'AgentBot', sender_id = 987654 WHERE id = ?1",
        message_id,
    );
    let payload = with_conn(&app, |conn| {
        payloads::webhook_of(conn, &links(&app), Subject::Message(message_id))
    })
    .unwrap();
    assert_eq!(payload["sender"], Value::Null);
    assert_eq!(payload["message_type"], "outgoing");
    let nested = &payload["conversation"]["messages"][0];
    assert_eq!(nested["id"], message_id);
    assert_eq!(nested["sender_type"], "AgentBot");
    assert!(nested.get("sender").is_none());
}

#[tokio::test]
async fn the_contact_payload_is_its_webhook_data_with_the_account_and_no_type() {
    let app = spawn_app().await;
    let contact = app
        .post(
            "/api/v1/accounts/1/contacts",
            json!({
                "name": "Ada", "email": "ada@example.com", "phone_number": "+15550100",
                "identifier": "ada-1", "inbox_id": 1, "source_id": "ada-src",
                "custom_attributes": { "plan": "pro" },
                "additional_attributes": { "city": "London" },
            }),
        )
        .await
        .expect(200);
    let id = contact["payload"]["contact"]["id"].as_i64().unwrap();
    with_conn(&app, |conn| {
        let payload = payloads::webhook_of(conn, &links(&app), Subject::Contact(id)).unwrap();
        assert_eq!(
            keys_of(&payload),
            vec![
                "account",
                "additional_attributes",
                "avatar",
                "blocked",
                "custom_attributes",
                "email",
                "id",
                "identifier",
                "name",
                "phone_number",
                "thumbnail"
            ]
        );
        let account_name: String = one(conn, "SELECT name FROM accounts WHERE id = ?1", 1);
        assert_eq!(payload["account"], json!({ "id": 1, "name": account_name }));
        assert_eq!(payload["id"], id);
        assert_eq!(payload["name"], "Ada");
        assert_eq!(payload["email"], "ada@example.com");
        assert_eq!(payload["phone_number"], "+15550100");
        assert_eq!(payload["identifier"], "ada-1");
        assert_eq!(payload["custom_attributes"], json!({ "plan": "pro" }));
        assert_eq!(payload["additional_attributes"]["city"], "London");
        assert_eq!(payload["avatar"], "");
        assert_eq!(payload["thumbnail"], "");
        assert_eq!(payload["blocked"], false);
    });
}

#[tokio::test]
async fn the_inbox_payload_has_its_settings_and_channel_but_no_secret() {
    let app = spawn_app().await;
    let inbox = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "name": "Support", "channel": { "type": "api", "webhook_url": "https://example.com/hook" } }),
        )
        .await
        .expect(200);
    let id = inbox["id"].as_i64().unwrap();
    with_conn(&app, |conn| {
        let payload = payloads::webhook_of(conn, &links(&app), Subject::Inbox(id)).unwrap();

        assert_eq!(payload["id"], id);
        assert_eq!(payload["name"], "Support");
        assert_eq!(payload["sender_name_type"], "friendly");
        assert_eq!(payload["timezone"], "UTC");
        assert_eq!(payload["enable_auto_assignment"], true);
        assert!(payload["auto_assignment_config"].is_object());
        assert_eq!(payload["working_hours"].as_array().unwrap().len(), 7);
        let created: i64 = one(conn, "SELECT created_at FROM inboxes WHERE id = ?1", id);
        assert_iso_millis(&payload["created_at"], created);
        assert!(payload["updated_at"].is_string());
        let channel = &payload["channel"];
        assert_eq!(channel["webhook_url"], "https://example.com/hook");
        assert_eq!(channel["identifier"], inbox["inbox_identifier"]);
        assert_eq!(channel["hmac_mandatory"], false);
        let account_name: String = one(conn, "SELECT name FROM accounts WHERE id = ?1", 1);
        assert_eq!(payload["account"], json!({ "id": 1, "name": account_name }));

        let mut keys = Vec::new();
        all_keys(&payload, &mut keys);
        for secret in ["secret", "hmac_token", "pubsub_token"] {
            assert!(!keys.iter().any(|k| k == secret), "{secret} in {payload}");
        }
        let hmac_token: String = one(conn, "SELECT hmac_token FROM inboxes WHERE id = ?1", id);
        assert!(!payload.to_string().contains(&hmac_token));
    });
}

#[tokio::test]
async fn typing_payloads_name_the_actor_by_kind() {
    let app = spawn_app().await;
    let busy = busy_conversation(&app).await;
    with_conn(&app, |conn| {
        let id = row_id(conn, busy.display_id);
        let links = links(&app);
        let data = wootlite::store::event_data::conversation(conn, id, None).unwrap();

        let agent =
            payloads::typing(conn, &links, &data, TypingUser::Agent(busy.agent_id), true).unwrap();
        assert_eq!(keys_of(&agent), vec!["conversation", "is_private", "user"]);
        assert_eq!(
            agent["user"],
            json!({ "id": busy.agent_id, "name": "Ravi", "email": "ravi@example.com", "type": "user" })
        );
        assert_eq!(agent["is_private"], true);
        assert_eq!(agent["conversation"]["id"], busy.display_id);
        assert_eq!(agent["conversation"]["messages"][0]["id"], busy.reply_id);

        let admin = payloads::typing(conn, &links, &data, TypingUser::Agent(1), false).unwrap();
        assert_eq!(admin["user"]["id"], 1);
        assert_eq!(admin["user"]["type"], "user");
        assert_eq!(admin["is_private"], false);

        let contact = payloads::typing(
            conn,
            &links,
            &data,
            TypingUser::Contact(busy.contact_id),
            false,
        )
        .unwrap();
        assert_eq!(contact["user"]["id"], busy.contact_id);
        assert_eq!(contact["user"]["account"]["id"], 1);
        assert!(contact["user"].get("type").is_none());

        let bot = payloads::typing(conn, &links, &data, TypingUser::Bot(987654), false).unwrap();
        assert_eq!(bot["user"], Value::Null);
    });
}

#[tokio::test]
async fn a_missing_row_is_not_found() {
    let app = spawn_app().await;
    with_conn(&app, |conn| {
        let links = links(&app);
        assert!(matches!(
            payloads::webhook_of(conn, &links, Subject::Conversation(999)),
            Err(wootlite::store::StoreError::NotFound)
        ));
        assert!(matches!(
            payloads::webhook_of(conn, &links, Subject::Message(999)),
            Err(wootlite::store::StoreError::NotFound)
        ));
        assert!(matches!(
            payloads::webhook_of(conn, &links, Subject::Contact(999)),
            Err(wootlite::store::StoreError::NotFound)
        ));
        assert!(matches!(
            payloads::webhook_of(conn, &links, Subject::Inbox(999)),
            Err(wootlite::store::StoreError::NotFound)
        ));
    });
}
