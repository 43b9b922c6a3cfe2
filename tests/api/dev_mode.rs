//! Dev mode (`--dev`): the admin endpoints under `/__wootlite/` exist only with it, the clock
//! can be moved, mail is caught, requests and webhook attempts are journaled, and a test harness
//! learns where the server is from `--ready-file`.

use std::time::Duration;

use serde_json::{json, Value};
use wootlite::clock::Clock;

use crate::helpers::{eventually, spawn_app, spawn_configured, TestApp};
use crate::receiver::{Answer, Receiver};

async fn dev_app() -> TestApp {
    spawn_configured(Clock::adjustable(), |settings| {
        settings.dev = true;
        settings.webhook_allow_private = true;
    })
    .await
}

#[tokio::test]
async fn without_dev_mode_the_admin_paths_are_unknown() {
    let app = spawn_app().await;
    for path in [
        "/__wootlite/info",
        "/__wootlite/clock",
        "/__wootlite/requests",
    ] {
        assert_eq!(app.get(path).await.status, 404, "{path}");
    }
    assert_eq!(
        app.post("/__wootlite/clock", json!({"advance": 60}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn only_an_administrator_opens_the_admin_endpoints() {
    let app = dev_app().await;
    let (_, agent_token) = app.create_agent("Agnes", "agnes@example.com").await;
    let reply = app
        .send(reqwest::Method::GET, "/__wootlite/info", &agent_token, None)
        .await;
    assert_eq!(reply.status, 401);
    let anonymous = app
        .request(reqwest::Method::GET, "/__wootlite/info", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let info = app.get("/__wootlite/info").await.expect(200);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(info["schema_version"].as_i64().unwrap() >= 11);
    assert_eq!(info["settings"]["dev"], true);
    assert_eq!(
        info["settings"]["bootstrap_token"], "(set)",
        "secrets hidden"
    );
}

#[tokio::test]
async fn the_clock_is_set_advanced_and_frozen_and_writes_follow_it() {
    let app = dev_app().await;
    let running = app.get("/__wootlite/clock").await.expect(200);
    assert_eq!(running["frozen"], false);
    let set = json!({"set": "2030-01-01T00:00:00Z", "frozen": true});
    let frozen = app.post("/__wootlite/clock", set).await.expect(200);
    assert_eq!(frozen, json!({"now": 1_893_456_000, "frozen": true}));
    let conversation = app.create_conversation(json!({})).await;
    assert_eq!(conversation["created_at"], 1_893_456_000);

    let later = app
        .post("/__wootlite/clock", json!({"advance": 3600}))
        .await
        .expect(200);
    assert_eq!(later["now"], 1_893_459_600);
    let id = conversation["id"].as_i64().unwrap();
    let message = app.message(id, json!({"content": "an hour on"})).await;
    assert_eq!(message["created_at"], 1_893_459_600);

    for bad in [
        json!({"set": "soon"}),
        json!({"advance": "x"}),
        json!({"when": 1}),
    ] {
        let reply = app.post("/__wootlite/clock", bad.clone()).await;
        assert!(
            (400..500).contains(&reply.status),
            "{bad}: {}",
            reply.status
        );
    }
}

#[tokio::test]
async fn a_snooze_wakes_when_the_clock_is_moved_past_it() {
    let app = dev_app().await;
    app.post("/__wootlite/clock", json!({"frozen": true}))
        .await
        .expect(200);
    let now = app.get("/__wootlite/clock").await.expect(200)["now"]
        .as_i64()
        .unwrap();
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/accounts/1/conversations/{id}/toggle_status");
    let snooze = json!({"status": "snoozed", "snoozed_until": now + 86_400});
    app.post(&path, snooze).await.expect(200);
    app.post("/__wootlite/clock", json!({"advance": 86_401}))
        .await
        .expect(200);
    eventually("the snooze wakes", Duration::from_secs(10), || async {
        (app.conversation(id).await["status"] == "open").then_some(())
    })
    .await;
}

#[tokio::test]
async fn webhook_attempts_are_journaled_and_retries_follow_the_clock() {
    let app = dev_app().await;
    app.post("/__wootlite/clock", json!({"frozen": true}))
        .await
        .expect(200);
    let receiver = Receiver::start().await;
    receiver.answer_always(Answer::Status(500));
    let hook = json!({"webhook": {"url": receiver.url("/hook"), "subscriptions": ["conversation_created"]}});
    app.post("/api/v1/accounts/1/webhooks", hook)
        .await
        .expect(200);
    app.create_conversation(json!({})).await;

    let first = eventually("a first attempt", Duration::from_secs(10), || async {
        let attempts = app.get("/__wootlite/webhooks").await.expect(200);
        attempts.as_array().and_then(|a| a.first().cloned())
    })
    .await;
    assert_eq!(first["event"], "conversation_created");
    assert_eq!(first["status"], 500);
    assert_eq!(first["target"]["url"], receiver.url("/hook"));
    assert!(first["headers"]["X-Chatwoot-Delivery"].is_string());
    assert_eq!(first["body"]["event"], "conversation_created");
    assert!(first["next"]["retry_at"].is_string(), "{first}");

    // No real waiting: moving the clock past the retry brings the next attempt.
    app.post("/__wootlite/clock", json!({"advance": 3600}))
        .await
        .expect(200);
    eventually("a second attempt", Duration::from_secs(10), || async {
        let attempts = app.get("/__wootlite/webhooks").await.expect(200);
        (attempts.as_array().map_or(0, Vec::len) >= 2).then_some(())
    })
    .await;
    assert!(receiver.count() >= 2);
    app.delete("/__wootlite/webhooks").await;
    // The clock stands still, so the next retry is not due: nothing comes in after the delete.
    assert_eq!(app.get("/__wootlite/webhooks").await.expect(200), json!([]));
}

#[tokio::test]
async fn requests_are_journaled_with_the_start_of_their_body() {
    let app = dev_app().await;
    app.create_conversation(json!({"custom_attributes": {"order": "A-17"}}))
        .await;
    app.get("/api/v1/accounts/1/conversations/999").await;
    let journal = app.get("/__wootlite/requests").await.expect(200);
    let entries = journal.as_array().unwrap();
    let created = entries
        .iter()
        .find(|e| e["method"] == "POST" && e["path"] == "/api/v1/accounts/1/conversations")
        .expect("the create is journaled");
    assert_eq!(created["status"], 200);
    assert!(created["body"].as_str().unwrap().contains("A-17"));
    assert!(created["duration_ms"].as_f64().unwrap() >= 0.0);
    let missing = entries
        .iter()
        .find(|e| e["path"] == "/api/v1/accounts/1/conversations/999")
        .expect("the 404 is journaled");
    assert_eq!(missing["status"], 404);
    assert!(
        entries
            .iter()
            .all(|e| !e["path"].as_str().unwrap().starts_with("/__wootlite")),
        "the journal's own reads are not in it"
    );
    app.delete("/__wootlite/requests").await;
    let emptied = app.get("/__wootlite/requests").await.expect(200);
    assert_eq!(emptied, json!([]));
}

#[tokio::test]
async fn mail_is_caught_listed_shown_raw_and_emptied() {
    let app = dev_app().await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(id, json!({"content": "Where is my order?"}))
        .await;
    let transcript = format!("/api/v1/accounts/1/conversations/{id}/transcript");
    app.post(&transcript, json!({"email": "agnes@example.com"}))
        .await
        .expect(200);
    let mails = eventually(
        "the transcript is caught",
        Duration::from_secs(10),
        || async {
            let mails = app.get("/__wootlite/mails").await.expect(200);
            (mails.as_array().map_or(0, Vec::len) == 1).then_some(mails)
        },
    )
    .await;
    let mail = &mails[0];
    assert_eq!(mail["to"], json!(["agnes@example.com"]));
    assert!(mail["subject"].as_str().unwrap().len() > 3);
    let id = mail["id"].as_str().unwrap();
    let one = app
        .get(&format!("/__wootlite/mails/{id}"))
        .await
        .expect(200);
    assert!(one["raw"].as_str().unwrap().contains("agnes@example.com"));
    let raw = app
        .request(
            reqwest::Method::GET,
            &format!("/__wootlite/mails/{id}.eml"),
            Some(crate::helpers::ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "message/rfc822");
    assert_eq!(
        app.get("/__wootlite/mails/../wootlite.sqlite3")
            .await
            .status,
        404
    );
    app.delete("/__wootlite/mails").await;
    assert_eq!(app.get("/__wootlite/mails").await.expect(200), json!([]));
}

#[tokio::test]
async fn a_dev_server_writes_its_ready_file_and_says_so_in_its_banner() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.json");
    let data = dir.path().join("data");
    let flags = ["--dev", "--ready-file", ready.to_str().unwrap()];
    let server = crate::process::try_start_with(&data, None, &flags, None)
        .await
        .expect("starts");
    assert!(server.line("dev mode:").starts_with("on"));
    // Written once the server answers, as a harness waits for it: beside the banner, not before.
    let text = eventually("the ready file", Duration::from_secs(10), || async {
        std::fs::read_to_string(&ready).ok()
    })
    .await;
    let written: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(written["url"], server.url.as_str());
    assert_eq!(written["token"], "wootlite-dev-token");
    assert_eq!(written["account_id"], 1);
    assert_eq!(written["pid"], server.pid());
    let (status, info) = server.get("/__wootlite/info", "wootlite-dev-token").await;
    assert_eq!(status, 200);
    assert_eq!(info["settings"]["webhook_allow_private"], true);
    assert_eq!(info["settings"]["cors_origins"], json!(["*"]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_goes_back_to_the_first_start_whole_while_requests_go_on() {
    let app = std::sync::Arc::new(dev_app().await);
    for _ in 0..3 {
        let id = app.create_conversation(json!({})).await["id"]
            .as_i64()
            .unwrap();
        app.message(id, json!({"content": "a pangolin was here"}))
            .await;
    }
    let mut socket = crate::cable_client::open(&app).await;
    crate::cable_client::next(&mut socket).await;

    // Readers during the reset: every answer is one whole state, before or after.
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (app, running) = (app.clone(), running.clone());
            tokio::spawn(async move {
                let mut seen = 0;
                while running.load(std::sync::atomic::Ordering::Relaxed) {
                    let list = app.get("/api/v1/accounts/1/conversations").await;
                    if list.status == 200 {
                        let listed = list.body["data"]["payload"].as_array().unwrap().len();
                        let counted = list.body["data"]["meta"]["all_count"].as_u64().unwrap();
                        assert_eq!(listed as u64, counted, "a mixed answer: {}", list.body);
                        seen += 1;
                    }
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reset = app.post("/__wootlite/reset", json!({})).await.expect(200);
    assert_eq!(reset["account_id"], 1);
    assert_eq!(reset["token"], crate::helpers::ADMIN_TOKEN);
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }

    let listed = app
        .get("/api/v1/accounts/1/conversations")
        .await
        .expect(200);
    assert_eq!(listed["data"]["meta"]["all_count"], 0);
    let found = app
        .get("/api/v1/accounts/1/conversations/search?q=pangolin")
        .await
        .expect(200);
    assert_eq!(
        found["payload"],
        json!([]),
        "the old messages left the index"
    );
    let fresh = app.create_conversation(json!({})).await;
    assert_eq!(fresh["id"], 1, "ids start at 1 again");
    let inboxes = app.get("/api/v1/accounts/1/inboxes").await.expect(200);
    assert_eq!(inboxes["payload"].as_array().unwrap().len(), 1);
    let journal = app.get("/__wootlite/requests").await.expect(200);
    let before = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["body"].as_str().unwrap_or("").contains("pangolin"))
        .count();
    assert_eq!(before, 0, "the journal was emptied by the reset");
    let goodbye = crate::cable_client::next(&mut socket).await;
    assert_eq!(goodbye["reason"], "server_restart", "{goodbye}");
}

#[tokio::test]
async fn a_reset_reloads_the_fixtures_and_search_finds_only_their_content() {
    let app = spawn_configured(Clock::adjustable(), |settings| {
        settings.dev = true;
        settings.demo = true;
    })
    .await;
    let demo = app
        .get("/api/v1/accounts/1/conversations/meta")
        .await
        .expect(200);
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(id, json!({"content": "a pangolin in customs"}))
        .await;

    let reset = app.post("/__wootlite/reset", json!({})).await.expect(200);
    assert!(
        reset["loaded"]["conversations"].as_u64().unwrap() > 0,
        "{reset}"
    );
    let again = app
        .get("/api/v1/accounts/1/conversations/meta")
        .await
        .expect(200);
    assert_eq!(again, demo, "the same counts as after the first start");
    let search = |q: &'static str| {
        let app = &app;
        async move {
            let path = format!("/api/v1/accounts/1/conversations/search?q={q}");
            app.get(&path).await.expect(200)["payload"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(search("pangolin").await, 0);
    assert_eq!(
        search("customs").await,
        1,
        "the demo's message is found again"
    );
}
