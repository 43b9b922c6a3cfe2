//! Online backup and restore of a data dir.
//!
//! A backup is a plain tar archive (`tar tf` lists it) holding `wootlite.sqlite3`, one
//! transaction-consistent copy of the database, and `files/<folder>/<name>` for every
//! attachment file that copy names. The search index is left out: `serve` rebuilds it from the
//! database when it is missing. A backup only reads the data dir, so it runs beside a server
//! that keeps writing.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::DataDir;
use crate::db::Conn;
use crate::db::{snapshot, DbError, SCHEMA_VERSION};
use crate::dir_lock::{DataDirLock, LockError};
use crate::models::storage_key_parts;
use crate::store::{messages, StoreError};

/// The database's name in an archive, as in a data dir.
const DATABASE_ENTRY: &str = "wootlite.sqlite3";
/// The attachment folder's name in an archive, as in a data dir.
const FILES_ENTRY: &str = "files";
const TEMP_PREFIX: &str = ".wootlite-backup-";
const STAGING_PREFIX: &str = ".wootlite-restore-";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} holds no wootlite database")]
    NoDatabase(String),
    #[error(
        "{0} already holds wootlite data; restoring over it needs --force (which replaces its \
         database, attachment files and search index)"
    )]
    TargetInUse(String),
    #[error("{input} is not a wootlite backup: {reason}")]
    BadArchive { input: String, reason: String },
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] LockError),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupSummary {
    pub output: PathBuf,
    pub archive_bytes: u64,
    pub database_bytes: u64,
    pub files: u64,
    pub file_bytes: u64,
    /// Files the snapshot names whose message was deleted after the snapshot was taken.
    pub deleted_since: u64,
    /// Files the snapshot names, and the database still names, that are not in the data dir.
    pub missing: u64,
    pub elapsed: Duration,
}

impl fmt::Display for BackupSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} ({} bytes): database {} bytes, {} attachment files {} bytes, in {:.2}s",
            self.output.display(),
            self.archive_bytes,
            self.database_bytes,
            self.files,
            self.file_bytes,
            self.elapsed.as_secs_f64()
        )?;
        if self.deleted_since > 0 {
            write!(
                f,
                "; {} files deleted with their messages during the backup left out",
                self.deleted_since
            )?;
        }
        if self.missing > 0 {
            write!(
                f,
                "; {} attachment files missing from the data dir (see the log)",
                self.missing
            )?;
        }
        Ok(())
    }
}

/// Writes a backup of `data_dir` to `output`: the database first, as one snapshot, then the
/// attachment files that snapshot names. Everything is written beside `output` under a
/// temporary name and renamed at the end, so a failed backup leaves nothing under the output's
/// name, and nothing is ever written into the data dir.
pub fn backup(data_dir: &DataDir, output: &Path) -> Result<BackupSummary, BackupError> {
    let started = Instant::now();
    let database = data_dir.database_file();
    if !database.is_file() {
        return Err(BackupError::NoDatabase(data_dir.path.display().to_string()));
    }
    let beside = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let work = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempdir_in(beside)
        .map_err(io_error(beside))?;
    let copy = work.path().join(DATABASE_ENTRY);
    let live = snapshot::copy_live(&database, &copy)?;
    let keys = messages::stored_file_keys(&Conn::Sqlite(&snapshot::open_copy(&copy)?))?;

    let archive = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tar")
        .tempfile_in(beside)
        .map_err(io_error(beside))?;
    let mut tar = tar::Builder::new(BufWriter::new(archive));
    let database_bytes = append(&mut tar, &copy, DATABASE_ENTRY)?;

    let files_dir = data_dir.files_dir();
    let (mut files, mut file_bytes) = (0, 0);
    let mut absent = Vec::new();
    for key in keys {
        let Some((folder, name)) = storage_key_parts(&key) else {
            log::warn!("an attachment row has the malformed storage key {key:?}; skipped");
            continue;
        };
        let path = files_dir.join(folder).join(name);
        match append(&mut tar, &path, &format!("{FILES_ENTRY}/{folder}/{name}")) {
            Ok(bytes) => {
                files += 1;
                file_bytes += bytes;
            }
            Err(BackupError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                absent.push(key)
            }
            Err(other) => return Err(other),
        }
    }
    let (deleted_since, missing) = sort_absent(&live, absent)?;

    let archive = tar
        .into_inner()
        .and_then(|buffered| {
            buffered
                .into_inner()
                .map_err(io::IntoInnerError::into_error)
        })
        .map_err(io_error(output))?;
    archive.as_file().sync_all().map_err(io_error(output))?;
    let archive_bytes = archive
        .as_file()
        .metadata()
        .map_err(io_error(output))?
        .len();
    archive
        .persist(output)
        .map_err(|e| io_error(output)(e.error))?;
    sync_dir(beside);
    Ok(BackupSummary {
        output: output.to_path_buf(),
        archive_bytes,
        database_bytes,
        files,
        file_bytes,
        deleted_since,
        missing,
        elapsed: started.elapsed(),
    })
}

