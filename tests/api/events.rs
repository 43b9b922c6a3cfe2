//! Events out: account webhooks and API inboxes receive Chatwoot's events from real HTTP
//! receivers' point of view: the catalogue, the payload fields, the signature, the subscription
//! filter, per-conversation order, retries on the manual clock, failure handling, SSRF refusal,
//! and the backlog in `/health`.

use std::collections::HashMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{eventually, spawn_app, spawn_app_with, spawn_configured, TestApp};
use crate::receiver::{Answer, Received, Receiver};
use wootlite::clock::Clock;

use wootlite::events::WEBHOOK_EVENTS as ALL_EVENTS;

const WAIT: Duration = Duration::from_secs(20);

/// 2026-06-01T00:00:00Z, for servers on the manual clock.
const START: i64 = 1_780_272_000_000_000;

async fn subscribe(app: &TestApp, url: &str, events: &[&str]) -> Value {
    app.post(
        "/api/v1/accounts/1/webhooks",
        json!({"webhook": {"url": url, "subscriptions": events}}),
    )
    .await
    .expect(200)["payload"]["webhook"]
        .clone()
}

/// The signature checked the way a receiver checks it: HMAC-SHA256 with the secret over
/// `<timestamp>.<raw body>`, compared with the header.
fn assert_signed(received: &Received, secret: &str) {
    let timestamp = received.header("x-chatwoot-timestamp");
    assert!(timestamp.parse::<i64>().is_ok(), "timestamp {timestamp:?}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(received.header("x-chatwoot-signature"), expected);
    assert_eq!(received.header("content-type"), "application/json");
    let delivery = received.header("x-chatwoot-delivery");
    assert_eq!(delivery.len(), 36, "delivery id {delivery:?}");
}

fn changed(payload: &Value) -> HashMap<String, Value> {
    payload["changed_attributes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changed_attributes in {payload}"))
        .iter()
        .map(|entry| {
            let map = entry.as_object().unwrap();
            assert_eq!(map.len(), 1, "one key per entry: {entry}");
            let (key, value) = map.iter().next().unwrap();
            (key.clone(), value.clone())
        })
        .collect()
}

fn assert_conversation_shape(conversation: &Value, display_id: i64) {
    assert_eq!(conversation["id"], display_id);
    assert!(conversation["inbox_id"].is_i64());
    assert!(conversation["status"].is_string());
    assert!(conversation["created_at"].is_i64(), "{conversation}");
    assert!(conversation["timestamp"].is_i64());
    assert!(conversation["updated_at"].is_f64());
    assert!(conversation["labels"].is_array());
    assert!(conversation["meta"]["sender"]["id"].is_i64());
    assert_eq!(conversation["account"]["id"], 1);
    assert!(conversation["account"]["name"].is_string());
    assert!(conversation["contact_inbox"].get("pubsub_token").is_none());
}

