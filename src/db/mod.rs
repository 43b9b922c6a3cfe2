//! The database, on one of two engines (docs/storage.md): an embedded SQLite file
//! (`sqlite_db`), wootlite's default, or a PostgreSQL database shared by several nodes
//! (`pg_db`). `Db` is what the rest of wootlite holds: reads, writes with their hooks, and the
//! upkeep each engine needs. The store reaches either through a `Conn`.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

mod conn;
pub mod directory;
pub mod engine_copy;
mod group_commit;
mod heavy_threads;
mod param;
mod pg_db;
mod pg_notify;
pub mod pg_schema;
pub mod snapshot;
mod sqlite_db;
mod wal_ceiling;

pub use conn::{
    numbered_placeholders, Arg, Bind, Column, Conn, IdList, MappedRows, OptionalExtension, Params,
    PgSession, Row, Rows, Sql, SqlError, SqlResult, Stmt, Text,
};
pub use param::Param;
pub use pg_db::PgDb;

use sqlite_db::SqliteDb;

use crate::error::ApiError;
use crate::store::StoreError;

/// Schema steps, applied in order; step `i` brings the database to `PRAGMA user_version = i + 1`.
/// Steps are never edited once released: a change is a new step at the end.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schema.sql"),
    include_str!("../migrations/0002_counts_and_label_order.sql"),
    include_str!("../migrations/0003_search_outbox.sql"),
    include_str!("../migrations/0004_custom_attribute_values.sql"),
    include_str!("../migrations/0005_mail_outbox.sql"),
    include_str!("../migrations/0006_list_index_order.sql"),
    include_str!("../migrations/0007_conversation_summary.sql"),
    include_str!("../migrations/0008_invitations.sql"),
    include_str!("../migrations/0009_webhooks.sql"),
    include_str!("../migrations/0010_agent_bots.sql"),
    include_str!("../migrations/0011_event_outbox.sql"),
    include_str!("../migrations/0012_user_passwords.sql"),
    include_str!("../migrations/0013_sessions_and_password_tokens.sql"),
    include_str!("../migrations/0014_conversation_feed.sql"),
    include_str!("../migrations/0015_snoozed_index_without_status.sql"),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connections per pool.
#[derive(Clone, Copy, Debug)]
pub struct PoolSizes {
    pub read: u32,
    /// Heavy reads running at once; more wait in line.
    pub heavy: u32,
}

impl PoolSizes {
    /// For one-shot commands.
    pub const SMALL: PoolSizes = PoolSizes { read: 1, heavy: 1 };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] postgres::Error),
    #[error(
        "the database has schema version {found}, newer than the {supported} this wootlite \
         understands; run a newer wootlite on this data directory"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("cannot start the database writer thread: {0}")]
    Thread(std::io::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the database stayed busy (locked, or opened again and again during the copy); try again"
    )]
    Unsettled,
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("database error: {0}")]
    Store(String),
}

/// Work added to every write transaction (see `Db::after_each_write`).
pub type WriteHook = Box<dyn Fn(&Conn) -> Result<(), StoreError> + Send + Sync>;

/// What runs once a transaction has committed (see `Db::on_commit`).
pub type AfterCommit = Box<dyn FnOnce() + Send>;

/// Work run in every write transaction just before it commits (see `Db::on_commit`).
pub type CommitHook = Box<dyn Fn(&Conn) -> Result<Option<AfterCommit>, StoreError> + Send + Sync>;

/// What the writer does around every write: the installed hooks, and the signal of each commit.
pub struct WriteHooks {
    after_write: std::sync::OnceLock<WriteHook>,
    before_commit: std::sync::OnceLock<CommitHook>,
    commits: tokio::sync::watch::Sender<u64>,
    directory: Arc<directory::DirectoryWatch>,
}

