//! Live updates under load (figures in BENCHMARKS.md, "Live updates"): the server binary runs as
//! its own process on 127.0.0.1 and this one holds the websocket subscribers (half contacts,
//! each with a conversation of its own, half agents, all members of the inbox). It measures
//! - Client API message creation beside the application API's, side by side, no subscribers;
//! - the server's memory per idle subscribed connection;
//! - broadcast latency while messages are created at a steady rate, at every subscriber that must
//!   receive each message (all agents, and the conversation's contact): from the message's write
//!   (its `updated_at`, to the millisecond, just before its commit; server and subscribers share
//!   the machine's clock) and from its request's sending, to its arrival.
//!
//!     cargo bench --bench cable
//!
//! Knobs: CABLE_SUBSCRIBERS (default 1000), CABLE_RATE (messages/s, default 200), CABLE_SECONDS
//! (default 10), CABLE_ROUNDS (rounds of the side-by-side comparison, default 3),
//! CABLE_CONCURRENCY (clients in it, default 16).

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio_tungstenite::tungstenite::Message;

use support::{env_u64, median, ms, percentiles, ServerProcess};

const TOKEN: &str = "bench-cable-token";

/// The server binary, started for one benchmark and killed at its end.
struct Server {
    process: ServerProcess,
    http: String,
    client: reqwest::Client,
    dir: TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let process = ServerProcess::start(&[
            "--data-dir".as_ref(),
            dir.path().as_os_str(),
            "--bootstrap-token".as_ref(),
            TOKEN.as_ref(),
            "--public-rate-limit".as_ref(),
            "0".as_ref(),
        ])
        .await;
        Self {
            http: process.url.clone(),
            process,
            client: reqwest::Client::new(),
            dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.header("api_access_token", token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    /// CPU time the server process has used, user and system, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.process.child.id()))
            .unwrap_or_default();
        // The fields after the command name, which is in parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        let ticks = |n: usize| {
            fields
                .get(n)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime, fields 14 and 15 of the line; clock ticks are 1/100 s on Linux.
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Resident memory of the server process, in KiB.
    fn rss_kib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0)
    }
}

/// A customer on the chat page: its Client API path and its live token.
struct Visitor {
    messages: String,
    pubsub_token: String,
    display_id: i64,
}

async fn visitors(server: &Server, count: usize) -> Vec<Visitor> {
    let inbox: Value = server
        .client
        .get(server.url("/api/v1/accounts/1/inboxes/1"))
        .header("api_access_token", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let base = format!(
        "/public/api/v1/inboxes/{}",
        inbox["inbox_identifier"].as_str().unwrap()
    );
    let mut made = Vec::new();
    for _ in 0..count {
        let contact = server
            .post(&format!("{base}/contacts"), None, json!({"name": "V"}))
            .await;
        let source = contact["source_id"].as_str().unwrap();
        let path = format!("{base}/contacts/{source}/conversations");
        let conversation = server.post(&path, None, json!({})).await;
        let display_id = conversation["id"].as_i64().unwrap();
        made.push(Visitor {
            messages: format!("{path}/{display_id}/messages"),
            pubsub_token: contact["pubsub_token"].as_str().unwrap().to_string(),
            display_id,
        });
    }
    made
}

/// `count` agents, members of inbox 1: their (user id, pubsub token).
async fn agents(server: &Server, count: usize) -> Vec<(i64, String)> {
    let mut ids = Vec::new();
    for n in 0..count {
        let body = json!({"name": format!("Agent {n}"), "email": format!("agent{n}@example.com"),
                          "role": "agent"});
        let agent = server
            .post("/api/v1/accounts/1/agents", Some(TOKEN), body)
            .await;
        ids.push(agent["id"].as_i64().unwrap());
    }
    let members = json!({"inbox_id": 1, "user_ids": ids});
    server
        .post("/api/v1/accounts/1/inbox_members", Some(TOKEN), members)
        .await;
    // A user's live token is shown only to that user; the bench reads them from the database.
    let conn = rusqlite::Connection::open(server.dir.path().join("wootlite.sqlite3")).unwrap();
    ids.iter()
        .map(|id| {
            let token = conn
                .query_row("SELECT pubsub_token FROM users WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .unwrap();
            (*id, token)
        })
        .collect()
}

#[derive(Deserialize)]
struct Frame {
    message: Option<Broadcast>,
}

#[derive(Deserialize)]
struct Broadcast {
    event: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    id: Option<i64>,
    /// When the write ran, to the millisecond (just before its commit).
    updated_at: Option<String>,
}

/// Microseconds since the epoch of the wall clock the server shares with this process.
fn wall_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A timed message: when its request left.
#[derive(Clone, Copy)]
struct Sent {
    id: i64,
    posted: Instant,
}

/// A `message.created` as one subscriber received it.
#[derive(Clone, Copy)]
struct Arrival {
    id: i64,
    at: Instant,
    /// From the message's write (its `updated_at`) to its arrival.
    since_write: Duration,
}

type Arrivals = Arc<Mutex<Vec<Arrival>>>;

/// Opens a socket, subscribes with `identifier` and reads it until `stop`, noting arrivals.
async fn subscriber(
    http: &str,
    identifier: Value,
    stop: Arc<AtomicBool>,
) -> (Arrivals, tokio::task::JoinHandle<bool>) {
    let mut socket = support::cable::subscribed(http, &identifier).await;
    let arrivals: Arrivals = Arc::default();
    let noted = Arc::clone(&arrivals);
    let reading = tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let frame = match tokio::time::timeout(Duration::from_millis(500), socket.next()).await
            {
                Err(_) => continue,
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(_))) => continue,
                // Closed by the server: dropped.
                Ok(_) => return false,
            };
            let (at, wall) = (Instant::now(), wall_micros());
            if let Ok(Frame {
                message: Some(message),
            }) = serde_json::from_str::<Frame>(&frame)
            {
                if let ("message.created", Some(id)) = (message.event.as_str(), message.data.id) {
                    let written = message
                        .data
                        .updated_at
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                        .map_or(wall, |t| t.timestamp_micros());
                    let since_write = Duration::from_micros((wall - written).max(0) as u64);
                    noted.lock().unwrap().push(Arrival {
                        id,
                        at,
                        since_write,
                    });
                }
            }
        }
        true
    });
    (arrivals, reading)
}

