//! `/auth/session`: the agent app's cookie session. Its cookie's attributes, the routes it opens,
//! the CSRF token every change made with it needs, sign-out, and the sign-in limits it shares
//! with `/auth/sign_in`.

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use wootlite::clock::Clock;

use crate::helpers::{spawn_app, spawn_app_with, spawn_configured, Reply, TestApp, ADMIN_TOKEN};

pub const ADMIN_EMAIL: &str = "admin@wootlite.local";
pub const PASSWORD: &str = "correct horse battery";
const DAY_MICROS: i64 = 24 * 3600 * 1_000_000;

/// A signed-in browser: the `Cookie` header it sends and the CSRF token it was given.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
    pub set_cookie: String,
    pub body: Value,
}

/// Gives the administrator a password through the administrators' endpoint.
pub async fn give_admin_password(app: &TestApp) {
    app.post(
        "/api/v1/accounts/1/agents/1/password",
        json!({ "password": PASSWORD }),
    )
    .await
    .expect(200);
}

/// `POST /auth/session`: status, headers and body.
pub async fn post_session(
    app: &TestApp,
    email: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> (u16, HeaderMap, Value) {
    let mut request = app
        .client
        .post(app.url("/auth/session"))
        .json(&json!({ "email": email, "password": password }));
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.expect("JSON body");
    (status, headers, body)
}

/// Signs in and keeps the cookie, as a browser would.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Browser {
    let (status, headers, body) = post_session(app, email, password, &[]).await;
    assert_eq!(status, 200, "{body}");
    let set_cookie = headers["set-cookie"].to_str().unwrap().to_string();
    let pair = set_cookie.split(';').next().unwrap().trim().to_string();
    assert!(pair.starts_with("wootlite_session="), "{set_cookie}");
    Browser {
        cookie: pair,
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
        set_cookie,
        body,
    }
}