/// Adds the file at `path` to the archive as `name`; returns its size. The file is read through
/// the handle opened here, so a file removed meanwhile is still copied whole.
fn append(
    tar: &mut tar::Builder<BufWriter<tempfile::NamedTempFile>>,
    path: &Path,
    name: &str,
) -> Result<u64, BackupError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    let bytes = file.metadata().map_err(io_error(path))?.len();
    tar.append_file(name, &mut file).map_err(io_error(path))?;
    Ok(bytes)
}

/// Copies the attachment files `conn`'s database names from `files_dir` into `target`, in the
/// same `<folder>/<name>` layout, for `wootlite migrate`. Returns how many were copied; a file
/// the database names that is not there is logged and left out, as a backup leaves it out.
pub fn copy_files(
    conn: &rusqlite::Connection,
    files_dir: &Path,
    target: &Path,
) -> Result<u64, BackupError> {
    let mut copied = 0;
    for key in messages::stored_file_keys(&Conn::Sqlite(conn))? {
        let Some((folder, name)) = storage_key_parts(&key) else {
            log::warn!("an attachment row has the malformed storage key {key:?}; skipped");
            continue;
        };
        let from = files_dir.join(folder).join(name);
        let to_folder = target.join(folder);
        std::fs::create_dir_all(&to_folder).map_err(io_error(&to_folder))?;
        match std::fs::copy(&from, to_folder.join(name)) {
            Ok(_) => copied += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                log::warn!("attachment file {} is missing; not copied", from.display())
            }
            Err(e) => return Err(io_error(&from)(e)),
        }
    }
    Ok(copied)
}

/// Splits the files the snapshot names but the data dir no longer holds into those deleted since
/// the snapshot and those missing.
///
/// A file is written before its row commits and removed only after its row is gone, so every
/// file the snapshot names existed when the snapshot was taken. One absent now was removed
/// after the snapshot, with its message (deleting a message or conversation is permanent and
/// removes its files). Leaving it out is right: the archive is the data dir as of the snapshot
/// less a file nobody may fetch any more, and a restored server answers 404 for it, as the live
/// one does now. Holding the files back from deletion for the length of a backup would need the
/// server's cooperation, which a backup that only reads the data dir cannot have. A file whose
/// row the live database still has is a loss that happened outside wootlite; it is reported.
fn sort_absent(
    live: &rusqlite::Connection,
    absent: Vec<String>,
) -> Result<(u64, u64), BackupError> {
    if absent.is_empty() {
        return Ok((0, 0));
    }
    let still_named: HashSet<String> = messages::stored_file_keys(&Conn::Sqlite(live))?
        .into_iter()
        .collect();
    let (mut deleted_since, mut missing) = (0, 0);
    for key in absent {
        if still_named.contains(&key) {
            log::warn!("attachment file {key} is missing from the data dir although its message still has it; the backup goes on without it");
            missing += 1;
        } else {
            log::info!(
                "attachment file {key} was deleted with its message during the backup; left out"
            );
            deleted_since += 1;
        }
    }
    Ok((deleted_since, missing))
}

