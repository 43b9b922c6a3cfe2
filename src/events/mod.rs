//! Events out (DESIGN §10): the catalogue of what Chatwoot announces, the recording of events in
//! the transaction of each change (`record`), their payloads (`payloads`), and the sender that
//! delivers them to webhooks, API inboxes and agent bots (`sender`, `transport`).

pub mod address_policy;
pub mod broadcasts;
pub mod payloads;
pub mod record;
pub mod retry;
pub mod sender;
pub mod signature;
pub mod transport;

use crate::db::Conn;
use std::sync::Arc;

use crate::clock::Clock;
use crate::db::Db;
use crate::realtime::hub::Hub;
use crate::store::{event_capture, StoreError};
use crate::views::conversations::Links;

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

/// What recording a transaction's events needs besides the transaction.
#[derive(Clone)]
pub struct Recording {
    pub links: Links,
    /// Where live subscribers listen, if anyone can.
    pub live: Option<Arc<Hub>>,
}

impl Recording {
    /// Records the events of what the transaction changed so far, as done by `actor`.
    pub fn record(
        &self,
        tx: &Conn,
        actor: Option<crate::models::Performer>,
        now: i64,
    ) -> Result<(), StoreError> {
        record::record(tx, actor, &self.links, self.live.as_deref(), now)
    }
}

pub fn is_webhook_event(name: &str) -> bool {
    WEBHOOK_EVENTS.contains(&name)
}

/// Makes every write through `db` record its events: changes are noted on the writer
/// connection, and each write transaction turns what it changed into outbox rows before it
/// commits. Writes that know who acts record their events themselves first (`record::record`
/// with the actor); what is left is recorded here as done by the system. With `live`, the
/// events are broadcast to its subscribers too (see `realtime::attach`).
pub fn attach(db: &Db, clock: Clock, recording: Recording) -> Result<(), StoreError> {
    db.on_each_writer(event_capture::install)?;
    db.after_each_write(Box::new(move |tx| {
        recording.record(tx, None, clock.now_micros())
    }))
}
