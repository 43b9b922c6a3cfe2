//! The database on SQLite: one writer (every write transaction `BEGIN IMMEDIATE`, so writers
//! never meet SQLITE_BUSY), which request writes reach through group commit (`group_commit`); an
//! r2d2 pool of read-only connections for point and list reads, run on the calling worker; a
//! second small pool for heavy reads (search, filters) so that they can never take every
//! connection from the first; the pragmas every connection gets, and the forward-only schema
//! migrations.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::group_commit::GroupWriter;
use super::wal_ceiling::WalCeiling;
use super::{heavy_threads, locked, Conn, DbError, FileSizes, PoolSizes, WriteHooks};
use super::{HEAVY_QUEUE_TIMEOUT, MIGRATIONS, SCHEMA_VERSION};
use crate::error::ApiError;
use crate::store::StoreError;

pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read connections are reopened after this long, so they see refreshed statistics.
const READER_LIFETIME: Duration = Duration::from_secs(300);
/// How long a checkpoint that resets an oversized WAL waits for readers (and holds new writes).
const WAL_RESET_WAIT: Duration = Duration::from_secs(2);
/// How long a clean stop waits for request handlers and tasks to let go of the database.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// Tries of the shutdown checkpoint, 20 ms apart.
const FINAL_CHECKPOINT_TRIES: usize = 50;

/// The database on SQLite: one writer behind group commit, and pools of read-only connections.
#[derive(Clone)]
pub struct SqliteDb {
    file: Arc<std::path::PathBuf>,
    writer: Arc<Mutex<Connection>>,
    group: Arc<GroupWriter>,
    hooks: Arc<WriteHooks>,
    /// Opened by the first `checkpoint_bounded`.
    checkpointer: Arc<Mutex<Option<Connection>>>,
    wal_ceiling: Arc<WalCeiling>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    heavy_readers: r2d2::Pool<SqliteConnectionManager>,
    heavy_turns: Arc<tokio::sync::Semaphore>,
    heavy_threads: Arc<heavy_threads::HeavyThreads>,
}

impl SqliteDb {
    /// Opens (creating if needed) the database file, migrates it, and builds the read pool.
    pub fn open(file: &Path, pools: PoolSizes) -> Result<Self, DbError> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut writer = Connection::open(file)?;
        configure_writer(&writer)?;
        migrate(&mut writer)?;
        // Statistics for tables never analysed or grown tenfold since. Not sampled: a sample
        // (`analysis_limit`) of an account's first rows says an account holds about as many
        // rows as the sample, and SQLite then drives a million-row filter from the wrong index.
        writer.execute_batch("PRAGMA optimize = 0x10002;")?;
        drop_value_samples(&writer)?;