#[tokio::test]
async fn a_webhook_subscribed_to_everything_receives_the_catalogue_signed_and_in_chatwoots_shape() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let webhook = subscribe(&app, &receiver.url("/all"), &ALL_EVENTS).await;
    let secret = webhook["secret"].as_str().unwrap().to_string();

    let contact_id = app.create_contact("Ada", "ada-source").await;
    let created = receiver.wait_for_event("/all", "contact_created").await;
    let payload = created.json();
    assert_eq!(payload["id"], contact_id);
    assert_eq!(payload["name"], "Ada");
    assert_eq!(payload["account"]["id"], 1);
    assert!(
        payload.get("type").is_none(),
        "Contact#webhook_data has no type"
    );
    assert_eq!(payload["performed_by"], json!({"type": "user", "id": 1}));
    assert_signed(&created, &secret);

    app.patch(
        &format!("/api/v1/accounts/1/contacts/{contact_id}"),
        json!({"name": "Ada L."}),
    )
    .await
    .expect(200);
    let updated = receiver
        .wait_for_event("/all", "contact_updated")
        .await
        .json();
    assert_eq!(
        changed(&updated)["name"],
        json!({"previous_value": "Ada", "current_value": "Ada L."})
    );

    let inbox = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({"name": "Second", "channel": {"type": "api"}}),
        )
        .await
        .expect(200);
    let inbox_created = receiver
        .wait_for_event("/all", "inbox_created")
        .await
        .json();
    assert_eq!(inbox_created["id"], inbox["id"]);
    assert_eq!(inbox_created["name"], "Second");
    for secret_key in ["hmac_token", "secret"] {
        assert!(!inbox_created
            .to_string()
            .contains(&format!("\"{secret_key}\"")));
    }
    app.patch(
        &format!("/api/v1/accounts/1/inboxes/{}", inbox["id"]),
        json!({"name": "Second line"}),
    )
    .await
    .expect(200);
    let inbox_updated = receiver
        .wait_for_event("/all", "inbox_updated")
        .await
        .json();
    assert_eq!(
        changed(&inbox_updated)["name"]["current_value"],
        "Second line"
    );

    let conversation = app.create_conversation(json!({})).await;
    let id = conversation["id"].as_i64().unwrap();
    let created = receiver
        .wait_for_event("/all", "conversation_created")
        .await;
    assert_conversation_shape(&created.json(), id);
    assert_signed(&created, &secret);

    let message = app
        .message(id, json!({"content": "Hello there", "echo_id": "client-7"}))
        .await;
    let message_created = receiver
        .wait_for_event("/all", "message_created")
        .await
        .json();
    assert_eq!(message_created["id"], message["id"]);
    assert_eq!(message_created["content"], "Hello there");
    assert_eq!(message_created["message_type"], "outgoing");
    assert_eq!(message_created["content_type"], "text");
    assert_eq!(message_created["private"], false);
    assert_eq!(message_created["status"], "sent");
    assert_eq!(message_created["echo_id"], "client-7");
    assert!(message_created["created_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(message_created["sender"]["type"], "user");
    assert_eq!(message_created["inbox"]["id"], 1);
    assert_eq!(message_created["account"]["id"], 1);
    assert_conversation_shape(&message_created["conversation"], id);
    assert_eq!(
        message_created["conversation"]["messages"][0]["message_type"],
        1
    );
    assert_eq!(
        message_created["performed_by"],
        json!({"type": "user", "id": 1})
    );

    app.patch(
        &format!(
            "/api/v1/accounts/1/conversations/{id}/messages/{}",
            message["id"]
        ),
        json!({"status": "delivered"}),
    )
    .await
    .expect(200);
    let message_updated = receiver
        .wait_for_event("/all", "message_updated")
        .await
        .json();
    assert_eq!(message_updated["status"], "delivered");
    assert_eq!(
        changed(&message_updated)["status"],
        json!({"previous_value": "sent", "current_value": "delivered"})
    );

    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
        json!({"status": "resolved"}),
    )
    .await
    .expect(200);
    let status_changed = receiver
        .wait_for_event("/all", "conversation_status_changed")
        .await
        .json();
    assert_eq!(
        status_changed["changed_attributes"],
        json!([{"status": {"previous_value": "open", "current_value": "resolved"}}])
    );
    assert_eq!(status_changed["status"], "resolved");
    // Earlier updates (the reply set `first_reply_created_at`) came before this one.
    let conversation_updated = eventually("the update of the status", WAIT, || async {
        receiver
            .at("/all")
            .iter()
            .map(Received::json)
            .find(|p| p["event"] == "conversation_updated" && changed(p).contains_key("status"))
    })
    .await;
    assert_eq!(
        changed(&conversation_updated)["status"]["current_value"],
        "resolved"
    );
    assert!(changed(&conversation_updated).contains_key("updated_at"));

    for status in ["on", "off"] {
        app.post(
            &format!("/api/v1/accounts/1/conversations/{id}/toggle_typing_status"),
            json!({"typing_status": status, "is_private": true}),
        )
        .await
        .expect(200);
        let typing = receiver
            .wait_for_event("/all", &format!("conversation_typing_{status}"))
            .await
            .json();
        assert_eq!(typing["user"]["type"], "user");
        assert_eq!(typing["user"]["id"], 1);
        assert_eq!(typing["is_private"], true);
        assert_eq!(typing["conversation"]["id"], id);
    }

    // Nothing of this server is a web widget: webwidget_triggered is never sent.
    assert!(receiver
        .at("/all")
        .iter()
        .all(|r| r.event() != "webwidget_triggered"));
}

