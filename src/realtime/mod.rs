//! `/cable`: Chatwoot's ActionCable endpoint (docs/actioncable.md). `protocol` reads and writes
//! the frames, `hub` holds connections and their subscriptions, `connection` serves one socket,
//! `presence` keeps who was seen lately, `watching` which accounts have subscribers anywhere.

pub mod connection;
pub mod hub;
pub mod presence;
pub mod protocol;
pub mod watching;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::db::Db;
use crate::feed_pruning::SharedPruning;
use crate::store::cable_outbox::{self, Noted};
use crate::store::{cable_feed, feed_follow, StoreError};
use crate::supervisor::Beat;
use hub::{Broadcast, Hub};

/// How broadcasts reach the hub after their commit.
pub enum Publishing {
    /// From the commit itself (SQLite's one writer commits in order).
    Direct,
    /// Through the feed all nodes follow (PostgreSQL): `follow_shared_feed` publishes them,
    /// and this wakes it when a commit on this node added some.
    Shared(Arc<Notify>),
}

/// Publishes the broadcasts each write transaction noted (`events::broadcasts`) once it has
/// committed, so subscribers see changes in commit order. On SQLite the writer hands them to
/// the hub; on PostgreSQL they join the shared feed in the same transaction, and every node's
/// follower publishes them. Publishing only queues: it never waits for a socket.
pub fn attach(db: &Db, hub: Arc<Hub>) -> Result<Publishing, StoreError> {
    db.on_each_writer(cable_outbox::install)?;
    if db.is_postgres() {
        let written = Arc::new(Notify::new());
        let wake = Arc::clone(&written);
        db.on_commit(Box::new(move |tx| {
            if !cable_feed::share_noted(tx)? {
                return Ok(None);
            }
            let wake = Arc::clone(&wake);
            Ok(Some(Box::new(move || wake.notify_one())))
        }))?;
        return Ok(Publishing::Shared(written));
    }
    db.on_commit(Box::new(move |tx| {
        let noted = cable_outbox::take(tx)?;
        if noted.is_empty() {
            return Ok(None);
        }
        let broadcasts = broadcasts(noted);
        let hub = Arc::clone(&hub);
        Ok(Some(Box::new(move || {
            hub.publish(&broadcasts);
        })))
    }))?;
    Ok(Publishing::Direct)
}

fn broadcasts(noted: impl IntoIterator<Item = Noted>) -> Vec<Broadcast> {
    noted
        .into_iter()
        .filter_map(|n| {
            let streams = serde_json::from_str(&n.streams).ok()?;
            Some(Broadcast {
                event: n.event,
                data: n.data,
                streams,
            })
        })
        .collect()
}

/// Broadcasts read from the shared feed per pass at most.
const FEED_BATCH: i64 = 1_000;
/// How often a node looks at the shared feed when neither its own commits nor another node's
/// notification wake it: the longest another node's change takes to reach this node's
/// sockets when a notification is lost, give or take a read.
const FEED_POLL: Duration = Duration::from_millis(50);
/// How long the shared feed keeps a broadcast: a node that is up reads it within `FEED_POLL`.
const FEED_RETENTION: Duration = Duration::from_secs(5 * 60);

/// Publishes the shared feed to this node's hub, in the order the feed's passes read it, from
/// what is written after it starts; runs until aborted, or until the feed cannot be read (its
/// supervisor starts it again, from then on: a socket catches up through the API).
pub async fn follow_shared_feed(
    db: Db,
    hub: Arc<Hub>,
    written: Arc<Notify>,
    beat: Beat,
) -> Result<(), String> {
    let failed = |e: crate::error::ApiError| format!("reading the /cable feed failed: {e}");
    let mut at = db.read(cable_feed::start).await.map_err(failed)?;
    let mut pruning = SharedPruning::default();
    let mut others = db.others_wrote();
    loop {
        let from = at.clone();
        let pass = db
            .read(move |conn| cable_feed::next(conn, &from, FEED_BATCH))
            .await
            .map_err(failed)?;
        let full = match pass {
            Some((rows, next)) => {
                let full = rows.len() as i64 == FEED_BATCH;
                hub.publish(&broadcasts(rows.into_iter().map(|(_, noted)| noted)));
                at = next;
                full
            }
            None => {
                log::warn!("the /cable feed was pruned past this node; going on from now");
                at = db.read(cable_feed::start).await.map_err(failed)?;
                false
            }
        };
        beat.ok();
        if full {
            continue;
        }
        prune_shared_feed(&db, &mut pruning).await;
        tokio::select! {
            _ = written.notified() => {}
            _ = crate::db::changed(&mut others) => {}
            _ = tokio::time::sleep(FEED_POLL) => {}
        }
    }
}

async fn prune_shared_feed(db: &Db, pruning: &mut SharedPruning) {
    let now = std::time::Instant::now();
    if !pruning.wants_horizon(now) {
        return;
    }
    let horizon = match db.read(feed_follow::horizon_now).await {
        Ok(horizon) => horizon,
        Err(e) => return log::warn!("pruning the /cable feed failed: {e}"),
    };
    if let Some(below) = pruning.noted(now, horizon, FEED_RETENTION) {
        if let Err(e) = db
            .write(move |tx| cable_feed::prune_shared(tx, &below))
            .await
        {
            log::warn!("pruning the /cable feed failed: {e}");
        }
    }
}