        let hooks = Arc::new(WriteHooks::default());
        hooks.directory.install(&writer)?;
        let readers = read_pool(file, pools.read)?;
        let heavy_readers = read_pool(file, pools.heavy)?;
        let writer = Arc::new(Mutex::new(writer));
        let wal_ceiling = Arc::new(WalCeiling::beside(file));
        let checkpointer = Arc::new(Mutex::new(None));
        let group = GroupWriter::start(
            Arc::clone(&writer),
            Arc::clone(&hooks),
            Arc::clone(&wal_ceiling),
            Arc::clone(&checkpointer),
        )
        .map_err(DbError::Thread)?;
        Ok(Self {
            file: Arc::new(file.to_path_buf()),
            writer,
            group: Arc::new(group),
            hooks,
            checkpointer,
            wal_ceiling,
            readers,
            heavy_readers,
            heavy_turns: Arc::new(tokio::sync::Semaphore::new(pools.heavy.max(1) as usize)),
            heavy_threads: Arc::new(
                heavy_threads::HeavyThreads::start(pools.heavy as usize)
                    .map_err(|e| DbError::Thread(std::io::Error::other(e)))?,
            ),
        })
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction on the writer, committing when it returns Ok.
    pub fn write_now<T>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = locked(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&Conn::Sqlite(&tx))?;
        self.hooks.after_write(&Conn::Sqlite(&tx))?;
        let then = self.hooks.before_commit(&Conn::Sqlite(&tx));
        tx.commit()?;
        if let Some(then) = then {
            then();
        }
        drop(conn);
        self.hooks.committed();
        Ok(value)
    }

    /// Runs `work` on the writer connection outside any transaction, e.g. to set up its
    /// temporary tables and triggers.
    pub fn on_writer<T>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let done = work(&Conn::Sqlite(&locked(&self.writer)));
        // In autocommit, each statement has committed by now.
        self.hooks.directory.committed();
        done
    }

    /// The writer connection, for a bulk copy into the file.
    pub(super) fn writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        locked(&self.writer)
    }

    pub(super) fn hooks(&self) -> &WriteHooks {
        &self.hooks
    }

    pub fn read_now<T>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .readers
            .get()
            .map_err(|e| StoreError::Database(format!("read pool: {e}")))?;
        work(&Conn::Sqlite(&conn))
    }

    /// `read_now` inside one read transaction (see `in_read_transaction`): what requests use.
    pub fn read_snapshot<T>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .readers
            .get()
            .map_err(|e| StoreError::Database(format!("read pool: {e}")))?;
        in_read_transaction(&conn, work)
    }

    /// `read` for heavy work, on its own bounded pool: it waits for a turn (503 after a while)
    /// instead of taking connections that point and list reads need.
    pub async fn read_heavy<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let turn = tokio::time::timeout(
            HEAVY_QUEUE_TIMEOUT,
            Arc::clone(&self.heavy_turns).acquire_owned(),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::unavailable("The server is busy with other searches; try again shortly")
        })?;
        let pool = self.heavy_readers.clone();
        let read = move || {
            let _turn = turn;
            let conn = pool
                .get()
                .map_err(|e| StoreError::Database(format!("heavy read pool: {e}")))?;
            in_read_transaction(&conn, work)
        };
        match self.heavy_threads.run(read).await {
            Ok(result) => result.map_err(ApiError::from),
            // Answer 500 rather than take anything down.
            Err(failed) => Err(ApiError::internal(format!(
                "database task failed: {failed}"
            ))),
        }
    }

    /// `work` in a transaction shared with the other request writes waiting at the same time
    /// (see `group_commit`); answered once that transaction has committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        self.group.write(work).await.map_err(ApiError::from)
    }

    /// `read_now` for quick reads, run on the calling worker. Handing a read of a few rows to a
    /// blocking thread cost more than the read (two context switches each way, three reads per
    /// request with authentication); heavy reads go through `read_heavy` instead. The read pool
    /// is larger than the worker count, so taking a connection here does not wait.
    pub async fn read<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let read = || self.read_snapshot(work);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
            Ok(result) => result.map_err(ApiError::from),
            // Answer 500 rather than take the worker down.
            Err(_) => Err(ApiError::internal("database read failed".to_string())),
        }
    }

    /// Refreshes the table statistics that have gone stale (SQLite re-analyses a table when it
    /// has grown tenfold, so at steady state this does nothing; a full pass over a million
    /// conversations takes about a second). They let SQLite pick the selective index over
    /// scanning an account's conversations. Read connections are recycled every few minutes
    /// and load the new statistics when they reopen.
    pub fn optimize(&self) -> Result<(), DbError> {
        let conn = locked(&self.writer);
        conn.execute_batch("PRAGMA optimize;")?;
        drop_value_samples(&conn)?;
        Ok(())
    }

    /// Leaves WAL checkpoints to `checkpoint_bounded`, called by a background task aiming at
    /// `wal_target_bytes`: otherwise the write that fills the WAL copies it back into the
    /// database and syncs the file while every other write waits behind it (a sixth of the
    /// writer's time under load, and the slowest writes). Past a few times the target the
    /// writer empties the WAL itself (see `WalCeiling`).
    pub fn checkpoint_in_background(&self, wal_target_bytes: u64) -> Result<(), DbError> {
        let conn = locked(&self.writer);
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        self.wal_ceiling.follow_target(wal_target_bytes);
        Ok(())
    }

    /// Copies what the WAL holds into the database file without waiting for readers or the
    /// writer (a PASSIVE checkpoint), on a connection of its own. A passive checkpoint never
    /// moves the WAL back to its start while some reader is inside it, and under steady reads
    /// and writes one always is, so the file only grows: once it passes `target_bytes` (0:
    /// never) a TRUNCATE checkpoint waits, at most `WAL_RESET_WAIT`, for the readers of older
    /// snapshots to finish (holding new writes meanwhile) and empties it. Returns the WAL's
    /// size after the checkpoint.
    pub fn checkpoint_bounded(&self, target_bytes: u64) -> Result<u64, DbError> {
        let mut slot = locked(&self.checkpointer);
        if slot.is_none() {
            let conn = Connection::open(self.file.as_path())?;
            configure(&conn)?;
            conn.busy_timeout(WAL_RESET_WAIT)?;
            *slot = Some(conn);
        }
        let Some(conn) = slot.as_ref() else {
            return Ok(0);
        };
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        let size = self.wal_bytes();
        if target_bytes == 0 || size <= target_bytes {
            return Ok(size);
        }
        // Holding the writer's lock, the reset waits only for readers, instead of polling for
        // the database's write lock in the short gaps between groups of writes.
        let writes_wait = locked(&self.writer);
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        drop(writes_wait);
        if busy != 0 {
            log::warn!("the WAL ({size} bytes) could not be reset: readers held it; retrying");
        }
        Ok(self.wal_bytes())
    }

    /// The size of the write-ahead log file (0 when there is none).
    pub fn wal_bytes(&self) -> u64 {
        self.wal_ceiling.wal_bytes()
    }

    /// Gathers the statistics of every table and index in full, after a bulk load.
    pub fn analyze(&self) -> Result<(), DbError> {
        let conn = locked(&self.writer);
        conn.execute_batch("ANALYZE;")?;
        drop_value_samples(&conn)?;
        Ok(())
    }

    /// Caps the database file at about `bytes` (whole pages): a write that would grow it further
    /// fails as on a full disk (SQLITE_FULL), while space freed by deletes is used again.
    pub fn limit_size(&self, bytes: u64) -> Result<(), DbError> {
        let conn = locked(&self.writer);
        let page_size: u64 = conn.pragma_query_value(None, "page_size", |row| row.get(0))?;
        let pages = (bytes / page_size.max(1)).max(1);
        conn.pragma_update(None, "max_page_count", pages)?;
        Ok(())
    }

    /// Writes waiting for the writer at the moment.
    pub fn write_queue_depth(&self) -> usize {
        self.group.queued()
    }

    /// The sizes of the database file and of its write-ahead log (0 for a file that is not
    /// there: SQLite removes the log when the last connection closes cleanly).
    pub fn file_sizes(&self) -> FileSizes {
        FileSizes {
            database: size_of(&self.file),
            wal: self.wal_bytes(),
        }
    }

    /// Ends a clean stop: waits (a while) for the other handles to go, folds the WAL back and
    /// closes every connection. SQLite removes the `-wal` and `-shm` files when the last
    /// connection to the file closes after a complete checkpoint, so the data dir is one
    /// database file again; a connection left open (a handle still held, a process that just
    /// exits) would leave them behind.
    pub fn close(self) -> Result<(), DbError> {
        let waited = std::time::Instant::now();
        while Arc::strong_count(&self.group) > 1 && waited.elapsed() < CLOSE_WAIT {
            std::thread::sleep(Duration::from_millis(10));
        }
        let others = Arc::strong_count(&self.group) - 1;
        if others > 0 {
            log::warn!(
                "{others} database handle(s) still in use at shutdown; the WAL files may remain"
            );
        }
        self.checkpoint()?;
        // Read-only connections cannot remove the WAL, so they close first and the writer,
        // whose thread is joined when the group writer goes, closes last.
        let Self {
            writer,
            group,
            checkpointer,
            readers,
            heavy_readers,
            ..
        } = self;
        drop((readers, heavy_readers, checkpointer));
        drop(group);
        drop(writer);
        Ok(())
    }

    /// Folds the WAL back into the main file; called on shutdown so the data dir is one file again.
    /// A background checkpoint still running, or a reader finishing, makes SQLite answer "busy"
    /// (as a row, not an error), so it waits for the one and retries a little for the other.
    fn checkpoint(&self) -> Result<(), DbError> {
        let _no_background_checkpoint = locked(&self.checkpointer);
        let conn = locked(&self.writer);
        for _ in 0..FINAL_CHECKPOINT_TRIES {
            let busy: i64 =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
            if busy == 0 {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        log::warn!("the WAL could not be folded back: readers kept it busy");
        Ok(())
    }
}

/// Removes the per-value samples ANALYZE keeps beside the per-index averages (`sqlite_stat4`).
/// With them, SQLite re-plans a statement each time a parameter bound to a sampled column
/// changes: a third of a conversation read went into parsing its statements again. The
/// averages (`sqlite_stat1`) still steer every plan.
fn drop_value_samples(conn: &Connection) -> rusqlite::Result<()> {
    let sampled: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')",
        [],
        |row| row.get(0),
    )?;
    if sampled {
        // `ANALYZE sqlite_schema` makes this connection reload the statistics.
        conn.execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")?;
    }
    Ok(())
}