impl Default for WriteHooks {
    fn default() -> Self {
        Self {
            after_write: std::sync::OnceLock::new(),
            before_commit: std::sync::OnceLock::new(),
            commits: tokio::sync::watch::Sender::new(0),
            directory: Arc::default(),
        }
    }
}

impl WriteHooks {
    fn after_write(&self, conn: &Conn) -> Result<(), StoreError> {
        match self.after_write.get() {
            Some(hook) => hook(conn),
            None => Ok(()),
        }
    }

    /// What the commit hook wants done once `tx` commits. Its failure must not undo the
    /// writes it follows: it is logged, and nothing is done after the commit.
    fn before_commit(&self, tx: &Conn) -> Option<AfterCommit> {
        let hook = self.before_commit.get()?;
        hook(tx).unwrap_or_else(|e| {
            log::error!("the commit hook failed: {e}");
            None
        })
    }

    fn committed(&self) {
        self.directory.committed();
        self.commits.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Waits until `others` (`Db::others_wrote`) moves; forever where there is none, or once
/// its sender has gone.
pub async fn changed(others: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    let heard = match others {
        Some(receiver) => receiver.changed().await.is_ok(),
        None => false,
    };
    if !heard {
        std::future::pending::<()>().await;
    }
}

/// What a writing connection needs before its first write, such as its temporary tables (see
/// `Db::on_each_writer`).
pub type SessionSetup = fn(&Conn) -> Result<(), StoreError>;

/// The database handle shared by every request.
#[derive(Clone)]
pub struct Db {
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Sqlite(SqliteDb),
    Postgres(PgNode),
}

/// PostgreSQL as one node sees it: the shared pool, and the turns of heavy reads.
#[derive(Clone)]
struct PgNode {
    db: PgDb,
    heavy_turns: Arc<tokio::sync::Semaphore>,
}

/// How long a heavy read waits for its turn before the client is told to retry.
const HEAVY_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Sessions a node keeps for writes beside those for reads: writes hold theirs only for one
/// transaction each.
const PG_WRITE_SESSIONS: u32 = 8;

impl Db {
    /// Opens (creating if needed) the SQLite database file, migrates it, and builds its pools.
    pub fn open(file: &Path, pools: PoolSizes) -> Result<Self, DbError> {
        Ok(Self {
            engine: Engine::Sqlite(SqliteDb::open(file, pools)?),
        })
    }

    /// Connects to the PostgreSQL database at `url` and brings its schema up to date.
    pub fn open_postgres(url: &str, pools: PoolSizes) -> Result<Self, DbError> {
        let size = pools.read + pools.heavy + PG_WRITE_SESSIONS;
        Ok(Self {
            engine: Engine::Postgres(PgNode {
                db: PgDb::open(url, size)?,
                heavy_turns: Arc::new(tokio::sync::Semaphore::new(pools.heavy.max(1) as usize)),
            }),
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// SQLite's writer connection, for a bulk copy into a new data dir.
    fn sqlite_writer(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, DbError> {
        match &self.engine {
            Engine::Sqlite(db) => Ok(db.writer()),
            Engine::Postgres(_) => Err(DbError::Unsupported("this needs a SQLite data dir")),
        }
    }

    fn hooks(&self) -> &WriteHooks {
        match &self.engine {
            Engine::Sqlite(db) => db.hooks(),
            Engine::Postgres(node) => node.db.hooks(),
        }
    }

    /// Runs `work` in one write transaction, committing when it returns Ok.
    pub fn write_now<T: Send>(
        &self,
        work: impl FnMut(&Conn) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => db.write_now(work),
            Engine::Postgres(node) => node.db.write(work),
        }
    }

    /// Installs `hook`, run in every write transaction right after the write's own work (and
    /// rolled back with it): what a change implies beyond itself, such as its events. It can be
    /// installed once.
    pub fn after_each_write(&self, hook: WriteHook) -> Result<(), StoreError> {
        self.hooks()
            .after_write
            .set(hook)
            .map_err(|_| StoreError::Database("a write hook is installed already".into()))
    }

    /// Installs `hook`, run in every write transaction after all its writes, just before the
    /// commit; what it returns runs once that commit has succeeded. It can be installed once.
    pub fn on_commit(&self, hook: CommitHook) -> Result<(), StoreError> {
        self.hooks()
            .before_commit
            .set(hook)
            .map_err(|_| StoreError::Database("a commit hook is installed already".into()))
    }

    /// Runs `setup` on every connection that writes, before its first write: on SQLite's one
    /// writer now, on each PostgreSQL session as it first writes.
    pub fn on_each_writer(&self, setup: SessionSetup) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => db.on_writer(setup),
            Engine::Postgres(node) => {
                node.db.on_each_session(setup);
                Ok(())
            }
        }
    }

    /// The generation of the directory, for `directory::DirectoryCache`.
    pub fn directory(&self) -> Arc<directory::DirectoryWatch> {
        Arc::clone(&self.hooks().directory)
    }

    /// Changes on every commit of this node: a task that reads what writes leave behind waits
    /// on it instead of polling.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.hooks().commits.subscribe()
    }

    /// Moves whenever another node sharing the database says it wrote (PostgreSQL); None on
    /// SQLite, where this node is the only writer. Followers of the shared feeds wait on it as
    /// well as on their poll.
    pub fn others_wrote(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        match &self.engine {
            Engine::Sqlite(_) => None,
            Engine::Postgres(node) => Some(node.db.others_wrote()),
        }
    }

    /// `work` on a connection outside any transaction (on PostgreSQL, each statement sees
    /// what committed before it).
    pub fn read_now<T: Send>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => db.read_now(work),
            Engine::Postgres(node) => node.db.read(work),
        }
    }

