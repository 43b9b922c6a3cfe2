//! One real server per test: built from settings on 127.0.0.1:0 with a fresh temp data dir, and
//! talked to over HTTP. In the `api_postgres` test binary each server keeps its data in a
//! PostgreSQL database of its own instead (see tests/api_postgres.rs).

use std::path::{Path, PathBuf};

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tempfile::TempDir;

use wootlite::app::Application;
use wootlite::clock::Clock;
use wootlite::config::{DataDir, Settings};
use wootlite::db::{Db, PoolSizes};
use wootlite::models::Role;
use wootlite::provision::{self, NewAccount, Provisioned};
use wootlite::store::{accounts, tokens};

pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const BODY_LIMIT: usize = 256 * 1024;
pub const ATTACHMENT_LIMIT: usize = 1024 * 1024;
pub const MESSAGE_ATTACHMENTS_LIMIT: usize = 3 * ATTACHMENT_LIMIT;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    /// The server's search index, for fault tests.
    pub search: std::sync::Arc<wootlite::search::SearchIndex>,
    /// The server's database, for tests that occupy its heavy reads' turns.
    pub db: wootlite::db::Db,
    home: Home,
    handle: actix_web::dev::ServerHandle,
    running: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Clock::system()).await
}

/// A server whose time is `clock` (a manual clock moves only when the test says).
pub async fn spawn_app_with(clock: Clock) -> TestApp {
    start_in(Home::new(), clock, |_| {})
}

/// Where a test server keeps its data: its data dir, and on PostgreSQL its database.
struct Home {
    dir: TempDir,
    /// Shared by the nodes of one database (`TestApp::another_node`), dropped with the last.
    database: Option<std::sync::Arc<crate::test_database::TestDatabase>>,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            database: on_postgres().then(|| std::sync::Arc::new(postgres_or_skip_all())),
        }
    }
}

/// A PostgreSQL database of its own for a test that starts its nodes itself.
#[allow(dead_code)] // Only the PostgreSQL binary's tests start nodes on a database.
pub fn postgres_database() -> std::sync::Arc<crate::test_database::TestDatabase> {
    std::sync::Arc::new(postgres_or_skip_all())
}

/// A server on `database`, with a data dir of its own: one node among others there.
#[allow(dead_code)] // Only the PostgreSQL binary's tests start nodes on a database.
pub async fn spawn_node(database: std::sync::Arc<crate::test_database::TestDatabase>) -> TestApp {
    let home = Home {
        dir: tempfile::tempdir().expect("temp dir"),
        database: Some(database),
    };
    start_in(home, Clock::system(), |_| {})
}

/// Whether this test binary runs the suite on PostgreSQL.
pub fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "api_postgres"
}

/// A database for one server. Without a server to create it on, the whole binary is skipped:
/// it says so once and ends, passing, before any test has run against the wrong engine (or
/// fails, where skips are not allowed).
fn postgres_or_skip_all() -> crate::test_database::TestDatabase {
    crate::test_database::TestDatabase::create_or_skip("the integration suite on PostgreSQL")
        .unwrap_or_else(|| std::process::exit(0))
}

/// `fixture` written as JSON to `dir/name`.
pub fn write_file(dir: &Path, name: &str, fixture: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(fixture).unwrap()).unwrap();
    path
}

/// A server on a fresh data dir started with `--fixtures FILE` (and no bootstrap token); the
/// second value holds the file.
pub async fn serve_fixture(fixture: &Value) -> (TestApp, TempDir) {
    let files = tempfile::tempdir().unwrap();
    let path = write_file(files.path(), "fixture.json", fixture);
    let app = spawn_configured(Clock::system(), move |settings| {
        settings.bootstrap_token = None;
        settings.fixtures = Some(path);
    })
    .await;
    (app, files)
}

/// A server with settings changed by `configure`.
pub async fn spawn_configured(clock: Clock, configure: impl FnOnce(&mut Settings)) -> TestApp {
    start_in(Home::new(), clock, configure)
}

fn start_in(home: Home, clock: Clock, configure: impl FnOnce(&mut Settings)) -> TestApp {
    // The server's own log, shown with a failing test's output when RUST_LOG asks for it.
    let _ = env_logger::builder().is_test(true).try_init();
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: DataDir {
            path: home.dir.path().to_path_buf(),
        },
        database: wootlite::config::DatabaseUrl {
            url: home.database.as_ref().map(|d| d.url()),
        },
        files_dir: None,
        bootstrap_token: Some(ADMIN_TOKEN.to_string()),
        fixtures: None,
        demo: false,
        public_url: None,
        max_body_bytes: BODY_LIMIT,
        max_attachment_bytes: ATTACHMENT_LIMIT,
        max_message_attachments_bytes: MESSAGE_ATTACHMENTS_LIMIT,
        max_concurrent_uploads: 4,
        read_pool_size: 4,
        search_concurrency: 2,
        smtp_url: None,
        mail_from: "wootlite <wootlite@localhost>".into(),
        emails_per_day: None,
        max_database_bytes: None,
        wal_target_bytes: 64 << 20,
        body_timeout_secs: 30,
        body_min_bytes_per_sec: 1024,
        max_connections: 0,
        metrics: false,
        workers: 1,
        webhook_concurrency: 8,
        public_rate_limit: 600,
        cors_origins: Vec::new(),
        dev: false,
        ready_file: None,
        web_dir: None,
        webhook_retry_window_secs: 24 * 3600,
        event_retention_secs: 7 * 24 * 3600,
        webhook_timeout_secs: 5,
        claim_lease_secs: None,
        webhook_allow: Vec::new(),
        // Test receivers listen on 127.0.0.1.
        webhook_allow_private: true,
    };
    configure(&mut settings);
    let app = Application::build(&settings, clock).expect("server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let search = app.search();
    let db = app.db();
    let running = tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        data_dir: home.dir.path().to_path_buf(),
        search,
        db,
        home,
        handle,
        running,
    }
}