/// Runs `work` in one read transaction: its statements see one snapshot, and the WAL read lock
/// is taken once instead of once per statement.
fn in_read_transaction<T>(
    conn: &Connection,
    work: impl FnOnce(&Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let snapshot = ReadSnapshot::begin(conn)?;
    work(&Conn::Sqlite(snapshot.0))
}

/// An open read transaction, ended when dropped, also when `work` panics: the connection then
/// goes back to its pool without a snapshot held. Its two statements are prepared once per
/// connection; `Connection::transaction` parses them again on every request.
struct ReadSnapshot<'c>(&'c Connection);

impl<'c> ReadSnapshot<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        if !conn.is_autocommit() {
            // A previous snapshot that failed to end: end it now rather than fail every request.
            conn.prepare_cached("ROLLBACK")?.execute([])?;
        }
        conn.prepare_cached("BEGIN")?.execute([])?;
        Ok(Self(conn))
    }
}

impl Drop for ReadSnapshot<'_> {
    fn drop(&mut self) {
        // A reader changed nothing: rolling back only releases the snapshot. Should it fail, the
        // connection's next `begin` ends it.
        let ended = self
            .0
            .prepare_cached("ROLLBACK")
            .and_then(|mut rollback| rollback.execute([]));
        if let Err(e) = ended {
            log::warn!("ending a read transaction: {e}");
        }
    }
}

