//! The conversation transcript mail (Chatwoot's `ConversationReplyMailer#conversation_transcript`):
//! subject `[#<display_id>] Conversation Transcript`, then every message a customer could see,
//! oldest first, with its sender and time, as text and as HTML.

use super::{utc_time, Rendered};
use crate::store::details::{MessageDetails, Sender};

fn sender_name(message: &MessageDetails) -> String {
    match &message.sender {
        Some(Sender::Contact(contact)) if !contact.name.is_empty() => contact.name.clone(),
        Some(Sender::Contact(_)) => "Customer".to_string(),
        Some(Sender::User(agent)) => agent
            .display_name
            .clone()
            .unwrap_or_else(|| agent.name.clone()),
        // `AgentBot#available_name` is its name.
        Some(Sender::AgentBot(bot)) => bot.name.clone(),
        None => "Bot".to_string(),
    }
}

fn body_of(message: &MessageDetails) -> String {
    let mut body = message.message.content.clone().unwrap_or_default();
    for attachment in &message.attachments {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(&format!(
            "[attachment: {}]",
            attachment.file_name.as_deref().unwrap_or("file")
        ));
    }
    body
}

pub fn render(display_id: i64, messages: &[MessageDetails]) -> Rendered {
    let subject = format!("[#{display_id}] Conversation Transcript");
    let mut text = format!("{subject}\n\n");
    let mut html = format!(
        "<!DOCTYPE html><html><body><h2>{}</h2>",
        v_htmlescape::escape_fmt(&subject)
    );
    for message in messages {
        let (who, when, body) = (
            sender_name(message),
            utc_time(message.message.created_at),
            body_of(message),
        );
        text.push_str(&format!("{who} ({when}):\n{body}\n\n"));
        html.push_str(&format!(
            "<p><strong>{}</strong> <small>{}</small><br>{}</p>",
            v_htmlescape::escape_fmt(&who),
            v_htmlescape::escape_fmt(&when),
            v_htmlescape::escape_fmt(&body)
                .to_string()
                .replace('\n', "<br>")
        ));
    }
    html.push_str("</body></html>");
    Rendered {
        subject,
        text,
        html,
    }
}
