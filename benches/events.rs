//! Event delivery under load (figures in BENCHMARKS.md, "Events"): message creation with 0, 1
//! and 3 subscribed webhooks side by side; commit-to-receiver latency at a steady 500
//! messages/s; and write throughput, memory and backlog beside a receiver that hangs and one
//! that answers 500 to everything. The server, its receivers and the clients run in this one
//! process on 127.0.0.1, so all of them share the machine's cores, as a real deployment with
//! a local receiver would.
//!
//!     cargo bench --bench events
//!
//! Knobs: EVENTS_SECONDS (length of each throughput run, default 5), EVENTS_ROUNDS (rounds of
//! the side-by-side comparison, default 3), EVENTS_CONCURRENCY (clients, default 16).

#[path = "../tests/api/receiver.rs"]
#[allow(dead_code)]
mod receiver;
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;
use wootlite::app::Application;
use wootlite::clock::Clock;

use receiver::{Answer, Receiver};

// The allocator the `wootlite` binary runs with, so that the server here allocates as it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use support::{env_u64, median, ms, percentiles};

const TOKEN: &str = "bench-events-token";
const CONVERSATIONS: usize = 64;
use wootlite::events::WEBHOOK_EVENTS as ALL_EVENTS;

struct Server {
    base: String,
    handle: actix_web::dev::ServerHandle,
    client: reqwest::Client,
    conversations: Vec<i64>,
    _dir: TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = support::server_settings(dir.path());
        settings.bootstrap_token = Some(TOKEN.into());
        settings.webhook_allow_private = true;
        let app = Application::build(&settings, Clock::system()).expect("server starts");
        let base = format!("http://127.0.0.1:{}/api/v1/accounts/1", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let mut server = Self {
            base,
            handle,
            client: reqwest::Client::new(),
            conversations: Vec::new(),
            _dir: dir,
        };
        for n in 0..CONVERSATIONS {
            let contact = server
                .post(
                    "/contacts",
                    json!({"name": "C", "inbox_id": 1, "source_id": format!("s{n}")}),
                )
                .await;
            let contact_id = contact["payload"]["contact"]["id"].clone();
            let conversation = server
                .post(
                    "/conversations",
                    json!({"inbox_id": 1, "contact_id": contact_id}),
                )
                .await;
            server
                .conversations
                .push(conversation["id"].as_i64().unwrap());
        }
        server
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("api_access_token", TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    async fn subscribe(&self, url: &str, events: &[&str]) {
        self.post("/webhooks", json!({"url": url, "subscriptions": events}))
            .await;
    }

    async fn health(&self) -> Value {
        let root = self.base.split("/api/").next().unwrap();
        self.client
            .get(format!("{root}/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Messages created per second by `concurrency` clients over `length`.
async fn throughput(server: &Server, concurrency: usize, length: Duration) -> f64 {
    let (client, base) = (server.client.clone(), server.base.clone());
    let conversations = Arc::new(server.conversations.clone());
    support::rate_of(concurrency, length, move |n| {
        let (client, base) = (client.clone(), base.clone());
        let conversation = conversations[n % conversations.len()];
        async move {
            let response = client
                .post(format!("{base}/conversations/{conversation}/messages"))
                .header("api_access_token", TOKEN)
                .json(&json!({"content": "a reply to the customer", "message_type": "outgoing"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap();
        }
    })
    .await
}

/// Resident memory of this process (server, receivers and clients), in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn side_by_side(rounds: usize, concurrency: usize, length: Duration) {
    let mut rates: HashMap<usize, Vec<f64>> = HashMap::new();
    for round in 0..rounds {
        for webhooks in [0, 1, 3] {
            let server = Server::start().await;
            let mut receivers = Vec::new();
            for _ in 0..webhooks {
                let receiver = Receiver::start_lean().await;
                server.subscribe(&receiver.url("/hook"), &ALL_EVENTS).await;
                receivers.push(receiver);
            }
            let rate = throughput(&server, concurrency, length).await;
            let delivered: usize = receivers.iter().map(Receiver::count).sum();
            println!(
                "round {round}: {webhooks} webhook(s): {rate:.0} messages/s ({delivered} deliveries received during the run)"
            );
            rates.entry(webhooks).or_default().push(rate);
            server.stop().await;
            for receiver in receivers {
                receiver.stop().await;
            }
        }
    }
    let base = median(rates[&0].clone());
    for webhooks in [0, 1, 3] {
        let rate = median(rates[&webhooks].clone());
        println!(
            "message creation, c={concurrency}, {webhooks} webhook(s) subscribed to every event: median {rate:.0}/s = {:.0}% of 0 webhooks",
            100.0 * rate / base
        );
    }
}

/// Creates `rate` messages a second for `length` and measures, per message, the time from its
/// acknowledgement (the commit, plus the response's way back) to its arrival at the receiver.
async fn latency(rate: u64, length: Duration) {
    let server = Server::start().await;
    let receiver = Receiver::start_lean().await;
    server
        .subscribe(&receiver.url("/latency"), &["message_created"])
        .await;
    let acks: Arc<std::sync::Mutex<HashMap<i64, Instant>>> = Arc::default();
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let started = Instant::now();
    let mut sent = Vec::new();
    let mut n = 0usize;
    while started.elapsed() < length {
        ticker.tick().await;
        let (client, base, acks) = (
            server.client.clone(),
            server.base.clone(),
            Arc::clone(&acks),
        );
        let conversation = server.conversations[n % server.conversations.len()];
        n += 1;
        sent.push(tokio::spawn(async move {
            let response = client
                .post(format!("{base}/conversations/{conversation}/messages"))
                .header("api_access_token", TOKEN)
                .json(&json!({"content": "timed"}))
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            let acked = Instant::now();
            acks.lock()
                .unwrap()
                .insert(body["id"].as_i64().unwrap(), acked);
        }));
    }
    for request in sent {
        request.await.unwrap();
    }
    let expected = acks.lock().unwrap().len();
    let waited = Instant::now();
    while receiver.count() < expected && waited.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acks = acks.lock().unwrap().clone();
    let mut delays = Vec::new();
    let mut early = 0;
    for received in receiver.at("/latency") {
        let id = received.json()["id"].as_i64().unwrap();
        if let Some(acked) = acks.get(&id) {
            match received.arrived.checked_duration_since(*acked) {
                Some(delay) => delays.push(delay),
                None => {
                    early += 1;
                    delays.push(Duration::ZERO);
                }
            }
        }
    }
    let got = delays.len();
    let spread = percentiles(delays);
    println!(
        "commit-to-receiver at {rate} messages/s for {}s: {got} of {expected} delivered, p50 {:.1}ms p99 {:.1}ms max {:.1}ms ({early} arrived before their acknowledgement)",
        length.as_secs(),
        ms(spread.p50),
        ms(spread.p99),
        ms(spread.max),
    );
    server.stop().await;
    receiver.stop().await;
}

/// Write throughput beside a receiver that fails, against none, with memory and the backlog.
async fn failing_receivers(concurrency: usize, length: Duration) {
    let mut baseline = None;
    for (label, answer) in [
        ("no webhook", None),
        ("a receiver that hangs", Some(Answer::Hang)),
        ("a receiver that answers 500", Some(Answer::Status(500))),
    ] {
        let server = Server::start().await;
        let receiver = Receiver::start_lean().await;
        if let Some(answer) = answer {
            receiver.answer_always(answer);
            server
                .subscribe(&receiver.url("/failing"), &ALL_EVENTS)
                .await;
        }
        let before = rss_mib();
        let rate = throughput(&server, concurrency, length).await;
        let after = rss_mib();
        let health = server.health().await;
        let base = *baseline.get_or_insert(rate);
        println!(
            "beside {label}: {rate:.0} messages/s = {:.0}% of no webhook; memory {before:.0} -> {after:.0} MiB; /health {} with events {} {}; {} attempts received",
            100.0 * rate / base,
            health["status"],
            health["events"],
            health.get("problems").cloned().unwrap_or_default(),
            receiver.count(),
        );
        server.stop().await;
        receiver.stop().await;
    }
}

fn main() {
    let length = Duration::from_secs(env_u64("EVENTS_SECONDS", 5));
    let rounds = env_u64("EVENTS_ROUNDS", 3) as usize;
    let concurrency = env_u64("EVENTS_CONCURRENCY", 16) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        side_by_side(rounds, concurrency, length).await;
        latency(500, Duration::from_secs(10)).await;
        failing_receivers(concurrency, length * 2).await;
    });
}