pub(super) const MMAP_BYTES: i64 = 1 << 40;
const STATEMENT_CACHE: usize = 256;

/// The pragmas every connection gets.
pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // busy_timeout first, so the following pragmas wait for a lock instead of failing.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // With WAL, NORMAL loses no committed transaction on a process crash, only on power loss.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Pages read through a memory map instead of a read() copy each: no system call per page
    // missed in the connection's own small cache, and the pages stay file-backed (shared by all
    // connections, given back by the kernel under pressure) rather than anonymous memory.
    // SQLite caps the size at its compile-time maximum, raised in .cargo/config.toml.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    // A request runs a few dozen distinct statements (rendering a conversation alone about
    // fifteen); rusqlite's default cache of 16 re-parsed some of them on every request.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans never depend on bound values. Otherwise SQLite looks at a bound `LIMIT ?` (or a
    // parameter compared with a partial index's condition) while planning, and then plans the
    // statement again every time that parameter is bound: every page of every list, each run.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // `rarray(?)` binds a list of ids as one parameter.
    rusqlite::vtab::array::load_module(conn)?;
    // `fold(x)`: the search rule's case folding (each character lowercased), which SQLite's
    // ASCII-only `lower()` does not do; filters use it for case-insensitive matches.
    conn.create_scalar_function(
        "fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Null => None,
                ValueRef::Text(bytes) => {
                    Some(crate::search::text::folded(&String::from_utf8_lossy(bytes)))
                }
                ValueRef::Integer(i) => Some(i.to_string()),
                ValueRef::Real(f) => Some(f.to_string()),
                ValueRef::Blob(_) => None,
            })
        },
    )
}

fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    configure(conn)?;
    // WAL is a property of the file: set once by the writer, it holds for every reader too.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    Ok(())
}

fn configure_reader(conn: &mut Connection) -> rusqlite::Result<()> {
    configure(conn)
}

fn read_pool(file: &Path, size: u32) -> Result<r2d2::Pool<SqliteConnectionManager>, DbError> {
    let manager = SqliteConnectionManager::file(file)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(configure_reader);
    Ok(r2d2::Pool::builder()
        .max_size(size.max(1))
        // Connections are opened when first needed, so one-shot commands open few.
        .min_idle(Some(0))
        .max_lifetime(Some(READER_LIFETIME))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?)
}

fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(DbError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = step as i64 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        log::info!("database migrated to schema version {version}");
    }
    Ok(())
}

fn size_of(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}
