//! How soon a change written on one PostgreSQL node reaches a `/cable` subscriber on another
//! (figures in BENCHMARKS.md, "Across nodes: notifications"). Two release servers run as their
//! own processes on one fresh database; an agent subscribes on the second; messages are
//! created one at a time through the first, at random intervals so that no follower's poll is
//! met in step. Each is timed from its request's answer to its `message.created` on the
//! second node's socket.
//!
//!     WOOTLITE_BENCH_POSTGRES_URL=postgres://user@host:port/postgres cargo bench --bench cable_nodes
//!
//! The URL names a server where the user may create databases; the bench makes its own and
//! drops it. Knobs: CABLE_NODES_MESSAGES (default 300). WOOTLITE_BENCH_SERVER runs another
//! build, for a before/after pair.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rand::Rng;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use support::{env_u64, ms, percentiles, ServerProcess};

const TOKEN: &str = "bench-cable-nodes-token";

/// A database of its own on the server `admin_url` names, dropped at the end.
struct Database {
    admin_url: String,
    name: String,
}

impl Database {
    fn create(admin_url: &str) -> Self {
        let name = format!("wootlite_bench_{}", uuid::Uuid::new_v4().simple());
        admin(admin_url, &format!("CREATE DATABASE {name}"));
        Self {
            admin_url: admin_url.to_string(),
            name,
        }
    }

    fn url(&self) -> String {
        let (server, _) = self
            .admin_url
            .rsplit_once('/')
            .expect("a URL with a database");
        format!("{server}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        admin(&self.admin_url, &drop);
    }
}

/// Runs one statement of the bench's own making (a database name it generated).
fn admin(url: &str, statement: &str) {
    let url = url.to_string();
    let statement = statement.to_string();
    // The client drives a runtime of its own: not on the bench's.
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
        client.batch_execute(&statement).expect(&statement);
    })
    .join()
    .unwrap();
}

async fn node(
    database: &str,
    dirs: &tempfile::TempDir,
    n: usize,
    bootstrap: bool,
) -> ServerProcess {
    let data = dirs.path().join(format!("node-{n}"));
    let files = dirs.path().join("files");
    let mut args: Vec<std::ffi::OsString> = vec![
        "--database-url".into(),
        database.into(),
        "--data-dir".into(),
        data.into(),
        "--files-dir".into(),
        files.into(),
    ];
    if bootstrap {
        args.extend(["--bootstrap-token".into(), TOKEN.into()]);
    }
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    ServerProcess::start(&args).await
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Value,
) -> Value {
    let reply = client
        .request(method, url)
        .header("api_access_token", TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{}", reply.status());
    reply.json().await.unwrap()
}

/// The next `message.created` on `socket`: its message id. Pings come every few seconds, so
/// the wait has a deadline of its own.
async fn next_created(socket: &mut support::cable::Socket) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a broadcast within 10 s")
            .unwrap()
            .unwrap();
        let Message::Text(text) = frame else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["message"]["event"] == "message.created" {
            return frame["message"]["data"]["id"].as_i64().unwrap();
        }
    }
}

async fn measure(admin_url: &str, messages: u64) {
    let database = Database::create(admin_url);
    let dirs = tempfile::tempdir().unwrap();
    let first = node(&database.url(), &dirs, 0, true).await;
    let second = node(&database.url(), &dirs, 1, false).await;
    let client = reqwest::Client::new();
    let profile = call(
        &client,
        reqwest::Method::GET,
        format!("{}/api/v1/profile", second.url),
        Value::Null,
    )
    .await;
    let identifier = json!({"channel": "RoomChannel", "pubsub_token": profile["pubsub_token"],
                            "account_id": 1, "user_id": profile["id"]});
    let mut socket = support::cable::subscribed(&second.url, &identifier).await;
    // The same agent listens on the first node too, read and ignored: earlier builds shared a
    // node's broadcasts only while it had a subscriber of its own.
    let mut beside = support::cable::subscribed(&first.url, &identifier).await;
    let draining = tokio::spawn(async move { while let Some(Ok(_)) = beside.next().await {} });
    let contact = json!({"name": "Customer", "inbox_id": 1, "source_id": "bench-source"});
    let contacts = format!("{}/api/v1/accounts/1/contacts", first.url);
    call(&client, reqwest::Method::POST, contacts, contact).await;
    let conversations = format!("{}/api/v1/accounts/1/conversations", first.url);
    let conversation = call(
        &client,
        reqwest::Method::POST,
        conversations.clone(),
        json!({"source_id": "bench-source"}),
    )
    .await;
    let messages_url = format!("{conversations}/{}/messages", conversation["id"]);
    let mut latencies = Vec::new();
    for n in 0..messages {
        let pause = rand::thread_rng().gen_range(5..60);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let body = json!({"content": format!("message {n}"), "message_type": "outgoing"});
        let created = call(&client, reqwest::Method::POST, messages_url.clone(), body).await;
        let answered = Instant::now();
        let id = created["id"].as_i64().unwrap();
        while next_created(&mut socket).await != id {}
        latencies.push(answered.elapsed());
    }
    let p = percentiles(latencies);
    println!(
        "{messages} messages, from the first node's answer to the second node's broadcast: \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(p.p50),
        ms(p.p99),
        ms(p.max)
    );
    draining.abort();
    drop((first, second));
}

fn main() {
    let Ok(admin_url) = std::env::var("WOOTLITE_BENCH_POSTGRES_URL") else {
        println!("cable_nodes: skipped, WOOTLITE_BENCH_POSTGRES_URL is not set");
        return;
    };
    let messages = env_u64("CABLE_NODES_MESSAGES", 300);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(measure(&admin_url, messages));
}
