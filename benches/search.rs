//! Search at scale, on the generated benchmark dataset (by default 1,000,000 conversations of
//! about 10 messages), every figure measured side by side in one run:
//!
//! 1. with WOOTLITE_BENCH_REBUILD=1, a full rebuild of the index: messages per second;
//! 2. a search as the endpoint runs it (index lookup, four counts, first page of 25) for a rare
//!    word, a common word and a two-character query, against the same search with the index
//!    lookup replaced by a plain SQLite `LIKE '%q%'` scan over the messages;
//! 3. index lag at 1,000 messages/s: write acknowledged -> visible to searches, with no search
//!    hurrying the indexer (its background batching) and as a search right after a write sees
//!    it (read-your-writes wait);
//! 4. over HTTP: a rare-word search end to end, and list latency alone and while clients run
//!    heavy searches (isolation).
//!
//! `cargo bench --bench search`; WOOTLITE_BENCH_CONVERSATIONS sets the dataset size. The dataset
//! is generated once under target/bench-data and reused.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{
    counts_and_first_page, dataset, dataset_size, env_u64, ms, open, percentiles, search_cases,
    FollowingIndex, Percentiles,
};
use wootlite::app::Application;
use wootlite::clock::Clock;
use wootlite::corpus::{self, RARE_WORD};
use wootlite::db::Db;
use wootlite::models::MessageType;
use wootlite::search::{self, SearchIndex};
use wootlite::store::conversation_list::{Filter, TextMatch};
use wootlite::store::messages::{self, NewMessage};
use wootlite::store::{conversations, search_feed, tokens};

fn rebuild(dir: &Path, db: &Db) {
    let started = Instant::now();
    let indexed = search::rebuild(&dir.join("search"), db, &mut |_, _| {}).expect("rebuilt");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rebuild: {indexed} messages in {seconds:.1}s = {:.0} messages/s",
        indexed as f64 / seconds
    );
}

/// The endpoint's work for `q` with the given lookup: counts and the first page of ids.
fn search_with(db: &Db, lookup: &dyn Fn() -> Vec<i64>) -> (usize, i64) {
    let ids = lookup();
    let matched = ids.len();
    let filter = Filter {
        text: Some(TextMatch::Conversations(Arc::new(ids))),
        ..Filter::default()
    };
    (matched, counts_and_first_page(db, &filter))
}

fn time<T>(runs: usize, mut work: impl FnMut() -> T) -> (Percentiles, T) {
    let mut samples = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(work());
        samples.push(started.elapsed());
    }
    (percentiles(samples), last.expect("at least one run"))
}

fn queries(db: &Db, index: &SearchIndex) {
    let cases = search_cases();
    let index_runs = env_u64("WOOTLITE_BENCH_INDEX_RUNS", 200) as usize;
    let scan_runs = env_u64("WOOTLITE_BENCH_SCAN_RUNS", 3) as usize;
    println!(
        "{:<28} {:>7} {:>22} {:>22} {:>9}",
        "query / what is timed", "convs", "index p50 / p99", "LIKE scan p50 / p99", "p50 ratio"
    );
    for (label, q) in cases {
        let by_index = || -> Vec<i64> {
            index
                .find(1, q)
                .expect("index search")
                .conversation_ids()
                .to_vec()
        };
        let by_scan = || {
            db.read_now(|conn| search_feed::like_scan(conn, 1, q))
                .expect("scan")
        };
        let row = |what: &str, matched: usize, indexed: &Percentiles, scanned: &Percentiles| {
            println!(
                "{:<28} {:>7} {:>10.3} / {:>7.3}ms {:>10.1} / {:>7.1}ms {:>8.0}x",
                format!("{label} ({q}), {what}"),
                matched,
                ms(indexed.p50),
                ms(indexed.p99),
                ms(scanned.p50),
                ms(scanned.p99),
                scanned.p50.as_secs_f64() / indexed.p50.as_secs_f64()
            );
        };
        let (indexed, found) = time(index_runs, by_index);
        let (scanned, scan_found) = time(scan_runs, by_scan);
        row("lookup", found.len(), &indexed, &scanned);
        // LIKE folds ASCII only; the corpus words that differ are the accented ones.
        if found.len() != scan_found.len() {
            println!(
                "  (LIKE found {} conversations, the index {})",
                scan_found.len(),
                found.len()
            );
        }
        let (indexed, (_, all)) = time(index_runs, || search_with(db, &by_index));
        let (scanned, _) = time(scan_runs, || search_with(db, &by_scan));
        row("+counts+page", all as usize, &indexed, &scanned);
    }
    println!("(index: {index_runs} runs each; LIKE scan: {scan_runs} runs each)");
}