impl TestApp {
    /// Waits until the search index itself holds every change written so far (a search does not
    /// wait for it: it reads what the index lacks from the database).
    pub async fn index_caught_up(&self) {
        let written = self
            .db
            .read_now(wootlite::store::search_feed::latest_seq)
            .expect("outbox position");
        let limit = std::time::Duration::from_secs(60);
        assert!(
            self.search.wait_until_visible(written, limit).await,
            "the search index did not take in the changes written before"
        );
    }

    /// Stops the server gracefully and starts a new one on the same data dir.
    pub async fn restart(self, clock: Clock) -> TestApp {
        self.restart_configured(clock, |_| {}).await
    }

    pub async fn restart_configured(
        self,
        clock: Clock,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        self.handle.stop(true).await;
        self.running
            .await
            .expect("server task")
            .expect("server stopped cleanly");
        start_in(self.home, clock, configure)
    }
}

/// A response's status and JSON body (`Value::Null` when the body is empty).
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

impl Reply {
    pub async fn from(response: Response) -> Reply {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        Reply {
            status,
            body,
            content_type,
        }
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request with the given token (none when `token` is None).
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.header("api_access_token", token),
            None => builder,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = self.request(method, path, Some(token));
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        Reply::from(builder.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, ADMIN_TOKEN, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, ADMIN_TOKEN, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, ADMIN_TOKEN, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, ADMIN_TOKEN, None).await
    }

    /// The server's database, opened beside it (for store-level checks and direct setup).
    /// A handle of the test's own on the server's database, as a command would open it: its
    /// writes record no events.
    pub fn db(&self) -> Db {
        match &self.home.database {
            Some(database) => Db::open_postgres(&database.url(), PoolSizes::SMALL),
            None => Db::open(&self.data_dir.join("wootlite.sqlite3"), PoolSizes::SMALL),
        }
        .expect("open db")
    }

    /// A second account with its own administrator, inbox and token (as `account create` makes).
    pub fn create_account(&self, name: &str, admin_email: &str) -> Provisioned {
        provision::create_account(
            &self.db(),
            &NewAccount {
                name,
                admin_name: name,
                admin_email,
                token: None,
            },
            Clock::system().now_micros(),
        )
        .expect("account created")
    }

    /// A fresh token for a user (as `token create` makes).
    pub fn token_for(&self, user_id: i64) -> String {
        let token = tokens::generate();
        self.db()
            .write_now(|tx| tokens::insert(tx, user_id, &token, 0))
            .expect("token stored");
        token
    }

    /// Makes a user a member (role `agent`) of another account as well, directly in the database:
    /// users are shared between accounts.
    pub fn join_account(&self, account_id: i64, user_id: i64) {
        self.db()
            .write_now(|tx| accounts::add_member(tx, account_id, user_id, Role::Agent, 0))
            .expect("membership stored");
    }

    /// Adds an agent (role `agent`) to account 1 through the API and returns (id, token).
    pub async fn create_agent(&self, name: &str, email: &str) -> (i64, String) {
        let body = self
            .post(
                "/api/v1/accounts/1/agents",
                serde_json::json!({ "name": name, "email": email, "role": "agent" }),
            )
            .await
            .expect(200);
        let id = body["id"].as_i64().expect("agent id");
        (id, self.token_for(id))
    }
}

impl TestApp {
    /// `GET /agents` of `account_id` with `token`: the reply, whatever its status.
    pub async fn agents_as(&self, account_id: i64, token: &str) -> Reply {
        let path = format!("/api/v1/accounts/{account_id}/agents");
        self.send(Method::GET, &path, token, None).await
    }

    /// How many accounts `token`'s user belongs to, from its profile.
    pub async fn account_count(&self, token: &str) -> usize {
        let profile = self
            .send(Method::GET, "/api/v1/profile", token, None)
            .await
            .expect(200);
        profile["accounts"].as_array().expect("accounts").len()
    }
}

/// Chatwoot's `{"error": ...}` body.
pub fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error key in {body}"))
}

