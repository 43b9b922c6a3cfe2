//! What the benchmarks share: the generated dataset they run on, how to open it, and the
//! queries they time (the same filter shapes and search words everywhere).
#![allow(dead_code)]

pub mod cable;
pub mod raw;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wootlite::clock::Clock;
use wootlite::corpus::{self, COMMON_WORD, RARE_WORD};
use wootlite::db::{Db, PoolSizes};
use wootlite::models::{Actor, Principal, Role};
use wootlite::search::{self, SearchIndex};
use wootlite::store::conversation_list::{self, AssigneeTab, Filter, Sort};
use wootlite::store::search_feed;
use wootlite::supervisor::Tasks;

pub const SEED: u64 = 1;
pub const ADMIN: Principal = Principal {
    actor: Actor::User(1),
    account_id: 1,
    role: Role::Administrator,
};

pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Conversations in the benchmark dataset (about 10 messages each).
pub fn dataset_size() -> u64 {
    env_u64("WOOTLITE_BENCH_CONVERSATIONS", 1_000_000)
}

/// The generated data dir for `conversations`, made on first use (database and search index)
/// under target/bench-data and reused after; `benches/load.sh` makes the same one.
pub fn dataset(conversations: u64) -> PathBuf {
    let dir = Path::new("target/bench-data").join(format!("dataset-{conversations}-seed{SEED}"));
    let marker = dir.join("generated");
    if marker.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "generating {conversations} conversations into {}",
        dir.display()
    );
    let started = Instant::now();
    let db = open(&dir);
    let spec = corpus::Spec::new(conversations, SEED, Clock::system().now_micros());
    let made = corpus::generate(&db, &spec, &mut |_, _| {}).expect("dataset generated");
    let indexed =
        search::rebuild(&dir.join("search"), &db, &mut |_, _| {}).expect("search index built");
    println!(
        "generated {} conversations, {} messages ({indexed} searchable) in {:.1}s",
        made.conversations,
        made.messages,
        started.elapsed().as_secs_f64()
    );
    std::fs::write(marker, "").expect("marker written");
    dir
}

pub fn open(dir: &Path) -> Db {
    Db::open(
        &dir.join("wootlite.sqlite3"),
        PoolSizes { read: 4, heavy: 2 },
    )
    .expect("database opens")
}

/// The three filter shapes: (a) narrow standard columns + a text attribute, (b) a rare checkbox,
/// (c) a label + an assignee + a number comparison.
pub fn filter_shapes() -> [(&'static str, Value); 5] {
    [
        (
            "a_status_inbox_text",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and" },
                { "attribute_key": "region", "filter_operator": "equal_to", "values": ["North"] }
            ]}),
        ),
        (
            "b_status_checkbox",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "escalated", "filter_operator": "equal_to", "values": [true] }
            ]}),
        ),
        (
            "c_label_assignee_number",
            json!({ "payload": [
                { "attribute_key": "labels", "filter_operator": "equal_to", "values": ["billing"], "query_operator": "and" },
                { "attribute_key": "assignee_id", "filter_operator": "equal_to", "values": [2], "query_operator": "and" },
                { "attribute_key": "seats", "filter_operator": "is_greater_than", "values": [100] }
            ]}),
        ),
        (
            "d_status_inbox",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1] }
            ]}),
        ),
        (
            "e_status_inbox_assignee",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and" },
                { "attribute_key": "assignee_id", "filter_operator": "equal_to", "values": [27] }
            ]}),
        ),
    ]
}

/// The searches: a word planted once in 100,000 messages, one planted once in 100, and two
/// characters found in nearly every message.
pub fn search_cases() -> [(&'static str, &'static str); 3] {
    [
        ("rare", RARE_WORD),
        ("common", COMMON_WORD),
        ("two_chars", "ka"),
    ]
}

