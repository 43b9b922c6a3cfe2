//! The directory: who may call (accounts, users, memberships, tokens, bots) and what an account
//! is made of (inboxes, teams, labels, attribute definitions). It changes rarely and is read by
//! every request, so readers keep what they derive from it in a `DirectoryCache`, valid for one
//! generation of the directory. The writer starts a new generation after every commit that
//! touched a directory table, before it answers that write.
//!
//! The writer learns what a transaction touched from TEMP triggers that call a function of the
//! writer connection. SQLite's update hook would miss two kinds of change: rows of WITHOUT ROWID
//! tables (`account_users`, `inbox_members`, `team_members`) and a `DELETE` without `WHERE`,
//! which SQLite runs as a truncation that reports no rows. A table with a trigger is never
//! truncated that way.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

/// Marks the transaction as one that changed the directory.
const CHANGED_FUNCTION: &str = "wootlite_directory_changed";

/// One trigger per table and kind of change, each calling `CHANGED_FUNCTION`.
macro_rules! directory_triggers {
    ($($table:literal),* $(,)?) => {
        concat!($(
            "CREATE TEMP TRIGGER IF NOT EXISTS directory_insert_", $table,
            " AFTER INSERT ON main.", $table, " BEGIN SELECT wootlite_directory_changed(); END;\n",
            "CREATE TEMP TRIGGER IF NOT EXISTS directory_update_", $table,
            " AFTER UPDATE ON main.", $table, " BEGIN SELECT wootlite_directory_changed(); END;\n",
            "CREATE TEMP TRIGGER IF NOT EXISTS directory_delete_", $table,
            " AFTER DELETE ON main.", $table, " BEGIN SELECT wootlite_directory_changed(); END;\n",
        )*)
    };
}

/// `accounts` but for its display id counter, which every new conversation moves.
const ACCOUNT_TRIGGERS: &str = "
    CREATE TEMP TRIGGER IF NOT EXISTS directory_insert_accounts AFTER INSERT ON main.accounts
    BEGIN SELECT wootlite_directory_changed(); END;
    CREATE TEMP TRIGGER IF NOT EXISTS directory_update_accounts
    AFTER UPDATE OF id, name, locale, domain, support_email, created_at, updated_at ON main.accounts
    BEGIN SELECT wootlite_directory_changed(); END;
    CREATE TEMP TRIGGER IF NOT EXISTS directory_delete_accounts AFTER DELETE ON main.accounts
    BEGIN SELECT wootlite_directory_changed(); END;
";

const TRIGGERS: &str = directory_triggers!(
    "users",
    "account_users",
    "access_tokens",
    "agent_bots",
    "agent_bot_inboxes",
    "inboxes",
    "inbox_members",
    "teams",
    "team_members",
    "labels",
    "custom_attribute_definitions",
);

/// The directory's generation, and whether the writer's open transaction changed it.
#[derive(Default)]
pub struct DirectoryWatch {
    touched: AtomicBool,
    generation: AtomicU64,
}

impl DirectoryWatch {
    /// Installs the triggers, and the function they call, on the writer connection.
    pub(super) fn install(self: &Arc<Self>, writer: &Connection) -> rusqlite::Result<()> {
        let watch = Arc::clone(self);
        writer.create_scalar_function(
            CHANGED_FUNCTION,
            0,
            FunctionFlags::SQLITE_UTF8,
            move |_| {
                watch.touched.store(true, Ordering::SeqCst);
                Ok(0)
            },
        )?;
        writer.execute_batch(ACCOUNT_TRIGGERS)?;
        writer.execute_batch(TRIGGERS)
    }

