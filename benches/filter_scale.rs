//! Filters at scale, on the generated benchmark dataset (1,000,000 conversations by default):
//! p50/p99 of a filter request's work (parse, compile, the four counts and the first page of 25)
//! for (a) status + inbox + a text custom attribute, (b) status + a rare checkbox attribute,
//! (c) a label + an assignee + a number attribute `is_greater_than`, (d) status + inbox and
//! (e) status + inbox + assignee (answered as the list answers them).
//!
//! `cargo bench --bench filter_scale`; WOOTLITE_BENCH_CONVERSATIONS sets the size.

mod support;

use std::time::{Duration, Instant};

use support::{counts_and_first_page, dataset, dataset_size, filter_shapes, open};
use wootlite::api::as_list_filter;
use wootlite::filter::parse;
use wootlite::store::custom_attributes;

fn percentile(samples: &[Duration], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let db = open(&dataset(dataset_size()));
    let definitions = db
        .read_now(|c| custom_attributes::list(c, 1, None))
        .unwrap();
    let cases = filter_shapes();
    let runs: usize = std::env::var("WOOTLITE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let today = chrono::Utc::now().date_naive();
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
            let filter = as_list_filter(&conditions, today, wootlite::filter::Dialect::Sqlite);
            matched = counts_and_first_page(&db, &filter);
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
