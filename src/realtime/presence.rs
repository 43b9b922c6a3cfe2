//! Who was seen lately, per account (docs/actioncable.md §2.6): users and contacts are online
//! for a window after their last subscribe or `update_presence`, as Chatwoot's tracker keeps
//! them. One node on SQLite keeps them in memory; an entry older than the window is forgotten
//! when its account is asked about, so the maps hold only who was seen within it. Nodes that
//! share a PostgreSQL database keep them in a table (`store::presence`), so every node tells
//! the same.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::db::Db;
use crate::error::ApiError;
pub use crate::store::presence::{Online, Seen};

/// Chatwoot's default `PRESENCE_DURATION`, in seconds.
pub const WINDOW_SECS: i64 = 20;

pub enum Presence {
    InMemory(InMemory),
    Shared,
}

impl Presence {
    /// In memory on SQLite, in the database on PostgreSQL.
    pub fn for_database(db: &Db) -> Self {
        if db.is_postgres() {
            Self::Shared
        } else {
            Self::InMemory(InMemory::default())
        }
    }

    /// Notes that `seen` was seen at `now` (seconds) and tells who of the account is online.
    pub async fn see(
        &self,
        db: &Db,
        account_id: i64,
        seen: Seen,
        now: i64,
    ) -> Result<Online, ApiError> {
        match self {
            Self::InMemory(memory) => {
                memory.saw(account_id, seen, now);
                Ok(memory.online(account_id, now))
            }
            Self::Shared => {
                db.write(move |conn| {
                    crate::store::presence::see(conn, account_id, seen, now, now - WINDOW_SECS)
                })
                .await
            }
        }
    }

    /// Forgets everyone (dev mode's reset). The shared table is emptied by the reset's own
    /// transaction instead, so that a node that hears of the reset late forgets nobody seen
    /// since.
    pub fn clear(&self) {
        if let Self::InMemory(memory) = self {
            memory.accounts().clear();
        }
    }
}

#[derive(Default)]
struct SeenAt {
    users: HashMap<i64, i64>,
    contacts: HashMap<i64, i64>,
}

#[derive(Default)]
pub struct InMemory {
    accounts: Mutex<HashMap<i64, SeenAt>>,
}

impl InMemory {
    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<i64, SeenAt>> {
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn saw(&self, account_id: i64, seen: Seen, now: i64) {
        let mut accounts = self.accounts();
        let at = accounts.entry(account_id).or_default();
        match seen {
            Seen::User(id) => at.users.insert(id, now),
            Seen::Contact(id) => at.contacts.insert(id, now),
        };
    }

    /// Users and contacts of the account seen within the window, in id order.
    fn online(&self, account_id: i64, now: i64) -> Online {
        let mut accounts = self.accounts();
        let Some(seen) = accounts.get_mut(&account_id) else {
            return Online::default();
        };
        let fresh = |last: &mut i64| now - *last <= WINDOW_SECS;
        seen.users.retain(|_, last| fresh(last));
        seen.contacts.retain(|_, last| fresh(last));
        let mut online = Online {
            users: seen.users.keys().copied().collect(),
            contacts: seen.contacts.keys().copied().collect(),
        };
        if seen.users.is_empty() && seen.contacts.is_empty() {
            accounts.remove(&account_id);
        }
        online.users.sort_unstable();
        online.contacts.sort_unstable();
        online
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn someone_is_online_for_the_window_after_they_were_last_seen() {
        let presence = InMemory::default();
        presence.saw(1, Seen::User(3), 100);
        presence.saw(1, Seen::Contact(8), 105);
        presence.saw(2, Seen::User(4), 100);
        assert_eq!(
            presence.online(1, 110),
            Online {
                users: vec![3],
                contacts: vec![8]
            }
        );
        assert_eq!(
            presence.online(1, 100 + WINDOW_SECS + 1),
            Online {
                users: vec![],
                contacts: vec![8]
            }
        );
        assert_eq!(presence.online(1, 200), Online::default());
        assert_eq!(presence.online(2, 100).users, vec![4]);
    }
}
