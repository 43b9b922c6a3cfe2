//! Fixtures: a file loaded on the first start, read back over HTTP; errors that name the entry
//! and leave nothing behind; the export round trip; `serve --fixtures` in the binary; the demo.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use wootlite::app::Application;
use wootlite::clock::Clock;
use wootlite::config::Settings;
use wootlite::db::{Db, PoolSizes};
use wootlite::fixtures::{self, DEMO_TOKEN};
use wootlite::store::accounts;

use crate::helpers::{serve_fixture, spawn_configured, write_file, TestApp};
use crate::process;

const TOKEN: &str = "fixture-admin-token";
const AGENT_TOKEN: &str = "fixture-agent-token";

/// Two accounts with a bit of everything.
fn rich() -> Value {
    json!({
        "users": [
            {"key": "ana", "name": "Ana Admin", "email": "ana@example.com", "tokens": [TOKEN]},
            {"key": "ben", "name": "Ben Agent", "email": "ben@example.com", "tokens": [AGENT_TOKEN]},
            {"key": "cy", "name": "Cy Other", "email": "cy@example.com"}
        ],
        "accounts": [
            {
                "key": "acme",
                "name": "Acme",
                "agents": [
                    {"user": "ana", "role": "administrator"},
                    {"user": "ben", "availability": "busy"}
                ],
                "agent_bots": [{"key": "helper", "name": "Helper", "outgoing_url": "https://bot.example.com/hook"}],
                "inboxes": [
                    {"key": "web", "name": "Website", "members": ["ana", "ben"], "hmac_mandatory": true,
                     "webhook_url": "https://example.com/inbox-hook", "identifier": "web-identifier"},
                    {"key": "bots", "name": "Bot inbox", "members": ["ana"], "agent_bot": "helper"}
                ],
                "teams": [{"key": "billing", "name": "Billing", "members": ["ben"]}],
                "labels": [
                    {"title": "vip", "color": "#ff0000"},
                    {"title": "refund", "description": "Money back"}
                ],
                "custom_attribute_definitions": [
                    {"attribute_display_name": "Plan", "attribute_key": "plan",
                     "attribute_display_type": "list", "attribute_values": ["free", "pro"]}
                ],
                "contacts": [
                    {"key": "zoe", "name": "Zoe", "email": "zoe@example.com",
                     "custom_attributes": {"tier": "gold"},
                     "inboxes": [{"inbox": "web", "source_id": "zoe-web"}], "created_at": "-10d"},
                    {"key": "yan", "name": "Yan", "phone_number": "+14155552671", "created_at": "-9d"}
                ],
                "conversations": [
                    {
                        "inbox": "web", "contact": "zoe", "assignee": "ben", "team": "billing",
                        "labels": ["vip", "refund"], "priority": "urgent",
                        "custom_attributes": {"plan": "pro"},
                        "messages": [
                            {"content": "Where is my parcel with the blue teapot?", "created_at": "-3h"},
                            {"type": "outgoing", "content": "Looking into it now", "created_at": "-2h"},
                            {"type": "outgoing", "private": true, "sender": "ana",
                             "content": "Check the courier", "created_at": "-1h"}
                        ]
                    },
                    {
                        "inbox": "web", "contact": "yan", "status": "resolved",
                        "messages": [
                            {"content": "Thanks, all good", "created_at": "-2d"},
                            {"type": "outgoing", "sender": {"agent_bot": "helper"}, "content": "Glad to help",
                             "status": "read", "created_at": "-47h"}
                        ]
                    },
                    {"inbox": "bots", "contact": "yan", "status": "pending",
                     "messages": [{"content": "Hello bot"}]},
                    {"inbox": "web", "contact": "zoe", "status": "snoozed", "snoozed_until": "+1d",
                     "created_at": "-5h", "messages": [{"content": "Ping me tomorrow"}]}
                ],
                "webhooks": [
                    {"url": "https://example.com/hook", "subscriptions": ["message_created", "conversation_status_changed"]}
                ]
            },
            {
                "key": "globex",
                "name": "Globex",
                "agents": [{"user": "cy", "role": "administrator"}, {"user": "ana", "role": "administrator"}],
                "inboxes": [{"key": "api", "name": "API", "members": ["cy"]}],
                "contacts": [{"key": "max", "name": "Max", "email": "max@example.com"}],
                "conversations": [
                    {"inbox": "api", "contact": "max", "messages": [{"content": "Globex question"}]}
                ]
            }
        ]
    })
}

