//! The database on PostgreSQL (docs/storage.md §5): an r2d2 pool of sessions, each a client
//! with the statements it has prepared, kept across requests. A write is one READ COMMITTED
//! transaction, run again when PostgreSQL aborts it as a serialization failure or a deadlock;
//! a snapshot read is one REPEATABLE READ READ ONLY transaction, so that counts, a page and its
//! details see one state, as on SQLite.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use rand::Rng;

use super::conn::{Conn, PgSession};
use super::pg_notify::Wakeups;
use super::{pg_schema, AfterCommit, DbError, SessionSetup, WriteHooks};
use crate::store::StoreError;

/// Tries of a write that PostgreSQL aborts for a conflict with another transaction.
const WRITE_TRIES: u32 = 5;
/// The longest pause before a write's next try; each pause is random up to this, doubled per
/// try, so that two transactions that met do not meet again in step.
const RETRY_PAUSE: Duration = Duration::from_millis(8);
/// Sessions a pool keeps open while idle.
const MIN_IDLE: u32 = 2;
/// How long a request waits for a pooled session.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// Makes the pool's sessions: r2d2 keeps them, each with its prepared statements.
struct Sessions {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Sessions {
    type Connection = PgSession;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgSession, postgres::Error> {
        Ok(PgSession::new(self.config.connect(postgres::NoTls)?))
    }

    fn is_valid(&self, session: &mut PgSession) -> Result<(), postgres::Error> {
        session.client_mut().simple_query("").map(|_| ())
    }

    fn has_broken(&self, session: &mut PgSession) -> bool {
        session.client_mut().is_closed()
    }
}

/// The handle on one PostgreSQL database, shared by every request of a node.
#[derive(Clone)]
pub struct PgDb {
    pool: r2d2::Pool<Sessions>,
    hooks: Arc<WriteHooks>,
    /// Tells other nodes of this node's writes, and this node of theirs.
    wakeups: Arc<Wakeups>,
    /// What each session runs before its first write (its temporary tables).
    setups: Arc<RwLock<Vec<SessionSetup>>>,
    /// Stops the directory watch and the notifications when the last handle goes.
    _watching: Arc<DirectoryWatching>,
}

/// How often a node looks whether another node changed the directory.
const DIRECTORY_POLL: Duration = Duration::from_millis(100);

/// Set when the last handle of a node's database goes: its directory watch and its
/// notifications then end.
#[derive(Default)]
struct DirectoryWatching {
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for DirectoryWatching {
    fn drop(&mut self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Starts a new directory generation on this node whenever the database's directory version
/// (src/migrations/postgres/capture.sql) moves: a change written by another node, or by a
/// command, reaches this node's caches within `DIRECTORY_POLL`. Its own writes start one at
/// once.
fn watch_directory(
    pool: r2d2::Pool<Sessions>,
    hooks: Arc<WriteHooks>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<()> {
    let read = move |pool: &r2d2::Pool<Sessions>| -> Option<i64> {
        let session = pool.get().ok()?;
        Conn::Postgres(&session)
            .prepare_cached("SELECT version FROM wootlite_directory_version")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
            .ok()
    };
    let mut seen = read(&pool);
    std::thread::Builder::new()
        .name("directory-watch".into())
        .spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(DIRECTORY_POLL);
                let now = read(&pool);
                if now.is_some() && now != seen {
                    hooks.directory.changed();
                    seen = now;
                }
            }
        })?;
    Ok(())
}

impl PgDb {
    /// Connects, brings the schema up to date (once across nodes that start together), and
    /// builds a pool of `size` sessions.
    pub fn open(url: &str, size: u32) -> Result<Self, DbError> {
        off_runtime(|| Self::open_here(url, size))
    }

    fn open_here(url: &str, size: u32) -> Result<Self, DbError> {
        let config: postgres::Config = url.parse()?;
        let pool = r2d2::Pool::builder()
            .max_size(size)
            // Sessions are opened as they are needed, so idle nodes hold few of the server's.
            .min_idle(Some(MIN_IDLE))
            .connection_timeout(POOL_WAIT)
            .build(Sessions {
                config: config.clone(),
            })?;
        pg_schema::migrate(pool.get()?.client_mut())?;
        let hooks = Arc::new(WriteHooks::default());
        let watching = Arc::new(DirectoryWatching::default());
        watch_directory(
            pool.clone(),
            Arc::clone(&hooks),
            Arc::clone(&watching.stopped),
        )
        .map_err(DbError::Thread)?;
        let wakeups = Wakeups::start(pool.clone(), config, Arc::clone(&watching.stopped))
            .map_err(DbError::Thread)?;
        Ok(Self {
            pool,
            hooks,
            wakeups,
            setups: Arc::default(),
            _watching: watching,
        })
    }

    pub(super) fn hooks(&self) -> &WriteHooks {
        &self.hooks
    }

    /// Moves whenever another node says it wrote.
    pub(super) fn others_wrote(&self) -> tokio::sync::watch::Receiver<u64> {
        self.wakeups.others_wrote()
    }

