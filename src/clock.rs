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
    /// While frozen: the time. While running: the offset from the system clock.
    at: AtomicI64,
    frozen: std::sync::atomic::AtomicBool,
    /// Serialises moves, so that a freeze and a set never interleave.
    moving: std::sync::Mutex<()>,
    /// Bumped on every move, so that timers waiting on this clock look again.
    moved: watch::Sender<u64>,
}

fn system_micros() -> i64 {
    never_back(&LATEST_SYSTEM_MICROS, chrono::Utc::now().timestamp_micros())
}

impl Manual {
    fn new(at: i64, frozen: bool) -> Self {
        Self {
            at: AtomicI64::new(at),
            frozen: std::sync::atomic::AtomicBool::new(frozen),
            moving: std::sync::Mutex::new(()),
            moved: watch::Sender::new(0),
        }
    }

    fn now(&self) -> i64 {
        let at = self.at.load(Ordering::SeqCst);
        if self.frozen.load(Ordering::SeqCst) {
            at
        } else {
            chrono::Utc::now().timestamp_micros().saturating_add(at)
        }
    }

    /// Applies `change` to the clock's time, frozen or running, and tells the timers.
    fn moved_by(&self, change: impl FnOnce(i64) -> i64) {
        let _one_at_a_time = self.moving.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.now();
        let target = change(now);
        if self.frozen.load(Ordering::SeqCst) {
            self.at.store(target, Ordering::SeqCst);
        } else {
            let offset = target.saturating_sub(chrono::Utc::now().timestamp_micros());
            self.at.store(offset, Ordering::SeqCst);
        }
        self.moved.send_modify(|n| *n += 1);
    }

    /// Takes a setting made elsewhere: `at` is the frozen time or the offset, as `setting`.
    fn adopt(&self, at: i64, frozen: bool) {
        let _one_at_a_time = self.moving.lock().unwrap_or_else(|e| e.into_inner());
        self.at.store(at, Ordering::SeqCst);
        self.frozen.store(frozen, Ordering::SeqCst);
        self.moved.send_modify(|n| *n += 1);
    }

    fn freeze(&self, frozen: bool) {
        let _one_at_a_time = self.moving.lock().unwrap_or_else(|e| e.into_inner());
        if self.frozen.load(Ordering::SeqCst) == frozen {
            return;
        }
        let now = self.now();
        let system = chrono::Utc::now().timestamp_micros();
        // Stored before the flag flips, so that a reader in between sees the same time.
        self.at
            .store(if frozen { now } else { now - system }, Ordering::SeqCst);
        self.frozen.store(frozen, Ordering::SeqCst);
        self.moved.send_modify(|n| *n += 1);
    }
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands at `start_micros` until moved (tests).
    pub fn manual(start_micros: i64) -> Self {
        Self {
            manual: Some(Arc::new(Manual::new(start_micros, true))),
        }
    }

    /// A clock that runs with the system's until it is set, advanced or frozen (dev mode).
    pub fn adjustable() -> Self {
        Self {
            manual: Some(Arc::new(Manual::new(0, false))),
        }
    }

    pub fn now_micros(&self) -> i64 {
        match &self.manual {
            Some(manual) => manual.now(),
            None => system_micros(),
        }
    }

    /// Moves an adjustable clock to `micros`; a system clock ignores it.
    pub fn set_micros(&self, micros: i64) {
        if let Some(manual) = &self.manual {
            manual.moved_by(|_| micros);
        }
    }

    pub fn advance_micros(&self, by: i64) {
        if let Some(manual) = &self.manual {
            manual.moved_by(|now| now.saturating_add(by));
        }
    }

    /// Stops an adjustable clock where it is, or lets it run on from there.
    pub fn freeze(&self, frozen: bool) {
        if let Some(manual) = &self.manual {
            manual.freeze(frozen);
        }
    }

    /// An adjustable clock's setting, for other nodes to take (`adopt`): the frozen time, or the
    /// offset from the system clock, and whether it is frozen. None for a system clock.
    pub fn setting(&self) -> Option<(i64, bool)> {
        let manual = self.manual.as_ref()?;
        let _one_at_a_time = manual.moving.lock().unwrap_or_else(|e| e.into_inner());
        Some((
            manual.at.load(Ordering::SeqCst),
            manual.frozen.load(Ordering::SeqCst),
        ))
    }

    /// Takes the setting another node's adjustable clock had (`setting`); timers look again.
    pub fn adopt(&self, at: i64, frozen: bool) {
        if let Some(manual) = &self.manual {
            manual.adopt(at, frozen);
        }
    }

    /// Whether the clock stands still (a system clock never does).
    pub fn is_frozen(&self) -> bool {
        self.manual
            .as_ref()
            .is_some_and(|m| m.frozen.load(Ordering::SeqCst))
    }

    /// Whether the clock can be moved at all.
    pub fn is_adjustable(&self) -> bool {
        self.manual.is_some()
    }

    /// For an adjustable clock, a receiver that sees every move; a system clock never jumps.
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
    fn an_adjustable_clock_runs_until_frozen_and_keeps_its_moves() {
        let clock = Clock::adjustable();
        let start = clock.now_micros();
        assert!(!clock.is_frozen());
        clock.advance_micros(3_600_000_000);
        let later = clock.now_micros();
        assert!(later >= start + 3_600_000_000, "advanced an hour");
        clock.freeze(true);
        let frozen = clock.now_micros();
        assert!(frozen >= later);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now_micros(), frozen, "frozen stands still");
        clock.set_micros(1_000_000);
        assert_eq!(clock.now_micros(), 1_000_000);
        clock.freeze(false);
        std::thread::sleep(Duration::from_millis(5));
        let running = clock.now_micros();
        assert!(
            running > 1_000_000 && running < 60_000_000,
            "runs on from where it stood"
        );
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
