//! Waking the followers of other nodes at once (docs/storage.md §6). After its commits a node
//! sends one `NOTIFY` on `wootlite_feed`, outside any write transaction, at most one every
//! `NOTIFY_EVERY` and none while nothing was written; every node `LISTEN`s on a connection of
//! its own and tells its followers. Notifications carry no data: the followers read the feeds,
//! and still poll, so a lost notification or a dropped listening connection costs latency,
//! never data.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use tokio::sync::watch;

use super::conn::{Conn, PgSession};
use crate::store::StoreError;

/// At most one notification from a node per this: a burst of commits sends one.
const NOTIFY_EVERY: Duration = Duration::from_millis(10);
/// How often the threads look whether their node is stopping.
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// The pause before listening again after the connection failed.
const LISTEN_AGAIN_AFTER: Duration = Duration::from_secs(1);

/// One node's side of the notifications.
pub struct Wakeups {
    /// Names this node's notifications, so that it does not wake itself for its own writes
    /// (its followers are woken by its commits directly).
    node: String,
    written: Mutex<bool>,
    notifier: Condvar,
    others_wrote: watch::Sender<u64>,
}

impl Wakeups {
    /// Starts the threads that notify after this node's commits (through sessions of `pool`)
    /// and listen for other nodes' (on a connection of their own made with `config`), until
    /// `stopped` is set.
    pub(super) fn start<M>(
        pool: r2d2::Pool<M>,
        config: postgres::Config,
        stopped: Arc<AtomicBool>,
    ) -> std::io::Result<Arc<Self>>
    where
        M: r2d2::ManageConnection<Connection = PgSession>,
    {
        let wakeups = Arc::new(Self {
            node: uuid::Uuid::new_v4().to_string(),
            written: Mutex::new(false),
            notifier: Condvar::new(),
            others_wrote: watch::Sender::new(0),
        });
        let (notifying, notify_stop) = (Arc::clone(&wakeups), Arc::clone(&stopped));
        std::thread::Builder::new()
            .name("pg-notify".into())
            .spawn(move || notifying.notify_after_writes(&pool, &notify_stop))?;
        let listening = Arc::clone(&wakeups);
        std::thread::Builder::new()
            .name("pg-listen".into())
            .spawn(move || listening.listen(&config, &stopped))?;
        Ok(wakeups)
    }

    /// This node committed a write.
    pub(super) fn written(&self) {
        *self.lock_written() = true;
        self.notifier.notify_one();
    }

    /// Moves whenever another node says it wrote.
    pub fn others_wrote(&self) -> watch::Receiver<u64> {
        self.others_wrote.subscribe()
    }

    fn lock_written(&self) -> std::sync::MutexGuard<'_, bool> {
        self.written.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify_after_writes<M>(&self, pool: &r2d2::Pool<M>, stopped: &AtomicBool)
    where
        M: r2d2::ManageConnection<Connection = PgSession>,
    {
        while !stopped.load(Ordering::Relaxed) {
            let mut written = self.lock_written();
            if !*written {
                written = self
                    .notifier
                    .wait_timeout(written, LOOK_EVERY)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let wrote = std::mem::take(&mut *written);
            drop(written);
            if !wrote {
                continue;
            }
            if let Err(e) = self.notify(pool) {
                log::debug!("telling other nodes of a write failed (they poll): {e}");
            }
            std::thread::sleep(NOTIFY_EVERY);
        }
    }

    fn notify<M>(&self, pool: &r2d2::Pool<M>) -> Result<(), StoreError>
    where
        M: r2d2::ManageConnection<Connection = PgSession>,
    {
        let session = pool
            .get()
            .map_err(|e| StoreError::Database(format!("PostgreSQL pool: {e}")))?;
        Conn::Postgres(&session)
            .prepare_cached("SELECT pg_notify('wootlite_feed', ?1)")?
            .execute([self.node.as_str()])?;
        Ok(())
    }

    fn listen(&self, config: &postgres::Config, stopped: &AtomicBool) {
        while !stopped.load(Ordering::Relaxed) {
            if let Err(e) = self.listen_once(config, stopped) {
                log::warn!("listening for other nodes' writes failed (polling meanwhile): {e}");
                std::thread::sleep(LISTEN_AGAIN_AFTER);
            }
        }
    }

    /// Listens until the node stops or the connection closes.
    fn listen_once(
        &self,
        config: &postgres::Config,
        stopped: &AtomicBool,
    ) -> Result<(), postgres::Error> {
        let mut client = config.connect(postgres::NoTls)?;
        // What was written while nobody listened, the followers' polls find.
        client.batch_execute("LISTEN wootlite_feed")?;
        while !stopped.load(Ordering::Relaxed) {
            {
                let mut notifications = client.notifications();
                let mut arriving = notifications.timeout_iter(LOOK_EVERY);
                while let Some(notification) = arriving.next()? {
                    if notification.payload() != self.node {
                        self.wake_followers();
                    }
                }
            }
            if client.is_closed() {
                return Ok(());
            }
        }
        Ok(())
    }

    fn wake_followers(&self) {
        self.others_wrote.send_modify(|n| *n = n.wrapping_add(1));
    }
}
