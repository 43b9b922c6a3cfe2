//! The API document against the server it describes: schemathesis generates requests from
//! `/api-docs/openapi.json` for every operation and fails on any 5xx and on any answer whose
//! status, content type or body its operation does not document. It runs against this build's
//! binary in dev mode (the demo data gives the paths real ids), for a bounded time.

use std::process::Command;

use serde_json::Value;

use crate::tools::find_or_skip;

const TOKEN: &str = "wootlite-dev-token";

/// What the generated requests are checked for: the server's answers, not its leniency about
/// requests (it takes `"1"` for `1` and `"true"` for `true`, as Rails does).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

#[tokio::test]
async fn every_answer_matches_the_api_document() {
    let program = std::env::var("WOOTLITE_SCHEMATHESIS").unwrap_or_else(|_| "st".into());
    let Some(found) = find_or_skip(
        "the API document check",
        &[&program],
        "schemathesis (pip install schemathesis)",
    ) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let server = crate::process::try_start_with(&work.path().join("data"), None, &["--dev"], None)
        .await
        .expect("starts");
    let (status, inbox) = server.get("/api/v1/accounts/1/inboxes/1", TOKEN).await;
    assert_eq!(status, 200);
    // Path parameters that name real rows of the demo, so that operations reach their work.
    let identifier = inbox["inbox_identifier"].as_str().unwrap();
    let config = format!(
        "[parameters]\n\"path.account_id\" = 1\n\"path.id\" = 1\n\"path.display_id\" = 1\n\
         \"path.message_id\" = 1\n\"path.inbox_identifier\" = \"{identifier}\"\n\
         \"path.source_id\" = \"1234567890\"\n"
    );
    let config_file = work.path().join("schemathesis.toml");
    std::fs::write(&config_file, config).unwrap();
    let document = format!("{}/api-docs/openapi.json", server.url);
    let started = tokio::task::spawn_blocking({
        let program = found[0].clone();
        let dir = work.path().to_path_buf();
        move || {
            Command::new(program)
                .current_dir(&dir)
                .arg("--config-file")
                .arg(&config_file)
                .args(["run", &document])
                .args(["--header", &format!("api_access_token: {TOKEN}")])
                .args(["--checks", CHECKS])
                .args([
                    "--max-examples",
                    "15",
                    "--max-time",
                    "120",
                    "--workers",
                    "2",
                ])
                .args(["--seed", "1", "--request-timeout", "20"])
                // Its coverage phase can crash inside schemathesis itself on the filter
                // operation's schema (a KeyError in its own generator): examples, fuzzing and
                // stateful runs test every operation without it.
                .args(["--phases", "examples,fuzzing,stateful"])
                // A reset or a moved clock would pull the ground from under the other requests;
                // `/cable` answers only websocket upgrades.
                .args([
                    "--exclude-path-regex",
                    "^/(__wootlite/(reset|clock)|cable)$",
                ])
                .env("NO_COLOR", "1")
                .output()
                .expect("schemathesis runs")
        }
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&started.stdout);
    assert!(
        started.status.success(),
        "schemathesis found answers the document does not describe:\n{said}\n{}",
        String::from_utf8_lossy(&started.stderr)
    );
    // It ran operations, rather than finding nothing to test.
    assert!(said.contains("passed"), "{said}");
    let (status, _): (u16, Value) = server.get("/health", TOKEN).await;
    assert_eq!(status, 200, "the server is healthy after the run");
    server.stop().await;
}
