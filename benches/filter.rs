//! What the filter compiler costs per payload: parse and validate the JSON, then compile it to
//! SQL, for the three payload shapes the filter benchmarks run.

use chrono::NaiveDate;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;

use wootlite::filter::{compile, parse, Dialect};
use wootlite::models::{AttributeDisplayType, AttributeModel};
use wootlite::store::custom_attributes::Definition;

fn definition(key: &str, display_type: AttributeDisplayType) -> Definition {
    Definition::bare(key, display_type, AttributeModel::Conversation)
}

fn compile_payloads(c: &mut Criterion) {
    let definitions = vec![
        definition("plan", AttributeDisplayType::Text),
        definition("trial", AttributeDisplayType::Checkbox),
        definition("seats", AttributeDisplayType::Number),
    ];
    let payloads = [
        (
            "status+inbox+text attribute",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and" },
                { "attribute_key": "plan", "filter_operator": "equal_to", "values": ["pro"] }
            ]}),
        ),
        (
            "status+checkbox attribute",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and" },
                { "attribute_key": "trial", "filter_operator": "equal_to", "values": [true] }
            ]}),
        ),
        (
            "labels+assignee+number attribute",
            json!({ "payload": [
                { "attribute_key": "labels", "filter_operator": "equal_to", "values": ["vip"], "query_operator": "and" },
                { "attribute_key": "assignee_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and" },
                { "attribute_key": "seats", "filter_operator": "is_greater_than", "values": [10] }
            ]}),
        ),
    ];
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut group = c.benchmark_group("filter compile");
    for (name, payload) in &payloads {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let conditions = parse(black_box(payload), &definitions).unwrap();
                compile(&conditions, today, Dialect::Sqlite)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, compile_payloads);
criterion_main!(benches);
