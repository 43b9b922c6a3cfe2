//! Group commit: request writes queue for one writer thread, which runs every write waiting in
//! line inside a single transaction (each in a savepoint of its own, so one failing write is
//! rolled back alone) and answers them all once that transaction has committed. A commit costs
//! the pages it touched; writes that land on the same pages (a conversation's indexes, the
//! outbox, the counts) share them, so many writes cost little more than one, and nothing is
//! acknowledged before it is committed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::wal_ceiling::WalCeiling;
use super::{locked, Conn, WriteHooks};
use crate::store::StoreError;

/// Most writes one transaction takes, so that a long queue still commits often.
const MOST_PER_GROUP: usize = 256;

/// Sends a job its outcome once its group's transaction has ended: `None` when it committed,
/// the reason when it did not.
type Delivery = Box<dyn FnOnce(Option<&super::SqlError>) + Send>;
type Job = Box<dyn FnOnce(&Transaction) -> Delivery + Send>;

pub struct GroupWriter {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Writes queued and not yet taken into a transaction.
    depth: Arc<AtomicUsize>,
    hooks: Arc<WriteHooks>,
}

impl GroupWriter {
    /// Starts the writer thread on `writer`; it ends when the `GroupWriter` is dropped.
    pub fn start(
        writer: Arc<Mutex<Connection>>,
        hooks: Arc<WriteHooks>,
        wal_ceiling: Arc<WalCeiling>,
        checkpointer: Arc<Mutex<Option<Connection>>>,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let depth = Arc::new(AtomicUsize::new(0));
        let taken = Arc::clone(&depth);
        let committed = Arc::clone(&hooks);
        let thread = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                let ceiling = (&*wal_ceiling, &*checkpointer);
                run(&writer, &queue, &taken, &committed, ceiling);
            })?;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
            depth,
            hooks,
        })
    }

    /// Writes waiting in line at the moment.
    pub fn queued(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Queues `work`; the answer arrives once its group has committed (or failed). A panic in
    /// `work` is an error for that write alone.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&super::Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let hooks = Arc::clone(&self.hooks);
        let job: Job = Box::new(move |tx| {
            let outcome = in_savepoint(tx, |tx| {
                let value = work(tx)?;
                hooks.after_write(tx)?;
                Ok(value)
            });
            Box::new(move |commit_failure| {
                let result = match commit_failure {
                    None => outcome,
                    Some(reason) => Err(StoreError::of(reason)),
                };
                let _ = answer.send(result);
            })
        });
        self.depth.fetch_add(1, Ordering::Relaxed);
        let queued = match locked(&self.jobs).as_ref() {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !queued {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Database("the writer has stopped".into()));
        }
        answered
            .await
            .unwrap_or_else(|_| Err(StoreError::Database("the write was not run".into())))
    }
}

/// The thread ends once the queue is closed and every write in it has run; joining it means
/// its handle on the writer connection is gone too, so that the connection can close.
impl Drop for GroupWriter {
    fn drop(&mut self) {
        drop(locked(&self.jobs).take());
        if let Some(thread) = locked(&self.thread).take() {
            if thread.join().is_err() {
                log::error!("the database writer thread panicked");
            }
        }
    }
}

fn in_savepoint<T>(
    tx: &Transaction,
    work: impl FnOnce(&super::Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    tx.execute_batch("SAVEPOINT request")?;
    let outcome = catch_unwind(AssertUnwindSafe(|| work(&super::Conn::Sqlite(tx))))
        .unwrap_or_else(|_| Err(StoreError::Database("the write panicked".into())));
    let end = if outcome.is_ok() {
        "RELEASE request"
    } else {
        "ROLLBACK TO request; RELEASE request"
    };
    tx.execute_batch(end)?;
    outcome
}

fn run(
    writer: &Mutex<Connection>,
    queue: &mpsc::Receiver<Job>,
    depth: &AtomicUsize,
    hooks: &WriteHooks,
    (wal_ceiling, checkpointer): (&WalCeiling, &Mutex<Option<Connection>>),
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MOST_PER_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        depth.fetch_sub(group.len(), Ordering::Relaxed);
        let mut conn = locked(writer);
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                log::error!("cannot start a write transaction: {e}");
                // Dropping the jobs answers each of them with an error.
                continue;
            }
        };
        let deliveries: Vec<Delivery> = group.into_iter().map(|job| job(&tx)).collect();
        let then = hooks.before_commit(&Conn::Sqlite(&tx));
        let failure = tx.commit().err().map(super::SqlError::from);
        if let (None, Some(then)) = (&failure, then) {
            then();
        }
        drop(conn);
        if failure.is_none() {
            hooks.committed();
        }
        for deliver in deliveries {
            deliver(failure.as_ref());
        }
        wal_ceiling.keep(checkpointer, writer);
    }
}

#[cfg(test)]
mod tests {
    use crate::db::scratch_db;
    use crate::store::StoreError;

    /// Writes queued together commit together, and one that fails (or panics) is rolled back
    /// alone: its row is gone, every other write's row is there, each write got its own answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failing_write_is_rolled_back_alone_and_the_others_commit() {
        let (_dir, db) = scratch_db("CREATE TABLE probe (n INTEGER PRIMARY KEY)");
        let writes = (0..200).map(|n: i64| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |tx| {
                    tx.execute("INSERT INTO probe (n) VALUES (?1)", [n])?;
                    match n % 10 {
                        3 => Err(StoreError::Rejected("refused".into())),
                        7 => panic!("a write panicked"),
                        _ => Ok(n),
                    }
                })
                .await
            })
        });
        let answers = futures_util::future::join_all(writes).await;
        let mut kept = Vec::new();
        for (n, answer) in answers.into_iter().enumerate() {
            match (n % 10, answer.unwrap()) {
                (3 | 7, Err(_)) => {}
                (_, Ok(echo)) => {
                    assert_eq!(echo, n as i64);
                    kept.push(echo);
                }
                (_, other) => panic!("write {n}: {:?}", other.err()),
            }
        }
        let stored: Vec<i64> = db
            .read_now(|c| {
                let mut stmt = c.prepare("SELECT n FROM probe ORDER BY n")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert_eq!(stored, kept);
        assert_eq!(stored.len(), 160);
    }
}