    /// `work` in one read snapshot: what requests use.
    pub fn read_snapshot<T: Send>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => db.read_snapshot(work),
            Engine::Postgres(node) => node.db.read_snapshot(work),
        }
    }

    /// `read` for heavy work (search, filters): it waits for one of a few turns (503 after a
    /// while) instead of taking connections that point and list reads need.
    pub async fn read_heavy<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.engine {
            Engine::Sqlite(db) => db.read_heavy(work).await,
            Engine::Postgres(node) => {
                let turn = heavy_turn(&node.heavy_turns).await?;
                let db = node.db.clone();
                blocking(move || {
                    let _turn = turn;
                    db.read_snapshot_here(work)
                })
                .await
            }
        }
    }

    /// `work` in one write transaction, answered once it has committed. On SQLite it shares a
    /// transaction with the other request writes waiting at the same time (`group_commit`);
    /// on PostgreSQL it may run more than once (see `PgDb::write`).
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.engine {
            Engine::Sqlite(db) => db.write(work).await,
            Engine::Postgres(node) => {
                let db = node.db.clone();
                blocking(move || db.write_here(work)).await
            }
        }
    }

    /// A quick read in one snapshot. SQLite's runs on the calling worker (see
    /// `SqliteDb::read`); PostgreSQL's waits on the network, so it runs on a blocking thread.
    pub async fn read<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.engine {
            Engine::Sqlite(db) => db.read(work).await,
            Engine::Postgres(node) => {
                let db = node.db.clone();
                blocking(move || db.read_snapshot_here(work)).await
            }
        }
    }

    /// Refreshes stale table statistics on SQLite; PostgreSQL's autovacuum does it itself.
    pub fn optimize(&self) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.optimize(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// SQLite's WAL upkeep (see `SqliteDb::checkpoint_in_background`); nothing on PostgreSQL,
    /// which keeps its own log.
    pub fn checkpoint_in_background(&self, wal_target_bytes: u64) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.checkpoint_in_background(wal_target_bytes),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// See `SqliteDb::checkpoint_bounded`; 0 on PostgreSQL.
    pub fn checkpoint_bounded(&self, target_bytes: u64) -> Result<u64, DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.checkpoint_bounded(target_bytes),
            Engine::Postgres(_) => Ok(0),
        }
    }

    /// The size of SQLite's write-ahead log file (0 when there is none, and on PostgreSQL).
    pub fn wal_bytes(&self) -> u64 {
        match &self.engine {
            Engine::Sqlite(db) => db.wal_bytes(),
            Engine::Postgres(_) => 0,
        }
    }

    /// Gathers the statistics of every table and index in full, after a bulk load.
    pub fn analyze(&self) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.analyze(),
            Engine::Postgres(node) => node
                .db
                .read(|conn| Ok(conn.execute_batch("ANALYZE")?))
                .map_err(|e| DbError::Store(e.to_string())),
        }
    }

    /// Caps SQLite's file at about `bytes` (see `SqliteDb::limit_size`). A PostgreSQL database's
    /// size is its server's to bound, so the cap is refused there.
    pub fn limit_size(&self, bytes: u64) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.limit_size(bytes),
            Engine::Postgres(_) => Err(DbError::Unsupported(
                "a database size limit applies to a SQLite data dir; PostgreSQL bounds its own",
            )),
        }
    }

    /// Writes waiting for SQLite's writer at the moment; PostgreSQL has no such line.
    pub fn write_queue_depth(&self) -> usize {
        match &self.engine {
            Engine::Sqlite(db) => db.write_queue_depth(),
            Engine::Postgres(_) => 0,
        }
    }

    /// The sizes of SQLite's files (zeros on PostgreSQL).
    pub fn file_sizes(&self) -> FileSizes {
        match &self.engine {
            Engine::Sqlite(db) => db.file_sizes(),
            Engine::Postgres(_) => FileSizes {
                database: 0,
                wal: 0,
            },
        }
    }

    /// Ends a clean stop (see `SqliteDb::close`); on PostgreSQL the sessions just close.
    pub fn close(self) -> Result<(), DbError> {
        match self.engine {
            Engine::Sqlite(db) => db.close(),
            Engine::Postgres(_) => Ok(()),
        }
    }
}

