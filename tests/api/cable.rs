//! `/cable` over a real websocket: ActionCable's handshake, welcome and pings, and subscriptions
//! confirmed for a real agent or contact and rejected for anyone else.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{spawn_app, TestApp};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `/cable` offering the subprotocols Chatwoot's JavaScript client offers.
async fn open(app: &TestApp) -> Socket {
    let url = format!("{}/cable", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "actioncable-v1-json, actioncable-unsupported"
            .parse()
            .unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket opens");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "actioncable-v1-json"
    );
    socket
}

/// The next frame that is not a ping.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" {
                return value;
            }
        }
    }
}

async fn subscribe(socket: &mut Socket, identifier: &str) -> Value {
    let frame = json!({"command": "subscribe", "identifier": identifier});
    socket.send(Message::Text(frame.to_string())).await.unwrap();
    next(socket).await
}

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

    app.create_contact("Visitor", "visitor-source").await;
    let contact_token: String = app
        .sqlite()
        .query_row(
            "SELECT pubsub_token FROM contact_inboxes WHERE source_id = 'visitor-source'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let contact = json!({"channel": "RoomChannel", "pubsub_token": contact_token}).to_string();
    assert_eq!(
        subscribe(&mut socket, &contact).await["type"],
        "confirm_subscription"
    );
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
