//! The write-ahead log's hard ceiling, kept by the writer itself. The background checkpoints
//! (`Db::checkpoint_bounded`) keep the WAL near its target without holding writes for long, but
//! a checkpoint copies the WAL into the database and syncs it, and on a slow or busy disk that
//! takes seconds during which writes go on growing the WAL unwatched. Past the ceiling the
//! writer empties the WAL itself before it takes more writes: writes then wait for the disk
//! instead of filling it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rusqlite::Connection;

use super::locked;

/// The ceiling is this many times the background checkpoints' target.
pub const CEILING_PER_TARGET: u64 = 4;

pub struct WalCeiling {
    wal: PathBuf,
    /// 0: no ceiling.
    bytes: AtomicU64,
    /// After a reset that readers held off, the writer tries again only once the WAL has grown
    /// past this, so that a reader stuck on an old snapshot makes writes wait once, not before
    /// every group.
    next_try: AtomicU64,
}

impl WalCeiling {
    /// The ceiling of the WAL beside `database`, unset.
    pub fn beside(database: &Path) -> Self {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            wal: PathBuf::from(wal),
            bytes: AtomicU64::new(0),
            next_try: AtomicU64::new(0),
        }
    }

    /// Sets the ceiling from the background checkpoints' target (0: none).
    pub fn follow_target(&self, target_bytes: u64) {
        let ceiling = target_bytes.saturating_mul(CEILING_PER_TARGET);
        self.bytes.store(ceiling, Ordering::Relaxed);
    }

    /// The size of the WAL file (0 when there is none).
    pub fn wal_bytes(&self) -> u64 {
        std::fs::metadata(&self.wal).map_or(0, |meta| meta.len())
    }

    /// Run by the writer between transactions: past the ceiling, waits for a background
    /// checkpoint in progress (SQLite refuses a second one at once, without waiting) and for the
    /// readers of older snapshots (the writer's busy timeout at most), and empties the WAL.
    /// Takes the checkpointer's lock before the writer's, as `Db::checkpoint_bounded` does.
    pub fn keep(&self, checkpointer: &Mutex<Option<Connection>>, writer: &Mutex<Connection>) {
        let ceiling = self.bytes.load(Ordering::Relaxed);
        if ceiling == 0 {
            return;
        }
        let size = self.wal_bytes();
        if size <= ceiling.max(self.next_try.load(Ordering::Relaxed)) {
            return;
        }
        let _no_background_checkpoint = locked(checkpointer);
        let writer = locked(writer);
        let readers_held_it = match writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            row.get::<_, i64>(0)
        }) {
            Ok(busy) => busy != 0,
            Err(e) => {
                log::error!("the writer could not empty the WAL ({size} bytes): {e}");
                true
            }
        };
        let next_try = if readers_held_it {
            log::warn!("the WAL ({size} bytes) is past its ceiling and readers held it");
            size.saturating_add(ceiling)
        } else {
            0
        };
        self.next_try.store(next_try, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use crate::db::scratch_db;

    const TARGET: u64 = 64 * 1024;
    const WRITES: i64 = 2_000;
    const ROW_BYTES: usize = 2_048;
    const AT_ONCE: i64 = 50;

    /// With no background checkpoint at all (the slowest disk) and a reader always inside the
    /// WAL, the writer alone keeps the WAL near its ceiling. Every write is still there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_keeps_the_wal_under_its_ceiling_when_checkpoints_lag() {
        let (_dir, db) =
            scratch_db("CREATE TABLE probe (n INTEGER PRIMARY KEY, body BLOB NOT NULL)");
        db.checkpoint_in_background(TARGET).unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = tokio::spawn({
            let (db, done) = (db.clone(), done.clone());
            async move {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let count = |c: &crate::db::Conn| {
                        Ok(c.query_row("SELECT count(*) FROM probe", [], |r| r.get::<i64>(0))?)
                    };
                    db.read(count).await.unwrap();
                }
            }
        });
        let mut largest = 0;
        for first in (0..WRITES).step_by(AT_ONCE as usize) {
            let writes = (first..first + AT_ONCE).map(|n| {
                db.write(move |tx| {
                    tx.execute(
                        "INSERT INTO probe (n, body) VALUES (?1, zeroblob(?2))",
                        [n, ROW_BYTES as i64],
                    )?;
                    Ok(())
                })
            });
            for written in futures_util::future::join_all(writes).await {
                written.unwrap();
            }
            largest = largest.max(db.wal_bytes());
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.await.unwrap();
        let ceiling = TARGET * super::CEILING_PER_TARGET;
        // The ceiling plus what one round of writes adds before the writer looks again: each
        // commit writes every page it touches again, so a round can leave several times its rows'
        // bytes. Without the ceiling the WAL ends near 10 MB.
        let bound = ceiling + 16 * AT_ONCE as u64 * ROW_BYTES as u64;
        assert!(largest < bound, "the WAL reached {largest} bytes");
        let kept: i64 = db
            .read(|c| Ok(c.query_row("SELECT count(*) FROM probe", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(kept, WRITES);
    }
}