/// What a restore put in place.
#[derive(Debug)]
pub struct RestoreSummary {
    pub data_dir: PathBuf,
    pub database_bytes: u64,
    pub files: u64,
    pub file_bytes: u64,
    /// Attachment files the restored database names that the archive did not hold.
    pub missing: u64,
    pub elapsed: Duration,
}

impl fmt::Display for RestoreSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "restored into {}: database {} bytes, {} attachment files {} bytes, in {:.2}s",
            self.data_dir.display(),
            self.database_bytes,
            self.files,
            self.file_bytes,
            self.elapsed.as_secs_f64()
        )?;
        if self.missing > 0 {
            write!(
                f,
                "; {} attachment files the database names were not in the archive",
                self.missing
            )?;
        }
        write!(f, "; the search index is rebuilt when serve starts")
    }
}

/// Unpacks the archive `input` into `data_dir`. The archive is unpacked into a folder of its own
/// inside the data dir and checked (only the expected entries, a sound database of a schema
/// this binary knows) before anything of the data dir is replaced; a failed restore changes
/// nothing. Without `force`, a data dir that already holds wootlite data is refused.
pub fn restore(
    input: &Path,
    data_dir: &DataDir,
    force: bool,
) -> Result<RestoreSummary, BackupError> {
    let started = Instant::now();
    let held = held_data(data_dir);
    if !held.is_empty() && !force {
        return Err(BackupError::TargetInUse(
            data_dir.path.display().to_string(),
        ));
    }
    let archive = File::open(input).map_err(io_error(input))?;
    let created = !data_dir.path.exists();
    std::fs::create_dir_all(&data_dir.path).map_err(io_error(&data_dir.path))?;
    // Never under a running server, --force or not.
    let _lock = DataDirLock::acquire(&data_dir.path)?;
    let result = restore_into(input, archive, data_dir);
    if result.is_err() && created {
        // Only removes the folder if the failed restore left it empty, as it should.
        let _ = std::fs::remove_dir(&data_dir.path);
    }
    let mut summary = result?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The parts of a data dir a restore replaces that are present.
fn held_data(data_dir: &DataDir) -> Vec<PathBuf> {
    let database = data_dir.database_file();
    [
        sidecar(&database, "-wal"),
        database,
        data_dir.files_dir(),
        data_dir.search_dir(),
    ]
    .into_iter()
    .filter(|path| path.exists())
    .collect()
}

fn restore_into(
    input: &Path,
    archive: File,
    data_dir: &DataDir,
) -> Result<RestoreSummary, BackupError> {
    let bad = |reason: String| BackupError::BadArchive {
        input: input.display().to_string(),
        reason,
    };
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&data_dir.path)
        .map_err(io_error(&data_dir.path))?;
    let unpacked = unpack(archive, staging.path()).map_err(|e| match e {
        Unpack::Bad(reason) => bad(reason),
        Unpack::Failed(error) => error,
    })?;
    let staged_database = staging.path().join(DATABASE_ENTRY);
    let Some(database_bytes) = unpacked.database_bytes else {
        return Err(bad(format!("it holds no {DATABASE_ENTRY}")));
    };
    let missing = {
        let conn = snapshot::open_copy(&staged_database)?;
        let problems = snapshot::integrity_problems(&conn)
            .map_err(|e| bad(format!("its database does not open: {e}")))?;
        if !problems.is_empty() {
            return Err(bad(format!(
                "its database fails the integrity check: {}",
                problems.join("; ")
            )));
        }
        let version = snapshot::schema_version(&conn)?;
        if version < 1 {
            return Err(bad("its database has no wootlite schema".to_string()));
        }
        if version > SCHEMA_VERSION {
            return Err(bad(format!(
                "its database has schema version {version}, newer than the {SCHEMA_VERSION} \
                 this wootlite understands; restore it with a newer wootlite"
            )));
        }
        messages::stored_file_keys(&Conn::Sqlite(&conn))?
            .into_iter()
            .filter(|key| !unpacked.keys.contains(key))
            .count() as u64
    };
    replace(staging.path(), data_dir)?;
    Ok(RestoreSummary {
        data_dir: data_dir.path.clone(),
        database_bytes,
        files: unpacked.keys.len() as u64,
        file_bytes: unpacked.file_bytes,
        missing,
        elapsed: Duration::ZERO,
    })
}

