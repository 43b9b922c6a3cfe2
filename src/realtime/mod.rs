//! `/cable`: Chatwoot's ActionCable endpoint (docs/actioncable.md). `protocol` reads and writes
//! the frames, `hub` holds connections and their subscriptions, `connection` serves one socket,
//! `presence` keeps who was seen lately.

pub mod connection;
pub mod hub;
pub mod presence;
pub mod protocol;

use std::sync::Arc;

use crate::db::Db;
use crate::store::{cable_outbox, StoreError};
use hub::{Broadcast, Hub};

/// Publishes the broadcasts each write transaction noted (`events::broadcasts`) once it has
/// committed, on the writer, so subscribers see changes in commit order. Publishing only queues:
/// it never waits for a socket.
pub fn attach(db: &Db, hub: Arc<Hub>) -> Result<(), StoreError> {
    db.on_each_writer(cable_outbox::install)?;
    db.on_commit(Box::new(move |tx| {
        let noted = cable_outbox::take(tx)?;
        if noted.is_empty() {
            return Ok(None);
        }
        let broadcasts: Vec<Broadcast> = noted
            .into_iter()
            .filter_map(|n| {
                let streams = serde_json::from_str(&n.streams).ok()?;
                Some(Broadcast {
                    event: n.event,
                    data: n.data,
                    streams,
                })
            })
            .collect();
        let hub = Arc::clone(&hub);
        Ok(Some(Box::new(move || {
            hub.publish(&broadcasts);
        })))
    }))
}