impl Browser {
    /// A request with the cookie, and with `csrf` as `X-CSRF-Token` when given.
    pub async fn send(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = app
            .client
            .request(method, app.url(path))
            .header("Cookie", &self.cookie);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::from(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> Reply {
        self.send(app, Method::GET, path, None, None).await
    }
}

/// The cookie's attributes, lower-cased, without its value.
fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

async fn label_titles(app: &TestApp) -> Vec<String> {
    let labels = app.get("/api/v1/accounts/1/labels").await.expect(200);
    labels["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_secure_only_behind_https() {
    let app = spawn_app().await;
    give_admin_password(&app).await;

    let browser = sign_in(&app, "Admin@WootLite.local", PASSWORD).await;
    let plain = attributes(&browser.set_cookie);
    for expected in ["httponly", "samesite=strict", "path=/", "max-age=1209600"] {
        assert!(
            plain.iter().any(|a| a == expected),
            "{expected} missing: {}",
            browser.set_cookie
        );
    }
    assert!(!plain.iter().any(|a| a == "secure"), "{plain:?}");
    assert!(browser.csrf.len() >= 20);
    assert_eq!(browser.body["profile"]["email"], ADMIN_EMAIL);
    assert_eq!(browser.body["profile"]["id"], 1);
    assert_eq!(browser.body["profile"]["access_token"], Value::Null);
    // The cookie's value is neither the CSRF token nor anywhere in the body.
    let value = browser.cookie.trim_start_matches("wootlite_session=");
    assert!(value.len() >= 40 && value != browser.csrf);
    assert!(!browser.body.to_string().contains(value));

    // Behind a proxy that speaks https, the cookie travels over https only.
    let (status, headers, _) = post_session(
        &app,
        ADMIN_EMAIL,
        PASSWORD,
        &[("X-Forwarded-Proto", "https")],
    )
    .await;
    assert_eq!(status, 200);
    let secure = headers["set-cookie"].to_str().unwrap();
    assert!(attributes(secure).iter().any(|a| a == "secure"), "{secure}");
    assert!(attributes(secure).iter().any(|a| a == "httponly"));
}

#[tokio::test]
async fn the_cookie_opens_the_profile_and_the_account_routes_without_revealing_a_token() {
    let app = spawn_app().await;
    give_admin_password(&app).await;
    let browser = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;

    let profile = browser.get(&app, "/api/v1/profile").await.expect(200);
    assert_eq!(profile["email"], ADMIN_EMAIL);
    assert_eq!(profile["access_token"], Value::Null);
    assert_eq!(profile["accounts"][0]["role"], "administrator");
    assert_eq!(profile, browser.body["profile"]);
    let inboxes = browser
        .get(&app, "/api/v1/accounts/1/inboxes")
        .await
        .expect(200);
    assert_eq!(inboxes["payload"][0]["name"], "API");
    // Another account's routes stay closed: not a member.
    let other = app.create_account("Other", "other@x.test");
    let path = format!("/api/v1/accounts/{}/inboxes", other.account_id);
    browser.get(&app, &path).await.expect(401);

    // The session itself, with the same CSRF token.
    let session = browser.get(&app, "/auth/session").await.expect(200);
    assert_eq!(session["csrf_token"], browser.csrf.as_str());
    assert_eq!(session["profile"], profile);

    // Without the cookie, or with a made-up one, nothing is open.
    let none = Reply::from(
        app.client
            .get(app.url("/auth/session"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        none.expect(401),
        json!({ "error": "You are not signed in" })
    );
    let forged = Browser {
        cookie: "wootlite_session=madeupvaluemadeupvaluemadeupvalue1234".into(),
        csrf: browser.csrf.clone(),
        set_cookie: String::new(),
        body: Value::Null,
    };
    forged.get(&app, "/auth/session").await.expect(401);
    let body = forged.get(&app, "/api/v1/profile").await.expect(401);
    assert_eq!(body, json!({ "error": "Invalid Access Token" }));
    forged
        .get(&app, "/api/v1/accounts/1/inboxes")
        .await
        .expect(401);
}

#[tokio::test]
async fn a_change_made_with_the_cookie_needs_the_sessions_csrf_token() {
    let app = spawn_app().await;
    give_admin_password(&app).await;
    let browser = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let label = |title: &str| Some(json!({ "title": title }));

    let missing = browser
        .send(
            &app,
            Method::POST,
            "/api/v1/accounts/1/labels",
            None,
            label("nocsrf"),
        )
        .await
        .expect(403);
    assert_eq!(missing, json!({ "error": "Invalid CSRF token" }));
    let wrong = browser
        .send(
            &app,
            Method::POST,
            "/api/v1/accounts/1/labels",
            Some("not-the-token"),
            label("wrongcsrf"),
        )
        .await
        .expect(403);
    assert_eq!(wrong, missing);
    // Another session's token is no better.
    let other = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    browser
        .send(
            &app,
            Method::POST,
            "/api/v1/accounts/1/labels",
            Some(&other.csrf),
            label("othercsrf"),
        )
        .await
        .expect(403);
    assert!(label_titles(&app).await.is_empty(), "nothing was written");

    browser
        .send(
            &app,
            Method::POST,
            "/api/v1/accounts/1/labels",
            Some(&browser.csrf),
            label("withcsrf"),
        )
        .await
        .expect(200);
    browser
        .send(
            &app,
            Method::PATCH,
            "/api/v1/accounts/1/agents/1",
            Some(&browser.csrf),
            Some(json!({ "availability": "busy" })),
        )
        .await
        .expect(200);
    assert_eq!(label_titles(&app).await, vec!["withcsrf"]);
}

#[tokio::test]
async fn the_header_token_wins_over_the_cookie() {
    let app = spawn_app().await;
    give_admin_password(&app).await;
    let browser = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let other = app.create_account("Other", "other@x.test");

    let as_other = app
        .client
        .get(app.url("/api/v1/profile"))
        .header("Cookie", &browser.cookie)
        .header("api_access_token", &other.token)
        .send()
        .await
        .unwrap();
    let profile = Reply::from(as_other).await.expect(200);
    assert_eq!(profile["email"], "other@x.test");
    assert_eq!(profile["access_token"], other.token.as_str());

    // With the header, a change needs no CSRF token: the token is no ambient credential.
    let created = app
        .client
        .post(app.url("/api/v1/accounts/1/labels"))
        .header("Cookie", &browser.cookie)
        .header("api_access_token", ADMIN_TOKEN)
        .json(&json!({ "title": "byheader" }))
        .send()
        .await
        .unwrap();
    Reply::from(created).await.expect(200);

    // A bad header is not rescued by a good cookie.
    let bad = app
        .client
        .get(app.url("/api/v1/accounts/1/inboxes"))
        .header("Cookie", &browser.cookie)
        .header("api_access_token", "not-a-token")
        .send()
        .await
        .unwrap();
    Reply::from(bad).await.expect(401);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    give_admin_password(&app).await;
    let browser = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let kept = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;

    let refused = browser
        .send(&app, Method::DELETE, "/auth/session", None, None)
        .await
        .expect(403);
    assert_eq!(refused, json!({ "error": "Invalid CSRF token" }));
    browser.get(&app, "/api/v1/profile").await.expect(200);

    let response = app
        .client
        .delete(app.url("/auth/session"))
        .header("Cookie", &browser.cookie)
        .header("X-CSRF-Token", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let expired = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(expired.starts_with("wootlite_session=;"), "{expired}");
    assert!(
        attributes(&expired).iter().any(|a| a == "max-age=0"),
        "{expired}"
    );

    // The old cookie value, replayed, opens nothing.
    browser.get(&app, "/api/v1/profile").await.expect(401);
    browser.get(&app, "/auth/session").await.expect(401);
    browser
        .send(
            &app,
            Method::DELETE,
            "/auth/session",
            Some(&browser.csrf),
            None,
        )
        .await
        .expect(401);
    // Other sessions of the user go on.
    kept.get(&app, "/api/v1/profile").await.expect(200);
}

#[tokio::test]
async fn a_session_ends_after_fourteen_days() {
    let clock = Clock::manual(1_767_225_600_000_000);
    let app = spawn_app_with(clock.clone()).await;
    give_admin_password(&app).await;
    let browser = sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    clock.advance_micros(14 * DAY_MICROS - 1_000_000);
    browser.get(&app, "/api/v1/profile").await.expect(200);
    clock.advance_micros(1_000_000);
    browser.get(&app, "/api/v1/profile").await.expect(401);
    browser.get(&app, "/auth/session").await.expect(401);
}

#[tokio::test]
async fn a_wrong_password_is_401_and_repeated_failures_are_429_across_both_sign_in_routes() {
    let app = spawn_app().await;
    give_admin_password(&app).await;
    let invalid = json!({
        "errors": ["Invalid login credentials. Please try again."], "success": false
    });
    let (status, headers, body) = post_session(&app, ADMIN_EMAIL, "wrong password", &[]).await;
    assert_eq!((status, &body), (401, &invalid));
    assert!(headers.get("set-cookie").is_none());
    let (status, _, body) = post_session(&app, "nobody@x.test", PASSWORD, &[]).await;
    assert_eq!((status, &body), (401, &invalid));

    // The failures of `/auth/sign_in` count too: one limit for both ways in.
    for n in 0..3 {
        let failed = app
            .client
            .post(app.url("/auth/sign_in"))
            .json(&json!({ "email": format!("guess{n}@x.test"), "password": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(failed.status(), 401);
    }
    let (status, headers, body) = post_session(&app, ADMIN_EMAIL, PASSWORD, &[]).await;
    assert_eq!(status, 429, "{body}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 15 * 60 + 1);
    assert!(headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn the_api_cors_layer_never_allows_credentials() {
    for origins in [
        vec!["https://app.example.com".to_string()],
        vec!["*".to_string()],
    ] {
        let app = spawn_configured(Clock::system(), |s| s.cors_origins = origins).await;
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url("/api/v1/profile"))
            .header("Origin", "https://app.example.com")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "x-csrf-token")
            .send()
            .await
            .unwrap();
        assert!(preflight
            .headers()
            .contains_key("access-control-allow-origin"));
        assert!(!preflight
            .headers()
            .contains_key("access-control-allow-credentials"));
        let actual = app
            .client
            .get(app.url("/api/v1/profile"))
            .header("Origin", "https://app.example.com")
            .header("api_access_token", ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(actual.status(), 200);
        assert!(actual.headers().contains_key("access-control-allow-origin"));
        assert!(!actual
            .headers()
            .contains_key("access-control-allow-credentials"));
    }
}

#[tokio::test]
async fn a_sign_in_sent_from_another_sites_page_is_refused() {
    let app = spawn_app().await;
    give_admin_password(&app).await;
    let host = app.address.trim_start_matches("http://").to_string();
    let own_origin = format!("http://{host}");
    for refused in [
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site")],
        vec![("Origin", "https://attacker.example")],
    ] {
        let (status, headers, body) = post_session(&app, ADMIN_EMAIL, PASSWORD, &refused).await;
        assert_eq!(status, 403, "{refused:?}: {body}");
        assert!(headers.get("set-cookie").is_none(), "{refused:?}");
    }
    for allowed in [
        vec![],
        vec![("Sec-Fetch-Site", "same-origin")],
        vec![("Origin", own_origin.as_str())],
    ] {
        let (status, headers, body) = post_session(&app, ADMIN_EMAIL, PASSWORD, &allowed).await;
        assert_eq!(status, 200, "{allowed:?}: {body}");
        assert!(headers.get("set-cookie").is_some(), "{allowed:?}");
    }
}
