//! The one source of "now". Timestamps are stored as unix microseconds so that Chatwoot's float
//! `updated_at` keeps its precision and ordering stays exact.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use std::time::Duration;

use tokio::sync::{watch, Notify};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None` reads the system clock; `Some` is a hand-driven clock for tests and dev mode.
    manual: Option<Arc<Manual>>,
}

#[derive(Debug)]
struct Manual {
    at: AtomicI64,
    /// Bumped on every move, so that timers waiting on this clock look again.
    moved: watch::Sender<u64>,
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    pub fn manual(start_micros: i64) -> Self {
        Self {
            manual: Some(Arc::new(Manual {
                at: AtomicI64::new(start_micros),
                moved: watch::Sender::new(0),
            })),
        }
    }

    pub fn now_micros(&self) -> i64 {
        match &self.manual {
            Some(manual) => manual.at.load(Ordering::SeqCst),
            None => never_back(&LATEST_SYSTEM_MICROS, chrono::Utc::now().timestamp_micros()),
        }
    }

    /// Moves a manual clock; a system clock ignores it.
    pub fn set_micros(&self, micros: i64) {
        if let Some(manual) = &self.manual {
            manual.at.store(micros, Ordering::SeqCst);
            manual.moved.send_modify(|n| *n += 1);
        }
    }

    pub fn advance_micros(&self, by: i64) {
        if let Some(manual) = &self.manual {
            manual.at.fetch_add(by, Ordering::SeqCst);
            manual.moved.send_modify(|n| *n += 1);
        }
    }

    /// For a manual clock, a receiver that sees every move; a system clock never jumps.
    pub fn moves(&self) -> Option<watch::Receiver<u64>> {
        self.manual.as_ref().map(|manual| manual.moved.subscribe())
    }
}

/// The latest system time handed out. System time can step back (a clock adjustment); times
/// read for writes must not, or a later row would sort before an earlier one.
static LATEST_SYSTEM_MICROS: AtomicI64 = AtomicI64::new(i64::MIN);

fn never_back(latest: &AtomicI64, read: i64) -> i64 {
    latest.fetch_max(read, Ordering::SeqCst).max(read)
}

/// A task's timer on a `Clock`: it waits until a due time on that clock, and wakes early when a
/// manual clock moves (tests move time instead of sleeping) or when told something changed.
pub struct Timer {
    clock: Clock,
    moves: Option<watch::Receiver<u64>>,
}

impl Timer {
    pub fn new(clock: Clock) -> Self {
        let moves = clock.moves();
        Self { clock, moves }
    }

    pub fn now_micros(&self) -> i64 {
        self.clock.now_micros()
    }

    /// How long until `due` (micros on the clock), at most `longest`; `longest` without a due time.
    pub fn until(&self, due: Option<i64>, longest: Duration) -> Duration {
        due.map_or(longest, |due| {
            let micros = due.saturating_sub(self.clock.now_micros()).max(0) as u64;
            Duration::from_micros(micros).min(longest)
        })
    }

    /// Sleeps `sleep`, or less when the clock moves or `woken` is notified.
    pub async fn wait(&mut self, sleep: Duration, woken: &Notify) {
        let clock_moved = async {
            // A system clock never moves; a dropped manual clock never will again.
            let moved = match self.moves.as_mut() {
                Some(moves) => moves.changed().await.is_ok(),
                None => false,
            };
            if !moved {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = woken.notified() => {}
            _ = clock_moved => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_micros(), 1_000);
        clock.advance_micros(500);
        assert_eq!(clock.now_micros(), 1_500);
        clock.set_micros(10);
        assert_eq!(clock.now_micros(), 10);
    }

    #[test]
    fn a_time_read_after_a_step_back_stays_at_the_latest() {
        let latest = AtomicI64::new(i64::MIN);
        assert_eq!(never_back(&latest, 100), 100);
        assert_eq!(never_back(&latest, 40), 100);
        assert_eq!(never_back(&latest, 130), 130);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(Clock::system().now_micros() > 1_577_836_800_000_000);
    }
}
