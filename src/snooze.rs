//! Snoozed conversations reopen by themselves when their time comes, within about a second
//! (Chatwoot's job runs every 5 minutes), including those that fell due while the server was
//! down, however long ago (Chatwoot's job skips those more than 3 days overdue).
//!
//! One task sleeps until the next due time: it looks again when a snooze is written, when a
//! manual clock moves, and at least every `LONGEST_SLEEP` in case the system clock jumps.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::{Clock, Timer};
use crate::db::Db;
use crate::store::conversations;
use crate::supervisor::Beat;

const LONGEST_SLEEP: Duration = Duration::from_secs(3600);
/// Where nodes share the database, a snooze written on another node does not signal this one:
/// each looks at least this often, so that the conversation wakes even when its writer has
/// gone. Reopening is one conditional update, so nodes that look at once reopen it once.
const LONGEST_SLEEP_SHARED: Duration = Duration::from_secs(5);

/// Tells the waker that snoozes changed; cheap, and a signal sent while it works is kept.
#[derive(Clone, Default)]
pub struct SnoozeSignal(Arc<Notify>);

impl SnoozeSignal {
    pub fn snoozes_changed(&self) {
        self.0.notify_one();
    }
}

/// Reopens what is due, then sleeps until the next due time or a signal; runs until aborted,
/// or until a pass fails (its supervisor starts it again).
pub async fn run(db: Db, clock: Clock, signal: SnoozeSignal, beat: Beat) -> Result<(), String> {
    let mut timer = Timer::new(clock);
    let longest_sleep = if db.is_postgres() {
        LONGEST_SLEEP_SHARED
    } else {
        LONGEST_SLEEP
    };
    loop {
        let now = timer.now_micros();
        let pass = db
            .write(move |tx| {
                let reopened = conversations::reopen_due_snoozes(tx, now)?;
                Ok((reopened, conversations::next_snooze_due(tx)?))
            })
            .await;
        let (reopened, next) =
            pass.map_err(|e| format!("reopening snoozed conversations failed: {e}"))?;
        beat.ok();
        if reopened > 0 {
            log::info!("reopened {reopened} snoozed conversation(s)");
        }
        timer
            .wait(timer.until(next, longest_sleep), &signal.0)
            .await;
    }
}
