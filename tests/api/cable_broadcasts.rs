//! What `/cable` subscribers are told, over real websockets: a contact's side and an agent's
//! side of one conversation, who may hear what, and a reader too slow to keep.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::cable_client::{agent_identifier, open_with, Subscriber};
use crate::helpers::{spawn_app, TestApp, ADMIN_TOKEN};

/// A Client API call with no token.
async fn public(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app
        .request(reqwest::Method::POST, path, None)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(reply.status(), 200, "{path}");
    let text = reply.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A visitor on inbox `inbox_id`'s chat page: its Client API base path and its live token.
async fn visitor(app: &TestApp, inbox_id: i64) -> (String, String) {
    let inbox = app
        .get(&format!("/api/v1/accounts/1/inboxes/{inbox_id}"))
        .await
        .expect(200);
    let base = format!(
        "/public/api/v1/inboxes/{}",
        inbox["inbox_identifier"].as_str().unwrap()
    );
    let contact = public(app, &format!("{base}/contacts"), json!({"name": "Vera"})).await;
    let source = contact["source_id"].as_str().unwrap();
    let token = contact["pubsub_token"].as_str().unwrap().to_string();
    (format!("{base}/contacts/{source}"), token)
}

fn messages_path(display_id: i64) -> String {
    format!("/api/v1/accounts/1/conversations/{display_id}/messages")
}

#[tokio::test]
async fn a_visitor_and_an_agent_see_each_others_messages_live_and_the_visitor_no_more() {
    let app = spawn_app().await;
    let mut agent = Subscriber::agent(&app, ADMIN_TOKEN, 1).await;
    let (client, token) = visitor(&app, 1).await;
    let mut contact = Subscriber::contact(&app, &token).await;
    agent.event("contact.created").await;

    let created = public(&app, &format!("{client}/conversations"), json!({})).await;
    let display_id = created["id"].as_i64().unwrap();
    let for_agent = agent.event("conversation.created").await;
    assert_eq!(for_agent["id"], display_id);
    assert_eq!(for_agent["account_id"], 1);
    assert!(for_agent["meta"]["sender"]["id"].is_i64(), "{for_agent}");
    let for_contact = contact.event("conversation.created").await;
    assert_eq!(for_contact["id"], display_id);
    assert_eq!(for_contact["status"], "open");
    for hidden in [
        "meta",
        "labels",
        "contact_inbox",
        "custom_attributes",
        "performer",
    ] {
        assert!(
            for_contact.get(hidden).is_none(),
            "{hidden} in {for_contact}"
        );
    }

    // The visitor writes: the agent sees it arrive, with the client's echo id.
    let path = format!("{client}/conversations/{display_id}/messages");
    public(&app, &path, json!({"content": "Hello?", "echo_id": "e-1"})).await;
    let incoming = agent.event("message.created").await;
    assert_eq!(
        (
            &incoming["content"],
            &incoming["message_type"],
            &incoming["conversation_id"]
        ),
        (&json!("Hello?"), &json!(0), &json!(display_id))
    );
    assert_eq!(incoming["echo_id"], "e-1");
    assert!(incoming["created_at"].is_i64());
    assert_eq!(incoming["sender"]["type"], "contact");
    assert!(
        incoming.get("performer").is_none(),
        "a contact is no performer"
    );
    let echoed = contact.event("message.created").await;
    assert_eq!(
        (&echoed["id"], &echoed["echo_id"]),
        (&incoming["id"], &json!("e-1"))
    );

    // The agent notes privately, replies, and resolves: an activity message follows.
    let note = json!({"content": "internal only", "private": true});
    app.post(&messages_path(display_id), note).await.expect(200);
    let reply = json!({"content": "Hi Vera", "echo_id": "r-1"});
    app.post(&messages_path(display_id), reply)
        .await
        .expect(200);
    let resolve = json!({"status": "resolved"});
    let toggle = format!("/api/v1/accounts/1/conversations/{display_id}/toggle_status");
    app.post(&toggle, resolve).await.expect(200);
    app.post(&messages_path(display_id), json!({"content": "Bye"}))
        .await
        .expect(200);

    let is_bye = |name: &str, data: &Value| name == "message.created" && data["content"] == "Bye";
    let agent_saw = agent.until(is_bye).await;
    let contents: Vec<&Value> = created_contents(&agent_saw);
    assert_eq!(contents[0], "internal only");
    assert_eq!(contents[1], "Hi Vera");
    assert!(
        contents
            .iter()
            .any(|c| c.as_str().unwrap_or("").contains("resolved")),
        "the agent sees the activity message: {contents:?}"
    );
    let reply_seen = agent_saw
        .iter()
        .find(|(_, d)| d["content"] == "Hi Vera")
        .unwrap();
    assert_eq!(reply_seen.1["performer"]["type"], "user");
    assert_eq!(reply_seen.1["echo_id"], "r-1");
    let status = agent_saw
        .iter()
        .find(|(n, _)| n == "conversation.status_changed")
        .expect("the agent hears of the resolution");
    assert_eq!(status.1["status"], "resolved");
    assert!(status.1["updated_at"].is_f64());

    let contact_saw = contact.until(is_bye).await;
    let contents = created_contents(&contact_saw);
    assert_eq!(
        contents,
        [&json!("Hi Vera"), &json!("Bye")],
        "no note, no activity"
    );
    let status = contact_saw
        .iter()
        .find(|(n, _)| n == "conversation.status_changed")
        .expect("the visitor hears of the resolution");
    assert_eq!(status.1["status"], "resolved");
    assert!(status.1.get("meta").is_none() && status.1.get("performer").is_none());
}

fn created_contents(seen: &[(String, Value)]) -> Vec<&Value> {
    seen.iter()
        .filter(|(name, _)| name == "message.created")
        .map(|(_, data)| &data["content"])
        .collect()
}

#[tokio::test]
async fn an_agent_hears_only_of_the_inboxes_they_are_a_member_of() {
    let app = spawn_app().await;
    let other = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "name": "Sales", "channel": { "type": "api" } }),
        )
        .await
        .expect(200)["id"]
        .as_i64()
        .unwrap();
    let (agent_id, agent_token) = app.create_agent("Agnes", "agnes@example.com").await;
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [agent_id] }),
    )
    .await
    .expect(200);
    let mut agent = Subscriber::agent(&app, &agent_token, 1).await;

    let (elsewhere, _) = visitor(&app, other).await;
    let hidden = public(&app, &format!("{elsewhere}/conversations"), json!({})).await;
    let hidden_path = format!("{elsewhere}/conversations/{}/messages", hidden["id"]);
    public(&app, &hidden_path, json!({"content": "for sales"})).await;
    let (mine, _) = visitor(&app, 1).await;
    let shown = public(&app, &format!("{mine}/conversations"), json!({})).await;
    let shown_path = format!("{mine}/conversations/{}/messages", shown["id"]);
    public(&app, &shown_path, json!({"content": "for support"})).await;

    let seen = agent
        .until(|name, data| name == "message.created" && data["content"] == "for support")
        .await;
    for (name, data) in &seen {
        let inbox = data["inbox_id"]
            .as_i64()
            .or(data["conversation"]["inbox_id"].as_i64());
        assert_ne!(inbox, Some(other), "{name} of another inbox: {data}");
    }
    assert!(seen.iter().any(|(n, _)| n == "conversation.created"));
    // Contact news is account-wide: both visitors were announced.
    let contacts = seen.iter().filter(|(n, _)| n == "contact.created").count();
    assert_eq!(contacts, 2);
}