/// What the list, search and filter endpoints read for a first page: the four counts and the
/// page of 25 newest, as the administrator sees them. Returns the number matching.
pub fn counts_and_first_page(db: &Db, filter: &Filter) -> i64 {
    db.read_snapshot(|conn| {
        conversation_list::counts_and_page(
            conn,
            &ADMIN,
            filter,
            AssigneeTab::All,
            Sort::LastActivityAtDesc,
            Some((1, 25)),
        )
        .map(|(counts, _)| counts.all)
    })
    .expect("counts and first page")
}

/// A conversation id for run `n`, spread over `1..=conversations` so successive runs read
/// different parts of the file.
pub fn spread(n: u64, conversations: i64) -> i64 {
    (n as i64 * 7919 + 13) % conversations + 1
}

pub struct Percentiles {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

pub fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    samples.sort();
    if samples.is_empty() {
        samples.push(Duration::ZERO);
    }
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Percentiles {
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// `serve`'s settings for a server on a free port of 127.0.0.1 over `dir`, sized for this
/// two-core machine.
pub fn server_settings(dir: &Path) -> wootlite::config::Settings {
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        settings: wootlite::config::Settings,
    }
    let dir = dir.to_str().expect("a UTF-8 data dir");
    Serve::parse_from([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--workers",
        "2",
    ])
    .settings
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Operations a second over `length` (after a 0.5 s warm-up) by `concurrency` clients, client
/// `n` repeating `post(n)` until the time is up.
pub async fn rate_of<F, Fut>(concurrency: usize, length: Duration, post: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let post = Arc::new(post);
    let done = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..concurrency)
        .map(|n| {
            let (post, done, running) =
                (Arc::clone(&post), Arc::clone(&done), Arc::clone(&running));
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    post(n).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (started, before) = (Instant::now(), done.load(Ordering::Relaxed));
    tokio::time::sleep(length).await;
    let made = done.load(Ordering::Relaxed) - before;
    let elapsed = started.elapsed();
    running.store(false, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    made as f64 / elapsed.as_secs_f64()
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The release server binary as a process of its own on a free loopback port, run as `serve`
/// with `args` after the address; `start` returns once it answers `/health`. Killed when dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub url: String,
}

impl ServerProcess {
    /// Starts this build's server, or the binary WOOTLITE_BENCH_SERVER names (an earlier build,
    /// for a before/after pair on one dataset).
    pub async fn start(args: &[&std::ffi::OsStr]) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let binary = std::env::var_os("WOOTLITE_BENCH_SERVER")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_wootlite").into());
        let child = std::process::Command::new(binary)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the server starts");
        let server = ServerProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let waited = Instant::now();
        while client
            .get(format!("{}/health", server.url))
            .send()
            .await
            .is_err()
        {
            assert!(waited.elapsed() < Duration::from_secs(60), "no answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The dataset's search index with its indexer running under a supervisor, as `serve` runs it,
/// caught up with everything written before it started. Stops the indexer when dropped.
pub struct FollowingIndex {
    pub index: Arc<SearchIndex>,
    /// The indexer's supervisor runs on it: kept for as long as the index is followed.
    runtime: tokio::runtime::Runtime,
    tasks: Tasks,
}

impl FollowingIndex {
    pub fn start(dir: &Path, db: &Db) -> Self {
        let index = Arc::new(SearchIndex::start(&dir.join("search"), db).expect("index opens"));
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let tasks = Tasks::default();
        let _guard = runtime.enter();
        index.spawn_indexer(&tasks);
        let latest = db
            .read_now(search_feed::latest_seq)
            .expect("outbox position");
        let ready = runtime.block_on(index.wait_until_visible(latest, Duration::from_secs(600)));
        assert!(ready, "index caught up");
        Self {
            index,
            runtime,
            tasks,
        }
    }
}

impl Drop for FollowingIndex {
    fn drop(&mut self) {
        self.tasks.stop();
        self.index.stop();
    }
}
