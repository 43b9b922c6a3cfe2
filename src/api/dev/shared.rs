//! Dev mode across nodes (PostgreSQL): a clock change or a reset made through one node reaches
//! every other within about 100 ms. The node that makes it shares it in the database
//! (`store::dev_state`); each node reads the shared row and follows what is newer than what it
//! has seen.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use actix_web::web;

use super::DevTools;
use crate::app::AppState;
use crate::store::dev_state;
use crate::supervisor::Beat;

/// How often a node reads the shared row.
const POLL: Duration = Duration::from_millis(100);

/// The newest clock version and reset count this node has followed or made.
#[derive(Debug)]
pub struct Seen {
    clock_version: AtomicI64,
    /// `i64::MIN` until first read: resets made before this node started are not news.
    resets: AtomicI64,
}

impl Default for Seen {
    fn default() -> Self {
        Self {
            clock_version: AtomicI64::new(0),
            resets: AtomicI64::new(i64::MIN),
        }
    }
}

impl Seen {
    /// Records a clock version; whether it is newer than any seen.
    pub fn clock(&self, version: i64) -> bool {
        self.clock_version.fetch_max(version, Ordering::SeqCst) < version
    }

    /// Records a reset count; whether it is newer than any seen since this node started.
    pub fn resets(&self, count: i64) -> bool {
        let before = self.resets.fetch_max(count, Ordering::SeqCst);
        before != i64::MIN && before < count
    }
}

/// Shares this node's clock setting, after a change made through it.
pub async fn share_clock(state: &AppState, tools: &DevTools) -> Result<(), crate::error::ApiError> {
    let Some((at, frozen)) = state.clock.setting() else {
        return Ok(());
    };
    let version = state
        .db
        .write(move |tx| dev_state::share_clock(tx, at, frozen))
        .await?;
    tools.shared.clock(version);
    Ok(())
}

/// Follows the shared row: adopts a newer clock setting, and forgets what lives beside the
/// database after a reset made through another node. Runs until aborted.
pub async fn follow(state: web::Data<AppState>, beat: Beat) -> Result<(), String> {
    let Some(tools) = state.dev.clone() else {
        return Ok(());
    };
    loop {
        let shared = state
            .db
            .read(dev_state::read)
            .await
            .map_err(|e| format!("reading dev mode's shared state failed: {e}"))?;
        if tools.shared.clock(shared.clock_version) {
            state.clock.adopt(shared.clock_at, shared.clock_frozen);
            state.snoozes.snoozes_changed();
        }
        if tools.shared.resets(shared.resets) {
            super::reset::forget_beside_the_database(&state, &tools).await;
        }
        beat.ok();
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_newer_versions_are_news_and_resets_before_the_start_are_not() {
        let seen = Seen::default();
        assert!(seen.clock(1));
        assert!(!seen.clock(1));
        assert!(!seen.clock(0));
        assert!(
            !seen.resets(4),
            "the first count read is where this node starts"
        );
        assert!(!seen.resets(4));
        assert!(seen.resets(5));
        assert!(!seen.resets(5));
    }
}