#[tokio::test]
async fn a_label_change_reports_the_label_list_before_and_after() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/labels"), &["conversation_updated"]).await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let labels = format!("/api/v1/accounts/1/conversations/{id}/labels");
    app.post(&labels, json!({"labels": ["billing"]}))
        .await
        .expect(200);
    app.post(&labels, json!({"labels": ["billing", "vip"]}))
        .await
        .expect(200);
    let got = receiver.wait_for("/labels", 2).await;
    assert_eq!(
        changed(&got[0].json())["label_list"],
        json!({"previous_value": [], "current_value": ["billing"]})
    );
    assert_eq!(
        changed(&got[1].json())["label_list"],
        json!({"previous_value": ["billing"], "current_value": ["billing", "vip"]})
    );
}

#[tokio::test]
async fn a_webhook_receives_only_what_it_subscribes_to() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let messages = subscribe(&app, &receiver.url("/messages"), &["message_created"]).await;
    let conversations = subscribe(
        &app,
        &receiver.url("/conversations"),
        &["conversation_created"],
    )
    .await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(id, json!({"content": "one"})).await;
    app.message(id, json!({"content": "two", "private": true}))
        .await;
    let got = receiver.wait_for("/messages", 2).await;
    assert_eq!(got[0].json()["content"], "one");
    // Private notes are sent too, as Chatwoot does.
    assert_eq!(got[1].json()["content"], "two");
    assert_eq!(got[1].json()["private"], true);
    receiver.wait_for("/conversations", 1).await;
    let rows: Vec<(i64, String)> = app.rows(
        "SELECT d.target_id, e.name FROM event_deliveries d
           JOIN outbound_events e ON e.id = d.event_id WHERE d.target_kind = 0",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    let messages_id = messages["id"].as_i64().unwrap();
    let conversations_id = conversations["id"].as_i64().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (target, name) in rows {
        match name.as_str() {
            "message_created" => assert_eq!(target, messages_id),
            "conversation_created" => assert_eq!(target, conversations_id),
            other => panic!("unsubscribed event {other} was queued"),
        }
    }
}

#[tokio::test]
async fn an_api_inbox_webhook_url_receives_its_conversation_message_and_typing_events_signed_with_the_inbox_secret(
) {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let inbox = app
        .patch(
            "/api/v1/accounts/1/inboxes/1",
            json!({"channel": {"webhook_url": receiver.url("/inbox")}}),
        )
        .await
        .expect(200);
    let secret = inbox["secret"]
        .as_str()
        .expect("administrators see the secret")
        .to_string();
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(id, json!({"content": "reply"})).await;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_typing_status"),
        json!({"typing_status": "on"}),
    )
    .await
    .expect(200);
    let got = receiver.wait_for("/inbox", 4).await;
    let events: Vec<String> = got.iter().map(Received::event).collect();
    // The first reply sets `first_reply_created_at`, a change Chatwoot announces.
    assert_eq!(
        events,
        [
            "conversation_created",
            "message_created",
            "conversation_updated",
            "conversation_typing_on"
        ]
    );
    for received in &got {
        assert_signed(received, &secret);
    }
    // Contacts are no business of the inbox's URL.
    let rows: i64 = app.read(|c| {
        c.query_row(
            "SELECT COUNT(*) FROM event_deliveries d JOIN outbound_events e ON e.id = d.event_id
              WHERE e.name LIKE 'contact_%'",
            [],
            |r| r.get(0),
        )
    });
    assert_eq!(rows, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_of_one_conversation_arrive_in_order_under_concurrent_writes() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/ordered"), &["message_created"]).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            app.create_conversation(json!({})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let posts = (0..60).map(|n| {
        let id = ids[n % 3];
        app.message(id, json!({"content": format!("m{n}")}))
    });
    futures_util::future::join_all(posts).await;
    let got = receiver.wait_for("/ordered", 60).await;
    let mut last: HashMap<i64, i64> = HashMap::new();
    for received in got {
        let payload = received.json();
        let conversation = payload["conversation"]["id"].as_i64().unwrap();
        let message = payload["id"].as_i64().unwrap();
        if let Some(before) = last.insert(conversation, message) {
            assert!(
                before < message,
                "conversation {conversation}: {message} after {before}"
            );
        }
    }
    assert_eq!(last.len(), 3);
}