async fn get(app: &TestApp, path: &str) -> Value {
    app.send(Method::GET, path, TOKEN, None).await.expect(200)
}

#[tokio::test]
async fn a_fixture_reads_back_through_the_api_with_ids_from_1() {
    let (app, _files) = serve_fixture(&rich()).await;

    let profile = get(&app, "/api/v1/profile").await;
    assert_eq!(profile["id"], 1);
    assert_eq!(profile["email"], "ana@example.com");

    let list = get(&app, "/api/v1/accounts/1/conversations?status=all").await;
    let mut ids: Vec<i64> = list["data"]["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3, 4]);

    let first = get(&app, "/api/v1/accounts/1/conversations/1").await;
    assert_eq!(first["status"], "open");
    assert_eq!(first["priority"], "urgent");
    assert_eq!(first["meta"]["assignee"]["id"], 2);
    assert_eq!(first["meta"]["team"]["name"], "Billing");
    assert_eq!(first["labels"], json!(["vip", "refund"]));
    assert_eq!(first["custom_attributes"], json!({"plan": "pro"}));
    assert_eq!(first["meta"]["sender"]["name"], "Zoe");
    // Contact spoke last before the agent's public reply, then a note: not waiting any more.
    assert_eq!(first["waiting_since"], 0);
    assert!(first["first_reply_created_at"].as_i64().unwrap() > 0);
    assert_eq!(
        get(&app, "/api/v1/accounts/1/conversations/2").await["status"],
        "resolved"
    );
    assert_eq!(
        get(&app, "/api/v1/accounts/1/conversations/3").await["status"],
        "pending"
    );
    let snoozed = get(&app, "/api/v1/accounts/1/conversations/4").await;
    assert_eq!(snoozed["status"], "snoozed");
    assert!(snoozed["snoozed_until"].is_string());

    let messages = get(&app, "/api/v1/accounts/1/conversations/1/messages").await;
    let payload = messages["payload"].as_array().unwrap();
    let contents: Vec<&str> = payload
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        [
            "Where is my parcel with the blue teapot?",
            "Looking into it now",
            "Check the courier"
        ]
    );
    assert_eq!(payload[0]["sender"]["type"], "contact");
    assert_eq!(
        payload[1]["sender"]["id"], 2,
        "an outgoing message defaults to the assignee"
    );
    assert_eq!(payload[2]["private"], true);
    assert_eq!(payload[2]["sender"]["id"], 1);
    let bot_reply = &get(&app, "/api/v1/accounts/1/conversations/2/messages").await["payload"][1];
    assert_eq!(bot_reply["sender"]["type"], "agent_bot");
    assert_eq!(bot_reply["status"], "read");
    // Messages are numbered in time order across the file: conversation 2's are the oldest.
    assert_eq!(
        get(&app, "/api/v1/accounts/1/conversations/2/messages").await["payload"][0]["id"],
        1
    );

    let meta = get(&app, "/api/v1/accounts/1/conversations/meta?status=all").await;
    assert_eq!(meta["meta"]["all_count"], 4);
    assert_eq!(meta["meta"]["assigned_count"], 1);
    assert_eq!(meta["meta"]["unassigned_count"], 3);
    let open = get(&app, "/api/v1/accounts/1/conversations/meta").await;
    assert_eq!(open["meta"]["all_count"], 1);

    let found = get(
        &app,
        "/api/v1/accounts/1/conversations/search?q=blue%20teapot",
    )
    .await;
    let hits = found["payload"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["id"], 1);

    let contacts = get(&app, "/api/v1/accounts/1/contacts").await;
    let names: Vec<&str> = contacts["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Zoe", "Yan"]);
    let zoe = get(&app, "/api/v1/accounts/1/contacts/1").await;
    assert_eq!(zoe["payload"]["contact_inboxes"][0]["source_id"], "zoe-web");
    assert!(zoe["payload"]["last_activity_at"].as_i64().is_some());

    let inbox = get(&app, "/api/v1/accounts/1/inboxes/1").await;
    assert_eq!(inbox["inbox_identifier"], "web-identifier");
    assert_eq!(inbox["hmac_mandatory"], true);
    let bot = get(&app, "/api/v1/accounts/1/inboxes/2/agent_bot").await;
    assert_eq!(bot["agent_bot"]["name"], "Helper");
    let labels = get(&app, "/api/v1/accounts/1/labels").await;
    assert_eq!(labels["payload"][0]["title"], "vip");
    let webhooks = get(&app, "/api/v1/accounts/1/webhooks").await;
    assert_eq!(
        webhooks["payload"]["webhooks"][0]["url"],
        "https://example.com/hook"
    );

    // Account 2 numbers its conversations from 1; Ben is a stranger there.
    let globex = get(&app, "/api/v1/accounts/2/conversations/1").await;
    assert_eq!(globex["meta"]["sender"]["name"], "Max");
    assert_eq!(globex["inbox_id"], 3);
    let stranger = app
        .send(
            Method::GET,
            "/api/v1/accounts/2/conversations",
            AGENT_TOKEN,
            None,
        )
        .await;
    assert_eq!(stranger.status, 401);
}