/// The Client API's message creation beside the application API's, alternating, no subscribers.
async fn side_by_side(rounds: usize, concurrency: usize, length: Duration) {
    let server = Arc::new(Server::start().await);
    let visitors = Arc::new(visitors(&server, concurrency).await);
    let (mut public, mut application) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (s, v) = (Arc::clone(&server), Arc::clone(&visitors));
        let by_client = support::rate_of(concurrency, length, move |n| {
            let (s, v) = (Arc::clone(&s), Arc::clone(&v));
            async move {
                s.post(&v[n].messages, None, json!({"content": "a question"}))
                    .await;
            }
        })
        .await;
        let (s, v) = (Arc::clone(&server), Arc::clone(&visitors));
        let by_agent = support::rate_of(concurrency, length, move |n| {
            let (s, v) = (Arc::clone(&s), Arc::clone(&v));
            async move {
                let path = format!(
                    "/api/v1/accounts/1/conversations/{}/messages",
                    v[n].display_id
                );
                let body = json!({"content": "a question", "message_type": "incoming"});
                s.post(&path, Some(TOKEN), body).await;
            }
        })
        .await;
        println!("round {round}: Client API {by_client:.0}/s, application API {by_agent:.0}/s");
        public.push(by_client);
        application.push(by_agent);
    }
    let (public, application) = (median(public), median(application));
    println!(
        "incoming message creation, c={concurrency}: Client API median {public:.0}/s, application API median {application:.0}/s ({:.0}%)",
        100.0 * public / application
    );
}

