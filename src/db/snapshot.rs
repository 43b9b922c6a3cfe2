//! Copies of the database file: a transaction-consistent copy of a database that a running
//! server may be writing, taken without writing anything beside it, and the checks a copy passes
//! before it may become a data dir's database.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::sqlite_db::BUSY_TIMEOUT;
use super::DbError;

/// Pauses between tries when SQLite cannot grant the copy its read snapshot yet.
const BUSY_PAUSE: Duration = Duration::from_millis(25);
const BUSY_TRIES: u32 = 200;
/// Copies started again because a server started on the file during the copy.
const COPY_TRIES: usize = 3;

/// Copies the database `source` into the new file `target` as one snapshot, and returns a
/// read-only connection to `source` for looking at what changed since.
///
/// The copy is SQLite's backup API in a single step: it holds one read transaction from the
/// first page to the last. In WAL mode a reader never blocks the writer, so the server goes on
/// committing meanwhile (its WAL only grows until the copy ends). A copy in several steps would
/// release the snapshot between steps, and SQLite starts such a copy over whenever another
/// connection writes: under steady load it would never finish.
///
/// The copy is left in rollback-journal mode, so that it opens read-only anywhere (inspection,
/// restore checks) without SQLite creating `-wal` and `-shm` files beside it; `serve` turns WAL
/// back on when it opens a restored file.
pub fn copy_live(source: &Path, target: &Path) -> Result<Connection, DbError> {
    for _ in 0..COPY_TRIES {
        // A running server keeps the `-wal` and `-shm` files, and a reader then creates nothing.
        // Without them SQLite would create both for a read-only connection and leave them
        // behind; but then no server has the file open and the database is the main file
        // alone, which can be read as immutable, as long as nothing opens it meanwhile.
        let wal = sidecar(source, "-wal");
        let quiet = if wal.exists() {
            None
        } else {
            Some(FileState::of(source)?)
        };
        let conn = match quiet {
            None => open_reader(source)?,
            Some(_) => open_immutable(source)?,
        };
        copy(&conn, target)?;
        let undisturbed = match &quiet {
            None => true,
            Some(before) => !wal.exists() && FileState::of(source)? == *before,
        };
        if undisturbed {
            return Ok(conn);
        }
        // A server opened the file during the copy: copy again, through the WAL it now keeps.
        drop(conn);
        std::fs::remove_file(target).map_err(|e| DbError::Io {
            path: target.display().to_string(),
            source: e,
        })?;
    }
    Err(DbError::Unsettled)
}

/// Opens a database copy read-only, to check or read it.
pub fn open_copy(file: &Path) -> Result<Connection, DbError> {
    Ok(Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// What `PRAGMA integrity_check` finds wrong; empty for a sound database. A file that is no
/// SQLite database at all is an error.
pub fn integrity_problems(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    let findings = rows.collect::<Result<Vec<_>, _>>()?;
    Ok(findings.into_iter().filter(|line| line != "ok").collect())
}

/// The schema version the file was migrated to (0 for a database wootlite never opened).
pub fn schema_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

fn copy(source: &Connection, target: &Path) -> Result<(), DbError> {
    let mut copy = Connection::open(target)?;
    // The file is only an intermediate; the archive holding it is synced instead.
    copy.pragma_update(None, "synchronous", "OFF")?;
    {
        let backup = Backup::new(source, &mut copy)?;
        let mut busy = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::Busy | StepResult::Locked if busy < BUSY_TRIES => {
                    busy += 1;
                    std::thread::sleep(BUSY_PAUSE);
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(DbError::Unsettled);
                }
                _ => {}
            }
        }
    }
    copy.pragma_update(None, "journal_mode", "DELETE")?;
    copy.close().map_err(|(_, e)| DbError::Sqlite(e))
}

fn open_reader(file: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// A read-only connection that takes no locks and reads no WAL (SQLite's `immutable` URI
/// parameter), so it creates no file beside the database.
fn open_immutable(file: &Path) -> Result<Connection, DbError> {
    let absolute = std::fs::canonicalize(file).map_err(|source| DbError::Io {
        path: file.display().to_string(),
        source,
    })?;
    let uri = format!("file:{}?immutable=1", uri_path(&absolute));
    Ok(Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?)
}

/// A path percent-encoded for a `file:` URI: `?`, `#` and `%` in a directory name would
/// otherwise end or change the path.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for &byte in path.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"/._-~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn sidecar(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Size and modification time: any write to the main file (a checkpoint) changes them.
#[derive(PartialEq)]
struct FileState {
    len: u64,
    modified: Option<SystemTime>,
}

impl FileState {
    fn of(file: &Path) -> Result<Self, DbError> {
        let meta = std::fs::metadata(file).map_err(|source| DbError::Io {
            path: file.display().to_string(),
            source,
        })?;
        Ok(Self {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, PoolSizes};

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_copy_of_an_open_database_holds_its_committed_rows_and_no_wal() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        crate::provision::bootstrap(&db, None, 0).unwrap();
        let before = names(dir.path());
        let target = out.path().join("copy.sqlite3");
        let source = copy_live(&dir.path().join("db.sqlite3"), &target).unwrap();
        assert_eq!(count(&source), 1);
        assert_eq!(names(dir.path()), before);

        let copy = open_copy(&target).unwrap();
        assert_eq!(count(&copy), 1);
        assert!(integrity_problems(&copy).unwrap().is_empty());
        assert_eq!(schema_version(&copy).unwrap(), crate::db::SCHEMA_VERSION);
        let mode: String = copy
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
        drop(copy);
        assert_eq!(names(out.path()), vec!["copy.sqlite3"]);
    }

    /// With no server on it, the database is read as immutable: SQLite would otherwise leave
    /// `-wal` and `-shm` files in the data dir.
    #[test]
    fn copying_a_closed_database_creates_nothing_beside_it() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("odd ?#% name");
        std::fs::create_dir(&dir).unwrap();
        let file = dir.join("db.sqlite3");
        let conn = Connection::open(&file).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY); INSERT INTO accounts DEFAULT VALUES;",
        )
        .unwrap();
        conn.close().unwrap();
        assert_eq!(names(&dir), vec!["db.sqlite3"]);
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("copy.sqlite3");
        let source = copy_live(&file, &target).unwrap();
        assert_eq!(count(&source), 1);
        drop(source);
        assert_eq!(names(&dir), vec!["db.sqlite3"]);
        assert_eq!(count(&open_copy(&target).unwrap()), 1);
    }

    #[test]
    fn a_file_that_is_no_database_fails_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("junk.sqlite3");
        std::fs::write(&file, vec![7u8; 8192]).unwrap();
        let conn = open_copy(&file).unwrap();
        assert!(integrity_problems(&conn).is_err());
    }
}
