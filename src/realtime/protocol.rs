//! ActionCable's frames (docs/actioncable.md §1): what clients send and what the server answers.
//! An identifier is a string holding JSON; it is kept as the client sent it and echoed back.

use serde_json::{json, Value};

/// The subprotocol Chatwoot's clients offer, and must get back, to read anything.
pub const SUBPROTOCOL: &str = "actioncable-v1-json";

/// A client's command.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Subscribe(String),
    Unsubscribe(String),
    /// A channel action: the identifier and the action's name.
    Message(String, Option<String>),
}

/// Reads one text frame; `None` for anything ActionCable ignores (bad JSON, unknown commands),
/// which, as in Rails, gets no answer and keeps the connection open.
pub fn command(text: &str) -> Option<Command> {
    let frame: Value = serde_json::from_str(text).ok()?;
    let identifier = frame["identifier"].as_str()?.to_string();
    match frame["command"].as_str()? {
        "subscribe" => Some(Command::Subscribe(identifier)),
        "unsubscribe" => Some(Command::Unsubscribe(identifier)),
        "message" => {
            // `data` is a string holding JSON; some SDKs send the object itself.
            let data = match &frame["data"] {
                Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
                other => other.clone(),
            };
            let action = data["action"].as_str().map(str::to_owned);
            Some(Command::Message(identifier, action))
        }
        _ => None,
    }
}

/// What a `RoomChannel` identifier asks for.
#[derive(Debug, PartialEq, Eq)]
pub struct RoomParams {
    pub pubsub_token: String,
    /// Present for agents (the dashboard); absent for contacts.
    pub user_id: Option<i64>,
    pub account_id: Option<i64>,
}

fn id_param(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.trim().is_empty() => s.trim().parse().ok(),
        _ => None,
    }
}

/// The parameters of a `RoomChannel` subscription; `None` for another channel or a malformed
/// identifier.
pub fn room_params(identifier: &str) -> Option<RoomParams> {
    let params: Value = serde_json::from_str(identifier).ok()?;
    if params["channel"].as_str()? != "RoomChannel" {
        return None;
    }
    let pubsub_token = params["pubsub_token"].as_str()?.to_string();
    Some(RoomParams {
        pubsub_token,
        user_id: id_param(&params["user_id"]),
        account_id: id_param(&params["account_id"]),
    })
}

pub fn welcome() -> String {
    json!({"type": "welcome"}).to_string()
}

/// The heartbeat: the server's time in unix seconds.
pub fn ping(unix_seconds: i64) -> String {
    json!({"type": "ping", "message": unix_seconds}).to_string()
}

pub fn confirm(identifier: &str) -> String {
    json!({"identifier": identifier, "type": "confirm_subscription"}).to_string()
}

pub fn reject(identifier: &str) -> String {
    json!({"identifier": identifier, "type": "reject_subscription"}).to_string()
}

/// Sent before the server closes a connection itself; the client comes back.
pub fn disconnect(reason: &str) -> String {
    json!({"type": "disconnect", "reason": reason, "reconnect": true}).to_string()
}

/// A broadcast for one subscription: `{"identifier", "message": {"event", "data"}}`.
pub fn broadcast(identifier: &str, event: &str, data: &Value) -> String {
    json!({"identifier": identifier, "message": {"event": event, "data": data}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_as_the_javascript_client_and_the_sdks_send_them() {
        let id = r#"{"channel":"RoomChannel","pubsub_token":"t","account_id":1,"user_id":3}"#;
        let frame = json!({"command": "subscribe", "identifier": id}).to_string();
        assert_eq!(command(&frame), Some(Command::Subscribe(id.into())));
        let as_string = json!({"command": "message", "identifier": id,
                               "data": "{\"action\":\"update_presence\"}"});
        let as_object = json!({"command": "message", "identifier": id,
                               "data": {"action": "update_presence"}});
        for frame in [as_string, as_object] {
            assert_eq!(
                command(&frame.to_string()),
                Some(Command::Message(id.into(), Some("update_presence".into())))
            );
        }
        assert_eq!(command("not json"), None);
        assert_eq!(command(r#"{"command":"dance","identifier":"{}"}"#), None);
        assert_eq!(command(r#"{"command":"subscribe"}"#), None);
    }

    #[test]
    fn room_params_take_numbers_or_numeric_strings_and_only_room_channel() {
        let agent = room_params(
            r#"{"channel":"RoomChannel","pubsub_token":"t","account_id":"1","user_id":3}"#,
        )
        .unwrap();
        assert_eq!(agent.user_id, Some(3));
        assert_eq!(agent.account_id, Some(1));
        let contact = room_params(r#"{"channel":"RoomChannel","pubsub_token":"c"}"#).unwrap();
        assert_eq!((contact.user_id, contact.account_id), (None, None));
        assert_eq!(
            room_params(r#"{"channel":"Other","pubsub_token":"t"}"#),
            None
        );
        assert_eq!(room_params(r#"{"channel":"RoomChannel"}"#), None);
        assert_eq!(room_params("[1]"), None);
    }
}