    /// Runs `setup` on every session before its next write, on those open now and those to come.
    pub(super) fn on_each_session(&self, setup: SessionSetup) {
        super::locked_write(&self.setups).push(setup);
    }

    fn set_up(&self, session: &PgSession) -> Result<(), StoreError> {
        let setups = self.setups.read().unwrap_or_else(|p| p.into_inner());
        for setup in &setups[session.set_up().min(setups.len())..] {
            setup(&Conn::Postgres(session))?;
        }
        session.set_up_to(setups.len());
        Ok(())
    }

    fn session(&self) -> Result<r2d2::PooledConnection<Sessions>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Database(format!("PostgreSQL pool: {e}")))
    }

    /// `work` on a session in autocommit: each statement sees what has committed before it.
    pub fn read<T: Send>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| self.read_here(work))
    }

    pub(super) fn read_here<T>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let session = self.session()?;
        work(&Conn::Postgres(&session))
    }

    /// `work` in one read-only snapshot.
    pub fn read_snapshot<T: Send>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| self.read_snapshot_here(work))
    }

    pub(super) fn read_snapshot_here<T>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let session = self.session()?;
        let conn = Conn::Postgres(&session);
        conn.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let result = work(&conn);
        end(&conn, "ROLLBACK");
        result
    }

    /// `work` in one transaction, committed when it returns Ok. A try that PostgreSQL aborts
    /// for a conflict (serialization failure or deadlock) is rolled back and run again, up to
    /// `WRITE_TRIES` times; so `work` may run more than once, and must do nothing outside
    /// the transaction.
    pub fn write<T: Send>(
        &self,
        work: impl FnMut(&Conn) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| self.write_here(work))
    }

    pub(super) fn write_here<T>(
        &self,
        mut work: impl FnMut(&Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let session = self.session()?;
        self.set_up(&session)?;
        let mut tries = 0;
        loop {
            tries += 1;
            match write_once(&session, &self.hooks, &mut work) {
                Err(Attempt::Conflict(e)) if tries < WRITE_TRIES => {
                    log::debug!("a write met another transaction (try {tries}): {e}");
                    let most = RETRY_PAUSE * 2u32.pow(tries - 1);
                    let pause = rand::thread_rng().gen_range(Duration::ZERO..=most);
                    std::thread::sleep(pause);
                }
                Err(Attempt::Conflict(e)) => return Err(e),
                Err(Attempt::Failed(e)) => return Err(e),
                Ok((value, then)) => {
                    if let Some(then) = then {
                        then();
                    }
                    self.hooks.directory.changed();
                    self.hooks.committed();
                    self.wakeups.written();
                    return Ok(value);
                }
            }
        }
    }
}

/// `work` where the PostgreSQL client may block. The client drives a small runtime of its own
/// and panics on a thread that drives one already (a request worker, or `serve`'s start), so
/// there the work runs on a thread of its own while the caller waits, as it would for the
/// database anyway. The request paths call the `_here` forms from blocking threads instead.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

enum Attempt {
    /// PostgreSQL aborted the transaction for a conflict: running it again may succeed.
    Conflict(StoreError),
    Failed(StoreError),
}

fn write_once<T>(
    session: &PgSession,
    hooks: &WriteHooks,
    work: &mut impl FnMut(&Conn) -> Result<T, StoreError>,
) -> Result<(T, Option<AfterCommit>), Attempt> {
    let conn = Conn::Postgres(session);
    // The store keeps only the text of the errors it passes on, so the session says whether
    // one of this try's statements met a conflict.
    session.take_conflict();
    conn.execute_batch("BEGIN")
        .map_err(|e| Attempt::Failed(e.into()))?;
    let outcome = work(&conn).and_then(|value| {
        hooks.after_write(&conn)?;
        let then = commit_hook(&conn, hooks)?;
        conn.execute_batch("COMMIT")?;
        Ok((value, then))
    });
    outcome.map_err(|e| {
        end(&conn, "ROLLBACK");
        if session.take_conflict() {
            Attempt::Conflict(e)
        } else {
            Attempt::Failed(e)
        }
    })
}

/// The commit hook, in a savepoint of its own. A statement that fails aborts the whole
/// transaction on PostgreSQL, and `COMMIT` then rolls it back without an error: the hook's
/// failure (logged) would lose the write it follows. Undoing the savepoint keeps the write.
fn commit_hook(conn: &Conn, hooks: &WriteHooks) -> Result<Option<AfterCommit>, StoreError> {
    conn.execute_batch("SAVEPOINT commit_hook")?;
    let then = hooks.before_commit(conn);
    if conn.execute_batch("RELEASE SAVEPOINT commit_hook").is_err() {
        conn.execute_batch("ROLLBACK TO SAVEPOINT commit_hook; RELEASE SAVEPOINT commit_hook")?;
        return Ok(None);
    }
    Ok(then)
}

/// Ends a transaction; a failure leaves the session to the pool's check.
fn end(conn: &Conn, statement: &str) {
    if let Err(e) = conn.execute_batch(statement) {
        log::warn!("{statement} failed: {e}");
    }
}
