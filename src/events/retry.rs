//! When a failed delivery is tried again: exponential backoff with jitter, a receiver's
//! `Retry-After` honoured, and a window after which the delivery is given up.

use std::time::Duration;

/// The first retry waits about this long; each later one twice as long as the one before.
const FIRST_DELAY: Duration = Duration::from_secs(2);
/// No retry waits longer than this.
const LONGEST_DELAY: Duration = Duration::from_secs(3600);

/// How long to wait before attempt number `attempts + 1`, `attempts` having failed: a random
/// point in the upper half of the backoff step, so that receivers coming back are not hit by
/// every sender at once. `retry_after` (the receiver's own wish) wins when it is longer.
pub fn delay(attempts: i64, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32 - 1;
    let step = FIRST_DELAY
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(LONGEST_DELAY);
    let jittered = step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    match retry_after {
        Some(wish) if wish > jittered => wish.min(LONGEST_DELAY),
        _ => jittered,
    }
}

/// Whether a retry at `retry_at` still falls inside the window that began at `created_at`
/// (all in microseconds).
pub fn within_window(created_at: i64, retry_at: i64, window: Duration) -> bool {
    retry_at.saturating_sub(created_at) <= window.as_micros().min(i64::MAX as u128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_their_jitter_and_stop_growing_at_the_longest() {
        assert_eq!(delay(1, None, 0.0), Duration::from_secs(1));
        assert_eq!(delay(1, None, 1.0), Duration::from_secs(2));
        assert_eq!(delay(2, None, 1.0), Duration::from_secs(4));
        assert_eq!(delay(5, None, 1.0), Duration::from_secs(32));
        assert_eq!(delay(40, None, 1.0), LONGEST_DELAY);
        assert_eq!(delay(40, None, 0.0), LONGEST_DELAY / 2);
    }

    #[test]
    fn a_longer_retry_after_wins_and_a_shorter_one_does_not() {
        assert_eq!(
            delay(1, Some(Duration::from_secs(30)), 1.0),
            Duration::from_secs(30)
        );
        assert_eq!(
            delay(3, Some(Duration::from_secs(1)), 1.0),
            Duration::from_secs(8)
        );
        assert_eq!(
            delay(1, Some(Duration::from_secs(86_400)), 1.0),
            LONGEST_DELAY
        );
    }

    #[test]
    fn the_window_counts_from_the_event() {
        let hour = Duration::from_secs(3600);
        assert!(within_window(0, 3_600_000_000, hour));
        assert!(!within_window(0, 3_600_000_001, hour));
    }
}
