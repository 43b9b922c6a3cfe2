//! The index's copy of every conversation's summary: what the list's counts and order read
//! (account, status, inbox, team, assignee, the sort times). The indexer keeps it in step with
//! the database from the same outbox as the index, so the copy is at least as new as the index's
//! published position (a search reads the conversations changed after it from the database), and
//! a search counts and orders thousands of matches without reading each one from the database.

use crate::db::Conn;

use crate::store::conversation_list::Summary;
use crate::store::{search_feed, StoreResult};

/// The highest conversation id the copy holds; a larger one makes it unusable (searches then
/// read the database), rather than allocating for ids nobody has.
const MOST_ID: i64 = u32::MAX as i64;
const NO_WAITING: i64 = i64::MIN;
const NO_PRIORITY: i8 = i8::MIN;

/// A summary in 48 bytes, at the index of its conversation id. Ids start at 1, so 0 stands for
/// "none" (no team, no assignee, and an account of 0 for no conversation at all).
#[derive(Clone, Copy, Default)]
struct Packed {
    last_activity_at: i64,
    created_at: i64,
    waiting_since: i64,
    account_id: u32,
    inbox_id: u32,
    team_id: u32,
    assignee_id: u32,
    priority: i8,
    status: u8,
}

fn small(id: Option<i64>) -> Option<u32> {
    match id {
        None => Some(0),
        Some(id) => u32::try_from(id).ok().filter(|&id| id > 0),
    }
}

impl Packed {
    fn of(s: &Summary) -> Option<Packed> {
        Some(Packed {
            last_activity_at: s.last_activity_at,
            created_at: s.created_at,
            waiting_since: match s.waiting_since {
                Some(NO_WAITING) => return None,
                other => other.unwrap_or(NO_WAITING),
            },
            account_id: small(Some(s.account_id))?,
            inbox_id: small(Some(s.inbox_id))?,
            team_id: small(s.team_id)?,
            assignee_id: small(s.assignee_id)?,
            priority: match s.priority {
                None => NO_PRIORITY,
                Some(p) => i8::try_from(p).ok().filter(|&p| p != NO_PRIORITY)?,
            },
            status: u8::try_from(s.status).ok()?,
        })
    }

    fn unpack(&self, id: i64) -> Option<Summary> {
        let some = |v: u32| (v != 0).then_some(i64::from(v));
        (self.account_id != 0).then(|| Summary {
            id,
            account_id: i64::from(self.account_id),
            status: i64::from(self.status),
            inbox_id: i64::from(self.inbox_id),
            team_id: some(self.team_id),
            assignee_id: some(self.assignee_id),
            last_activity_at: self.last_activity_at,
            created_at: self.created_at,
            priority: (self.priority != NO_PRIORITY).then_some(i64::from(self.priority)),
            waiting_since: (self.waiting_since != NO_WAITING).then_some(self.waiting_since),
        })
    }
}

#[derive(Default)]
pub struct Summaries {
    rows: Vec<Packed>,
    /// Loaded, and every value fitted: searches may rely on it.
    usable: bool,
}

impl Summaries {
    /// Every conversation's summary, as the database holds it now.
    pub fn load(conn: &Conn) -> StoreResult<Summaries> {
        let mut summaries = Summaries {
            rows: Vec::new(),
            usable: true,
        };
        search_feed::for_each_summary(conn, |summary| {
            summaries.set(summary.id, Some(summary));
            Ok(())
        })?;
        Ok(summaries)
    }

    pub fn is_usable(&self) -> bool {
        self.usable
    }

    /// Makes the copy of conversation `id` what the database holds: `summary`, or nothing.
    pub fn set(&mut self, id: i64, summary: Option<Summary>) {
        // An unusable copy is never read; it waits to be replaced by a load.
        if !self.usable {
            return;
        }
        let (Some(at), true) = (usize::try_from(id).ok(), (1..=MOST_ID).contains(&id)) else {
            self.usable = false;
            return;
        };
        let packed = match summary.as_ref().map(Packed::of) {
            None => Packed::default(),
            Some(Some(packed)) => packed,
            Some(None) => {
                self.usable = false;
                return;
            }
        };
        if at >= self.rows.len() {
            if summary.is_none() {
                return;
            }
            self.rows.resize(at + 1, Packed::default());
        }
        self.rows[at] = packed;
    }

    pub fn get(&self, id: i64) -> Option<Summary> {
        let at = usize::try_from(id).ok()?;
        self.rows.get(at)?.unpack(id)
    }

    /// The summaries of these conversations, leaving out any the copy does not hold.
    pub fn of<'a>(&'a self, ids: &'a [i64]) -> impl Iterator<Item = Summary> + 'a {
        ids.iter().filter_map(|&id| self.get(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: i64) -> Summary {
        Summary {
            id,
            account_id: 1,
            status: 2,
            inbox_id: 7,
            team_id: Some(3),
            assignee_id: None,
            last_activity_at: 1_700_000_000_000_000,
            created_at: 1_600_000_000_000_000,
            priority: Some(0),
            waiting_since: None,
        }
    }

    #[test]
    fn a_summary_comes_back_as_it_was_set_and_goes_when_unset() {
        let mut summaries = Summaries {
            usable: true,
            ..Summaries::default()
        };
        let mut other = summary(9);
        other.team_id = None;
        other.assignee_id = Some(4);
        other.priority = None;
        other.waiting_since = Some(-5);
        summaries.set(3, Some(summary(3)));
        summaries.set(9, Some(other));
        assert_eq!(summaries.get(3), Some(summary(3)));
        assert_eq!(summaries.get(9), Some(other));
        assert_eq!(summaries.get(4), None);
        assert_eq!(summaries.get(100), None);
        summaries.set(3, None);
        assert_eq!(summaries.get(3), None);
        assert_eq!(summaries.of(&[3, 9, 12]).collect::<Vec<_>>(), vec![other]);
        assert!(summaries.is_usable());
    }

    #[test]
    fn a_value_that_does_not_fit_makes_the_copy_unusable() {
        for broken in [
            Summary {
                inbox_id: i64::from(u32::MAX) + 1,
                ..summary(1)
            },
            Summary {
                priority: Some(300),
                ..summary(1)
            },
            Summary {
                waiting_since: Some(i64::MIN),
                ..summary(1)
            },
        ] {
            let mut summaries = Summaries {
                usable: true,
                ..Summaries::default()
            };
            summaries.set(1, Some(broken));
            assert!(!summaries.is_usable());
        }
        let mut summaries = Summaries {
            usable: true,
            ..Summaries::default()
        };
        summaries.set(MOST_ID + 1, Some(summary(MOST_ID + 1)));
        assert!(!summaries.is_usable());
    }
}