#[tokio::test]
async fn typing_reaches_the_visitor_unless_it_is_a_private_note() {
    let app = spawn_app().await;
    let (client, token) = visitor(&app, 1).await;
    let created = public(&app, &format!("{client}/conversations"), json!({})).await;
    let display_id = created["id"].as_i64().unwrap();
    let mut contact = Subscriber::contact(&app, &token).await;
    let mut agent = Subscriber::agent(&app, ADMIN_TOKEN, 1).await;
    let typing = format!("/api/v1/accounts/1/conversations/{display_id}/toggle_typing_status");
    let private = json!({"typing_status": "on", "is_private": true});
    app.post(&typing, private).await.expect(200);
    let public_typing = json!({"typing_status": "on", "is_private": false});
    app.post(&typing, public_typing).await.expect(200);
    // On PostgreSQL a subscriber may also hear what committed just before it subscribed (the
    // conversation's creation); what follows the first typing comes after it in commit order.
    let data = contact.event("conversation.typing_on").await;
    assert_eq!(data["is_private"], false, "the private one never came");
    assert_eq!(data["conversation"]["id"], display_id);
    assert_eq!(data["user"]["type"], "user");

    // The visitor types: the agent hears it, the visitor does not hear itself.
    let toggle = format!("{client}/conversations/{display_id}/toggle_typing");
    public(&app, &toggle, json!({"typing_status": "on"})).await;
    let heard = agent.event("conversation.typing_on").await;
    assert_eq!(heard["user"]["type"], "contact");
    app.post(
        &messages_path(display_id),
        json!({"content": "done typing"}),
    )
    .await
    .expect(200);
    let (name, _) = contact.broadcast().await;
    assert_eq!(name, "message.created", "nothing in between");
    // The agent's own typing was not sent back to the agent.
    let seen = agent
        .until(|name, data| name == "message.created" && data["content"] == "done typing")
        .await;
    assert!(
        seen.iter()
            .all(|(n, d)| n != "conversation.typing_on" || d["user"]["type"] != "user"),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_dropped_while_writes_and_other_readers_go_on() {
    const MESSAGES: usize = 400;
    let app = spawn_app().await;
    let display_id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let identifier = agent_identifier(&app, ADMIN_TOKEN, 1).await;
    let stalled = open_with(&app, Some(4096)).await;
    let mut stalled = Subscriber::on(stalled, identifier).await;
    let mut reader = Subscriber::agent(&app, ADMIN_TOKEN, 1).await;
    let reading = tokio::spawn(async move {
        let mut ids = Vec::new();
        while ids.len() < MESSAGES {
            let data = reader.event("message.created").await;
            ids.push(data["id"].as_i64().unwrap());
        }
        ids
    });

    // Bulk in the attributes, which every frame carries and the search index does not.
    let filler = "x".repeat(32 * 1024);
    for n in 0..MESSAGES {
        let body = json!({"content": n.to_string(), "content_attributes": {"filler": filler}});
        app.post(&messages_path(display_id), body).await.expect(200);
    }
    let ids = reading.await.unwrap();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "every message, in commit order"
    );

    // The stalled client finds what was queued for it, then the server's goodbye.
    let mut received = 0;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), stalled.socket.next())
            .await
            .expect("the stalled socket ends");
        match frame {
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "disconnect" {
                    assert_eq!(frame["reason"], "slow_consumer");
                    assert_eq!(frame["reconnect"], true);
                } else if frame["message"]["event"] == "message.created" {
                    received += 1;
                }
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            Some(Ok(_)) => {}
        }
    }
    assert!(received < MESSAGES, "it was dropped, not kept up with");
}
