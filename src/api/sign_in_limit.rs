//! Failed sign-ins, counted per client address and per email: after `MAX_FAILURES` in
//! `WINDOW` for either, `POST /auth/sign_in` answers 429 with `Retry-After` until the oldest of
//! them leaves the window. Guessing passwords is slowed down both from one address (across
//! emails) and against one account (across addresses).
//!
//! An attempt is counted as a failure when it starts, so that guesses sent at once cannot all
//! pass the check before any of them fails; a success takes its own count back from the address
//! and clears the email's failures, never the address's earlier ones (signing in to one's own
//! account does not buy more guesses at another).
//!
//! Memory is bounded: at most `REMEMBERED` keys per kind, each with at most `MAX_FAILURES`
//! instants, and emails are kept as SHA-256 digests, whatever their length. A full map first
//! forgets keys with no failure left in the window, then the key whose last failure is oldest.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Failures allowed in `WINDOW` per address and per email.
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys remembered per kind.
const REMEMBERED: usize = 10_000;

type EmailKey = [u8; 32];

/// Shared by every worker.
#[derive(Default)]
pub struct SignInLimit {
    state: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    addresses: Failures<IpAddr>,
    emails: Failures<EmailKey>,
}

/// Requests for "forgot password" links, limited per address and per email like failed
/// sign-ins, each counted: a limiter of its own, so that asking for links never locks anyone out
/// of signing in.
#[derive(Default)]
pub struct ResetLimit(pub SignInLimit);

/// A started attempt, to hand back on success.
pub struct Attempt {
    address: Option<IpAddr>,
    email: EmailKey,
    at: Instant,
}

impl SignInLimit {
    /// Counts an attempt for `address` and `email`, or, when either has used up its failures,
    /// the seconds until it may try again.
    pub fn begin(&self, address: Option<IpAddr>, email: &str) -> Result<Attempt, u64> {
        let email = email_key(email);
        let now = Instant::now();
        let mut counts = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let waits = [
            address.and_then(|a| counts.addresses.blocked_for(&a, now)),
            counts.emails.blocked_for(&email, now),
        ];
        if let Some(wait) = waits.into_iter().flatten().max() {
            return Err(wait.as_secs() + 1);
        }
        if let Some(address) = address {
            counts.addresses.record(address, now);
        }
        counts.emails.record(email, now);
        Ok(Attempt {
            address,
            email,
            at: now,
        })
    }

    /// The attempt signed in: it is no failure of its address, and the email starts afresh.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut counts = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(address) = attempt.address {
            counts.addresses.take_back(&address, attempt.at);
        }
        counts.emails.forget(&attempt.email);
    }
}

/// Emails compare without case, as the users table does.
fn email_key(email: &str) -> EmailKey {
    Sha256::digest(email.trim().to_lowercase().as_bytes()).into()
}

/// The latest failures of each key, oldest first, at most `MAX_FAILURES` of them.
struct Failures<K> {
    by_key: HashMap<K, VecDeque<Instant>>,
}

impl<K> Default for Failures<K> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Copy> Failures<K> {
    /// How long until `key` may try again, when it has `MAX_FAILURES` within the window.
    fn blocked_for(&self, key: &K, now: Instant) -> Option<Duration> {
        let failures = self.by_key.get(key)?;
        if failures.len() < MAX_FAILURES {
            return None;
        }
        let free_at = *failures.front()? + WINDOW;
        (free_at > now).then(|| free_at - now)
    }

    fn record(&mut self, key: K, now: Instant) {
        if !self.by_key.contains_key(&key) && self.by_key.len() >= REMEMBERED {
            self.make_room(now);
        }
        let failures = self.by_key.entry(key).or_default();
        failures.push_back(now);
        while failures.len() > MAX_FAILURES {
            failures.pop_front();
        }
    }

    fn take_back(&mut self, key: &K, at: Instant) {
        if let Some(failures) = self.by_key.get_mut(key) {
            if let Some(position) = failures.iter().rposition(|&t| t == at) {
                failures.remove(position);
            }
            if failures.is_empty() {
                self.by_key.remove(key);
            }
        }
    }

    fn forget(&mut self, key: &K) {
        self.by_key.remove(key);
    }

    fn make_room(&mut self, now: Instant) {
        self.by_key.retain(|_, failures| {
            failures
                .back()
                .is_some_and(|&last| now.saturating_duration_since(last) < WINDOW)
        });
        if self.by_key.len() >= REMEMBERED {
            let oldest = self
                .by_key
                .iter()
                .min_by_key(|(_, failures)| failures.back().copied())
                .map(|(key, _)| *key);
            if let Some(key) = oldest {
                self.by_key.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn the_sixth_attempt_from_one_address_is_refused_whatever_the_email() {
        let limit = SignInLimit::default();
        for n in 0..MAX_FAILURES {
            assert!(limit.begin(address(1), &format!("user{n}@x.test")).is_ok());
        }
        let wait = limit.begin(address(1), "other@x.test").err().unwrap();
        assert!(wait > 0 && wait <= WINDOW.as_secs() + 1);
        assert!(limit.begin(address(2), "other@x.test").is_ok());
    }

    #[test]
    fn the_sixth_attempt_at_one_email_is_refused_whatever_the_address() {
        let limit = SignInLimit::default();
        for n in 0..MAX_FAILURES {
            assert!(limit.begin(address(n as u8), "Victim@x.test").is_ok());
        }
        assert!(limit.begin(address(99), "victim@X.test ").is_err());
    }

    #[test]
    fn a_success_clears_its_email_but_not_the_address() {
        let limit = SignInLimit::default();
        for n in 0..MAX_FAILURES - 1 {
            limit.begin(address(1), &format!("user{n}@x.test")).unwrap();
        }
        let mine = limit.begin(address(1), "mine@x.test").unwrap();
        limit.succeeded(mine);
        // The success gave back only its own count: one more failure is allowed, then no more.
        limit.begin(address(1), "user9@x.test").unwrap();
        assert!(limit.begin(address(1), "mine@x.test").is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let mut failures = Failures::<u32>::default();
        let now = Instant::now();
        for key in 0..(REMEMBERED as u32 + 50) {
            failures.record(key, now);
        }
        assert!(failures.by_key.len() <= REMEMBERED);
    }
}
