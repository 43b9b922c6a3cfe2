//! A `/cable` subscriber as a browser tab is one: a websocket speaking Action Cable's JSON
//! protocol, subscribed to one channel.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `/cable` on the server at `http` and subscribes with `identifier`; returns once the
/// subscription is confirmed.
pub async fn subscribed(http: &str, identifier: &Value) -> Socket {
    let mut request = format!("{}/cable", http.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "actioncable-v1-json".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let subscribe = json!({"command": "subscribe", "identifier": identifier.to_string()});
    socket
        .send(Message::Text(subscribe.to_string()))
        .await
        .unwrap();
    loop {
        let frame = socket.next().await.unwrap().unwrap();
        let frame: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        if frame["type"] == "confirm_subscription" {
            return socket;
        }
        assert_ne!(frame["type"], "reject_subscription");
    }
}