/// The attributes of a 422, checking that the body is Rails' `{"message", "attributes"}`.
pub fn invalid_attributes(body: &Value) -> Vec<String> {
    assert!(body["message"].is_string(), "no message in {body}");
    body["attributes"]
        .as_array()
        .unwrap_or_else(|| panic!("no attributes in {body}"))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

impl TestApp {
    /// A contact in account 1 with a contact inbox in inbox 1 under `source_id`; returns its id.
    pub async fn create_contact(&self, name: &str, source_id: &str) -> i64 {
        let body = self
            .post(
                "/api/v1/accounts/1/contacts",
                serde_json::json!({ "name": name, "inbox_id": 1, "source_id": source_id }),
            )
            .await
            .expect(200);
        body["payload"]["contact"]["id"]
            .as_i64()
            .expect("contact id")
    }

    /// A conversation in account 1 (inbox 1) for a new contact; returns the conversation JSON.
    pub async fn create_conversation(&self, extra: Value) -> Value {
        let source = format!("src-{}", uuid_like());
        self.create_contact("Customer", &source).await;
        let mut body = serde_json::json!({ "source_id": source });
        if let (Some(target), Value::Object(more)) = (body.as_object_mut(), extra) {
            target.extend(more);
        }
        self.post("/api/v1/accounts/1/conversations", body)
            .await
            .expect(200)
    }

    pub async fn conversation(&self, id: i64) -> Value {
        self.get(&format!("/api/v1/accounts/1/conversations/{id}"))
            .await
            .expect(200)
    }

    /// Posts a message to conversation `id` of account 1 and returns it.
    pub async fn message(&self, id: i64, body: Value) -> Value {
        self.post(
            &format!("/api/v1/accounts/1/conversations/{id}/messages"),
            body,
        )
        .await
        .expect(200)
    }

    /// All messages of a conversation (up to the latest 20).
    pub async fn messages(&self, id: i64) -> Vec<Value> {
        let body = self
            .get(&format!("/api/v1/accounts/1/conversations/{id}/messages"))
            .await
            .expect(200);
        body["payload"].as_array().unwrap().clone()
    }

    /// The contents of the conversation's activity messages, oldest first.
    pub async fn activity(&self, id: i64) -> Vec<String> {
        self.messages(id)
            .await
            .iter()
            .filter(|m| m["message_type"] == 2)
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    }

    /// A second server on this one's PostgreSQL database, with a data dir of its own: another
    /// node behind the same load balancer.
    #[allow(dead_code)] // SQLite has one node: only the PostgreSQL binary's tests use it.
    pub async fn another_node(&self) -> TestApp {
        let database = self
            .home
            .database
            .clone()
            .expect("another node shares a PostgreSQL database");
        spawn_node(database).await
    }

    /// `another_node` with its own clock and settings changed by `configure`.
    #[allow(dead_code)] // SQLite has one node: only the PostgreSQL binary's tests use it.
    pub async fn another_node_configured(
        &self,
        clock: Clock,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let home = Home {
            dir: tempfile::tempdir().expect("temp dir"),
            database: self.home.database.clone(),
        };
        assert!(
            home.database.is_some(),
            "another node shares a PostgreSQL database"
        );
        start_in(home, clock, configure)
    }

    /// Where the server writes mail as `.eml` files without SMTP: its data dir's `mail/`, or
    /// on PostgreSQL under the files dir that nodes share.
    pub fn mail_dir(&self) -> PathBuf {
        match self.home.database {
            Some(_) => self.data_dir.join("files").join("mail"),
            None => self.data_dir.join("mail"),
        }
    }

    /// The server's PostgreSQL database, when it runs on one.
    pub fn database_url(&self) -> Option<String> {
        self.home.database.as_ref().map(|d| d.url())
    }

    /// `work` on the server's own database handle, outside any transaction: for reading what
    /// the API reports from the tables, on either engine.
    pub fn read<T: Send>(
        &self,
        work: impl FnOnce(&wootlite::db::Conn) -> wootlite::db::SqlResult<T> + Send,
    ) -> T {
        self.db
            .read_now(|conn| Ok(work(conn)?))
            .expect("a read of the server's database")
    }

    /// Every row of `sql` (without parameters), mapped by `each`; see `read`.
    pub fn rows<T: Send>(
        &self,
        sql: &str,
        each: impl FnMut(&wootlite::db::Row) -> wootlite::db::SqlResult<T> + Send,
    ) -> Vec<T> {
        self.read(|conn| conn.prepare(sql)?.query_map([], each)?.collect())
    }
}

/// Polls `probe` every 20 ms until it gives a value, for up to `limit`; panics naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, limit: std::time::Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = std::time::Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Deletes a directory a running server may be adding files to (the search index): a file
/// created during the walk makes one pass fail with "directory not empty", so it tries again.
pub fn remove_dir_in_use(dir: &std::path::Path) {
    for _ in 0..100 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    panic!("could not delete {}", dir.display());
}

fn uuid_like() -> String {
    tokens::generate()
}

/// Every file and folder under the data dir's `files/`, recursively, uploads still being
/// received included; only the `.incoming` folder that holds those is left out.
pub fn stored_files(data_dir: &std::path::Path) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let is_dir = path.is_dir();
            if is_dir {
                walk(&path, found);
            }
            if !(is_dir && path.ends_with(".incoming")) {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&data_dir.join("files"), &mut found);
    found.sort();
    found
}
