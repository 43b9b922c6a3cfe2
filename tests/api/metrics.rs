//! `GET /metrics`: an unknown path (the JSON 404) without `--metrics`; with it, Prometheus' text
//! format holding requests by route pattern and status with latency histograms, the write queue,
//! the index lag and size, the outbox backlogs, the database and WAL sizes, open connections and
//! the background tasks.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wootlite::clock::Clock;
use wootlite::search::Fault;

use crate::helpers::{error_of, eventually, spawn_app, spawn_configured, Reply, TestApp};

const CONVERSATION_ROUTE: &str = "/api/v1/accounts/{account_id}/conversations/{id}";
const TASKS: [&str; 5] = [
    "mail-sender",
    "search-indexer",
    "snooze-waker",
    "statistics",
    "wal-checkpointer",
];
const LIMIT: Duration = Duration::from_secs(60);

/// One sample line of the exposition format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed scrape: the declared type of each family and every sample.
#[derive(Debug)]
struct Scrape {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Scrape {
    /// Parses the text format strictly enough to fail on anything malformed: every line is a
    /// `# HELP`, a `# TYPE` or a sample of a declared family.
    fn parse(text: &str) -> Scrape {
        let mut types = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("a TYPE line names a type");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                types.insert(name.to_string(), kind.to_string());
            } else if !line.starts_with("# HELP ") {
                samples.push(parse_sample(line));
            }
        }
        for sample in &samples {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    let base = sample.name.strip_suffix(suffix)?;
                    (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
                })
                .unwrap_or(&sample.name);
            assert!(types.contains_key(family), "no TYPE for {}", sample.name);
        }
        Scrape { types, samples }
    }

    /// The value of the one sample named `name` with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one sample {name} {wanted:?}; got {found:?}"
        );
        found[0]
    }

    fn with_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }
}

/// `name{label="value",...} value`, label values with the format's escapes.
fn parse_sample(line: &str) -> Sample {
    let end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line}"));
    let name = &line[..end];
    assert!(is_name(name), "bad metric name in {line}");
    let mut labels = BTreeMap::new();
    let mut rest = &line[end..];
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, quoted) = inner
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad labels in {line}"));
            assert!(is_name(key), "bad label name in {line}");
            let (value, after) = label_value(quoted, line);
            assert!(
                labels.insert(key.to_string(), value).is_none(),
                "label twice: {line}"
            );
            inner = match after.chars().next() {
                Some(',') => &after[1..],
                Some('}') => after,
                _ => panic!("bad labels in {line}"),
            };
        }
    }
    let value = rest
        .strip_prefix(' ')
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("bad value in {line}"));
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A label value after its opening quote, unescaped, and the text after its closing quote.
fn label_value<'a>(text: &'a str, line: &str) -> (String, &'a str) {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &text[i + 1..]),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, escaped)) => value.push(escaped),
                None => break,
            },
            c => value.push(c),
        }
    }
    panic!("unterminated label value in {line}")
}

async fn scrape(app: &TestApp) -> Scrape {
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scraped");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert_eq!(content_type, "text/plain; version=0.0.4");
    Scrape::parse(&response.text().await.expect("body"))
}

/// A raw HTTP/1.1 connection that has been answered once and is kept open (keep-alive).
async fn keep_alive_connection(app: &TestApp) -> tokio::net::TcpStream {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 9];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 ");
    stream
}

async fn unauthenticated_get(app: &TestApp, path: &str) -> Reply {
    let request = app.request(reqwest::Method::GET, path, None);
    Reply::from(request.send().await.expect("request sent")).await
}