#[tokio::test]
async fn a_bad_entry_is_named_and_nothing_is_loaded() {
    let mut fixture = rich();
    fixture["accounts"][0]["conversations"][1]["assignee"] = json!("nobody");
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
    let parsed = fixtures::parse(&fixture.to_string()).unwrap();
    let error = fixtures::load(&db, &parsed, Clock::system().now_micros()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "accounts[0].conversations[1].assignee: no user \"nobody\" in account \"acme\""
    );
    assert!(
        !db.read_now(accounts::any_exists).unwrap(),
        "nothing was kept"
    );

    let cases = [
        (
            "/accounts/0/contacts/1/email",
            json!("not-an-email"),
            "accounts[0].contacts[1].email",
        ),
        (
            "/accounts/0/conversations/0/status",
            json!("closed"),
            "accounts[0].conversations[0].status",
        ),
        (
            "/accounts/0/conversations/2/inbox",
            json!("nowhere"),
            "accounts[0].conversations[2].inbox",
        ),
        (
            "/accounts/0/labels/1/title",
            json!("two words"),
            "accounts[0].labels[1].title",
        ),
        (
            "/accounts/0/webhooks/0/subscriptions",
            json!(["nothing_happened"]),
            "accounts[0].webhooks[0].subscriptions",
        ),
        ("/users/1/tokens", json!([TOKEN]), "users[1].tokens[0]"),
        ("/accounts/1/id", json!(7), "accounts[1].id"),
    ];
    for (pointer, value, entry) in cases {
        let mut fixture = rich();
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        fixture.pointer_mut(parent).unwrap()[field] = value;
        let parsed = fixtures::parse(&fixture.to_string()).unwrap();
        let error = fixtures::load(&db, &parsed, 0).unwrap_err();
        assert_eq!(error.entry, entry, "{error}");
        assert!(
            !db.read_now(accounts::any_exists).unwrap(),
            "{entry}: nothing kept"
        );
    }

    // A mistake in the file's shape is named by its path too.
    let mut fixture = rich();
    fixture["accounts"][0]["conversations"][0]["asignee"] = json!("ana");
    let error = fixtures::parse(&fixture.to_string()).unwrap_err();
    assert_eq!(error.entry, "accounts[0].conversations[0].asignee");
    assert!(error.message.contains("asignee"), "{error}");

    // A server started with the file refuses to start, and leaves the data dir empty.
    let files = tempfile::tempdir().unwrap();
    let mut fixture = rich();
    fixture["accounts"][0]["conversations"][1]["assignee"] = json!("nobody");
    let path = write_file(files.path(), "bad.json", &fixture);
    let data = tempfile::tempdir().unwrap();
    let mut settings = settings_for(data.path());
    settings.fixtures = Some(path);
    let refused = Application::build(&settings, Clock::system())
        .err()
        .expect("refused");
    assert!(
        refused
            .to_string()
            .contains("accounts[0].conversations[1].assignee: no user"),
        "{refused}"
    );
    let db = Db::open(&settings.data_dir.database_file(), PoolSizes::SMALL).unwrap();
    assert!(!db.read_now(accounts::any_exists).unwrap());
}

