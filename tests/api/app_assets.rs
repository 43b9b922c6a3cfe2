//! How the agent app's files are served: where `/` leads, the security headers, and the caching
//! that lets a browser keep the script and style while it revalidates the page.

use crate::helpers::spawn_app;

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_app_is_served_with_its_policy_and_caching_headers() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let root = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(root.status(), 302);
    assert_eq!(header(&root, "location"), "/app/");

    let page = client.get(app.url("/app/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = header(&page, "content-security-policy");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let etag = header(&page, "etag");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>"), "inline script in {html}");

    // The page again, as a browser revalidates it: 304 while it has not changed.
    let again = client
        .get(app.url("/app/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // The script it names is cached for a year and compressed for a browser that accepts it.
    let script = html
        .split('"')
        .find(|part| part.starts_with("app.js?v="))
        .expect("the script's versioned name");
    let js = client
        .get(app.url(&format!("/app/{script}")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        header(&js, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&js, "content-encoding"), "gzip");
    assert!(header(&js, "content-type").starts_with("text/javascript"));

    // Only the app's own files are there.
    for missing in ["/app/nothing.js", "/app/..%2fCargo.toml", "/app/index.htm"] {
        let reply = client.get(app.url(missing)).send().await.unwrap();
        assert_eq!(reply.status(), 404, "{missing}");
    }
}