async fn heavy_turn(
    turns: &Arc<tokio::sync::Semaphore>,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    tokio::time::timeout(HEAVY_QUEUE_TIMEOUT, Arc::clone(turns).acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::unavailable("The server is busy with other searches; try again shortly")
        })
}

/// `work` on a blocking thread; a panic in it answers 500 rather than take anything down.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(failed) => Err(ApiError::internal(format!(
            "database task failed: {failed}"
        ))),
    }
}

/// In bytes; see `Db::file_sizes`.
#[derive(Clone, Copy, Debug)]
pub struct FileSizes {
    pub database: u64,
    pub wal: u64,
}

/// The guarded value, also after a panic while it was held: a connection whose transaction was
/// rolled back during unwinding is usable again.
pub(crate) fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn locked_write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fresh database in a temporary directory (kept while the directory lives), with `tables`
/// created in it.
#[cfg(test)]
pub(crate) fn scratch_db(tables: &str) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
    db.write_now(|tx| Ok(tx.execute_batch(tables)?)).unwrap();
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::sqlite_db::{configure, MMAP_BYTES};
    use super::*;
    use rusqlite::Connection;

    /// A list page (any status, any depth) is read in order from a list index, without a sort
    /// step and without reading the rows it skips.
    #[test]
    fn list_pages_walk_a_list_index_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        let plan = |sql: &str| -> String {
            db.read_now(|c| {
                let c = c.sqlite("a plan")?;
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map([], |row| row.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("; "))
            })
            .unwrap()
        };
        for (sql, index) in [
            ("SELECT c.id FROM conversations c WHERE c.account_id = 1 AND c.status = 1 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 25 OFFSET 9975", "conversations_list"),
            ("SELECT c.id FROM conversations c WHERE c.account_id = 1 AND c.assignee_id = 2 AND c.status = 0 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 25", "conversations_by_assignee"),
            ("SELECT c.id FROM conversations c WHERE c.account_id = 1 AND c.inbox_id = 2 AND c.status = 0 ORDER BY c.last_activity_at ASC, c.id ASC LIMIT 25", "conversations_by_inbox"),
        ] {
            let plan = plan(sql);
            assert!(plan.contains(&format!("COVERING INDEX {index}")), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }

    /// The statements every list, count and filter runs, which bind the status they look for
    /// and the page's window, are planned once per connection, not again for each new binding.
    /// The snooze timer's statements still read the snoozed index.
    #[test]
    fn statements_are_planned_once_whatever_they_bind() {
        use rusqlite::StatementStatus;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        let replans = db
            .read_now(|c| {
                let c = c.sqlite("statement status")?;
                let mut count = c.prepare(
                    "SELECT COUNT(*) FROM conversations c
                      WHERE c.account_id = ?1 AND c.status = ?2 AND c.inbox_id = ?3",
                )?;
                let mut page = c.prepare(
                    "SELECT c.id FROM conversations c WHERE c.account_id = ?1 AND c.status = ?2
                      ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?3 OFFSET ?4",
                )?;
                for (n, status) in [0, 1, 3, 2, 0].into_iter().enumerate() {
                    count.query_row([1, status, 1], |r| r.get::<_, i64>(0))?;
                    let window = [1, status, 25, 25 * n as i64];
                    page.query_map(window, |r| r.get::<_, i64>(0))?
                        .collect::<Result<Vec<_>, _>>()?;
                }
                Ok([count, page].map(|s| s.get_status(StatementStatus::RePrepare)))
            })
            .unwrap();
        assert_eq!(replans, [0, 0]);
        let plan = |sql: &str| -> String {
            db.read_now(|c| {
                let c = c.sqlite("a plan")?;
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let zeros = std::iter::repeat_n(0, stmt.parameter_count());
                let rows = stmt.query_map(rusqlite::params_from_iter(zeros), |row| {
                    row.get::<_, String>(3)
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("; "))
            })
            .unwrap()
        };
        for sql in [
            crate::store::conversations::NEXT_SNOOZE_DUE,
            "SELECT id FROM conversations WHERE status = 3 AND snoozed_until <= ?1",
        ] {
            let plan = plan(sql);
            assert!(plan.contains("INDEX conversations_snoozed"), "{plan}");
        }
    }

    /// Statistics keep their per-index averages but no per-value samples, which would make
    /// SQLite re-plan statements on every new parameter value.
    #[test]
    fn analysis_keeps_averages_and_drops_value_samples() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        crate::provision::bootstrap(&db, None, 0).unwrap();
        db.analyze().unwrap();
        let count = |sql: &str| -> i64 {
            db.read_now(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
                .unwrap()
        };
        assert!(count("SELECT COUNT(*) FROM sqlite_stat1") > 0);
        if count("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'") > 0 {
            assert_eq!(count("SELECT COUNT(*) FROM sqlite_stat4"), 0);
        }
    }

    #[test]
    fn reads_go_through_a_memory_map() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        let mapped: i64 = db
            .read_now(|c| {
                Ok(c.sqlite("a pragma")?
                    .pragma_query_value(None, "mmap_size", |r| r.get(0))?)
            })
            .unwrap();
        // Past the bundled library's default cap of 2 GiB (see .cargo/config.toml).
        assert_eq!(mapped, MMAP_BYTES, "mmap_size {mapped}");
    }

    #[test]
    fn a_read_that_fails_or_panics_leaves_no_snapshot_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        let failed: Result<(), StoreError> =
            db.read_snapshot(|_| Err(StoreError::Database("failed on purpose".into())));
        assert!(failed.is_err());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            db.read_snapshot(|_| -> Result<(), StoreError> { panic!("on purpose") })
        }));
        assert!(panicked.is_err());
        // Every pooled connection is back in autocommit mode and takes a new snapshot.
        for _ in 0..4 {
            let open = db
                .read_now(|c| Ok(!c.sqlite("autocommit")?.is_autocommit()))
                .unwrap();
            assert!(!open);
            db.read_snapshot(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<i64>(0))?))
                .unwrap();
        }
    }

    #[test]
    fn a_fresh_database_reaches_the_latest_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.sqlite3");
        Db::open(&file, PoolSizes::SMALL).unwrap();
        let db = Db::open(&file, PoolSizes::SMALL).unwrap();
        let version: i64 = db.read_now(crate::store::schema_version).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    /// Version 10 gives every existing inbox a signing secret of its own.
    #[test]
    fn inboxes_made_before_version_10_get_distinct_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.sqlite3");
        {
            let conn = Connection::open(&file).unwrap();
            configure(&conn).unwrap();
            for sql in &MIGRATIONS[..9] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 9).unwrap();
            conn.execute_batch(
                "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'a', 0, 0);
                 INSERT INTO inboxes (account_id, name, hmac_token, identifier, created_at, updated_at)
                 VALUES (1, 'one', 'h1', 'i1', 0, 0), (1, 'two', 'h2', 'i2', 0, 0);",
            )
            .unwrap();
        }
        let db = Db::open(&file, PoolSizes::SMALL).unwrap();
        let secrets: Vec<String> = db
            .read_now(|c| {
                let mut stmt = c.prepare("SELECT secret FROM inboxes ORDER BY id")?;
                let rows = stmt.query_map([], |row| row.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert_eq!(secrets.len(), 2);
        for secret in &secrets {
            assert_eq!(secret.len(), 48, "{secret}");
            assert!(secret
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
        assert_ne!(secrets[0], secrets[1]);
    }

    #[test]
    fn a_database_newer_than_the_binary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.sqlite3");
        Connection::open(&file)
            .unwrap()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let error = Db::open(&file, PoolSizes::SMALL)
            .err()
            .expect("must refuse");
        assert!(matches!(error, DbError::TooNew { .. }), "{error}");
        assert!(error.to_string().contains("newer"));
    }

    /// A search holding every heavy turn leaves plain reads free, and the next search waits for
    /// a turn instead of taking another connection.
    #[tokio::test]
    async fn heavy_reads_queue_on_their_own_pool_and_never_block_plain_reads() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            &dir.path().join("db.sqlite3"),
            PoolSizes { read: 1, heavy: 1 },
        )
        .unwrap();
        let (started, running) = tokio::sync::oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn({
            let db = db.clone();
            async move {
                db.read_heavy(move |_| {
                    started.send(()).unwrap();
                    released.recv().unwrap();
                    Ok(1)
                })
                .await
            }
        });
        running.await.unwrap();
        let second = tokio::spawn({
            let db = db.clone();
            async move { db.read_heavy(|_| Ok(2)).await }
        });
        // The only read connection is free although the heavy pool is taken.
        let plain: i64 = db
            .read(|c| Ok(c.query_row("SELECT 3", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(plain, 3);
        assert!(
            !second.is_finished(),
            "a second search ran beside the first"
        );
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(second.await.unwrap().unwrap(), 2);
    }

    #[test]
    fn every_connection_gets_the_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            &dir.path().join("db.sqlite3"),
            PoolSizes { read: 2, heavy: 1 },
        )
        .unwrap();
        let read = |c: &Conn| -> Result<(i64, i64, String), StoreError> {
            let c = c.sqlite("pragmas")?;
            let fk = c.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
            let sync = c.pragma_query_value(None, "synchronous", |r| r.get(0))?;
            let mode = c.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
            Ok((fk, sync, mode))
        };
        let expected = (1, 1, "wal".to_string());
        assert_eq!(db.read_now(read).unwrap(), expected);
        assert_eq!(db.write_now(|tx| read(tx)).unwrap(), expected);
    }
}
