//! Who was seen lately, per account (docs/actioncable.md §2.6): users and contacts are online
//! for a window after their last subscribe or `update_presence`. Kept in memory, like
//! Chatwoot's tracker; an entry older than the window is forgotten when its account is asked
//! about, so the maps hold only who was seen within it.

use std::collections::HashMap;
use std::sync::Mutex;

/// Chatwoot's default `PRESENCE_DURATION`, in seconds.
pub const WINDOW_SECS: i64 = 20;

#[derive(Default)]
struct Seen {
    users: HashMap<i64, i64>,
    contacts: HashMap<i64, i64>,
}

#[derive(Default)]
pub struct Presence {
    accounts: Mutex<HashMap<i64, Seen>>,
}

/// Who is present in an account now.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Online {
    pub users: Vec<i64>,
    pub contacts: Vec<i64>,
}

impl Presence {
    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Seen>> {
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn saw_user(&self, account_id: i64, user_id: i64, now: i64) {
        let mut accounts = self.accounts();
        accounts
            .entry(account_id)
            .or_default()
            .users
            .insert(user_id, now);
    }

    pub fn saw_contact(&self, account_id: i64, contact_id: i64, now: i64) {
        let mut accounts = self.accounts();
        let seen = accounts.entry(account_id).or_default();
        seen.contacts.insert(contact_id, now);
    }

    /// Forgets everyone (dev mode's reset).
    pub fn clear(&self) {
        self.accounts().clear();
    }

    /// Users and contacts of the account seen within the window, in id order.
    pub fn online(&self, account_id: i64, now: i64) -> Online {
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
        let presence = Presence::default();
        presence.saw_user(1, 3, 100);
        presence.saw_contact(1, 8, 105);
        presence.saw_user(2, 4, 100);
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