#[tokio::test]
async fn without_the_flag_metrics_is_an_unknown_path() {
    let app = spawn_app().await;
    let metrics = unauthenticated_get(&app, "/metrics").await;
    let other = unauthenticated_get(&app, "/no-such-path").await;
    assert_eq!(metrics.content_type, other.content_type);
    assert_eq!(error_of(&metrics.expect(404)), error_of(&other.expect(404)));
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_measure_the_server() {
    // An SMTP server that accepts connections and never answers: the transcript mail stays in
    // the outbox, and the mail sender, waiting for a greeting, writes nothing meanwhile.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp = format!("smtp://{}", silent.local_addr().unwrap());
    let app = spawn_configured(Clock::system(), |s| {
        s.metrics = true;
        s.smtp_url = Some(smtp);
    })
    .await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(
        id,
        json!({ "content": "hello metrics", "message_type": "incoming" }),
    )
    .await;
    app.message(id, json!({ "content": "a metrics reply" }))
        .await;
    for _ in 0..3 {
        app.conversation(id).await;
    }
    app.get("/api/v1/accounts/1/conversations/987654")
        .await
        .expect(404);
    app.get("/no/such/path/42").await.expect(404);
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/transcript"),
        json!({ "email": "customer@example.com" }),
    )
    .await
    .expect(200);
    app.get("/api/v1/accounts/1/conversations/search?q=metrics")
        .await
        .expect(200);
    app.index_caught_up().await;
    let other = keep_alive_connection(&app).await;

    let seen = scrape(&app).await;
    let requests = "wootlite_http_requests_total";
    assert_eq!(seen.types[requests], "counter");
    let get = |status| {
        [
            ("method", "GET"),
            ("route", CONVERSATION_ROUTE),
            ("status", status),
        ]
    };
    assert_eq!(seen.value(requests, &get("200")), 3.0);
    assert_eq!(seen.value(requests, &get("404")), 1.0);
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(seen.value(requests, &unmatched), 1.0);
    let messages = "/api/v1/accounts/{account_id}/conversations/{id}/messages";
    let posted = [("method", "POST"), ("route", messages), ("status", "200")];
    assert_eq!(seen.value(requests, &posted), 2.0);

    let latency = "wootlite_http_request_duration_seconds";
    assert_eq!(seen.types[latency], "histogram");
    let route = [("method", "GET"), ("route", CONVERSATION_ROUTE)];
    assert_eq!(seen.value(&format!("{latency}_count"), &route), 4.0);
    assert!(seen.value(&format!("{latency}_sum"), &route) > 0.0);
    let mut buckets: Vec<(f64, f64)> = seen
        .with_name(&format!("{latency}_bucket"))
        .filter(|s| s.labels["route"] == CONVERSATION_ROUTE && s.labels["method"] == "GET")
        .map(|s| (s.labels["le"].parse().expect("a bound"), s.value))
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() > 2, "{buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 4.0)));

    // Paths with ids never become label values.
    for sample in &seen.samples {
        for value in sample.labels.values().filter(|v| v.contains('/')) {
            assert!(
                !value
                    .split('/')
                    .any(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())),
                "a raw path in {sample:?}"
            );
        }
    }

    assert_eq!(seen.types["wootlite_write_queue_depth"], "gauge");
    assert_eq!(seen.value("wootlite_write_queue_depth", &[]), 0.0);
    assert_eq!(seen.value("wootlite_search_index_lag", &[]), 0.0);
    assert_eq!(seen.value("wootlite_search_index_documents", &[]), 2.0);
    let backlog = "wootlite_outbox_backlog";
    assert_eq!(seen.value(backlog, &[("outbox", "search")]), 0.0);
    assert_eq!(seen.value(backlog, &[("outbox", "mail")]), 1.0);
    assert!(seen.value("wootlite_database_bytes", &[]) > 0.0);
    assert!(seen.value("wootlite_database_wal_bytes", &[]) > 0.0);
    for task in TASKS {
        assert_eq!(seen.value("wootlite_task_up", &[("task", task)]), 1.0);
        let restarts = "wootlite_task_restarts_total";
        assert_eq!(seen.value(restarts, &[("task", task)]), 0.0);
    }

    // This scrape's connection and the other one.
    let connections = "wootlite_http_open_connections";
    let open = seen.value(connections, &[]);
    assert!(open >= 2.0, "{open} open connections");
    drop(other);
    eventually("the closed connection to be uncounted", LIMIT, || async {
        (scrape(&app).await.value(connections, &[]) < open).then_some(())
    })
    .await;
    drop(silent);
}

#[tokio::test]
async fn a_failing_indexer_shows_as_down_with_its_restarts_while_the_index_falls_behind() {
    let app = spawn_configured(Clock::system(), |s| s.metrics = true).await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    // Every run of the indexer fails from now on, before it applies anything.
    app.search.inject_fault(Fault::Error, u32::MAX);
    let indexer = [("task", "search-indexer")];
    let down = eventually("the indexer to be reported down", LIMIT, || async {
        let seen = scrape(&app).await;
        (seen.value("wootlite_task_up", &indexer) == 0.0).then_some(seen)
    })
    .await;
    assert!(down.value("wootlite_task_restarts_total", &indexer) >= 1.0);
    let lag = down.value("wootlite_search_index_lag", &[]);
    let search = [("outbox", "search")];
    let backlog = down.value("wootlite_outbox_backlog", &search);

    app.message(id, json!({ "content": "not searchable yet" }))
        .await;
    app.message(id, json!({ "content": "nor this one" })).await;
    let seen = scrape(&app).await;
    // Each message leaves its own outbox row, and one more for its conversation's activity.
    let grown = seen.value("wootlite_search_index_lag", &[]) - lag;
    assert!(grown >= 2.0, "the lag grew by {grown}");
    assert_eq!(
        seen.value("wootlite_outbox_backlog", &search),
        backlog + grown
    );
    for task in TASKS.iter().filter(|t| **t != "search-indexer") {
        assert_eq!(seen.value("wootlite_task_up", &[("task", task)]), 1.0);
    }
}
