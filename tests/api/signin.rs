//! `POST /auth/sign_in` and `wootlite user password`: passwords set with the binary beside a
//! running server, the sign-in's answers, and the limit on failed sign-ins per address and per
//! email (clients bound to other loopback addresses stand for other machines).

use std::net::IpAddr;
use std::process::Stdio;

use reqwest::Client;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::helpers::{spawn_app, TestApp, ADMIN_TOKEN};
use crate::process::{command_for, run_for};

const ADMIN_EMAIL: &str = "admin@wootlite.local";
const PASSWORD: &str = "correct horse battery";
const INVALID: &str = "Invalid login credentials. Please try again.";

async fn set_password(app: &TestApp, email: &str, password: &str) -> std::process::Output {
    run_for(
        app,
        &["user", "password", "--email", email, "--password", password],
    )
    .await
}

/// A client whose connections come from `address` (any of 127.0.0.0/8).
fn client_from(address: [u8; 4]) -> Client {
    Client::builder()
        .local_address(IpAddr::from(address))
        .build()
        .unwrap()
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn sign_in_with(client: &Client, app: &TestApp, email: &str, password: &str) -> Answer {
    let response = client
        .post(app.url("/auth/sign_in"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.expect("JSON body");
    Answer {
        status,
        headers,
        body,
    }
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Answer {
    sign_in_with(&app.client, app, email, password).await
}

fn header<'a>(answer: &'a Answer, name: &str) -> &'a str {
    answer.headers[name].to_str().unwrap()
}

fn assert_invalid(answer: &Answer) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({ "errors": [INVALID], "success": false })
    );
}

fn assert_locked(answer: &Answer) {
    assert_eq!(answer.status, 429, "{}", answer.body);
    let wait: u64 = header(answer, "retry-after").parse().unwrap();
    assert!(wait > 0 && wait <= 15 * 60 + 1, "Retry-After {wait}");
    assert_eq!(answer.body["success"], json!(false));
}

#[tokio::test]
async fn a_password_set_beside_the_running_server_signs_in_with_a_working_token() {
    let app = spawn_app().await;
    let output = set_password(&app, ADMIN_EMAIL, PASSWORD).await;
    assert!(output.status.success(), "{output:?}");

    // Emails compare without case, as Chatwoot's.
    let answer = sign_in(&app, "Admin@WootLite.local", PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let data = &answer.body["data"];
    let token = data["access_token"].as_str().unwrap().to_string();
    assert!(token.len() >= 20 && token != ADMIN_TOKEN);
    assert_eq!(header(&answer, "access-token"), token);
    assert_eq!(header(&answer, "uid"), ADMIN_EMAIL);
    assert_eq!(header(&answer, "token-type"), "Bearer");
    assert!(!header(&answer, "client").is_empty());
    assert_eq!(data["email"], json!(ADMIN_EMAIL));
    assert_eq!(data["id"], json!(1));
    assert_eq!(data["account_id"], json!(1));
    assert_eq!(data["accounts"][0]["id"], json!(1));
    assert_eq!(data["accounts"][0]["role"], json!("administrator"));
    assert!(!data["pubsub_token"].as_str().unwrap().is_empty());

    // The body is the profile as the new token reads it.
    let profile = app
        .send(reqwest::Method::GET, "/api/v1/profile", &token, None)
        .await
        .expect(200);
    assert_eq!(&profile, data);
    app.send(
        reqwest::Method::GET,
        "/api/v1/accounts/1/inboxes",
        &token,
        None,
    )
    .await
    .expect(200);

    // Each sign-in makes its own token; the earlier ones keep working.
    let again = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(again.status, 200);
    assert_ne!(again.body["data"]["access_token"].as_str().unwrap(), token);
    app.send(reqwest::Method::GET, "/api/v1/profile", &token, None)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_wrong_password_an_unknown_email_and_a_user_without_password_get_one_answer() {
    let app = spawn_app().await;
    assert!(set_password(&app, ADMIN_EMAIL, PASSWORD)
        .await
        .status
        .success());
    app.post(
        "/api/v1/accounts/1/agents",
        json!({ "name": "Nopass", "email": "nopass@x.test", "role": "agent" }),
    )
    .await
    .expect(200);

    assert_invalid(&sign_in(&app, ADMIN_EMAIL, "not the password").await);
    assert_invalid(&sign_in(&app, "nobody@x.test", PASSWORD).await);
    assert_invalid(&sign_in(&app, "nopass@x.test", "").await);
    let empty = app
        .client
        .post(app.url("/auth/sign_in"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 401);
    assert_eq!(
        empty.json::<Value>().await.unwrap(),
        json!({ "errors": [INVALID], "success": false })
    );
}

#[tokio::test]
async fn the_sixth_failure_from_one_address_is_429_even_with_the_right_password() {
    let app = spawn_app().await;
    assert!(set_password(&app, ADMIN_EMAIL, PASSWORD)
        .await
        .status
        .success());
    for n in 0..5 {
        assert_invalid(&sign_in(&app, &format!("guess{n}@x.test"), "wrong password").await);
    }
    assert_locked(&sign_in(&app, ADMIN_EMAIL, PASSWORD).await);
    // Another address is not held back.
    let other = client_from([127, 0, 0, 2]);
    assert_eq!(
        sign_in_with(&other, &app, ADMIN_EMAIL, PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn five_failures_for_one_email_from_many_addresses_lock_that_email() {
    let app = spawn_app().await;
    assert!(set_password(&app, ADMIN_EMAIL, PASSWORD)
        .await
        .status
        .success());
    for last in 2..7 {
        let client = client_from([127, 0, 0, last]);
        assert_invalid(&sign_in_with(&client, &app, ADMIN_EMAIL, "wrong password").await);
    }
    let fresh = client_from([127, 0, 0, 7]);
    assert_locked(&sign_in_with(&fresh, &app, ADMIN_EMAIL, PASSWORD).await);
    // Other emails from that address are still answered.
    assert_invalid(&sign_in_with(&fresh, &app, "someone@x.test", "wrong password").await);
}

#[tokio::test]
async fn a_success_does_not_wipe_the_addresss_earlier_failures() {
    let app = spawn_app().await;
    assert!(set_password(&app, ADMIN_EMAIL, PASSWORD)
        .await
        .status
        .success());
    for n in 0..4 {
        assert_invalid(&sign_in(&app, &format!("guess{n}@x.test"), "wrong password").await);
    }
    assert_eq!(sign_in(&app, ADMIN_EMAIL, PASSWORD).await.status, 200);
    assert_invalid(&sign_in(&app, "guess4@x.test", "wrong password").await);
    assert_locked(&sign_in(&app, "guess5@x.test", "wrong password").await);
}

#[tokio::test]
async fn user_password_reads_standard_input_and_refuses_short_passwords_and_unknown_emails() {
    let app = spawn_app().await;

    let short = set_password(&app, ADMIN_EMAIL, "1234567").await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"));

    let unknown = set_password(&app, "nobody@x.test", PASSWORD).await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user with email nobody@x.test"));

    let mut child = command_for(&app, &["user", "password", "--email", ADMIN_EMAIL])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success(), "{output:?}");

    assert_eq!(sign_in(&app, ADMIN_EMAIL, PASSWORD).await.status, 200);
}