fn delivery_rows(app: &TestApp) -> Vec<(i64, i64, Option<i64>, Option<String>)> {
    app.rows(
        "SELECT state, attempts, last_status, last_error FROM event_deliveries ORDER BY id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

#[tokio::test]
async fn a_delivery_answered_500_is_retried_later_with_the_same_delivery_id_and_a_fresh_signature()
{
    let clock = Clock::manual(START);
    let app = spawn_app_with(clock.clone()).await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[Answer::Status(500)]);
    let webhook = subscribe(&app, &receiver.url("/retry"), &["conversation_created"]).await;
    let secret = webhook["secret"].as_str().unwrap().to_string();
    app.create_conversation(json!({})).await;
    let first = receiver.wait_for("/retry", 1).await.remove(0);
    eventually("the failure recorded", Duration::from_secs(10), || async {
        let rows = delivery_rows(&app);
        (rows[0].1 == 1).then_some(())
    })
    .await;
    assert_eq!(delivery_rows(&app)[0].0, 0, "still pending");
    assert_eq!(delivery_rows(&app)[0].2, Some(500));
    // The retry is not sent before its time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.at("/retry").len(), 1);

    clock.advance_micros(3_600_000_000);
    let got = receiver.wait_for("/retry", 2).await;
    let second = &got[1];
    assert_eq!(
        first.header("x-chatwoot-delivery"),
        second.header("x-chatwoot-delivery")
    );
    assert_eq!(first.body, second.body, "the payload is frozen");
    assert_ne!(
        first.header("x-chatwoot-timestamp"),
        second.header("x-chatwoot-timestamp")
    );
    assert_signed(&first, &secret);
    assert_signed(second, &secret);
    eventually("the delivery recorded", Duration::from_secs(10), || async {
        (delivery_rows(&app)[0].0 == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_the_event_once_it_is_up() {
    let clock = Clock::manual(START);
    let app = spawn_app_with(clock.clone()).await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/late");
    subscribe(&app, &url, &["conversation_created"]).await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    eventually(
        "a refused connection recorded",
        Duration::from_secs(10),
        || async {
            let rows = delivery_rows(&app);
            (rows[0].1 >= 1 && rows[0].3.is_some()).then_some(())
        },
    )
    .await;
    let receiver = Receiver::start_on(&format!("127.0.0.1:{port}")).await;
    clock.advance_micros(3_600_000_000);
    let got = receiver.wait_for("/late", 1).await;
    assert_eq!(got[0].json()["id"], id);
}

#[tokio::test]
async fn a_final_failure_to_an_api_inbox_marks_the_message_failed_with_the_reason() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.answer_always(Answer::Status(404));
    app.patch(
        "/api/v1/accounts/1/inboxes/1",
        json!({"channel": {"webhook_url": receiver.url("/gone")}}),
    )
    .await
    .expect(200);
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let message = app.message(id, json!({"content": "will fail"})).await;
    let failed = eventually(
        "the message marked failed",
        Duration::from_secs(20),
        || async {
            app.messages(id)
                .await
                .into_iter()
                .find(|m| m["id"] == message["id"] && m["status"] == "failed")
        },
    )
    .await;
    let reason = failed["content_attributes"]["external_error"]
        .as_str()
        .unwrap();
    assert!(reason.contains("404"), "{reason}");
    // The failure is announced like any other update.
    let updated = receiver
        .wait_for_event("/gone", "message_updated")
        .await
        .json();
    assert_eq!(updated["status"], "failed");
}

#[tokio::test]
async fn a_private_address_is_refused_unless_allowed_and_the_reason_is_recorded() {
    let app = spawn_configured(Clock::system(), |s| s.webhook_allow_private = false).await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/private"), &["conversation_created"]).await;
    app.create_conversation(json!({})).await;
    let (state, reason) = eventually("the refusal recorded", Duration::from_secs(10), || async {
        let rows = delivery_rows(&app);
        (rows[0].0 == 2).then(|| (rows[0].0, rows[0].3.clone().unwrap_or_default()))
    })
    .await;
    assert_eq!(state, 2);
    assert!(reason.contains("127.0.0.1"), "{reason}");
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn health_reports_the_backlog_of_a_hanging_receiver_and_stays_up() {
    let app = spawn_configured(Clock::system(), |s| s.webhook_timeout_secs = 30).await;
    let receiver = Receiver::start().await;
    receiver.answer_always(Answer::Hang);
    subscribe(&app, &receiver.url("/hang"), &["message_created"]).await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    for n in 0..3 {
        app.message(id, json!({"content": format!("m{n}")})).await;
    }
    receiver.wait_for("/hang", 1).await;
    let health = app.get("/health").await.expect(200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["events"]["pending"], 3);
    assert!(health["events"]["oldest_pending_age_secs"].is_i64());
    // One conversation, one target: the later two wait behind the hanging one.
    assert_eq!(receiver.at("/hang").len(), 1);
}

#[tokio::test]
async fn an_acknowledged_write_gets_its_event_after_a_sigkill_and_restart_with_the_same_delivery_id(
) {
    const TOKEN: &str = "events-crash-token";
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--webhook-allow-private"];
    let server = crate::process::try_start_with(dir.path(), Some(TOKEN), &flags, None)
        .await
        .expect("server starts");
    let hanging = Receiver::start().await;
    hanging.answer_always(Answer::Hang);
    let port = hanging.base.rsplit(':').next().unwrap().to_string();
    server
        .ok(
            reqwest::Method::POST,
            "/api/v1/accounts/1/webhooks",
            TOKEN,
            Some(json!({"url": hanging.url("/crash"), "subscriptions": ["message_created"]})),
        )
        .await;
    let id = server.create_conversation(TOKEN, "crash-source").await;
    let message = server
        .ok(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/1/conversations/{id}/messages"),
            TOKEN,
            Some(json!({"content": "acknowledged"})),
        )
        .await;
    server.kill().await;

    let delivery_id: String = rusqlite::Connection::open(dir.path().join("wootlite.sqlite3"))
        .unwrap()
        .query_row(
            "SELECT d.delivery_id FROM event_deliveries d JOIN outbound_events e ON e.id = d.event_id
              WHERE e.name = 'message_created' AND e.message_id = ?1",
            [message["id"].as_i64().unwrap()],
            |r| r.get(0),
        )
        .expect("the event was committed with the write");
    hanging.stop().await;
    let receiver = Receiver::start_on(&format!("127.0.0.1:{port}")).await;
    let server = crate::process::try_start_with(dir.path(), Some(TOKEN), &flags, None)
        .await
        .expect("server restarts");
    let got = receiver.wait_for_event("/crash", "message_created").await;
    assert_eq!(got.header("x-chatwoot-delivery"), delivery_id);
    assert_eq!(got.json()["content"], "acknowledged");
    server.stop().await;
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let clock = Clock::manual(START);
    let app = spawn_app_with(clock.clone()).await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[Answer::RetryAfter(429, 120)]);
    subscribe(&app, &receiver.url("/busy"), &["conversation_created"]).await;
    app.create_conversation(json!({})).await;
    receiver.wait_for("/busy", 1).await;
    eventually("the 429 recorded", Duration::from_secs(10), || async {
        (delivery_rows(&app)[0].2 == Some(429)).then_some(())
    })
    .await;
    clock.advance_micros(60_000_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.at("/busy").len(), 1, "retried before Retry-After");
    clock.advance_micros(61_000_000);
    receiver.wait_for("/busy", 2).await;
}

/// A bot on inbox 1 whose `outgoing_url` is `url`: (its JSON, its token).
async fn bot_at(app: &TestApp, url: &str) -> (Value, String) {
    let bot = app
        .post(
            "/api/v1/accounts/1/agent_bots",
            json!({"name": "Helper", "outgoing_url": url}),
        )
        .await
        .expect(200);
    app.post(
        "/api/v1/accounts/1/inboxes/1/set_agent_bot",
        json!({"agent_bot": bot["id"]}),
    )
    .await
    .expect(200);
    let token = bot["access_token"].as_str().unwrap().to_string();
    (bot, token)
}

#[tokio::test]
async fn an_agent_bot_hears_the_customer_replies_with_its_token_and_hands_over_by_opening() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (bot, token) = bot_at(&app, &receiver.url("/bot")).await;
    let secret = bot["secret"].as_str().unwrap().to_string();
    let conversation = app.create_conversation(json!({})).await;
    let id = conversation["id"].as_i64().unwrap();
    assert_eq!(
        conversation["status"], "pending",
        "a bot's inbox starts pending"
    );

    app.message(
        id,
        json!({"content": "I need help", "message_type": "incoming"}),
    )
    .await;
    let heard = receiver.wait_for_event("/bot", "message_created").await;
    assert_signed(&heard, &secret);
    assert_eq!(heard.json()["content"], "I need help");
    assert_eq!(heard.json()["message_type"], "incoming");

    let reply = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/1/conversations/{id}/messages"),
            &token,
            Some(json!({"content": "Let me find someone"})),
        )
        .await
        .expect(200);
    assert_eq!(reply["sender"]["type"], "agent_bot");
    let echoed = eventually("the bot's own message", WAIT, || async {
        receiver
            .at("/bot")
            .iter()
            .map(Received::json)
            .find(|p| p["event"] == "message_created" && p["id"] == reply["id"])
    })
    .await;
    assert_eq!(echoed["sender"]["type"], "agent_bot");
    assert_eq!(
        echoed["performed_by"],
        json!({"type": "agent_bot", "id": bot["id"]})
    );

    app.send(
        reqwest::Method::POST,
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
        &token,
        Some(json!({"status": "open"})),
    )
    .await
    .expect(200);
    let handoff = receiver
        .wait_for_event("/bot", "conversation_status_changed")
        .await
        .json();
    assert_eq!(
        handoff["changed_attributes"],
        json!([{"status": {"previous_value": "pending", "current_value": "open"}}])
    );
    let opened = receiver
        .wait_for_event("/bot", "conversation_opened")
        .await
        .json();
    assert_eq!(opened["id"], id);
    assert_eq!(app.conversation(id).await["status"], "open");
}

#[tokio::test]
async fn a_bot_that_cannot_take_a_message_leaves_its_pending_conversation_open_for_people() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.answer_always(Answer::Status(404));
    bot_at(&app, &receiver.url("/broken")).await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.conversation(id).await["status"], "pending");
    app.message(id, json!({"content": "hello?", "message_type": "incoming"}))
        .await;
    eventually("the conversation opened", WAIT, || async {
        (app.conversation(id).await["status"] == "open").then_some(())
    })
    .await;
    let activity = app.activity(id).await;
    assert!(
        activity
            .iter()
            .any(|a| a.contains("due to an error with the agent bot")),
        "{activity:?}"
    );
}

