//! A `/cable` client for tests, speaking ActionCable as Chatwoot's JavaScript client does.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a frame that must come may take.
const PATIENCE: Duration = Duration::from_secs(15);

/// Opens `/cable` offering the subprotocols Chatwoot's JavaScript client offers.
pub async fn open(app: &TestApp) -> Socket {
    open_with(app, None).await
}

/// `open`, with the client's TCP receive buffer set to `receive_buffer` bytes when given (a
/// small one makes a client that stops reading hold up the server sooner).
pub async fn open_with(app: &TestApp, receive_buffer: Option<u32>) -> Socket {
    open_at(&app.address, receive_buffer).await
}

/// `open_with` for the server at `address` (`http://host:port`).
pub async fn open_at(address: &str, receive_buffer: Option<u32>) -> Socket {
    let url = format!("{}/cable", address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "actioncable-v1-json, actioncable-unsupported"
            .parse()
            .unwrap(),
    );
    let address = address.trim_start_matches("http://").parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(bytes) = receive_buffer {
        tcp.set_recv_buffer_size(bytes).unwrap();
    }
    let stream = tcp.connect(address).await.expect("connects");
    let (socket, response) =
        tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .expect("websocket opens");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "actioncable-v1-json"
    );
    socket
}

/// The next frame that is not a ping.
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(PATIENCE, socket.next())
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

pub async fn subscribe(socket: &mut Socket, identifier: &str) -> Value {
    let frame = json!({"command": "subscribe", "identifier": identifier});
    socket.send(Message::Text(frame.to_string())).await.unwrap();
    next(socket).await
}

/// The identifier the dashboard subscribes with for the user whose API token is `token`.
pub async fn agent_identifier(app: &TestApp, token: &str, account_id: i64) -> Value {
    let profile = app
        .send(reqwest::Method::GET, "/api/v1/profile", token, None)
        .await
        .expect(200);
    json!({"channel": "RoomChannel", "pubsub_token": profile["pubsub_token"],
           "account_id": account_id, "user_id": profile["id"]})
}

/// A subscriber: its socket, welcomed and subscribed with one identifier.
pub struct Subscriber {
    pub socket: Socket,
    pub identifier: String,
}

impl Subscriber {
    async fn with(app: &TestApp, identifier: Value) -> Subscriber {
        Self::on(open(app).await, identifier).await
    }

    /// Subscribes with `identifier` on a socket just opened.
    pub async fn on(mut socket: Socket, identifier: Value) -> Subscriber {
        assert_eq!(next(&mut socket).await["type"], "welcome");
        let identifier = identifier.to_string();
        let answer = subscribe(&mut socket, &identifier).await;
        assert_eq!(answer["type"], "confirm_subscription", "{answer}");
        Subscriber { socket, identifier }
    }

    /// An agent of `account_id` with their `/profile` token `token` (as the dashboard does).
    pub async fn agent(app: &TestApp, token: &str, account_id: i64) -> Subscriber {
        Self::with(app, agent_identifier(app, token, account_id).await).await
    }

    /// A contact, by the `pubsub_token` the Client API gave it (as the widget does).
    pub async fn contact(app: &TestApp, pubsub_token: &str) -> Subscriber {
        let identifier = json!({"channel": "RoomChannel", "pubsub_token": pubsub_token});
        Self::with(app, identifier).await
    }

    /// The next broadcast `(event, data)` other than presence, checking it is addressed to this
    /// subscription.
    pub async fn broadcast(&mut self) -> (String, Value) {
        loop {
            let frame = next(&mut self.socket).await;
            assert_eq!(frame["identifier"], self.identifier.as_str(), "{frame}");
            let message = &frame["message"];
            let event = message["event"].as_str().expect("an event");
            if event != "presence.update" {
                return (event.to_string(), message["data"].clone());
            }
        }
    }

    /// The data of the next `event`, skipping other broadcasts.
    pub async fn event(&mut self, event: &str) -> Value {
        loop {
            let (name, data) = self.broadcast().await;
            if name == event {
                return data;
            }
        }
    }

    /// Every broadcast up to and including the first for which `last` holds.
    pub async fn until(&mut self, last: impl Fn(&str, &Value) -> bool) -> Vec<(String, Value)> {
        let mut seen = Vec::new();
        loop {
            let (name, data) = self.broadcast().await;
            let done = last(&name, &data);
            seen.push((name, data));
            if done {
                return seen;
            }
        }
    }
}
