//! What a conversation shows of the directory: its assignee, its team and its inbox's channel.
//! Every get and every row of a list page reads them, and they change rarely, so they are kept
//! across requests for one generation of the directory (`db::directory`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use crate::db::Conn;

use super::teams::{self, Team};
use super::{agents, inboxes, StoreError, StoreResult};
use crate::db::directory::{DirectoryCache, DirectoryWatch};
use crate::models::Agent;

pub struct Catalog {
    watch: Arc<DirectoryWatch>,
    /// By (account, user).
    agents: DirectoryCache<(i64, i64), Agent>,
    /// By (account, team, viewer): a team says whether the viewer is one of its members.
    teams: DirectoryCache<(i64, i64, Option<i64>), Team>,
    /// By inbox.
    channel_types: DirectoryCache<i64, String>,
}

impl Catalog {
    pub fn new(watch: Arc<DirectoryWatch>) -> Arc<Self> {
        Arc::new(Self {
            agents: DirectoryCache::new(Arc::clone(&watch)),
            teams: DirectoryCache::new(Arc::clone(&watch)),
            channel_types: DirectoryCache::new(Arc::clone(&watch)),
            watch,
        })
    }

    /// The catalog for one read. Take it before the read's snapshot begins: what it keeps from
    /// that snapshot is then filed under a generation no later than the snapshot's.
    pub fn view(self: &Arc<Self>) -> CatalogView {
        CatalogView {
            catalog: Some(Arc::clone(self)),
            generation: self.watch.generation(),
        }
    }
}

/// The catalog as of the directory generation a read began in, or the database alone.
#[derive(Clone)]
pub struct CatalogView {
    catalog: Option<Arc<Catalog>>,
    generation: u64,
}

impl CatalogView {
    /// Reads straight from the database, keeping nothing: for writes, which see their own
    /// group's changes before those are committed (or rolled back).
    pub fn direct() -> Self {
        Self {
            catalog: None,
            generation: 0,
        }
    }

    /// The account's agents among `user_ids`, keyed by id (`agents::find_many`).
    pub fn agents(
        &self,
        conn: &Conn,
        account_id: i64,
        user_ids: impl IntoIterator<Item = i64>,
    ) -> StoreResult<HashMap<i64, Agent>> {
        self.many(
            |c| &c.agents,
            user_ids,
            |id| (account_id, id),
            |missing| agents::find_many(conn, account_id, missing),
        )
    }

    /// The account's teams among `team_ids` as `viewer` sees them, keyed by id
    /// (`teams::get_many`).
    pub fn teams(
        &self,
        conn: &Conn,
        account_id: i64,
        team_ids: impl IntoIterator<Item = i64>,
        viewer: Option<i64>,
    ) -> StoreResult<HashMap<i64, Team>> {
        self.many(
            |c| &c.teams,
            team_ids,
            |id| (account_id, id, viewer),
            |missing| teams::get_many(conn, account_id, missing, viewer),
        )
    }

    /// The channel types of the inboxes, keyed by id (`inboxes::channel_types`).
    pub fn channel_types(
        &self,
        conn: &Conn,
        inbox_ids: impl IntoIterator<Item = i64>,
    ) -> StoreResult<HashMap<i64, String>> {
        self.many(
            |c| &c.channel_types,
            inbox_ids,
            |id| id,
            |missing| inboxes::channel_types(conn, missing),
        )
    }

    pub fn agent(&self, conn: &Conn, account_id: i64, user_id: i64) -> StoreResult<Option<Agent>> {
        Ok(self.agents(conn, account_id, [user_id])?.remove(&user_id))
    }

    /// A team of the account; NotFound when there is none.
    pub fn team(
        &self,
        conn: &Conn,
        account_id: i64,
        team_id: i64,
        viewer: Option<i64>,
    ) -> StoreResult<Team> {
        self.teams(conn, account_id, [team_id], viewer)?
            .remove(&team_id)
            .ok_or(StoreError::NotFound)
    }