#[tokio::test]
async fn the_snooze_waker_announces_the_reopening_as_done_by_the_system() {
    let clock = Clock::manual(START);
    let app = spawn_app_with(clock.clone()).await;
    let receiver = Receiver::start().await;
    subscribe(
        &app,
        &receiver.url("/woken"),
        &["conversation_status_changed"],
    )
    .await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let until = START / 1_000_000 + 60;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
        json!({"status": "snoozed", "snoozed_until": until}),
    )
    .await
    .expect(200);
    let snoozed = receiver.wait_for("/woken", 1).await[0].json();
    assert_eq!(snoozed["status"], "snoozed");
    assert_eq!(snoozed["performed_by"]["type"], "user");
    clock.advance_micros(61_000_000);
    let woken = receiver.wait_for("/woken", 2).await[1].json();
    assert_eq!(
        woken["changed_attributes"],
        json!([{"status": {"previous_value": "snoozed", "current_value": "open"}}])
    );
    assert_eq!(woken["performed_by"], Value::Null);
}

#[tokio::test]
async fn a_webhook_that_names_an_inbox_hears_only_that_inboxs_conversations() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let other = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({"name": "Other", "channel": {"type": "api"}}),
        )
        .await
        .expect(200);
    app.post(
        "/api/v1/accounts/1/webhooks",
        json!({"url": receiver.url("/scoped"), "subscriptions": ["conversation_created"],
               "inbox_id": other["id"]}),
    )
    .await
    .expect(200);
    subscribe(
        &app,
        &receiver.url("/everywhere"),
        &["conversation_created"],
    )
    .await;
    app.create_conversation(json!({})).await;
    receiver.wait_for("/everywhere", 1).await;
    let scoped: i64 = app.read(|c| {
        c.query_row(
            "SELECT COUNT(*) FROM event_deliveries d JOIN webhooks w ON w.id = d.target_id
              WHERE d.target_kind = 0 AND w.inbox_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
    });
    assert_eq!(
        scoped, 0,
        "inbox 1's conversation reached the other inbox's webhook"
    );
}