async fn broadcast_latency(subscribers: usize, rate: u64, length: Duration) {
    let server = Server::start().await;
    let visitors = visitors(&server, subscribers / 2).await;
    let agents = agents(&server, subscribers - subscribers / 2).await;
    let idle_before = server.rss_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let mut contact_arrivals = Vec::new();
    let mut agent_arrivals = Vec::new();
    let mut readers = Vec::new();
    for visitor in &visitors {
        let identifier = json!({"channel": "RoomChannel", "pubsub_token": visitor.pubsub_token});
        let (arrivals, reading) = subscriber(&server.http, identifier, Arc::clone(&stop)).await;
        contact_arrivals.push((visitor.display_id, arrivals));
        readers.push(reading);
    }
    for (user_id, token) in &agents {
        let identifier = json!({"channel": "RoomChannel", "pubsub_token": token,
                                "account_id": 1, "user_id": user_id});
        let (arrivals, reading) = subscriber(&server.http, identifier, Arc::clone(&stop)).await;
        agent_arrivals.push(arrivals);
        readers.push(reading);
    }
    let idle_cpu = server.cpu_seconds();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_cpu = (server.cpu_seconds() - idle_cpu) / 3.0;
    let idle_after = server.rss_kib();
    println!(
        "{subscribers} idle subscribed connections: server memory {:.1} -> {:.1} MiB, {:.1} KiB per connection; server CPU {:.0}% of one core",
        idle_before / 1024.0,
        idle_after / 1024.0,
        (idle_after - idle_before) / subscribers as f64,
        100.0 * idle_cpu
    );

    // Agents reply at a steady rate, round the visitors' conversations.
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let server = Arc::new(server);
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let mut requests = Vec::new();
    let mut n = 0usize;
    while started.elapsed() < length {
        ticker.tick().await;
        let (server, sent) = (Arc::clone(&server), Arc::clone(&sent));
        let visitor = n % visitors.len();
        let path = format!(
            "/api/v1/accounts/1/conversations/{}/messages",
            visitors[visitor].display_id
        );
        n += 1;
        requests.push(tokio::spawn(async move {
            let posted = Instant::now();
            let body = server
                .post(&path, Some(TOKEN), json!({"content": "timed"}))
                .await;
            let id = body["id"].as_i64().unwrap();
            sent.lock().unwrap().push(Sent { id, posted });
        }));
    }
    for request in requests {
        request.await.unwrap();
    }
    let (busy, loaded) = (server.cpu_seconds() - cpu_before, started.elapsed());
    let sent = sent.lock().unwrap().clone();
    let expected = sent.len() * (agent_arrivals.len() + 1);
    let count = || {
        let agents: usize = agent_arrivals.iter().map(|a| a.lock().unwrap().len()).sum();
        let contacts: usize = contact_arrivals
            .iter()
            .map(|(_, a)| a.lock().unwrap().len())
            .sum();
        agents + contacts
    };
    let waited = Instant::now();
    while count() < expected && waited.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut still_open = 0;
    for reader in readers {
        still_open += usize::from(reader.await.unwrap());
    }

    let by_id: std::collections::HashMap<i64, &Sent> = sent.iter().map(|s| (s.id, s)).collect();
    let (mut from_write, mut from_post) = (Vec::new(), Vec::new());
    let every = agent_arrivals
        .iter()
        .chain(contact_arrivals.iter().map(|(_, a)| a));
    for arrivals in every {
        for arrival in arrivals.lock().unwrap().iter() {
            if let Some(sent) = by_id.get(&arrival.id) {
                from_post.push(arrival.at.duration_since(sent.posted));
                from_write.push(arrival.since_write);
            }
        }
    }
    let got = from_write.len();
    let (write, post) = (percentiles(from_write), percentiles(from_post));
    println!(
        "{} messages at {rate}/s to {subscribers} subscribers ({} agents, {} contacts): {got} of {expected} receipts, {still_open} connections kept; server CPU {:.0}% of one core",
        sent.len(),
        agent_arrivals.len(),
        contact_arrivals.len(),
        100.0 * busy / loaded.as_secs_f64(),
    );
    println!(
        "  from the write (updated_at, ms) to receipt: p50 {:.1}ms p99 {:.1}ms max {:.1}ms",
        ms(write.p50),
        ms(write.p99),
        ms(write.max)
    );
    println!(
        "  from request sent to receipt:               p50 {:.1}ms p99 {:.1}ms max {:.1}ms",
        ms(post.p50),
        ms(post.p99),
        ms(post.max)
    );
}

fn main() {
    let subscribers = env_u64("CABLE_SUBSCRIBERS", 1000) as usize;
    let rate = env_u64("CABLE_RATE", 200);
    let length = Duration::from_secs(env_u64("CABLE_SECONDS", 10));
    let rounds = env_u64("CABLE_ROUNDS", 3) as usize;
    let concurrency = env_u64("CABLE_CONCURRENCY", 16) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        side_by_side(rounds, concurrency, Duration::from_secs(5)).await;
        broadcast_latency(subscribers, rate, length).await;
    });
}
