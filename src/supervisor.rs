//! One mechanism for every background task (search indexer, snooze waker, mail sender, WAL
//! checkpoints, statistics, and every task added later): a task that fails (returns an error
//! or panics) is logged with its cause, marked down for `/health`, and started again after a
//! backoff that grows while it keeps failing. A task marks itself up again with `Beat::ok`
//! after a pass that worked.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::db::locked;

/// The first pause before a restart; it doubles with every failure in a row up to `LONGEST`.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const LONGEST_BACKOFF: Duration = Duration::from_secs(30);
/// A task that has stayed up this long starts again from the first backoff when it next fails.
const STABLE_AFTER: Duration = Duration::from_secs(60);

/// Where a task stands, as `/health` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TaskStatus {
    pub up: bool,
    pub restarts: u64,
    /// The cause of the last failure, kept after recovery for the record.
    pub last_error: Option<String>,
}

/// The registry of background tasks and the signal that stops them all.
#[derive(Clone)]
pub struct Tasks {
    statuses: Arc<Mutex<BTreeMap<&'static str, TaskStatus>>>,
    stopping: watch::Sender<bool>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            statuses: Arc::default(),
            stopping: watch::Sender::new(false),
        }
    }
}

impl Tasks {
    /// Every task and where it stands, by name.
    pub fn statuses(&self) -> BTreeMap<&'static str, TaskStatus> {
        locked(&self.statuses).clone()
    }

    /// Tells every supervisor to stop restarting (and to end a backoff at once); running tasks
    /// are stopped by their owners.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    fn set(&self, name: &'static str, change: impl FnOnce(&mut TaskStatus)) {
        let mut statuses = locked(&self.statuses);
        let status = statuses.entry(name).or_insert(TaskStatus {
            up: true,
            restarts: 0,
            last_error: None,
        });
        change(status);
    }

    fn beat(&self, name: &'static str) -> Beat {
        Beat {
            tasks: self.clone(),
            name,
        }
    }

    /// Runs `task` under supervision until it returns `Ok` or `stop` is called. `task` is
    /// called again for every restart, with a `Beat` to report passes that worked.
    pub fn spawn<F, Fut>(&self, name: &'static str, task: F) -> tokio::task::JoinHandle<()>
    where
        F: Fn(Beat) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.set(name, |_| {});
        let tasks = self.clone();
        tokio::spawn(async move {
            let mut stopping = tasks.stopping.subscribe();
            let mut backoff = FIRST_BACKOFF;
            loop {
                let started = Instant::now();
                // Its own task, so that a panic ends only this run; aborted with the supervisor.
                // A run is not cut short by `stop`: its owner ends it (the indexer finishes its
                // batch) or aborts the supervisor.
                let run = AbortOnDrop(tokio::spawn(task(tasks.beat(name))));
                let cause = match run.await {
                    Ok(Ok(())) => return,
                    Ok(Err(cause)) => cause,
                    Err(join) if join.is_panic() => panic_message(join.into_panic()),
                    Err(_) => return,
                };
                if started.elapsed() > STABLE_AFTER {
                    backoff = FIRST_BACKOFF;
                }
                log::error!("background task {name} failed: {cause}; restarting in {backoff:?}");
                tasks.set(name, |status| {
                    status.up = false;
                    status.restarts += 1;
                    status.last_error = Some(cause);
                });
                if *stopping.borrow() {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
                backoff = (backoff * 2).min(LONGEST_BACKOFF);
            }
        })
    }
}

/// A task's line to its supervisor.
#[derive(Clone)]
pub struct Beat {
    tasks: Tasks,
    name: &'static str,
}

impl Beat {
    /// The task did a pass that worked: it is up.
    pub fn ok(&self) {
        self.tasks.set(self.name, |status| {
            if !status.up {
                log::info!("background task {} recovered", self.name);
                status.up = true;
            }
        });
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs blocking work on a thread of its own, for a supervised task: a panic there is that
/// task's failure. A plain thread rather than the runtime's blocking pool, which a runtime
/// waits for when it shuts down.
pub async fn on_thread<F>(name: &'static str, work: F) -> Result<(), String>
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
{
    let (done, finished) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = done.send(outcome.unwrap_or_else(|panic| Err(panic_message(panic))));
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    finished
        .await
        .unwrap_or_else(|_| Err("the thread ended without an answer".into()))
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("panicked: {text}")
}