/// Puts the staged database and files in place of the data dir's.
fn replace(staging: &Path, data_dir: &DataDir) -> Result<(), BackupError> {
    // The index describes the database it was built from; `serve` builds one for the new one.
    let search = data_dir.search_dir();
    if search.exists() {
        std::fs::remove_dir_all(&search).map_err(io_error(&search))?;
    }
    let files = data_dir.files_dir();
    if files.exists() {
        // Into the staging folder, which is removed at the end.
        let aside = staging.join("replaced-files");
        std::fs::rename(&files, &aside).map_err(io_error(&files))?;
    }
    let staged_files = staging.join(FILES_ENTRY);
    if staged_files.exists() {
        std::fs::rename(&staged_files, &files).map_err(io_error(&files))?;
    }
    let database = data_dir.database_file();
    // A WAL left by the replaced database would be replayed into the restored one.
    for suffix in ["-wal", "-shm"] {
        let old = sidecar(&database, suffix);
        if old.exists() {
            std::fs::remove_file(&old).map_err(io_error(&old))?;
        }
    }
    std::fs::rename(staging.join(DATABASE_ENTRY), &database).map_err(io_error(&database))?;
    sync_dir(&data_dir.path);
    Ok(())
}

enum Unpack {
    /// The archive is not what a backup writes.
    Bad(String),
    /// Reading or writing failed.
    Failed(BackupError),
}

impl From<BackupError> for Unpack {
    fn from(error: BackupError) -> Self {
        Unpack::Failed(error)
    }
}

#[derive(Default)]
struct Unpacked {
    database_bytes: Option<u64>,
    keys: HashSet<String>,
    file_bytes: u64,
}

/// Where an archive entry goes.
enum Place {
    Database,
    File(String),
    Nothing,
}

/// Writes the archive's entries under `staging`, refusing anything a backup does not write.
fn unpack(archive: File, staging: &Path) -> Result<Unpacked, Unpack> {
    let mut archive = tar::Archive::new(BufReader::new(archive));
    let mut unpacked = Unpacked::default();
    let mut buffer = vec![0; 64 * 1024];
    let unreadable = |e: io::Error| Unpack::Bad(format!("it cannot be read as a tar archive: {e}"));
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let path = entry.path().map_err(unreadable)?.into_owned();
        let place = place_of(&path, entry.header().entry_type()).map_err(Unpack::Bad)?;
        let target = match &place {
            Place::Nothing => continue,
            Place::Database => staging.join(DATABASE_ENTRY),
            Place::File(key) => staging.join(FILES_ENTRY).join(key),
        };
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder).map_err(io_error(folder))?;
        }
        let mut out = match File::create_new(&target) {
            Ok(out) => out,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Unpack::Bad(format!("{} appears twice", path.display())));
            }
            Err(e) => return Err(io_error(&target)(e).into()),
        };
        // Read and write errors apart: a truncated archive is the archive's fault, a full disk
        // is not.
        let mut bytes = 0;
        loop {
            let read = entry
                .read(&mut buffer)
                .map_err(|e| Unpack::Bad(format!("{} cannot be read: {e}", path.display())))?;
            if read == 0 {
                break;
            }
            out.write_all(&buffer[..read]).map_err(io_error(&target))?;
            bytes += read as u64;
        }
        if bytes != entry.size() {
            return Err(Unpack::Bad(format!(
                "{} is cut short ({bytes} of {} bytes)",
                path.display(),
                entry.size()
            )));
        }
        out.sync_all().map_err(io_error(&target))?;
        match place {
            Place::Database => unpacked.database_bytes = Some(bytes),
            Place::File(key) => {
                unpacked.file_bytes += bytes;
                unpacked.keys.insert(key);
            }
            Place::Nothing => {}
        }
    }
    Ok(unpacked)
}

