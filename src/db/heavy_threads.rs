//! The threads heavy reads (searches, compiled filters) run on: their own, at a lower
//! scheduling priority, so that while they keep the cores busy a get or a list page still finds
//! one at once instead of waiting for a time slice. They are not starved: at nice 10 a busy
//! heavy thread still gets about a tenth of a contended core, all of an idle one.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// The nice value of the heavy threads (0 is everyone else's; 19 the lowest).
const HEAVY_NICE: i32 = 10;

pub struct HeavyThreads {
    pool: rayon::ThreadPool,
}

impl HeavyThreads {
    pub fn start(threads: usize) -> Result<Self, String> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|n| format!("heavy-read-{n}"))
            .start_handler(|_| lower_this_threads_priority())
            .build()
            .map_err(|e| format!("cannot start the heavy read threads: {e}"))?;
        Ok(Self { pool })
    }

    /// Runs `work` on a heavy thread; Err when it panicked.
    pub async fn run<T, F>(&self, work: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, outcome) = tokio::sync::oneshot::channel();
        // A panic must not reach the pool, which would abort the process.
        self.pool.spawn(move || {
            let _ = done.send(catch_unwind(AssertUnwindSafe(work)));
        });
        match outcome.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err("a heavy read panicked".into()),
            Err(_) => Err("the heavy read threads stopped".into()),
        }
    }
}

/// Linux keeps a nice value per thread; raising one's own needs no privilege.
fn lower_this_threads_priority() {
    let me = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(me), HEAVY_NICE) {
        log::warn!("heavy read thread keeps the normal priority: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nice value of the calling thread, from `/proc` (field 19 of its stat line).
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn heavy_work_runs_at_the_lower_priority_and_a_panic_is_an_error() {
        let threads = HeavyThreads::start(2).unwrap();
        let here = own_nice();
        assert_eq!(threads.run(own_nice).await.unwrap(), HEAVY_NICE.max(here));
        assert!(threads.run(|| panic!("boom")).await.is_err());
        // The pool survives a panic.
        assert_eq!(threads.run(|| 41 + 1).await.unwrap(), 42);
        assert_eq!(own_nice(), here);
    }
}
