//! `/cable` over a real websocket: ActionCable's handshake, welcome and pings, and subscriptions
//! confirmed for a real agent or contact and rejected for anyone else.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::cable_client::{next, open, subscribe};
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_socket_is_welcomed_and_pinged_every_few_seconds_with_unix_seconds() {
    let app = spawn_app().await;
    let mut socket = open(&app).await;
    assert_eq!(next(&mut socket).await, json!({"type": "welcome"}));
    let ping = loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a ping in time")
            .unwrap()
            .unwrap();
        let value: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        if value["type"] == "ping" {
            break value;
        }
    };
    let now = chrono::Utc::now().timestamp();
    let sent = ping["message"].as_i64().expect("integer seconds");
    assert!((sent - now).abs() <= 5, "{sent} vs {now}");
}

#[tokio::test]
async fn an_agent_and_a_contact_are_confirmed_with_their_own_tokens_and_others_rejected() {
    let app = spawn_app().await;
    // Before anyone listens, so that its `contact.created` is not in the way below.
    app.create_contact("Visitor", "visitor-source").await;
    let profile = app.get("/api/v1/profile").await.expect(200);
    let token = profile["pubsub_token"].as_str().unwrap().to_string();
    let user_id = profile["id"].as_i64().unwrap();
    let mut socket = open(&app).await;
    next(&mut socket).await;

    let agent = json!({"channel": "RoomChannel", "pubsub_token": token,
                       "account_id": 1, "user_id": user_id})
    .to_string();
    assert_eq!(
        subscribe(&mut socket, &agent).await,
        json!({"identifier": agent, "type": "confirm_subscription"})
    );
    // Then, as Chatwoot's channel does, the agent's presence, the agent among the online users.
    let presence = next(&mut socket).await;
    assert_eq!(presence["identifier"], agent.as_str());
    assert_eq!(presence["message"]["event"], "presence.update");
    let data = &presence["message"]["data"];
    assert_eq!(data["account_id"], 1);
    assert_eq!(data["users"][user_id.to_string()], "online");
    assert_eq!(data["contacts"], json!({}));
    for wrong in [
        json!({"channel": "RoomChannel", "pubsub_token": token, "account_id": 1, "user_id": user_id + 1}),
        json!({"channel": "RoomChannel", "pubsub_token": token, "account_id": 99, "user_id": user_id}),
        json!({"channel": "RoomChannel", "pubsub_token": "nobody"}),
        json!({"channel": "OtherChannel", "pubsub_token": token}),
    ] {
        let identifier = wrong.to_string();
        assert_eq!(
            subscribe(&mut socket, &identifier).await,
            json!({"identifier": identifier, "type": "reject_subscription"})
        );
    }

    let contact_token: String = app.read(|c| {
        c.query_row(
            "SELECT pubsub_token FROM contact_inboxes WHERE source_id = 'visitor-source'",
            [],
            |r| r.get(0),
        )
    });
    let contact = json!({"channel": "RoomChannel", "pubsub_token": contact_token}).to_string();
    assert_eq!(
        subscribe(&mut socket, &contact).await["type"],
        "confirm_subscription"
    );
    // The contact's presence goes to the contact, and is told to agents but not to contacts.
    let presence = next(&mut socket).await;
    assert_eq!(presence["identifier"], contact.as_str());
    assert_eq!(
        presence["message"]["data"]["users"][user_id.to_string()],
        "online"
    );
    assert!(presence["message"]["data"].get("contacts").is_none());
    socket
        .send(Message::Text(
            json!({"command": "message", "identifier": agent,
                   "data": {"action": "update_presence"}})
            .to_string(),
        ))
        .await
        .unwrap();
    let agents_view = next(&mut socket).await;
    assert_eq!(agents_view["identifier"], agent.as_str());
    let contacts = agents_view["message"]["data"]["contacts"]
        .as_object()
        .unwrap();
    assert_eq!(contacts.len(), 1, "the contact is online: {agents_view}");
    // Bad frames are ignored and the socket stays usable.
    socket.send(Message::Text("not json".into())).await.unwrap();
    socket
        .send(Message::Text(
            json!({"command": "dance", "identifier": "{}"}).to_string(),
        ))
        .await
        .unwrap();
    let again = json!({"channel": "RoomChannel", "pubsub_token": "still-nobody"}).to_string();
    assert_eq!(
        subscribe(&mut socket, &again).await["type"],
        "reject_subscription"
    );
}

#[tokio::test]
async fn a_plain_request_to_cable_finds_nothing() {
    let app = spawn_app().await;
    let reply = app.get("/cable").await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn a_stopping_server_tells_its_subscribers_to_come_back_and_closes_their_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::process::start(dir.path(), Some("stop-token")).await;
    let (status, profile) = server.get("/api/v1/profile", "stop-token").await;
    assert_eq!(status, 200);
    let mut socket = crate::cable_client::open_at(&server.url, None).await;
    assert_eq!(next(&mut socket).await["type"], "welcome");
    let agent = json!({"channel": "RoomChannel", "pubsub_token": profile["pubsub_token"],
                       "account_id": 1, "user_id": profile["id"]})
    .to_string();
    assert_eq!(
        subscribe(&mut socket, &agent).await["type"],
        "confirm_subscription"
    );

    let stopping = tokio::spawn(server.stop());
    let goodbye = loop {
        let frame = next(&mut socket).await;
        if frame["type"] == "disconnect" {
            break frame;
        }
    };
    assert_eq!(
        goodbye,
        json!({"type": "disconnect", "reason": "server_restart", "reconnect": true})
    );
    // The server closes the socket itself rather than waiting for the client to go.
    let closed = tokio::time::timeout(Duration::from_secs(15), socket.next())
        .await
        .expect("the socket ends");
    assert!(
        matches!(closed, None | Some(Ok(Message::Close(_))) | Some(Err(_))),
        "{closed:?}"
    );
    stopping.await.unwrap();
}