fn settings_for(data_dir: &Path) -> Settings {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }
    let dir = data_dir.to_str().unwrap();
    Cli::try_parse_from(["wootlite", "--bind", "127.0.0.1:0", "--data-dir", dir])
        .unwrap()
        .settings
}

/// Everything the API answers about an account, as one value.
async fn snapshot(app: &TestApp, account: i64) -> Value {
    let base = format!("/api/v1/accounts/{account}");
    let mut out = serde_json::Map::new();
    for path in [
        "/agents",
        "/inboxes",
        "/teams",
        "/labels",
        "/custom_attribute_definitions",
        "/webhooks",
        "/agent_bots",
        "/contacts",
        "/conversations?status=all",
        "/conversations/meta?status=all",
    ] {
        out.insert(path.into(), get(app, &format!("{base}{path}")).await);
    }
    let list = get(app, &format!("{base}/conversations?status=all")).await;
    for conversation in list["data"]["payload"].as_array().unwrap() {
        let id = conversation["id"].as_i64().unwrap();
        for path in [
            format!("/conversations/{id}"),
            format!("/conversations/{id}/messages"),
            format!("/conversations/{id}/labels"),
        ] {
            out.insert(path.clone(), get(app, &format!("{base}{path}")).await);
        }
    }
    let contacts = get(app, &format!("{base}/contacts")).await;
    for contact in contacts["payload"].as_array().unwrap() {
        let id = contact["id"].as_i64().unwrap();
        let path = format!("/contacts/{id}");
        out.insert(path.clone(), get(app, &format!("{base}{path}")).await);
    }
    Value::Object(out)
}

#[tokio::test]
async fn an_export_loads_back_to_the_same_state() {
    let (first, _files) = serve_fixture(&rich()).await;
    // Changes made through the API after loading are exported too.
    first
        .send(
            Method::POST,
            "/api/v1/accounts/1/conversations/1/messages",
            TOKEN,
            Some(json!({"content": "Written after the load"})),
        )
        .await
        .expect(200);
    first
        .send(
            Method::POST,
            "/api/v1/accounts/1/conversations/2/toggle_status",
            TOKEN,
            Some(json!({"status": "open"})),
        )
        .await
        .expect(200);

    let exported = fixtures::export_with_tokens(&first.db(), &[TOKEN.to_string()]).unwrap();
    let text = serde_json::to_string(&exported).unwrap();
    let (second, _files2) = serve_fixture(&serde_json::from_str(&text).unwrap()).await;

    for account in [1, 2] {
        let (a, b) = (
            snapshot(&first, account).await,
            snapshot(&second, account).await,
        );
        for (path, value) in a.as_object().unwrap() {
            assert_eq!(value, &b[path], "account {account}: {path} differs");
        }
    }
    // Exporting the copy gives the same file.
    let again = fixtures::export_with_tokens(&second.db(), &[TOKEN.to_string()]).unwrap();
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&exported).unwrap()
    );
    // And search finds what was written after the first load.
    let found = get(
        &second,
        "/api/v1/accounts/1/conversations/search?q=after%20the%20load",
    )
    .await;
    assert_eq!(found["payload"][0]["id"], 1);
}

