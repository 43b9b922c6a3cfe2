//! Which accounts have `/cable` subscribers somewhere, so that a write in an account nobody
//! watches builds no broadcasts (docs/storage.md §8). One node on SQLite asks its own hub. Nodes
//! that share a PostgreSQL database keep a row per account and node (`store::cable_watch`), and
//! a write reads it in its transaction.
//!
//! The row comes before the account's first subscription on the node is confirmed, and the
//! node then waits for every transaction that had begun writing by then to end: a write that
//! read no row may still be about to commit. Any write that commits after the confirmation has
//! either ended by then or reads the row, so the subscription hears every change committed
//! after it is confirmed, as on SQLite.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::hub::Hub;
use crate::db::Db;
use crate::error::ApiError;
use crate::store::cable_watch;
use crate::supervisor::Beat;

/// How often a node says again which accounts it watches, and drops those it no longer does.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// A row not said again in this long is a gone node's.
const STALE_SECS: i64 = 10 * 60;
/// The longest a first subscription waits for the writes in progress; past it, one that read
/// no row and commits later would go unheard, so it is logged.
const SETTLE_AT_MOST: Duration = Duration::from_secs(5);
const SETTLE_POLL: Duration = Duration::from_millis(2);

pub enum Watching {
    /// The hub alone knows (one node).
    Local,
    Shared(Shared),
}

pub struct Shared {
    /// This node, as its rows name it.
    node: String,
    /// The accounts this node has a row for.
    rows: Mutex<HashSet<i64>>,
}

impl Watching {
    /// The hub on SQLite, the database on PostgreSQL.
    pub fn for_database(db: &Db) -> Self {
        if db.is_postgres() {
            Self::Shared(Shared {
                node: uuid::Uuid::new_v4().to_string(),
                rows: Mutex::new(HashSet::new()),
            })
        } else {
            Self::Local
        }
    }

    /// Makes the account known as watched before a subscription to it is confirmed; the
    /// subscriber must be in the hub already, or the next refresh may drop the row.
    pub async fn subscribing(&self, db: &Db, account_id: i64) -> Result<(), ApiError> {
        let Self::Shared(shared) = self else {
            return Ok(());
        };
        // Held until the writes in progress have ended: another subscription to the account
        // that found it known and went ahead could miss one of them.
        let mut rows = shared.rows.lock().await;
        if rows.contains(&account_id) {
            return Ok(());
        }
        let node = shared.node.clone();
        db.write(move |tx| cable_watch::watch(tx, &node, account_id))
            .await?;
        // Taken once the row is in: any write that has not seen it has an id below this one.
        let after = db.write(cable_watch::transaction_id).await?;
        settle(db, after).await?;
        rows.insert(account_id);
        Ok(())
    }

    /// `refresh_now` every little while; runs until aborted.
    pub async fn refresh(self: Arc<Self>, db: Db, hub: Arc<Hub>, beat: Beat) -> Result<(), String> {
        loop {
            tokio::time::sleep(REFRESH_EVERY).await;
            self.refresh_now(&db, &hub)
                .await
                .map_err(|e| format!("refreshing the watched accounts failed: {e}"))?;
            beat.ok();
        }
    }

    /// Says again which accounts this node watches, drops its rows for those it no longer
    /// does, and forgets gone nodes' rows.
    pub async fn refresh_now(&self, db: &Db, hub: &Hub) -> Result<(), ApiError> {
        let Self::Shared(shared) = self else {
            return Ok(());
        };
        // Held throughout, so that a first subscription waits and then writes its row anew.
        let mut rows = shared.rows.lock().await;
        let (kept, gone): (Vec<i64>, Vec<i64>) =
            rows.iter().copied().partition(|a| hub.watches(*a));
        let node = shared.node.clone();
        let dropped = gone.clone();
        db.write(move |tx| {
            for account_id in &kept {
                cable_watch::watch(tx, &node, *account_id)?;
            }
            for account_id in &dropped {
                cable_watch::unwatch(tx, &node, *account_id)?;
            }
            cable_watch::forget_stale(tx, STALE_SECS)?;
            Ok(())
        })
        .await?;
        for account_id in gone {
            rows.remove(&account_id);
        }
        Ok(())
    }
}

/// Waits until every transaction with an id below `id` has ended.
async fn settle(db: &Db, id: String) -> Result<(), ApiError> {
    let began = Instant::now();
    loop {
        let below = id.clone();
        if db
            .read(move |conn| cable_watch::settled(conn, &below))
            .await?
        {
            return Ok(());
        }
        if began.elapsed() >= SETTLE_AT_MOST {
            log::warn!(
                "a transaction in progress outlived a /cable subscription's wait ({}s); a \
                 change it commits may not be broadcast",
                SETTLE_AT_MOST.as_secs()
            );
            return Ok(());
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
}
