//! The real binary: first-start banner, restart, graceful stop, and the admin subcommands.

use tokio::process::Command;

use crate::process::{run, start, BINARY};

#[tokio::test]
async fn first_start_prints_a_banner_whose_curl_line_works() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    assert_eq!(server.line("account id:"), "1");
    assert_eq!(server.line("inbox id:"), "1");
    let token = server.line("token:");
    assert!(token.len() >= 20);
    let curl = server.line("try:");
    assert!(
        curl.contains(&token) && curl.contains(&server.url),
        "{curl}"
    );
    // The curl line's request, made over HTTP.
    let path = curl
        .split_whitespace()
        .last()
        .unwrap()
        .trim_start_matches(&server.url)
        .to_string();
    let (status, body) = server.get(&path, &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["payload"][0]["id"], 1);
    let (status, profile) = server.get("/api/v1/profile", &token).await;
    assert_eq!((status, profile["id"].as_i64()), (200, Some(1)));
    // The agent app's address, which serves its page.
    let app = server.line("agent app:");
    assert_eq!(app, format!("{}/app/", server.url));
    let page = reqwest::get(&app).await.expect("the app's page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("app.js?v="));
    server.stop().await;
}

#[tokio::test]
async fn a_restart_creates_nothing_new_and_keeps_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Some("pinned-token")).await;
    assert_eq!(server.line("token:"), "pinned-token");
    server.stop().await;
    // The WAL was folded back into the database on the graceful stop.
    let wal = dir.path().join("wootlite.sqlite3-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);

    let server = start(dir.path(), None).await;
    assert!(server.banner.iter().all(|l| !l.contains("created account")));
    let (status, profile) = server.get("/api/v1/profile", "pinned-token").await;
    assert_eq!(status, 200);
    assert_eq!(profile["accounts"].as_array().unwrap().len(), 1);
    let (_, inboxes) = server
        .get("/api/v1/accounts/1/inboxes", "pinned-token")
        .await;
    assert_eq!(inboxes["payload"].as_array().unwrap().len(), 1);
    let (_, agents) = server
        .get("/api/v1/accounts/1/agents", "pinned-token")
        .await;
    assert_eq!(agents.as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_bootstrap_token_given_later_is_added_to_the_first_administrator() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), None).await.stop().await;
    let server = start(dir.path(), Some("late-token")).await;
    let (status, profile) = server.get("/api/v1/profile", "late-token").await;
    assert_eq!((status, profile["id"].as_i64()), (200, Some(1)));
    server.stop().await;
}

#[tokio::test]
async fn token_create_prints_a_new_working_token() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), Some("first")).await.stop().await;
    let output = run(&["token", "create", "--user", "1"], dir.path()).await;
    assert!(output.status.success());
    let token = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(token.len() >= 20 && token != "first");
    let missing = run(&["token", "create", "--user", "42"], dir.path()).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user with id 42"));

    let server = start(dir.path(), None).await;
    assert_eq!(server.get("/api/v1/profile", &token).await.0, 200);
    assert_eq!(server.get("/api/v1/profile", "first").await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn account_create_makes_a_separate_account_with_its_own_administrator() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), Some("first")).await.stop().await;
    let output = run(
        &[
            "account",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "boss@acme.test",
        ],
        dir.path(),
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    let value = |key: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("{key} missing in {printed}"))
    };
    assert_eq!(value("account id:"), "2");
    let token = value("token:");

    let server = start(dir.path(), None).await;
    let (status, agents) = server.get("/api/v1/accounts/2/agents", &token).await;
    assert_eq!(status, 200);
    assert_eq!(agents[0]["email"], "boss@acme.test");
    assert_eq!(agents[0]["role"], "administrator");
    let (status, body) = server.get("/api/v1/accounts/1/agents", &token).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"],
        "You are not authorized to access this account"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wootlite.sqlite3");
    rusqlite::Connection::open(&file)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let output = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("schema version 999") && stderr.contains("newer"),
        "{stderr}"
    );
}

#[tokio::test]
async fn help_documents_every_option_and_its_environment_variable() {
    let output = Command::new(BINARY)
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for (flag, env) in [
        ("--bind", "WOOTLITE_BIND"),
        ("--data-dir", "WOOTLITE_DATA_DIR"),
        ("--bootstrap-token", "WOOTLITE_BOOTSTRAP_TOKEN"),
        ("--max-body-bytes", "WOOTLITE_MAX_BODY_BYTES"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "{flag} / {env} missing:\n{help}"
        );
    }
}

#[tokio::test]
async fn account_create_with_a_known_email_makes_that_user_an_administrator_there() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), Some("first")).await.stop().await;
    let output = run(
        &[
            "account",
            "create",
            "--name",
            "Second",
            "--admin-email",
            "ADMIN@wootlite.local",
        ],
        dir.path(),
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("user id:    1"));
    let server = start(dir.path(), None).await;
    let (_, profile) = server.get("/api/v1/profile", "first").await;
    let roles: Vec<_> = profile["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_i64().unwrap(),
                a["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![(1, "administrator".into()), (2, "administrator".into())]
    );
    server.stop().await;
}

/// `migrate` from a directory that holds no data dir says so, and leaves nothing behind: it
/// neither creates the directory nor needs the target database to find that out.
#[tokio::test]
async fn migrate_from_a_missing_data_dir_says_so_and_creates_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("nothing-here");
    let out = Command::new(BINARY)
        .args(["migrate", "--from-data-dir"])
        .arg(&missing)
        .args(["--to-database-url", "postgres://nobody@127.0.0.1:1/none"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no wootlite database"),
        "{out:?}"
    );
    assert!(!missing.exists());
}