#[tokio::test]
async fn serve_loads_the_fixtures_file_on_the_first_start_only() {
    let files = tempfile::tempdir().unwrap();
    let path = write_file(files.path(), "fixture.json", &rich());
    let data = tempfile::tempdir().unwrap();
    let flags = ["--fixtures", path.to_str().unwrap()];
    let server = process::try_start_with(data.path(), None, &flags, None)
        .await
        .unwrap();
    assert!(
        server
            .line("loaded fixtures:")
            .starts_with("2 accounts, 3 users, 5 conversations"),
        "{:?}",
        server.banner
    );
    let (status, body) = server
        .get("/api/v1/accounts/1/conversations/1", TOKEN)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["sender"]["name"], "Zoe");
    server.stop().await;

    // The data dir is in use now: the file is not loaded again, and the data stays.
    let server = process::try_start_with(data.path(), None, &flags, None)
        .await
        .unwrap();
    assert!(server.banner.iter().all(|l| !l.contains("loaded fixtures")));
    let (status, body) = server
        .get("/api/v1/accounts/1/conversations?status=all", TOKEN)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["meta"]["all_count"], 4);
    server.stop().await;

    // The export command prints it back.
    let output = process::run(&["fixtures", "export", "--token", TOKEN], data.path()).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let exported: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(exported["users"][0]["tokens"], json!([TOKEN]));
    assert_eq!(
        exported["users"][1].get("tokens"),
        None,
        "tokens are stored hashed"
    );
    assert_eq!(
        exported["accounts"][0]["conversations"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // A bad file stops the start with the entry named and a failing exit.
    let mut fixture = rich();
    fixture["accounts"][0]["teams"][0]["members"] = json!(["cy"]);
    let bad = write_file(files.path(), "bad.json", &fixture);
    let fresh = tempfile::tempdir().unwrap();
    let refused = process::try_start_with(
        fresh.path(),
        None,
        &["--fixtures", bad.to_str().unwrap()],
        None,
    )
    .await
    .err()
    .expect("refused");
    assert!(refused.contains("exit status: 1"), "{refused}");
    assert!(
        refused.contains("accounts[0].teams[0].members[0]: no user \"cy\" in account \"acme\""),
        "{refused}"
    );
}

/// One example request of Chatwoot's API documentation: the operation it documents, the request
/// as the example writes it, and what the documented answer must show.
struct Example {
    doc: &'static str,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    check: fn(&Value) -> bool,
}

fn example(
    doc: &'static str,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    check: fn(&Value) -> bool,
) -> Example {
    Example {
        doc,
        method,
        path,
        body,
        check,
    }
}

/// The ids of a list's conversations, in order.
fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .map(|l| l.iter().filter_map(|c| c["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Every example request of Chatwoot's published Conversations API documentation (its OpenAPI
/// files: the application API and the newer conversations one), and of the contact endpoints
/// that carry one, as written there: account 1, conversation 1, contact 1, the bodies
/// put together from the documented example values. In an order where each one works.
///
/// Not here, as wootlite has no such endpoint: `POST /contacts/1/labels` (contact-add-labels,
/// `{"labels": ["support", "billing"]}`), `POST /contacts/filter` (contactFilter, a contact named
/// "en" in country "us") and `GET /conversations/1/reporting_events` (enterprise edition). The
/// newer file also lists `GET /accounts/{account_id}/conversations/{conversation_id}/messages`,
/// a duplicate of list-all-messages that lacks the `/api/v1` prefix: no Chatwoot route.
fn documented_examples() -> Vec<Example> {
    use Method as M;
    vec![
        // --- The documented reads (the query parameters have no example values; these use the
        // demo's).
        example(
            "conversationList",
            M::GET,
            "/api/v1/accounts/1/conversations",
            None,
            // Open ones by default: 1 and 4; John is assigned conversation 1.
            |b| {
                b["data"]["meta"]["all_count"] == 2
                    && b["data"]["meta"]["mine_count"] == 1
                    && ids(&b["data"]["payload"]) == [4, 1]
            },
        ),
        example(
            "conversationList, every documented query parameter",
            M::GET,
            "/api/v1/accounts/1/conversations?assignee_type=me&status=open&q=order&inbox_id=1&team_id=1&labels=support&page=1",
            None,
            |b| ids(&b["data"]["payload"]) == [1],
        ),
        example(
            "conversationList, status all",
            M::GET,
            "/api/v1/accounts/1/conversations?status=all",
            None,
            |b| b["data"]["meta"]["all_count"] == 4,
        ),
        example(
            "conversationListMeta",
            M::GET,
            "/api/v1/accounts/1/conversations/meta",
            None,
            |b| {
                b["meta"]["all_count"] == 2
                    && b["meta"]["mine_count"] == 1
                    && b["meta"]["unassigned_count"] == 1
                    && b["meta"]["assigned_count"] == 1
            },
        ),
        example(
            "conversationListMeta, every documented query parameter",
            M::GET,
            "/api/v1/accounts/1/conversations/meta?status=all&inbox_id=1&team_id=1&labels=support",
            None,
            |b| b["meta"]["all_count"] == 1,
        ),
        // Not in the OpenAPI files; documented in Chatwoot's API reference (message content).
        example(
            "conversation search",
            M::GET,
            "/api/v1/accounts/1/conversations/search?q=order",
            None,
            |b| ids(&b["payload"]) == [1],
        ),
        example(
            "get-details-of-a-conversation",
            M::GET,
            "/api/v1/accounts/1/conversations/1",
            None,
            |b| b["id"] == 1 && b["status"] == "open" && b["meta"]["sender"]["name"] == "Alice",
        ),
        example(
            "list-all-messages",
            M::GET,
            "/api/v1/accounts/1/conversations/1/messages",
            None,
            |b| {
                b["meta"]["contact"]["name"] == "Alice"
                    && b["payload"].as_array().map(Vec::len) == Some(4)
                    && b["payload"][0]["content"] == "Hi! My order 12345 has not arrived yet."
            },
        ),
        // Messages are numbered in time order across the demo: conversation 1 has 5 to 8.
        example(
            "list-all-messages, after",
            M::GET,
            "/api/v1/accounts/1/conversations/1/messages?after=5",
            None,
            |b| ids(&b["payload"]) == [6, 7, 8],
        ),
        example(
            "list-all-messages, before",
            M::GET,
            "/api/v1/accounts/1/conversations/1/messages?before=8",
            None,
            |b| ids(&b["payload"]) == [5, 6, 7],
        ),
        example(
            "list-all-labels-of-a-conversation",
            M::GET,
            "/api/v1/accounts/1/conversations/1/labels",
            None,
            |b| b["payload"] == json!(["support"]),
        ),
        // --- The examples that change something.
        // conversation_create_payload, every property's example. Chatwoot keeps `snoozed_until`
        // only on a snoozed conversation (`ensure_snooze_until_reset`), so an open one has none;
        // `template_params` are sent only by WhatsApp inboxes.
        example(
            "newConversation",
            M::POST,
            "/api/v1/accounts/1/conversations",
            Some(json!({
                "source_id": "1234567890",
                "inbox_id": 1,
                "contact_id": 1,
                "additional_attributes": {"browser": "Chrome", "browser_version": "89.0.4389.82", "os": "Windows", "os_version": "10"},
                "custom_attributes": {"attribute_key": "attribute_value", "priority_conversation_number": 3},
                "status": "open",
                "assignee_id": 1,
                "team_id": 1,
                "snoozed_until": "2030-07-21T17:32:28Z",
                "message": {
                    "content": "Hello, how can I help you?",
                    "template_params": {
                        "name": "sample_issue_resolution",
                        "category": "UTILITY",
                        "language": "en_US",
                        "processed_params": {"1": "Chatwoot"}
                    }
                }
            })),
            |b| {
                b["id"] == 5
                    && b["account_id"] == 1
                    && b["inbox_id"] == 1
                    && b["status"] == "open"
                    && b["snoozed_until"].is_null()
                    && b["meta"]["sender"]["name"] == "Alice"
                    && b["meta"]["assignee"]["id"] == 1
                    && b["meta"]["team"]["id"] == 1
            },
        ),
        // conversation_message_create_payload, every property's example. Chatwoot keeps
        // `campaign_id` in the message's additional attributes without looking the campaign up.
        example(
            "create-a-new-message-in-a-conversation",
            M::POST,
            "/api/v1/accounts/1/conversations/1/messages",
            Some(json!({
                "content": "Hello, how can I help you?",
                "message_type": "outgoing",
                "private": false,
                "content_type": "text",
                "content_attributes": {},
                "campaign_id": 1,
                "template_params": {
                    "name": "purchase_receipt",
                    "category": "UTILITY",
                    "language": "en_US",
                    "processed_params": {
                        "body": {"1": "Visa", "2": "Nike", "3": "Bill"},
                        "header": {
                            "media_url": "https://www.w3.org/WAI/ER/tests/xhtml/testfiles/resources/pdf/dummy.pdf",
                            "media_type": "document"
                        },
                        "buttons": [{"type": "url", "parameter": "SSFSDFSD"}]
                    }
                }
            })),
            |b| {
                b["content"] == "Hello, how can I help you?"
                    && b["message_type"] == 1
                    && b["private"] == false
                    && b["sender"]["name"] == "John Doe"
            },
        ),
        // The two WhatsApp template examples of the operation's description. The demo's inbox is
        // not a WhatsApp one: as in Chatwoot, the message is kept and the template not sent.
        example(
            "create-a-new-message-in-a-conversation, text with image header",
            M::POST,
            "/api/v1/accounts/1/conversations/1/messages",
            Some(json!({
                "content": "Hi your order 121212 is confirmed. Please wait for further updates",
                "template_params": {
                    "name": "order_confirmation",
                    "category": "MARKETING",
                    "language": "en",
                    "processed_params": {
                        "body": {"1": "121212"},
                        "header": {"media_url": "https://picsum.photos/200/300", "media_type": "image"}
                    }
                }
            })),
            |b| b["message_type"] == 1 && b["content"].as_str().is_some_and(|c| c.contains("121212")),
        ),
        example(
            "create-a-new-message-in-a-conversation, text with copy code button",
            M::POST,
            "/api/v1/accounts/1/conversations/1/messages",
            Some(json!({
                "content": "Special offer! Get 30% off your next purchase. Use the code below",
                "template_params": {
                    "name": "discount_coupon",
                    "category": "MARKETING",
                    "language": "en",
                    "processed_params": {
                        "body": {"discount_percentage": "30"},
                        "buttons": [{"type": "copy_code", "parameter": "SAVE20"}]
                    }
                }
            })),
            |b| b["message_type"] == 1 && b["content"].as_str().is_some_and(|c| c.contains("30%")),
        ),
        // Documented without an example: message 8 is the demo's private note in conversation 1.
        // Chatwoot keeps it, emptied, and answers it.
        example(
            "delete-a-message",
            M::DELETE,
            "/api/v1/accounts/1/conversations/1/messages/8",
            None,
            |b| b["id"] == 8 && b["content"] == "This message was deleted",
        ),
        // Answers 200 with no body; the priority is read back below.
        example(
            "toggle-priority-of-a-conversation",
            M::POST,
            "/api/v1/accounts/1/conversations/1/toggle_priority",
            Some(json!({"priority": "high"})),
            |_| true,
        ),
        example(
            "get-details-of-a-conversation, after toggle_priority",
            M::GET,
            "/api/v1/accounts/1/conversations/1",
            None,
            |b| b["priority"] == "high",
        ),
        // `sla_policy_id` is for Chatwoot's enterprise edition; the community edition permits
        // only `priority` and ignores it.
        example(
            "update-conversation",
            M::PATCH,
            "/api/v1/accounts/1/conversations/1",
            Some(json!({"priority": "high", "sla_policy_id": 1})),
            |b| b["id"] == 1 && b["priority"] == "high",
        ),
        // Answers 200 with no body; it only tells the other clients.
        example(
            "toggle-typing-status-of-a-conversation",
            M::POST,
            "/api/v1/accounts/1/conversations/1/toggle_typing_status",
            Some(json!({"typing_status": "on", "is_private": false})),
            |_| true,
        ),
        // The older file's example.
        example(
            "toggle-status-of-a-conversation",
            M::POST,
            "/api/v1/accounts/1/conversations/1/toggle_status",
            Some(json!({"status": "open"})),
            |b| b["payload"]["success"] == true && b["payload"]["current_status"] == "open",
        ),
        // The newer file's example: a `snoozed_until` sent with any status other than snoozed
        // is dropped, as Chatwoot does (`ensure_snooze_until_reset`).
        example(
            "toggle-status-of-a-conversation, with snoozed_until",
            M::POST,
            "/api/v1/accounts/1/conversations/1/toggle_status",
            Some(json!({"status": "open", "snoozed_until": 1757506877})),
            |b| {
                b["payload"]["conversation_id"] == 1
                    && b["payload"]["current_status"] == "open"
                    && b["payload"]["snoozed_until"].is_null()
            },
        ),
        example(
            "update-custom-attributes-of-a-conversation",
            M::POST,
            "/api/v1/accounts/1/conversations/1/custom_attributes",
            Some(json!({"custom_attributes": {"order_id": "12345", "previous_conversation": "67890"}})),
            |b| b["custom_attributes"] == json!({"order_id": "12345", "previous_conversation": "67890"}),
        ),
        // Both ids in the example: the assignee wins and the answer is the agent.
        example(
            "assign-a-conversation",
            M::POST,
            "/api/v1/accounts/1/conversations/1/assignments",
            Some(json!({"assignee_id": 1, "team_id": 1})),
            |b| b["id"] == 1 && b["name"] == "John Doe",
        ),
        // Replaces the conversation's labels.
        example(
            "conversation-add-labels",
            M::POST,
            "/api/v1/accounts/1/conversations/1/labels",
            Some(json!({"labels": ["support", "billing"]})),
            |b| b["payload"] == json!(["support", "billing"]),
        ),
        // A pending conversation whose browser is not in English: conversation 2.
        example(
            "conversationFilter",
            M::POST,
            "/api/v1/accounts/1/conversations/filter",
            Some(json!({"payload": [
                {"attribute_key": "browser_language", "filter_operator": "not_equal_to", "values": ["en"], "query_operator": "AND"},
                {"attribute_key": "status", "filter_operator": "equal_to", "values": ["pending"], "query_operator": null}
            ]})),
            |b| ids(&b["payload"]) == [2] && b["meta"]["all_count"] == 1,
        ),
        // --- Contacts. contact_update_payload, every property's example: Alice as she is.
        example(
            "contactUpdate",
            M::PUT,
            "/api/v1/accounts/1/contacts/1",
            Some(json!({
                "name": "Alice",
                "email": "alice@acme.inc",
                "blocked": false,
                "phone_number": "+123456789",
                "avatar_url": "https://example.com/avatar.png",
                "identifier": "1234567890",
                "additional_attributes": {"type": "customer", "age": 30},
                "custom_attributes": {}
            })),
            |b| b["payload"]["id"] == 1 && b["payload"]["email"] == "alice@acme.inc",
        ),
        // The create example is Alice again, whose email and identifier are taken while she is
        // there (Chatwoot answers 422): it is sent after contact 1 is deleted (documented
        // without an example). This goes last, as it takes conversations 1, 4 and 5 with it.
        example(
            "contactDelete",
            M::DELETE,
            "/api/v1/accounts/1/contacts/1",
            None,
            |_| true,
        ),
        example(
            "contactCreate",
            M::POST,
            "/api/v1/accounts/1/contacts",
            Some(json!({
                "inbox_id": 1,
                "name": "Alice",
                "email": "alice@acme.inc",
                "blocked": false,
                "phone_number": "+123456789",
                "avatar_url": "https://example.com/avatar.png",
                "identifier": "1234567890",
                "additional_attributes": {"type": "customer", "age": 30},
                "custom_attributes": {}
            })),
            |b| {
                b["payload"]["contact"]["name"] == "Alice"
                    && b["payload"]["contact_inbox"]["inbox"]["id"] == 1
            },
        ),
    ]
}

#[tokio::test]
async fn the_demo_answers_the_documented_examples() {
    let app = spawn_configured(Clock::system(), |settings| {
        settings.bootstrap_token = None;
        settings.demo = true;
    })
    .await;
    let profile = app
        .send(Method::GET, "/api/v1/profile", DEMO_TOKEN, None)
        .await
        .expect(200);
    assert_eq!(profile["id"], 1);
    assert_eq!(profile["name"], "John Doe");

    let mut failed = Vec::new();
    for example in documented_examples() {
        let reply = app
            .send(
                example.method.clone(),
                example.path,
                DEMO_TOKEN,
                example.body,
            )
            .await;
        if !(200..300).contains(&reply.status) || !(example.check)(&reply.body) {
            failed.push(format!(
                "{} ({} {}): {} {}",
                example.doc, example.method, example.path, reply.status, reply.body
            ));
        }
    }
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));

    // The embedded file is what `demo()` gives.
    assert_eq!(fixtures::demo().accounts[0].conversations.len(), 4);
}
