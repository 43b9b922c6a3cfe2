//! The in-process half of `benches/load.sh`: the raw baseline of each query the load script
//! drives over HTTP, and the index lag under a steady write load. Run by the script; a plain
//! `cargo bench` only builds it.
//!
//! - `baseline --data-dir D --out F`: every scenario's query as the bare SQL statement or tantivy
//!   query (no HTTP, no wootlite), p50/p99 in milliseconds, as JSON. Run it while no server is
//!   using D (it writes two rows, as the create and toggle scenarios do).
//! - `lag --url U --token T --conversations N --rate R --seconds S --out F`: posts R messages a
//!   second to random conversations for S seconds while polling `/health`, and reports how long
//!   after a write the search index showed it (p50/p99), as JSON.
//! - `listeners --url U --token T --webhooks W --subscribers N --ready-file R --stop-file S
//!   --out F`: what a write load is measured beside. It starts W webhook receivers on 127.0.0.1
//!   and subscribes them to every event, and opens N `/cable` subscriptions as the token's user.
//!   It creates R when all are up, and counts what arrives until S appears. Then it waits for the
//!   deliveries to drain, removes its webhooks, and reports the counts as JSON.

#[path = "../tests/api/receiver.rs"]
#[allow(dead_code)]
mod receiver;
mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{json, Map, Value};

use support::{ms, percentiles, raw, search_cases, spread};
use wootlite::events::WEBHOOK_EVENTS;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Passed by `cargo bench`.
    #[arg(long, global = true, hide = true)]
    bench: bool,
}

