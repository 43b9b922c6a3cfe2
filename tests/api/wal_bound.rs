//! The write-ahead log stays bounded under sustained writes with concurrent searches: a passive
//! checkpoint alone never resets it while readers are always inside it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{spawn_configured, TestApp};
use wootlite::clock::Clock;

const WRITERS: usize = 8;
const SEARCHERS: usize = 2;
/// The load stops after this many writes or this long, whichever comes first.
const WRITES: u64 = 6_000;
const LONGEST: Duration = Duration::from_secs(40);
const TARGET: u64 = 1 << 20;
/// The writer's own ceiling (four times the target) plus one group of writes, with room to spare.
const CEILING: u64 = 8 << 20;

/// Runs the load and returns (largest WAL seen, writes done).
async fn sustained_load(app: Arc<TestApp>) -> (u64, u64) {
    let conversation = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let path = format!("/api/v1/accounts/1/conversations/{conversation}/messages");
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (app, done, writes, path) = (app.clone(), done.clone(), writes.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            let body =
                json!({ "content": format!("writer {writer} says hello {}", "x".repeat(400)) });
            while !done.load(Ordering::Relaxed) {
                app.post(&path, body.clone()).await.expect(200);
                if writes.fetch_add(1, Ordering::Relaxed) + 1 >= WRITES
                    || started.elapsed() > LONGEST
                {
                    done.store(true, Ordering::Relaxed);
                }
            }
        }));
    }
    for _ in 0..SEARCHERS {
        let (app, done) = (app.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let reply = app
                    .get("/api/v1/accounts/1/conversations/search?q=hello")
                    .await;
                assert!(matches!(reply.status, 200 | 503), "{}", reply.body);
            }
        }));
    }
    let wal = app.data_dir.join("wootlite.sqlite3-wal");
    let mut largest = 0;
    while !done.load(Ordering::Relaxed) {
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    (largest, writes.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wal_stays_bounded_under_sustained_writes_and_searches() {
    let app = spawn_configured(Clock::system(), |s| {
        s.workers = 4;
        s.wal_target_bytes = TARGET;
    })
    .await;
    let (largest, writes) = sustained_load(Arc::new(app)).await;
    eprintln!("largest WAL {largest} bytes over {writes} writes");
    assert!(writes > 1_000, "the load ran ({writes} writes)");
    assert!(largest < CEILING, "the WAL reached {largest} bytes");
}
