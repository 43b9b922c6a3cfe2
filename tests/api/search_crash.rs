//! Crash safety: concurrent clients write and delete messages while the real binary is killed
//! with SIGKILL at random moments and restarted. Afterwards every acknowledged message is in
//! the database and found by search, no acknowledged deletion is found, the index holds exactly
//! the database's searchable messages, and SQLite's integrity check passes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::json;

use crate::process::{start, try_send, Server};

const TOKEN: &str = "crash-token";
const KILLS: usize = 12;
/// On a loaded machine the rounds may see little traffic; more rounds are run, up to this many,
/// until there is enough to judge.
const MOST_KILLS: usize = 36;
const CLIENTS: usize = 4;
const CONVERSATIONS: usize = 6;

#[derive(Default)]
struct Ledger {
    /// Acknowledged creates still live: message id -> (conversation display id, content).
    live: HashMap<i64, (i64, String)>,
    /// Acknowledged deletes: their contents.
    deleted: Vec<String>,
    /// Deletes sent but not acknowledged: they may or may not have happened, so they are
    /// checked only through the index-equals-database count.
    uncertain: HashSet<i64>,
}

fn message_path(conversation: i64) -> String {
    format!("/api/v1/accounts/1/conversations/{conversation}/messages")
}

/// One client: writes and deletes until the server stops answering.
async fn client(
    url: String,
    ledger: Arc<Mutex<Ledger>>,
    conversations: Vec<i64>,
    seed: u64,
    tag: String,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    for n in 0.. {
        let delete = {
            let mut ledger = ledger.lock().unwrap();
            if rng.gen_bool(0.25) && !ledger.live.is_empty() {
                let id = *ledger
                    .live
                    .keys()
                    .nth(rng.gen_range(0..ledger.live.len()))
                    .unwrap();
                ledger
                    .live
                    .remove(&id)
                    .map(|(conversation, content)| (id, conversation, content))
            } else {
                None
            }
        };
        match delete {
            Some((id, conversation, content)) => {
                let path = format!("{}/{id}", message_path(conversation));
                match try_send(&url, Method::DELETE, &path, TOKEN, None).await {
                    Some((200, _)) => ledger.lock().unwrap().deleted.push(content),
                    Some((status, body)) => panic!("delete answered {status}: {body}"),
                    None => {
                        ledger.lock().unwrap().uncertain.insert(id);
                        return;
                    }
                }
            }
            None => {
                let conversation = conversations[rng.gen_range(0..conversations.len())];
                let content = format!("crash{tag}n{n}end says hello");
                let body = json!({ "content": content, "message_type": "incoming" });
                match try_send(
                    &url,
                    Method::POST,
                    &message_path(conversation),
                    TOKEN,
                    Some(body),
                )
                .await
                {
                    Some((200, message)) => {
                        let id = message["id"].as_i64().expect("message id");
                        ledger
                            .lock()
                            .unwrap()
                            .live
                            .insert(id, (conversation, content));
                    }
                    Some((status, body)) => panic!("create answered {status}: {body}"),
                    None => return,
                }
            }
        }
    }
}

async fn search(server: &Server, q: &str) -> serde_json::Value {
    let path = format!("/api/v1/accounts/1/conversations/search?q={q}");
    server.ok(Method::GET, &path, TOKEN, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_the_index_matches_the_database() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();

    let server = start(dir.path(), Some(TOKEN)).await;
    let mut conversations = Vec::new();
    for n in 0..CONVERSATIONS {
        conversations.push(
            server
                .create_conversation(TOKEN, &format!("crash-{n}"))
                .await,
        );
    }
    server.stop().await;

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let enough = |ledger: &Ledger| ledger.live.len() > 100 && !ledger.deleted.is_empty();
    for round in 0..MOST_KILLS {
        if round >= KILLS && enough(&ledger.lock().unwrap()) {
            break;
        }
        let server = start(dir.path(), None).await;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                tokio::spawn(client(
                    server.url.clone(),
                    Arc::clone(&ledger),
                    conversations.clone(),
                    rng.gen(),
                    format!("r{round}c{c}"),
                ))
            })
            .collect();
        // Anywhere from during start-up catch-up to well into the writes.
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..700))).await;
        server.kill().await;
        for c in clients {
            c.await.expect("client finished");
        }
    }

    let server = start(dir.path(), None).await;
    let ledger = Arc::try_unwrap(ledger).ok().unwrap().into_inner().unwrap();
    assert!(
        enough(&ledger),
        "seed {seed}: too little traffic to judge ({} live, {} deleted)",
        ledger.live.len(),
        ledger.deleted.len()
    );
    eprintln!(
        "seed {seed}: {} live, {} deleted, {} uncertain",
        ledger.live.len(),
        ledger.deleted.len(),
        ledger.uncertain.len()
    );
    let db = rusqlite::Connection::open(dir.path().join("wootlite.sqlite3")).unwrap();
    for (&id, (conversation, content)) in &ledger.live {
        let stored: String = db
            .query_row(
                "SELECT content FROM messages WHERE id = ?1 AND deleted = 0",
                [id],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("seed {seed}: acknowledged message {id} lost: {e}"));
        assert_eq!(&stored, content);
        let token = content.split_whitespace().next().unwrap();
        let found = search(&server, token).await;
        assert_eq!(
            found["payload"].as_array().unwrap().len(),
            1,
            "seed {seed}: {token} not found"
        );
        assert_eq!(found["payload"][0]["id"], *conversation);
        assert_eq!(
            found["payload"][0]["messages"][0]["content"],
            content.as_str()
        );
    }
    for content in &ledger.deleted {
        let token = content.split_whitespace().next().unwrap();
        let found = search(&server, token).await;
        assert_eq!(
            found["payload"],
            json!([]),
            "seed {seed}: deleted {token} still found"
        );
    }
    server.stop().await;

    let searchable: u64 = db
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE message_type IN (0, 1) AND deleted = 0 AND content IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let indexed = wootlite::search::count_documents(&dir.path().join("search")).unwrap();
    assert_eq!(indexed, searchable, "seed {seed}");
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}