#[derive(Subcommand)]
enum Command {
    Baseline {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Runs of each cheap query; filters and searches run a tenth as often.
        #[arg(long, default_value_t = 1000)]
        runs: usize,
    },
    Lag {
        #[arg(long)]
        url: String,
        #[arg(long)]
        token: String,
        #[arg(long)]
        conversations: i64,
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long)]
        out: PathBuf,
    },
    Listeners {
        #[arg(long)]
        url: String,
        #[arg(long)]
        token: String,
        #[arg(long, default_value_t = 2)]
        webhooks: usize,
        #[arg(long, default_value_t = 100)]
        subscribers: usize,
        #[arg(long)]
        ready_file: PathBuf,
        #[arg(long)]
        stop_file: PathBuf,
        /// Gives up waiting for the stop file after this long.
        #[arg(long, default_value_t = 600)]
        max_seconds: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() {
    let (result, out) = match Cli::parse().command {
        None => {
            println!("load_probe: run by benches/load.sh");
            return;
        }
        Some(Command::Baseline {
            data_dir,
            out,
            runs,
        }) => (baseline(&data_dir, runs), out),
        Some(Command::Lag {
            url,
            token,
            conversations,
            rate,
            seconds,
            out,
        }) => {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let result = runtime.block_on(lag(url, token, conversations, rate, seconds));
            (result, out)
        }
        Some(Command::Listeners {
            url,
            token,
            webhooks,
            subscribers,
            ready_file,
            stop_file,
            max_seconds,
            out,
        }) => {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let attached = Attached {
                url,
                token,
                webhooks,
                subscribers,
            };
            let limit = Duration::from_secs(max_seconds);
            let result = runtime.block_on(attached.listen(&ready_file, &stop_file, limit));
            (result, out)
        }
    };
    std::fs::write(&out, serde_json::to_vec_pretty(&result).unwrap()).expect("results written");
}

fn timed(runs: usize, mut work: impl FnMut(usize)) -> Value {
    // One untimed run first: the figures are for a warm page cache.
    work(0);
    let samples = (1..=runs)
        .map(|n| {
            let started = Instant::now();
            work(n);
            started.elapsed()
        })
        .collect();
    let p = percentiles(samples);
    json!({ "p50_ms": ms(p.p50), "p99_ms": ms(p.p99), "runs": runs })
}

fn baseline(data_dir: &std::path::Path, runs: usize) -> Value {
    let conn = raw::connect(data_dir);
    let conversations: i64 = conn
        .query_row("SELECT MAX(id) FROM conversations", [], |row| row.get(0))
        .expect("conversations");
    let engine = tantivy::Index::open_in_dir(data_dir.join("search")).expect("index opens");
    let searcher = engine.reader().expect("reader").searcher();
    let heavy = (runs / 10).max(10);
    let mut out = Map::new();
    out.insert(
        "list_open_p1".into(),
        timed(runs, |_| {
            raw::list_page(&conn, 0, 1);
        }),
    );
    out.insert(
        "list_resolved_p400".into(),
        timed(runs, |_| {
            raw::list_page(&conn, 1, 400);
        }),
    );
    out.insert(
        "get".into(),
        timed(runs, |n| {
            raw::get(&conn, spread(n as u64, conversations));
        }),
    );
    out.insert(
        "meta".into(),
        timed(heavy, |_| {
            raw::counts(&conn, 0);
        }),
    );
    for (shape, name) in ["filter_a", "filter_b", "filter_c", "filter_d", "filter_e"]
        .into_iter()
        .enumerate()
    {
        out.insert(
            name.into(),
            timed(heavy, |_| {
                raw::filter(&conn, shape);
            }),
        );
    }
    for (name, q) in search_cases() {
        out.insert(
            format!("search_{name}"),
            timed(heavy, |_| {
                raw::search(&searcher, q);
            }),
        );
    }
    let now = || chrono::Utc::now().timestamp_micros();
    out.insert(
        "create_message".into(),
        timed(runs, |n| {
            raw::create_message(&conn, spread(n as u64, conversations), now());
        }),
    );
    out.insert(
        "toggle_status".into(),
        timed(runs, |n| {
            raw::set_status(
                &conn,
                spread(n as u64, conversations),
                (n % 2) as i64,
                now(),
            );
        }),
    );
    Value::Object(out)
}

/// Posts `rate` messages a second for `seconds` while polling `/health` every 2 ms; a write's
/// lag is the time from one poll to the first later poll whose `indexed_seq` reaches the
/// `written_seq` the first one saw.
async fn lag(url: String, token: String, conversations: i64, rate: u64, seconds: u64) -> Value {
    let client = reqwest::Client::new();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (client, url, stop) = (client.clone(), url.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut polls: Vec<(Instant, i64, i64)> = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let at = Instant::now();
                if let Ok(response) = client.get(format!("{url}/health")).send().await {
                    if let Ok(health) = response.json::<Value>().await {
                        let seq = |k: &str| health["search"][k].as_i64().unwrap_or(-1);
                        polls.push((at, seq("written_seq"), seq("indexed_seq")));
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            polls
        })
    };
    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut writes = Vec::with_capacity(total as usize);
    for n in 0..total {
        tokio::time::sleep_until((started + interval * n as u32).into()).await;
        let (client, token) = (client.clone(), token.clone());
        let target = format!(
            "{url}/api/v1/accounts/1/conversations/{}/messages",
            spread(n, conversations)
        );
        writes.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = client
                .post(target)
                .header("api_access_token", token)
                .json(&json!({ "content": format!("lag probe {n}"), "message_type": "outgoing" }))
                .send()
                .await;
            (
                response.map(|r| r.status().as_u16()).unwrap_or(0),
                sent.elapsed(),
            )
        }));
    }
    let mut write_times = Vec::new();
    let mut failed = 0;
    for write in writes {
        let (status, took) = write.await.expect("write task");
        if status == 200 {
            write_times.push(took);
        } else {
            failed += 1;
        }
    }
    let wrote_for = started.elapsed();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let polls = poller.await.expect("poller");
    let lags: Vec<Duration> = polls
        .iter()
        .filter(|(at, _, _)| at.duration_since(started) < wrote_for)
        .filter_map(|&(at, written, _)| {
            polls
                .iter()
                .find(|&&(later, _, indexed)| later >= at && indexed >= written)
                .map(|&(later, _, _)| later.duration_since(at))
        })
        .collect();
    let lag = percentiles(lags.clone());
    let write = percentiles(write_times.clone());
    json!({
        "rate_asked": rate,
        "rate_achieved": write_times.len() as f64 / wrote_for.as_secs_f64(),
        "failed_writes": failed,
        "write_p50_ms": ms(write.p50),
        "write_p99_ms": ms(write.p99),
        "lag_p50_ms": ms(lag.p50),
        "lag_p99_ms": ms(lag.p99),
        "lag_max_ms": lags.iter().max().map_or(0.0, |d| ms(*d)),
        "polls": polls.len(),
    })
}