    /// Called by the writer once a transaction has committed. A transaction that was rolled
    /// back after touching the directory starts a generation too, at its next commit: a
    /// needless refresh, never a stale read.
    pub(super) fn committed(&self) {
        if self.touched.swap(false, Ordering::SeqCst) {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Starts a new generation whatever the transaction touched: for writers that run side by
    /// side (PostgreSQL), where one's flag cannot tell whether another's commit has passed.
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// Most entries a cache holds; past it, it starts again empty. Only answers derived from what
/// is stored are cached (a valid token, say), never one per string a client makes up, so the
/// bound is reached only by a directory that large.
const MOST_ENTRIES: usize = 4096;

/// Values derived from the directory, each kept with the generation it was read in.
///
/// To fill it: take `generation()` first, then read in a snapshot, then `put` under that
/// generation. A snapshot older than a commit was then begun before the commit's new
/// generation, so its value is stored under an older one and never served.
pub struct DirectoryCache<K, V> {
    watch: Arc<DirectoryWatch>,
    entries: RwLock<HashMap<K, (u64, V)>>,
}

impl<K: Eq + Hash, V: Clone> DirectoryCache<K, V> {
    pub fn new(watch: Arc<DirectoryWatch>) -> Self {
        Self {
            watch,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn generation(&self) -> u64 {
        self.watch.generation()
    }

    /// The value stored for `key` in the current generation.
    pub fn get(&self, key: &K) -> Option<V> {
        self.get_in(key, self.watch.generation())
    }

    /// The value stored for `key` in `generation`: what a read that took `generation` before
    /// its snapshot may use.
    pub fn get_in(&self, key: &K, generation: u64) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((stored, value)) if *stored == generation => Some(value.clone()),
            _ => None,
        }
    }

    /// Keeps `value`, read in `generation` (see the type's note).
    pub fn put(&self, key: K, generation: u64, value: V) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MOST_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (generation, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::scratch_db;

    fn add_account(db: &crate::db::Db) {
        db.write_now(|tx| {
            tx.execute(
                "INSERT INTO accounts (name, created_at, updated_at) VALUES ('a', 0, 0)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    }

    fn cache(db: &crate::db::Db) -> DirectoryCache<&'static str, i64> {
        DirectoryCache::new(db.directory())
    }

    #[test]
    fn a_commit_that_changes_the_directory_makes_cached_values_stale() {
        let (_dir, db) = scratch_db("");
        let names = cache(&db);
        names.put("account", names.generation(), 1);
        assert_eq!(names.get(&"account"), Some(1));
        add_account(&db);
        assert_eq!(names.get(&"account"), None);
    }

    #[test]
    fn changes_elsewhere_keep_cached_values() {
        let (_dir, db) = scratch_db("");
        let names = cache(&db);
        db.write_now(|tx| {
            tx.execute(
                "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'a', 0, 0)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        names.put("account", names.generation(), 1);
        db.write_now(|tx| {
            tx.execute("CREATE TABLE elsewhere (x)", [])?;
            tx.execute("INSERT INTO elsewhere VALUES (1)", [])?;
            // A new conversation's display id.
            tx.execute(
                "UPDATE accounts SET last_display_id = last_display_id + 1",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        assert_eq!(names.get(&"account"), Some(1));
    }

    #[test]
    fn memberships_and_deletes_without_a_where_clause_are_seen() {
        let (_dir, db) = scratch_db("");
        let names = cache(&db);
        let statements = [
            "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (7, 'a', 0, 0)",
            "INSERT INTO users (id, name, email, pubsub_token, created_at, updated_at)
             VALUES (7, 'u', 'u@example.com', 'p', 0, 0)",
            "INSERT INTO account_users (account_id, user_id, role, created_at)
             VALUES (7, 7, 0, 0)",
            "UPDATE account_users SET role = 1",
            "DELETE FROM account_users",
            "DELETE FROM users",
        ];
        for sql in statements {
            let generation = names.generation();
            names.put("account", generation, 1);
            db.write_now(|tx| {
                tx.execute(sql, [])?;
                Ok(())
            })
            .unwrap();
            assert_eq!(names.get(&"account"), None, "{sql}");
            assert!(names.generation() > generation, "{sql}");
        }
    }

    #[test]
    fn a_value_read_before_a_commit_is_never_served_after_it() {
        let (_dir, db) = scratch_db("");
        let names = cache(&db);
        let before = names.generation();
        add_account(&db);
        names.put("account", before, 1);
        assert_eq!(names.get(&"account"), None);
    }

    #[test]
    fn a_full_cache_starts_again() {
        let (_dir, db) = scratch_db("");
        let numbers: DirectoryCache<usize, usize> = DirectoryCache::new(db.directory());
        let generation = numbers.generation();
        for n in 0..=MOST_ENTRIES {
            numbers.put(n, generation, n);
        }
        assert_eq!(numbers.get(&MOST_ENTRIES), Some(MOST_ENTRIES));
        assert_eq!(numbers.get(&0), None);
    }
}
