//! Pruning a feed table that several nodes follow at their own pace (docs/storage.md §6):
//! rows are kept for a retention whatever each node has applied, and a node that fell further
//! behind learns it from the feed's floor.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How often a node notes the horizon and prunes.
const EVERY: Duration = Duration::from_secs(30);

/// The horizons (`feed_follow::horizon_now`) a node has seen, oldest first, and when: rows of
/// transactions below one seen a retention ago can go.
#[derive(Default)]
pub struct SharedPruning {
    seen: VecDeque<(Instant, String)>,
}

impl SharedPruning {
    /// Whether it is time to note the horizon again.
    pub fn wants_horizon(&self, now: Instant) -> bool {
        self.seen
            .back()
            .is_none_or(|(at, _)| now.duration_since(*at) >= EVERY)
    }

    /// Notes `horizon`, seen at `now`, and gives the newest horizon noted at least `retention`
    /// ago, if any: the feed's rows below it can go.
    pub fn noted(&mut self, now: Instant, horizon: String, retention: Duration) -> Option<String> {
        self.seen.push_back((now, horizon));
        let mut old_enough = None;
        while let Some((at, _)) = self.seen.front() {
            if now.duration_since(*at) < retention {
                break;
            }
            old_enough = self.seen.pop_front().map(|(_, horizon)| horizon);
        }
        old_enough
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_horizon_is_pruned_below_once_it_is_a_retention_old() {
        let start = Instant::now();
        let retention = Duration::from_secs(60);
        let mut pruning = SharedPruning::default();
        assert!(pruning.wants_horizon(start));
        assert_eq!(pruning.noted(start, "10".into(), retention), None);
        assert!(!pruning.wants_horizon(start + Duration::from_secs(29)));
        let later = start + Duration::from_secs(30);
        assert!(pruning.wants_horizon(later));
        assert_eq!(pruning.noted(later, "20".into(), retention), None);
        let much_later = start + Duration::from_secs(95);
        assert_eq!(
            pruning.noted(much_later, "30".into(), retention),
            Some("20".into())
        );
        assert_eq!(
            pruning.noted(much_later + EVERY, "40".into(), retention),
            None
        );
    }
}