/// The webhooks and `/cable` subscribers a write load runs beside.
struct Attached {
    url: String,
    token: String,
    webhooks: usize,
    subscribers: usize,
}

impl Attached {
    fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request
            .header("api_access_token", &self.token)
            .send()
            .await
            .expect("the server answers");
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    async fn listen(&self, ready_file: &Path, stop_file: &Path, limit: Duration) -> Value {
        let client = reqwest::Client::new();
        let profile = self.call(client.get(self.api("/profile"))).await;
        let mut receivers = Vec::new();
        let mut hooks = Vec::new();
        for _ in 0..self.webhooks {
            let receiver = receiver::Receiver::start_lean().await;
            let body = json!({"url": receiver.url("/hook"), "subscriptions": WEBHOOK_EVENTS});
            let made = client.post(self.api("/accounts/1/webhooks")).json(&body);
            let made = self.call(made).await;
            hooks.push(
                made["payload"]["webhook"]["id"]
                    .as_i64()
                    .expect("webhook id"),
            );
            receivers.push(receiver);
        }
        let identifier = json!({"channel": "RoomChannel", "pubsub_token": profile["pubsub_token"],
                                "account_id": 1, "user_id": profile["id"]});
        let frames = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..self.subscribers {
            let socket = support::cable::subscribed(&self.url, &identifier).await;
            readers.push(tokio::spawn(count_broadcasts(
                socket,
                Arc::clone(&frames),
                Arc::clone(&stop),
            )));
        }
        std::fs::write(ready_file, b"").expect("ready file written");
        let started = Instant::now();
        while !stop_file.exists() && started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // What was sent during the run may still be on its way: wait until nothing has arrived
        // for two seconds (at most a minute).
        let load_ended = Instant::now();
        let arrived = || {
            frames.load(Ordering::Relaxed) + receivers.iter().map(|r| r.count() as u64).sum::<u64>()
        };
        let (mut seen, mut quiet_since) = (arrived(), Instant::now());
        while quiet_since.elapsed() < Duration::from_secs(2)
            && load_ended.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if arrived() != seen {
                (seen, quiet_since) = (arrived(), Instant::now());
            }
        }
        let drained_ms = ms(quiet_since.duration_since(load_ended));
        for id in hooks {
            self.call(client.delete(self.api(&format!("/accounts/1/webhooks/{id}"))))
                .await;
        }
        stop.store(true, Ordering::Relaxed);
        let mut still_subscribed = 0;
        for reader in readers {
            still_subscribed += usize::from(reader.await.expect("reader"));
        }
        let deliveries: usize = receivers.iter().map(receiver::Receiver::count).sum();
        for receiver in receivers {
            receiver.stop().await;
        }
        json!({
            "webhooks": self.webhooks,
            "webhook_deliveries": deliveries,
            "subscribers": self.subscribers,
            "subscribers_still_connected": still_subscribed,
            "cable_broadcasts": frames.load(Ordering::Relaxed),
            "drained_ms_after_load": drained_ms,
        })
    }
}

/// Counts the broadcasts a subscription receives until `stop`; true
/// if the server kept the socket open throughout.
async fn count_broadcasts(
    mut socket: support::cable::Socket,
    frames: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> bool {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
            Err(_) => continue,
            Ok(Some(Ok(Message::Text(text)))) => {
                // A ping's `message` is a number; a broadcast's is an object.
                if text.contains("\"message\":{") {
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Some(Ok(_))) => continue,
            Ok(_) => return false,
        }
    }
    true
}