/// Writes `rate` messages per second for `seconds`, each in its own transaction, and reports
/// the delay from each commit to the moment searches could see it.
fn lag(db: &Db, index: &Arc<SearchIndex>, rate: u64, seconds: u64, hurry: bool) -> Percentiles {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let conversation = corpus::add_conversation(db, Clock::system().now_micros()).unwrap();
    // Watch visibility from another thread: when each watermark first shows.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let index = Arc::clone(index);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut seen: Vec<(i64, Instant)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let visible = index.visible_seq();
                if seen.last().is_none_or(|&(last, _)| visible > last) {
                    seen.push((visible, Instant::now()));
                }
                std::thread::sleep(Duration::from_micros(100));
            }
            seen
        })
    };
    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut written: Vec<(i64, Instant)> = Vec::with_capacity(total as usize);
    let mut hurried = Vec::new();
    for n in 0..total {
        let due = started + interval * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let seq = db
            .write_now(|tx| {
                messages::insert(
                    tx,
                    1,
                    1,
                    conversation,
                    &NewMessage::text(MessageType::Incoming, format!("lag probe {n}"), None),
                    0,
                )?;
                search_feed::latest_seq(tx)
            })
            .unwrap();
        let acknowledged = Instant::now();
        written.push((seq, acknowledged));
        if hurry && n % 10 == 0 {
            runtime.block_on(index.wait_until_visible(seq, Duration::from_secs(10)));
            hurried.push(acknowledged.elapsed());
        }
    }
    // Let the last batch land.
    runtime.block_on(index.wait_until_visible(written.last().unwrap().0, Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(5));
    stop.store(true, Ordering::Relaxed);
    let seen = watcher.join().unwrap();
    // The probes go, so that the corpus stays as generated.
    db.write_now(|tx| conversations::delete(tx, conversation))
        .unwrap();
    if hurry {
        return percentiles(hurried);
    }
    let lags = written
        .iter()
        .map(|&(seq, at)| {
            let shown = seen
                .iter()
                .find(|&&(visible, _)| visible >= seq)
                .map(|&(_, when)| when)
                .expect("every write became visible");
            shown.saturating_duration_since(at)
        })
        .collect();
    percentiles(lags)
}

/// 200 GETs of `url` one after another.
async fn timed_gets(client: &reqwest::Client, url: &str, token: &str) -> Percentiles {
    let mut samples = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let response = client
            .get(url)
            .header("api_access_token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        samples.push(started.elapsed());
    }
    percentiles(samples)
}

/// List latency over HTTP alone, then while `searchers` clients run two-character searches.
fn isolation(dir: &Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let token = tokens::generate();
        open(dir)
            .write_now(|tx| tokens::insert(tx, 1, &token, 0))
            .unwrap();
        let settings = support::server_settings(dir);
        let app = Application::build(&settings, Clock::system()).expect("server starts");
        let base = format!("http://127.0.0.1:{}/api/v1/accounts/1/conversations", app.port());
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let rare = timed_gets(&client, &format!("{base}/search?q={RARE_WORD}"), &token).await;
        println!(
            "HTTP GET /conversations/search?q={RARE_WORD}: p50 {:.2}ms p99 {:.2}ms (whole response, the first page rendered)",
            ms(rare.p50),
            ms(rare.p99)
        );
        let alone = timed_gets(&client, &base, &token).await;
        let busy = Arc::new(AtomicBool::new(true));
        let searchers: Vec<_> = (0..8)
            .map(|_| {
                let (client, base, token, busy) =
                    (client.clone(), base.clone(), token.clone(), Arc::clone(&busy));
                tokio::spawn(async move {
                    let mut done = 0u32;
                    while busy.load(Ordering::Relaxed) {
                        let response = client
                            .get(format!("{base}/search?q=ka"))
                            .header("api_access_token", &token)
                            .send()
                            .await
                            .unwrap();
                        response.bytes().await.unwrap();
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let loaded = timed_gets(&client, &base, &token).await;
        busy.store(false, Ordering::Relaxed);
        let mut searches = 0;
        for s in searchers {
            searches += s.await.unwrap();
        }
        println!(
            "isolation: list p50 {:.2}ms p99 {:.2}ms alone; p50 {:.2}ms p99 {:.2}ms beside 8 clients searching \"ka\" ({searches} searches done)",
            ms(alone.p50),
            ms(alone.p99),
            ms(loaded.p50),
            ms(loaded.p99)
        );
    });
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test` run of benches passes nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = dataset(dataset_size());
    let db = open(&dir);
    if env_u64("WOOTLITE_BENCH_REBUILD", 0) == 1 {
        rebuild(&dir, &db);
    }

    let following = FollowingIndex::start(&dir, &db);
    let index = Arc::clone(&following.index);
    println!("index: {} documents", index.document_count());
    queries(&db, &index);

    let rate = 1000;
    let background = lag(&db, &index, rate, 10, false);
    println!(
        "index lag at {rate} messages/s, background batching: p50 {:.1}ms p99 {:.1}ms",
        ms(background.p50),
        ms(background.p99)
    );
    let hurried = lag(&db, &index, rate, 10, true);
    println!(
        "index lag at {rate} messages/s, a search right after a write (read-your-writes): p50 {:.1}ms p99 {:.1}ms",
        ms(hurried.p50),
        ms(hurried.p99)
    );
    drop(index);
    drop(following);
    isolation(&dir);
}
