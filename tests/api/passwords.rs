//! Set-password links (`PUT /auth/password`): the first administrator's, printed on start; the
//! welcome mailed to an agent added through the API; the reset an administrator mails. And the
//! administrators' endpoints, open only to an administrator of every account of the agent.

use std::time::Duration;

use mail_parser::MessageParser;
use reqwest::Method;
use serde_json::{json, Value};
use wootlite::clock::Clock;
use wootlite::provision::Provisioned;

use crate::helpers::{error_of, eventually, Reply, TestApp};
use crate::sessions::{post_session, sign_in, ADMIN_EMAIL, PASSWORD};
use crate::smtp_sink::{app_with_sink, SmtpSink};

const DAY_MICROS: i64 = 24 * 3600 * 1_000_000;
const NEW_PASSWORD: &str = "a brand new password";

/// The next mail, which must go to `to` under `subject`: its set-password link's token.
async fn mailed_token(sink: &SmtpSink, app: &TestApp, to: &str, subject: &str) -> String {
    let received = sink.next().await;
    assert_eq!(received.recipients, vec![to]);
    let message = MessageParser::default()
        .parse(received.data.as_bytes())
        .expect("a parseable mail");
    assert_eq!(message.subject().unwrap(), subject);
    let text = message.body_text(0).expect("a text part").to_string();
    let prefix = format!("{}/app/#/password?token=", app.address);
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link in {text}"));
    text[start + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

async fn put_password(app: &TestApp, body: Value) -> Reply {
    let response = app
        .client
        .put(app.url("/auth/password"))
        .json(&body)
        .send()
        .await
        .expect("request sent");
    Reply::from(response).await
}

async fn choose(app: &TestApp, token: &str, password: &str) -> Reply {
    put_password(
        app,
        json!({ "reset_password_token": token, "password": password }),
    )
    .await
}

/// Adds an agent to account 1 through the API; their id.
async fn add_agent(app: &TestApp, email: &str) -> i64 {
    let body = app
        .post(
            "/api/v1/accounts/1/agents",
            json!({ "name": "Agent", "email": email, "role": "agent" }),
        )
        .await
        .expect(200);
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_agent_added_through_the_api_is_mailed_a_link_that_sets_their_password_once() {
    let (app, sink) = app_with_sink(Clock::system(), None).await;
    let id = add_agent(&app, "new@x.test").await;
    let token = mailed_token(&sink, &app, "new@x.test", "Welcome to wootlite").await;
    let agents = app.get("/api/v1/accounts/1/agents").await.expect(200);
    let agent = agents.as_array().unwrap().iter().find(|a| a["id"] == id);
    assert_eq!(agent.unwrap()["confirmed"], false);

    // No password yet: nothing signs in.
    assert_eq!(post_session(&app, "new@x.test", "", &[]).await.0, 401);
    let body = put_password(
        &app,
        json!({
            "reset_password_token": token, "password": PASSWORD,
            "password_confirmation": PASSWORD,
        }),
    )
    .await
    .expect(200);
    assert!(body["message"].is_string());
    let browser = sign_in(&app, "new@x.test", PASSWORD).await;
    assert_eq!(browser.body["profile"]["accounts"][0]["role"], "agent");
    // Using the mailed link confirmed the address.
    assert_eq!(browser.body["profile"]["confirmed"], true);

    let again = choose(&app, &token, NEW_PASSWORD).await.expect(422);
    assert!(
        error_of(&again).contains("invalid, used or expired"),
        "{again}"
    );
    sign_in(&app, "new@x.test", PASSWORD).await;
}

#[tokio::test]
async fn weak_mismatched_unknown_and_expired_tokens_are_refused_with_422() {
    let clock = Clock::manual(1_767_225_600_000_000);
    let (app, sink) = app_with_sink(clock.clone(), None).await;
    add_agent(&app, "new@x.test").await;
    let token = mailed_token(&sink, &app, "new@x.test", "Welcome to wootlite").await;

    let weak = choose(&app, &token, "short").await.expect(422);
    assert!(error_of(&weak).contains("at least 8 characters"), "{weak}");
    let mismatched = put_password(
        &app,
        json!({
            "reset_password_token": token, "password": PASSWORD,
            "password_confirmation": "something else",
        }),
    )
    .await
    .expect(422);
    assert!(
        error_of(&mismatched).contains("password_confirmation"),
        "{mismatched}"
    );
    for garbage in ["", "not-a-token", "%00", &"x".repeat(5000)] {
        let body = choose(&app, garbage, PASSWORD).await.expect(422);
        assert!(error_of(&body).contains("reset_password_token"), "{body}");
    }
    let shapeless = put_password(&app, json!({ "password": PASSWORD })).await;
    assert_eq!(shapeless.status, 422);

    // The refusals used nothing up; a week later the link has expired.
    clock.advance_micros(7 * DAY_MICROS);
    let expired = choose(&app, &token, PASSWORD).await.expect(422);
    assert!(error_of(&expired).contains("expired"), "{expired}");
    assert_eq!(post_session(&app, "new@x.test", PASSWORD, &[]).await.0, 401);
}

#[tokio::test]
async fn an_administrator_sets_an_agents_password_and_the_agent_signs_in_with_it() {
    let (app, _sink) = app_with_sink(Clock::system(), None).await;
    let id = add_agent(&app, "agent@x.test").await;
    let path = format!("/api/v1/accounts/1/agents/{id}/password");

    let weak = app
        .post(&path, json!({ "password": "short" }))
        .await
        .expect(422);
    assert!(error_of(&weak).contains("at least 8 characters"));
    app.post(&path, json!({ "password": PASSWORD }))
        .await
        .expect(200);
    let agent = sign_in(&app, "agent@x.test", PASSWORD).await;

    // An agent may not set passwords, their own or anyone's.
    let token = app.token_for(id);
    for target in [1, id] {
        let path = format!("/api/v1/accounts/1/agents/{target}/password");
        let body = app
            .send(
                Method::POST,
                &path,
                &token,
                Some(json!({ "password": NEW_PASSWORD })),
            )
            .await
            .expect(401);
        assert_eq!(error_of(&body), "You are not authorized to do this action");
        let reset = format!("/api/v1/accounts/1/agents/{target}/reset_password");
        app.send(Method::POST, &reset, &token, None)
            .await
            .expect(401);
    }
    assert_eq!(
        post_session(&app, ADMIN_EMAIL, NEW_PASSWORD, &[]).await.0,
        401
    );

    // Setting it again ends the agent's sessions; the new password is the one that works.
    app.post(&path, json!({ "password": NEW_PASSWORD }))
        .await
        .expect(200);
    agent.get(&app, "/api/v1/profile").await.expect(401);
    assert_eq!(
        post_session(&app, "agent@x.test", PASSWORD, &[]).await.0,
        401
    );
    sign_in(&app, "agent@x.test", NEW_PASSWORD).await;
    // An unknown agent is a 404.
    app.post(
        "/api/v1/accounts/1/agents/9999/password",
        json!({ "password": PASSWORD }),
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn a_reset_mails_a_link_whose_token_sets_the_password_and_ends_the_sessions() {
    let (app, sink) = app_with_sink(Clock::system(), None).await;
    let id = add_agent(&app, "agent@x.test").await;
    mailed_token(&sink, &app, "agent@x.test", "Welcome to wootlite").await;
    app.post(
        &format!("/api/v1/accounts/1/agents/{id}/password"),
        json!({ "password": PASSWORD }),
    )
    .await
    .expect(200);
    let browser = sign_in(&app, "agent@x.test", PASSWORD).await;

    let reset = format!("/api/v1/accounts/1/agents/{id}/reset_password");
    let body = app.post(&reset, json!({})).await.expect(200);
    assert!(body["message"].is_string());
    let token = mailed_token(&sink, &app, "agent@x.test", "Choose a new password").await;
    // The old password works until a new one is chosen.
    browser.get(&app, "/api/v1/profile").await.expect(200);

    choose(&app, &token, NEW_PASSWORD).await.expect(200);
    browser.get(&app, "/api/v1/profile").await.expect(401);
    assert_eq!(
        post_session(&app, "agent@x.test", PASSWORD, &[]).await.0,
        401
    );
    sign_in(&app, "agent@x.test", NEW_PASSWORD).await;
    choose(&app, &token, PASSWORD).await.expect(422);
}

#[tokio::test]
async fn a_reset_counts_toward_the_daily_email_quota() {
    let (app, sink) = app_with_sink(Clock::system(), Some(2)).await;
    let id = add_agent(&app, "agent@x.test").await;
    mailed_token(&sink, &app, "agent@x.test", "Welcome to wootlite").await;
    let reset = format!("/api/v1/accounts/1/agents/{id}/reset_password");
    app.post(&reset, json!({})).await.expect(200);
    let first = mailed_token(&sink, &app, "agent@x.test", "Choose a new password").await;
    let body = app.post(&reset, json!({})).await.expect(429);
    assert!(error_of(&body).contains("daily email limit"), "{body}");
    // The refused reset issued nothing: the earlier link still works.
    choose(&app, &first, PASSWORD).await.expect(200);
    // And adding an agent, which mails too, is refused alike and adds nobody.
    let body = app
        .post(
            "/api/v1/accounts/1/agents",
            json!({ "email": "late@x.test" }),
        )
        .await
        .expect(429);
    assert!(error_of(&body).contains("daily email limit"), "{body}");
    let agents = app.get("/api/v1/accounts/1/agents").await.expect(200);
    assert_eq!(agents.as_array().unwrap().len(), 2);
}

/// A user who administers account 2 and is an agent of account 1.
fn shared_user(app: &TestApp) -> Provisioned {
    let other = app.create_account("Other", "shared@x.test");
    app.join_account(1, other.user_id);
    other
}

#[tokio::test]
async fn only_an_administrator_of_every_account_of_the_user_may_set_or_reset_their_password() {
    let (app, sink) = app_with_sink(Clock::system(), None).await;
    let shared = shared_user(&app);
    let set = format!("/api/v1/accounts/1/agents/{}/password", shared.user_id);
    let reset = format!(
        "/api/v1/accounts/1/agents/{}/reset_password",
        shared.user_id
    );
    let body = app
        .post(&set, json!({ "password": PASSWORD }))
        .await
        .expect(401);
    assert_eq!(error_of(&body), "You are not authorized to do this action");
    app.post(&reset, json!({})).await.expect(401);
    assert_eq!(
        post_session(&app, "shared@x.test", PASSWORD, &[]).await.0,
        401
    );

    // Someone only in another account is not found, whatever their password.
    let stranger = app.create_account("Third", "third@x.test");
    let path = format!("/api/v1/accounts/1/agents/{}/password", stranger.user_id);
    app.post(&path, json!({ "password": PASSWORD }))
        .await
        .expect(404);

    // The user's own administrator of account 2, an agent of account 1, may not act from 1...
    let from_one = app
        .send(
            Method::POST,
            &format!("/api/v1/accounts/1/agents/{}/password", shared.user_id),
            &shared.token,
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(from_one.status, 401);
    // ... but once an administrator of both, the first administrator may.
    app.patch(
        &format!("/api/v1/accounts/1/agents/{}", shared.user_id),
        json!({ "role": "administrator" }),
    )
    .await
    .expect(200);
    app.db()
        .write_now(|tx| {
            wootlite::store::accounts::add_member(
                tx,
                shared.account_id,
                1,
                wootlite::models::Role::Administrator,
                0,
            )
        })
        .unwrap();
    app.post(&set, json!({ "password": PASSWORD }))
        .await
        .expect(200);
    sign_in(&app, "shared@x.test", PASSWORD).await;
    app.post(&reset, json!({})).await.expect(200);
    mailed_token(&sink, &app, "shared@x.test", "Choose a new password").await;
}

#[tokio::test]
async fn the_banner_prints_a_link_for_the_first_administrators_password_that_works_once() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.json");
    let data = dir.path().join("data");
    let flags = ["--ready-file", ready.to_str().unwrap()];
    let start = || async {
        let _ = std::fs::remove_file(&ready);
        let server = crate::process::try_start_with(&data, None, &flags, None)
            .await
            .expect("starts");
        let text = eventually("the ready file", Duration::from_secs(10), || async {
            std::fs::read_to_string(&ready).ok()
        })
        .await;
        let written: Value = serde_json::from_str(&text).unwrap();
        (server, written)
    };

    let (server, written) = start().await;
    let first = written["set_password_url"].as_str().unwrap().to_string();
    assert!(
        first.starts_with(&format!("{}/app/#/password?token=", server.url)),
        "{first}"
    );
    let line = server.line("Choose the administrator's password");
    assert!(line.ends_with(&first), "{line}");
    server.stop().await;

    // Each start replaces the link while no password is chosen.
    let (server, written) = start().await;
    let second = written["set_password_url"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let client = reqwest::Client::new();
    let put = |link: String| {
        let client = client.clone();
        let url = format!("{}/auth/password", server.url);
        async move {
            let token = link.split("token=").nth(1).unwrap().to_string();
            let response = client
                .put(url)
                .json(&json!({ "reset_password_token": token, "password": PASSWORD }))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    assert_eq!(put(first).await, 422);
    assert_eq!(put(second.clone()).await, 200);
    assert_eq!(put(second).await, 422);
    let signed_in = client
        .post(format!("{}/auth/session", server.url))
        .json(&json!({ "email": ADMIN_EMAIL, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    server.stop().await;

    // With a password chosen, no link.
    let (server, written) = start().await;
    assert_eq!(written["set_password_url"], Value::Null);
    assert!(!server.banner.iter().any(|l| l.contains("/app/#/password")));
    server.stop().await;
}

async fn forgot(app: &TestApp, email: &str) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .post(app.url("/auth/password"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, response.json().await.unwrap())
}

#[tokio::test]
async fn forgot_password_mails_a_user_a_link_and_answers_anyone_alike() {
    let (app, sink) = app_with_sink(Clock::system(), None).await;
    let (status, _, known) = forgot(&app, "Admin@WootLite.local").await;
    assert_eq!(status, 200);
    let token = mailed_token(&sink, &app, ADMIN_EMAIL, "Choose a new password").await;
    let (status, _, unknown) = forgot(&app, "nobody@x.test").await;
    assert_eq!((status, &unknown), (200, &known));

    // The unknown email was mailed nothing: the next mail is the next known request's, whose
    // link replaces the first.
    forgot(&app, ADMIN_EMAIL).await;
    let latest = mailed_token(&sink, &app, ADMIN_EMAIL, "Choose a new password").await;
    choose(&app, &token, PASSWORD).await.expect(422);
    choose(&app, &latest, PASSWORD).await.expect(200);
    sign_in(&app, ADMIN_EMAIL, PASSWORD).await;

    // Requests are limited per address and email, apart from sign-ins.
    for n in 0..2 {
        assert_eq!(forgot(&app, &format!("nobody{n}@x.test")).await.0, 200);
    }
    let (status, retry_after, _) = forgot(&app, "another@x.test").await;
    assert_eq!(status, 429);
    assert!(retry_after.unwrap().parse::<u64>().unwrap() > 0);
    sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
}