    pub fn channel_type(&self, conn: &Conn, inbox_id: i64) -> StoreResult<String> {
        self.channel_types(conn, [inbox_id])?
            .remove(&inbox_id)
            .ok_or(StoreError::NotFound)
    }

    /// The values of `ids`: those kept in this generation, and the others from `load`, which
    /// are then kept. Ids `load` does not find stay unknown and are asked again next time.
    fn many<K: Eq + Hash, V: Clone>(
        &self,
        cache: impl Fn(&Catalog) -> &DirectoryCache<K, V>,
        ids: impl IntoIterator<Item = i64>,
        key: impl Fn(i64) -> K,
        load: impl FnOnce(Vec<i64>) -> StoreResult<HashMap<i64, V>>,
    ) -> StoreResult<HashMap<i64, V>> {
        let Some(catalog) = &self.catalog else {
            return load(ids.into_iter().collect());
        };
        let cache = cache(catalog);
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            if found.contains_key(&id) || missing.contains(&id) {
                continue;
            }
            match cache.get_in(&key(id), self.generation) {
                Some(value) => {
                    found.insert(id, value);
                }
                None => missing.push(id),
            }
        }
        if !missing.is_empty() {
            for (id, value) in load(missing)? {
                cache.put(key(id), self.generation, value.clone());
                found.insert(id, value);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::scratch_db;

    const DIRECTORY: &str = "
        INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'A', 0, 0);
        INSERT INTO users (id, name, email, pubsub_token, created_at, updated_at)
        VALUES (2, 'Ann', 'ann@example.com', 'p', 0, 0);
        INSERT INTO account_users (account_id, user_id, role, created_at) VALUES (1, 2, 0, 0);";

    fn name(db: &crate::db::Db, view: &CatalogView) -> String {
        db.read_snapshot(|conn| Ok(view.agent(conn, 1, 2)?.expect("a member").name))
            .unwrap()
    }

    /// A write behind the writer's back (another connection) starts no generation: what the
    /// catalog serves then shows whether it kept the row or read it again.
    fn rename_unseen(dir: &std::path::Path, to: &str) {
        let other = rusqlite::Connection::open(dir.join("db.sqlite3")).unwrap();
        other
            .execute("UPDATE users SET name = ?1 WHERE id = 2", [to])
            .unwrap();
    }

    #[test]
    fn a_view_keeps_what_it_read_until_the_directory_changes() {
        let (dir, db) = scratch_db(DIRECTORY);
        let catalog = Catalog::new(db.directory());
        assert_eq!(name(&db, &catalog.view()), "Ann");
        rename_unseen(dir.path(), "Anne");
        assert_eq!(name(&db, &catalog.view()), "Ann", "kept");
        assert_eq!(name(&db, &CatalogView::direct()), "Anne");
        db.write_now(|tx| {
            tx.execute("UPDATE users SET name = 'Annie' WHERE id = 2", [])?;
            Ok(())
        })
        .unwrap();
        assert_eq!(name(&db, &catalog.view()), "Annie");
    }

    #[test]
    fn a_direct_view_keeps_nothing() {
        let (dir, db) = scratch_db(DIRECTORY);
        let catalog = Catalog::new(db.directory());
        let direct = CatalogView::direct();
        assert_eq!(name(&db, &direct), "Ann");
        rename_unseen(dir.path(), "Anne");
        assert_eq!(name(&db, &direct), "Anne");
        assert_eq!(name(&db, &catalog.view()), "Anne");
    }

    #[test]
    fn unknown_ids_are_not_found_and_known_ones_are_found_once() {
        let (_dir, db) = scratch_db(DIRECTORY);
        let view = Catalog::new(db.directory()).view();
        let found = db
            .read_snapshot(|conn| view.agents(conn, 1, [2, 3, 2]))
            .unwrap();
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), [2]);
        let missing = db.read_snapshot(|conn| view.team(conn, 1, 9, None));
        assert!(matches!(missing, Err(StoreError::NotFound)));
    }
}
