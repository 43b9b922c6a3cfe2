//! Filters at scale, on a generated corpus of (by default) 1,000,000 conversations with one
//! message each, custom attributes `plan`, `trial`, `seats` and some labels: p50/p99 of a filter
//! request's work (parse, compile, the four counts and the first page of 25) for
//! (a) status + inbox + a text custom attribute, (b) status + a checkbox custom attribute,
//! (c) labels + assignee + a number custom attribute `is_greater_than`.
//!
//! `cargo bench --bench filter_scale`; WOOTLITE_BENCH_FILTER_CONVERSATIONS sets the size. The
//! corpus is generated once under target/bench-data and reused.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;

use wootlite::clock::Clock;
use wootlite::corpus;
use wootlite::db::{Db, PoolSizes};
use wootlite::filter::{compile, parse};
use wootlite::models::{Principal, Role};
use wootlite::store::conversation_list::{self, AssigneeTab, Filter, Sort};
use wootlite::store::custom_attributes;

const ADMIN: Principal = Principal {
    user_id: 1,
    account_id: 1,
    role: Role::Administrator,
};

fn percentile(samples: &[Duration], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let conversations: u64 = std::env::var("WOOTLITE_BENCH_FILTER_CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = Path::new("target/bench-data").join(format!("filter-{conversations}x1-seed1"));
    let file = dir.join("wootlite.sqlite3");
    let fresh = !dir.join("generated").exists();
    if fresh {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let db = Db::open(&file, PoolSizes { read: 2, heavy: 1 }).expect("database opens");
    if fresh {
        let started = Instant::now();
        corpus::generate(
            &db,
            &corpus::Spec {
                conversations,
                messages_per_conversation: 1,
                seed: 1,
            },
            Clock::system().now_micros(),
            &mut |_, _| {},
        )
        .expect("corpus generated");
        println!(
            "corpus: generated {conversations} conversations in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        std::fs::write(dir.join("generated"), "").unwrap();
    }
    let definitions = db
        .read_now(|c| custom_attributes::list(c, 1, None))
        .unwrap();
    let cases = [
        (
            "(a) status + inbox + text attribute",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and" },
                { "attribute_key": "plan", "filter_operator": "equal_to", "values": ["Pro"] }
            ]}),
        ),
        (
            "(b) status + checkbox attribute",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "trial", "filter_operator": "equal_to", "values": [true] }
            ]}),
        ),
        (
            "(c) labels + assignee + number attribute >",
            json!({ "payload": [
                { "attribute_key": "labels", "filter_operator": "equal_to", "values": ["vip"], "query_operator": "and" },
                { "attribute_key": "assignee_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and" },
                { "attribute_key": "seats", "filter_operator": "is_greater_than", "values": [150] }
            ]}),
        ),
    ];
    let runs: usize = std::env::var("WOOTLITE_BENCH_FILTER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    println!(
        "{:<44} {:>9} {:>10} {:>10}",
        "filter (counts + first page)", "matches", "p50", "p99"
    );
    for (name, payload) in cases {
        let mut samples = Vec::with_capacity(runs);
        let mut matched = 0;
        // One untimed run first: the figures are for a warm page cache.
        for run in 0..=runs {
            let started = Instant::now();
            let conditions = parse(&payload, &definitions).expect("valid payload");
            let filter = Filter {
                condition: Some(std::sync::Arc::new(compile(&conditions, today))),
                ..Filter::default()
            };
            matched = db
                .read_now(|c| {
                    let (counts, _) = conversation_list::counts_and_page(
                        c,
                        &ADMIN,
                        &filter,
                        AssigneeTab::All,
                        Sort::LastActivityAtDesc,
                        Some((1, 25)),
                    )?;
                    Ok(counts.all)
                })
                .expect("filter runs");
            if run > 0 {
                samples.push(started.elapsed());
            }
        }
        println!(
            "{name:<44} {matched:>9} {:>8.1}ms {:>8.1}ms",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    }
    println!("({runs} runs each)");
}