/// The place of an entry at `path` of type `kind`, or why the entry is refused: only plain
/// files and folders at the names a backup writes, as relative paths without `..`.
fn place_of(path: &Path, kind: tar::EntryType) -> Result<Place, String> {
    let shown = path.display();
    let is_file = kind == tar::EntryType::Regular;
    let is_folder = kind == tar::EntryType::Directory;
    if kind == tar::EntryType::XGlobalHeader {
        // Archive-wide metadata (e.g. from `git archive`-style writers), no file of its own.
        return Ok(Place::Nothing);
    }
    if !is_file && !is_folder {
        return Err(format!(
            "{shown} is a {kind:?} entry; only plain files and folders are allowed"
        ));
    }
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => match part.to_str() {
                Some(part) => parts.push(part),
                None => return Err(format!("{shown} is not a UTF-8 name")),
            },
            _ => {
                return Err(format!(
                    "{shown} is not a plain relative path (absolute, or with . or ..)"
                ))
            }
        }
    }
    let unexpected = || Err(format!("{shown} is not a part of a wootlite backup"));
    match parts.as_slice() {
        [DATABASE_ENTRY] if is_file => Ok(Place::Database),
        [FILES_ENTRY] if is_folder => Ok(Place::Nothing),
        [FILES_ENTRY, folder] if is_folder => match storage_key_parts(&format!("{folder}/x")) {
            Some(_) => Ok(Place::Nothing),
            None => unexpected(),
        },
        [FILES_ENTRY, folder, name] if is_file => {
            let key = format!("{folder}/{name}");
            match storage_key_parts(&key) {
                Some(_) => Ok(Place::File(key)),
                None => unexpected(),
            }
        }
        _ => unexpected(),
    }
}

fn sidecar(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes renames in `dir` durable; where a folder cannot be synced, there is nothing more to do.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDER: &str = "0123456789abcdef0123456789abcdef";

    fn place(path: &str, kind: tar::EntryType) -> Result<Place, String> {
        place_of(Path::new(path), kind)
    }

    #[test]
    fn only_the_entries_a_backup_writes_have_a_place() {
        use tar::EntryType::{Directory, Regular, Symlink};
        assert!(matches!(
            place("wootlite.sqlite3", Regular),
            Ok(Place::Database)
        ));
        assert!(matches!(place("files", Directory), Ok(Place::Nothing)));
        assert!(matches!(
            place(&format!("files/{FOLDER}/"), Directory),
            Ok(Place::Nothing)
        ));
        match place(&format!("files/{FOLDER}/photo.png"), Regular) {
            Ok(Place::File(key)) => assert_eq!(key, format!("{FOLDER}/photo.png")),
            _ => panic!("an attachment file is placed"),
        }
        for (path, kind) in [
            ("../wootlite.sqlite3", Regular),
            ("/wootlite.sqlite3", Regular),
            ("./wootlite.sqlite3", Regular),
            ("wootlite.sqlite3", Symlink),
            ("wootlite.sqlite3", Directory),
            ("wootlite.sqlite3-wal", Regular),
            ("search/meta.json", Regular),
            ("files/abc/x.png", Regular),
            (&format!("files/{FOLDER}/../../x"), Regular),
            (&format!("files/{FOLDER}/a/b"), Regular),
            (&format!("files/{FOLDER}/x.png"), Symlink),
            (&format!("files/{FOLDER}/x.png"), tar::EntryType::Link),
        ] {
            assert!(place(path, kind).is_err(), "{path} {kind:?} was accepted");
        }
    }
}
