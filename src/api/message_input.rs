//! A message as clients send it (JSON body, form fields, or a conversation's initial `message`),
//! validated into a `NewMessage`.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::input::{enum_value, FlexBool, FlexId, NameOrCode};
use crate::error::ApiError;
use crate::models::MessageType;
use crate::store::messages::NewMessage;

/// Chatwoot's limit on a message's content.
pub const MAX_CONTENT_CHARS: usize = 150_000;

/// Chatwoot's message content types.
const CONTENT_TYPES: &[&str] = &[
    "text",
    "input_text",
    "input_textarea",
    "input_email",
    "input_select",
    "cards",
    "form",
    "article",
    "incoming_email",
    "input_csat",
    "integrations",
    "sticker",
    "voice_call",
];

#[derive(Deserialize, Default, Debug, Clone)]
pub struct MessageInput {
    pub content: Option<String>,
    pub message_type: Option<NameOrCode>,
    pub private: Option<FlexBool>,
    pub content_type: Option<String>,
    /// An object, or (from form fields) a JSON string holding one.
    pub content_attributes: Option<Value>,
    pub echo_id: Option<Value>,
    pub source_id: Option<String>,
    pub campaign_id: Option<FlexId>,
    pub template_params: Option<Value>,
}

/// A validated message and the echo id to hand back on the create response only.
#[derive(Clone)]
pub struct ParsedMessage {
    pub message: NewMessage,
    pub echo_id: Option<String>,
}

impl ParsedMessage {
    /// Names the sender: the caller (`("User", id)` or `("AgentBot", id)`, see
    /// `Principal::sender`) sends outgoing messages, the conversation's contact the rest.
    pub fn sent_by(mut self, caller: (&'static str, i64), contact_id: i64) -> Self {
        self.message.sender = Some(if self.message.message_type == MessageType::Outgoing {
            caller
        } else {
            ("Contact", contact_id)
        });
        self
    }
}

impl MessageInput {
    /// Validates the message; its sender is set with `ParsedMessage::sent_by`.
    pub fn parse(self) -> Result<ParsedMessage, ApiError> {
        let message_type = enum_value(
            self.message_type,
            "message_type",
            MessageType::parse,
            MessageType::from_code,
            MessageType::names,
        )?
        .unwrap_or(MessageType::Outgoing);
        if let Some(content) = &self.content {
            if content.chars().count() > MAX_CONTENT_CHARS {
                return Err(ApiError::unprocessable(format!(
                    "Validation failed: Content is too long (maximum is {MAX_CONTENT_CHARS} characters)"
                )));
            }
        }
        let content_type = match self.content_type.as_deref().map(str::trim) {
            None | Some("") => "text".to_string(),
            Some(kind) if CONTENT_TYPES.contains(&kind) => kind.to_string(),
            Some(kind) => {
                return Err(ApiError::unprocessable(format!(
                    "'{kind}' is not a valid content_type; use one of: {}",
                    CONTENT_TYPES.join(", ")
                )))
            }
        };
        let mut additional = Map::new();
        if let Some(campaign) = self.campaign_id {
            additional.insert("campaign_id".into(), json!(campaign.0));
        }
        if let Some(params) = self.template_params.filter(|p| !p.is_null()) {
            additional.insert("template_params".into(), params);
        }
        Ok(ParsedMessage {
            message: NewMessage {
                message_type,
                content: self.content,
                private: self.private.is_some_and(|p| p.0),
                content_type,
                content_attributes: content_attributes(self.content_attributes)?,
                source_id: self.source_id.filter(|s| !s.trim().is_empty()),
                additional_attributes: Value::Object(additional),
                sender: None,
            },
            echo_id: self.echo_id.and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Null => None,
                other => Some(other.to_string()),
            }),
        })
    }
}

/// Chatwoot parses a JSON string and reads unparseable text as `{}`.
fn content_attributes(given: Option<Value>) -> Result<Value, ApiError> {
    match given {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::Object(map)) => Ok(Value::Object(map)),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(Value::Object(map)),
            _ => Ok(json!({})),
        },
        Some(other) => Err(ApiError::unprocessable(format!(
            "Invalid value for 'content_attributes': expected an object, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<ParsedMessage, ApiError> {
        serde_json::from_value::<MessageInput>(body)
            .unwrap()
            .parse()
            .map(|m| m.sent_by(("User", 7), 9))
    }

    #[test]
    fn outgoing_by_default_from_the_user() {
        let parsed = parse(json!({ "content": "hi" })).unwrap();
        assert_eq!(parsed.message.message_type, MessageType::Outgoing);
        assert_eq!(parsed.message.sender, Some(("User", 7)));
        assert_eq!(parsed.message.content_type, "text");
    }

    #[test]
    fn a_bot_sends_outgoing_messages_as_itself() {
        let parsed = serde_json::from_value::<MessageInput>(json!({ "content": "hi" }))
            .unwrap()
            .parse()
            .unwrap()
            .sent_by(("AgentBot", 3), 9);
        assert_eq!(parsed.message.sender, Some(("AgentBot", 3)));
    }

    #[test]
    fn incoming_comes_from_the_contact_and_types_may_be_numbers() {
        let parsed = parse(json!({ "content": "hi", "message_type": "incoming" })).unwrap();
        assert_eq!(parsed.message.sender, Some(("Contact", 9)));
        assert_eq!(
            parse(json!({ "message_type": 0 }))
                .unwrap()
                .message
                .message_type,
            MessageType::Incoming
        );
        assert!(parse(json!({ "message_type": "shout" })).is_err());
    }

    #[test]
    fn limits_and_attribute_strings() {
        assert!(parse(json!({ "content": "x".repeat(MAX_CONTENT_CHARS + 1) })).is_err());
        assert!(parse(json!({ "content_type": "hologram" })).is_err());
        let parsed =
            parse(json!({ "content_attributes": "{\"a\": 1}", "private": "true", "echo_id": 5 }))
                .unwrap();
        assert_eq!(parsed.message.content_attributes, json!({ "a": 1 }));
        assert!(parsed.message.private);
        assert_eq!(parsed.echo_id.as_deref(), Some("5"));
    }
}
