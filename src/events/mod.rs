//! The event catalogue: the events Chatwoot announces to the outside, and the pieces of their
//! delivery: signing ([`signature`]), which addresses a delivery may reach ([`address_policy`]) and
//! one HTTP attempt ([`transport`]).

pub mod address_policy;
pub mod signature;
pub mod transport;

/// The events an account webhook may subscribe to: Chatwoot's allowed webhook events, all twelve.
pub const WEBHOOK_EVENTS: [&str; 12] = [
    "conversation_created",
    "conversation_status_changed",
    "conversation_updated",
    "contact_created",
    "contact_updated",
    "conversation_typing_on",
    "conversation_typing_off",
    "message_created",
    "message_updated",
    "webwidget_triggered",
    "inbox_created",
    "inbox_updated",
];

pub fn is_webhook_event(name: &str) -> bool {
    WEBHOOK_EVENTS.contains(&name)
}
