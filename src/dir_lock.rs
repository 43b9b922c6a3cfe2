//! One data dir, one process: an exclusive lock on the data directory itself (flock on the
//! directory's own descriptor), taken before anything in it is read or written and held until
//! the process ends. Nothing inside the directory carries it, so deleting `search/` or any
//! other entry cannot release it, and the kernel drops it when the process dies.

use std::fs::{File, TryLockError};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot create data directory {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot lock data directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the data directory {0} is in use by another wootlite process; stop it first")]
    InUse(String),
}

/// Held while the data dir is ours; dropping it releases the lock.
#[derive(Debug)]
pub struct DataDirLock {
    _dir: File,
}

impl DataDirLock {
    /// Creates the directory if needed and locks it, or fails at once if another process has.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let shown = || dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|source| LockError::Create {
            path: shown(),
            source,
        })?;
        let handle = File::open(dir).map_err(|source| LockError::Io {
            path: shown(),
            source,
        })?;
        match handle.try_lock() {
            Ok(()) => Ok(Self { _dir: handle }),
            Err(TryLockError::WouldBlock) => Err(LockError::InUse(shown())),
            Err(TryLockError::Error(source)) => Err(LockError::Io {
                path: shown(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let refused = DataDirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(refused, LockError::InUse(_)), "{refused}");
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn deleting_entries_of_the_directory_keeps_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("search")).unwrap();
        let _held = DataDirLock::acquire(dir.path()).unwrap();
        std::fs::remove_dir_all(dir.path().join("search")).unwrap();
        assert!(DataDirLock::acquire(dir.path()).is_err());
    }
}
