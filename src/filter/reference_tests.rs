//! The property test: random condition lists, compiled and run by SQLite, select exactly the
//! conversations that an in-memory evaluator written from the reference's rules selects (SQL's
//! three-valued logic included), and no value ever appears in the SQL text.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value as Json};

use super::{compile, parse};
use crate::db::{Db, PoolSizes};
use crate::models::{AttributeDisplayType, AttributeModel, Principal, Priority, Role, Status};
use crate::store::conversation_list::{self, AssigneeTab, Filter, Sort};
use crate::store::conversations::{self, Conversation, NewConversation};
use crate::store::custom_attributes::Definition;
use crate::store::{changes, contacts};

const TODAY: (i32, u32, u32) = (2024, 3, 10);
const LABELS: &[&str] = &["vip", "bug", "Bug", "billing"];
const TEXTS: &[&str] = &[
    "pro",
    "Pro",
    "free",
    "de",
    "en",
    "Straße",
    "STRASSE",
    "ünïcödé",
    "",
    " pro ",
];
const HOSTILE: &[&str] = &[
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "\"); DROP TABLE conversations; --",
];
const OPERATORS: &[&str] = &[
    "equal_to",
    "not_equal_to",
    "contains",
    "does_not_contain",
    "is_present",
    "is_not_present",
    "is_greater_than",
    "is_less_than",
    "days_before",
    "starts_with",
];
const KEYS: &[&str] = &[
    "status",
    "assignee_id",
    "inbox_id",
    "team_id",
    "priority",
    "display_id",
    "campaign_id",
    "labels",
    "browser_language",
    "conversation_language",
    "country_code",
    "mail_subject",
    "referer",
    "created_at",
    "last_activity_at",
    "plan",
    "seats",
    "renewal",
    "trial",
];

fn definition(key: &str, display_type: AttributeDisplayType) -> Definition {
    Definition::bare(key, display_type, AttributeModel::Conversation)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
}

fn micros(day: NaiveDate, hour: u32) -> i64 {
    day.and_hms_opt(hour, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

fn random_text(rng: &mut StdRng) -> String {
    if rng.gen_bool(0.15) {
        pick(rng, HOSTILE).to_string()
    } else {
        pick(rng, TEXTS).to_string()
    }
}

/// A conversation as the evaluator sees it.
struct Row {
    conversation: Conversation,
    labels: Vec<String>,
}

fn seed_rows(db: &Db, rng: &mut StdRng) -> Vec<Row> {
    let admin = Principal {
        actor: crate::models::Actor::User(1),
        account_id: 1,
        role: Role::Administrator,
    };
    let mut rows = Vec::new();
    for n in 0..60 {
        let row = db
            .write_now(|tx| {
                let day = today() - Duration::days(rng.gen_range(0..6));
                let now = micros(day, rng.gen_range(0..24));
                let contact = contacts::create(tx, 1, Default::default(), now)?;
                let inbox_source = format!("prop-{n}");
                let contact_inbox =
                    contacts::attach_inbox(tx, contact, 1, &inbox_source, now, || {
                        crate::store::StoreError::Rejected("taken".into())
                    })?;
                let mut additional = Map::new();
                for key in [
                    "browser_language",
                    "conversation_language",
                    "country_code",
                    "mail_subject",
                    "referer",
                ] {
                    if rng.gen_bool(0.6) {
                        additional.insert(key.into(), json!(random_text(rng)));
                    }
                }
                let mut custom = Map::new();
                if rng.gen_bool(0.7) {
                    custom.insert("plan".into(), json!(random_text(rng)));
                }
                match rng.gen_range(0..4) {
                    0 => {}
                    1 => {
                        custom.insert("seats".into(), json!(rng.gen_range(-3..20)));
                    }
                    2 => {
                        custom.insert("seats".into(), json!(rng.gen_range(0..40) as f64 / 4.0));
                    }
                    _ => {
                        custom.insert("seats".into(), json!("lots"));
                    }
                }
                match rng.gen_range(0..3) {
                    0 => {}
                    1 => {
                        let d = today() - Duration::days(rng.gen_range(-5..10));
                        custom.insert("renewal".into(), json!(d.format("%Y-%m-%d").to_string()));
                    }
                    _ => {
                        custom.insert("renewal".into(), json!("soon"));
                    }
                }
                match rng.gen_range(0..4) {
                    0 => {}
                    1 => {
                        custom.insert("trial".into(), json!(true));
                    }
                    2 => {
                        custom.insert("trial".into(), json!(false));
                    }
                    _ => {
                        custom.insert("trial".into(), Json::Null);
                    }
                }
                let created = conversations::create(
                    tx,
                    1,
                    &NewConversation {
                        inbox_id: 1,
                        contact_id: contact,
                        contact_inbox_id: contact_inbox,
                        status: Status::ALL[rng.gen_range(0..Status::ALL.len())],
                        assignee_id: rng.gen_bool(0.5).then_some(1),
                        team_id: None,
                        snoozed_until: None,
                        additional_attributes: additional,
                        custom_attributes: custom,
                    },
                    now,
                )?;
                if rng.gen_bool(0.6) {
                    let priority = Priority::ALL[rng.gen_range(0..Priority::ALL.len())];
                    conversations::set_priority(tx, created.id, Some(priority), now)?;
                }
                let labels: Vec<String> = LABELS
                    .iter()
                    .filter(|_| rng.gen_bool(0.3))
                    .map(|l| l.to_string())
                    .collect();
                if !labels.is_empty() {
                    changes::replace_labels(tx, &admin, &created, &labels, now)?;
                }
                Ok(Row {
                    conversation: conversations::get_by_id(tx, created.id)?,
                    labels,
                })
            })
            .unwrap();
        rows.push(row);
    }
    rows
}

fn random_values(rng: &mut StdRng, key: &str) -> Json {
    let count = rng.gen_range(0..4);
    let one = |rng: &mut StdRng| -> Json {
        match (key, rng.gen_range(0..10)) {
            (_, 0) => json!(random_text(rng)),
            (_, 1) => json!(rng.gen_range(-2..12)),
            ("status", _) => json!(pick(
                rng,
                &["open", "resolved", "pending", "snoozed", "all", "closed"]
            )),
            ("priority", _) => json!(pick(rng, &["low", "medium", "high", "urgent", "none"])),
            ("assignee_id" | "inbox_id" | "team_id" | "campaign_id" | "display_id", _) => {
                json!(rng.gen_range(0..70).to_string())
            }
            ("labels", _) => json!(pick(rng, LABELS)),
            ("created_at" | "last_activity_at" | "renewal", n) if n < 7 => {
                json!((today() - Duration::days(rng.gen_range(-3..8)))
                    .format("%Y-%m-%d")
                    .to_string())
            }
            ("seats", _) => json!(rng.gen_range(-3..20) as f64 / 2.0),
            ("trial", _) => json!(rng.gen_bool(0.5)),
            _ => json!(random_text(rng)),
        }
    };
    if rng.gen_bool(0.05) {
        return one(rng);
    }
    Json::Array((0..count).map(|_| one(rng)).collect())
}

fn random_payload(rng: &mut StdRng) -> Json {
    let n = rng.gen_range(0..4);
    let conditions: Vec<Json> = (0..n)
        .map(|i| {
            let key = pick(rng, KEYS);
            let joiner = if i + 1 == n {
                Json::Null
            } else {
                json!(pick(rng, &["AND", "OR", "and"]))
            };
            json!({ "attribute_key": key, "filter_operator": pick(rng, OPERATORS),
                    "values": random_values(rng, key), "query_operator": joiner })
        })
        .collect();
    json!({ "payload": conditions })
}

// ---- the reference evaluator: reference §6 written out, SQL's NULL logic as Option<bool> ----

type Truth = Option<bool>;

fn not(t: Truth) -> Truth {
    t.map(|b| !b)
}

fn or(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fn and(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// `x IN list`, where list entries may be NULL.
fn in_list<T: PartialEq>(x: Option<T>, list: &[Option<T>]) -> Truth {
    let x = x?;
    if list.iter().any(|v| v.as_ref() == Some(&x)) {
        Some(true)
    } else if list.iter().any(Option::is_none) {
        None
    } else {
        Some(false)
    }
}

fn strings(values: &Json) -> Vec<String> {
    values
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn day_of(micros: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap()
        .date_naive()
}

fn parse_day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").unwrap()
}

fn number(v: &Json) -> f64 {
    match v {
        Json::Number(n) => n.as_f64().unwrap(),
        Json::String(s) => s.trim().parse().unwrap(),
        _ => unreachable!("validated"),
    }
}

fn evaluate_one(row: &Row, c: &Json) -> Truth {
    let conv = &row.conversation;
    let key = c["attribute_key"].as_str().unwrap();
    let op = c["filter_operator"].as_str().unwrap();
    let values = &c["values"];
    let list = strings(values);
    let id_list = || -> Vec<Option<i64>> { list.iter().map(|s| s.trim().parse().ok()).collect() };
    let enum_eq = |x: Option<i64>, names: Vec<Option<i64>>| match op {
        "equal_to" => in_list(x, &names),
        _ => not(in_list(x, &names)),
    };
    let column = |x: Option<i64>| match op {
        "equal_to" => in_list(x, &id_list()),
        "not_equal_to" => not(in_list(x, &id_list())),
        "is_present" => Some(x.is_some()),
        _ => Some(x.is_none()),
    };
    let day_compare = |day: NaiveDate| -> bool {
        match op {
            "is_greater_than" => day > parse_day(&list[0]),
            "is_less_than" => day < parse_day(&list[0]),
            _ => day < today() - Duration::days(list[0].trim().parse::<i64>().unwrap()),
        }
    };
    match key {
        "status" => {
            let codes = list
                .iter()
                .flat_map(|s| match s.as_str() {
                    "all" => Status::ALL.iter().map(|s| Some(s.code())).collect(),
                    name => vec![Status::parse(name).map(|s| s.code())],
                })
                .collect();
            enum_eq(Some(conv.status.code()), codes)
        }
        "priority" => enum_eq(
            conv.priority.map(|p| p.code()),
            list.iter()
                .map(|s| Priority::parse(s).map(|p| p.code()))
                .collect(),
        ),
        "assignee_id" => column(conv.assignee_id),
        "inbox_id" => column(Some(conv.inbox_id)),
        "team_id" => column(conv.team_id),
        "campaign_id" => column(None),
        "display_id" => match op {
            "contains" => Some(
                list.iter()
                    .any(|n| conv.display_id.to_string().contains(n.trim())),
            ),
            "does_not_contain" => Some(
                !list
                    .iter()
                    .any(|n| conv.display_id.to_string().contains(n.trim())),
            ),
            _ => column(Some(conv.display_id)),
        },
        "labels" => {
            let any = list.iter().any(|l| row.labels.contains(l));
            Some(match op {
                "equal_to" => any,
                "not_equal_to" => !any,
                "is_present" => !row.labels.is_empty(),
                _ => row.labels.is_empty(),
            })
        }
        "browser_language"
        | "conversation_language"
        | "country_code"
        | "mail_subject"
        | "referer" => {
            let x = conv.additional_attributes.get(key).and_then(Json::as_str);
            let contains = |x: &str| list.iter().any(|n| fold(x).contains(&fold(n.trim())));
            match op {
                "equal_to" => in_list(
                    x,
                    &list.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>(),
                ),
                "not_equal_to" => not(in_list(
                    x,
                    &list.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>(),
                )),
                "contains" => Some(x.is_some_and(contains)),
                _ => Some(x.is_some_and(|x| !contains(x))),
            }
        }
        "created_at" => Some(day_compare(day_of(conv.created_at))),
        "last_activity_at" => Some(day_compare(day_of(conv.last_activity_at))),
        custom => {
            let raw = conv.custom_attributes.get(custom).filter(|v| !v.is_null());
            let present = raw.is_some();
            if op == "is_present" {
                return Some(present);
            }
            if op == "is_not_present" {
                return Some(!present);
            }
            if op == "starts_with" {
                return Some(false);
            }
            match custom {
                "plan" => {
                    let x = raw.map(|v| fold(v.as_str().unwrap()));
                    let v0 = fold(&list[0]);
                    match op {
                        "equal_to" => x.map(|x| x == v0),
                        "not_equal_to" => or(x.map(|x| x != v0), Some(!present)),
                        "contains" => x.map(|x| x.contains(&v0)),
                        _ => x.map(|x| !x.contains(&v0)),
                    }
                }
                "seats" => {
                    let x = raw.and_then(Json::as_f64);
                    // Only the first value counts for a comparison, and only it is validated.
                    let targets = || -> Vec<Option<f64>> {
                        values
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| Some(number(v)))
                            .collect()
                    };
                    let first = || number(&values[0]);
                    match op {
                        "equal_to" => in_list(x, &targets()),
                        "not_equal_to" => or(not(in_list(x, &targets())), Some(!present)),
                        "is_greater_than" => x.map(|x| x > first()),
                        _ => x.map(|x| x < first()),
                    }
                }
                "renewal" => {
                    let x = raw
                        .and_then(Json::as_str)
                        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
                    let days = || -> Vec<Option<NaiveDate>> {
                        list.iter().map(|s| Some(parse_day(s))).collect()
                    };
                    match op {
                        "equal_to" => in_list(x, &days()),
                        "not_equal_to" => or(not(in_list(x, &days())), Some(!present)),
                        "is_greater_than" => x.map(|x| x > parse_day(&list[0])),
                        "is_less_than" => x.map(|x| x < parse_day(&list[0])),
                        _ => x.map(|x| {
                            x < today() - Duration::days(list[0].trim().parse::<i64>().unwrap())
                        }),
                    }
                }
                _ => {
                    // trial: compared by JSON type, true or false.
                    let x = conv.custom_attributes.get(custom).map(|v| match v {
                        Json::Bool(true) => "true",
                        Json::Bool(false) => "false",
                        _ => "null",
                    });
                    let wanted: Vec<Option<&str>> = list
                        .iter()
                        .map(|s| {
                            Some(if s.eq_ignore_ascii_case("true") {
                                "true"
                            } else {
                                "false"
                            })
                        })
                        .collect();
                    match op {
                        "equal_to" => in_list(x, &wanted),
                        _ => or(not(in_list(x, &wanted)), Some(!present)),
                    }
                }
            }
        }
    }
}

/// Chatwoot's unparenthesised chain: OR of AND-groups.
fn evaluate(row: &Row, payload: &Json) -> bool {
    let conditions = payload["payload"].as_array().unwrap();
    if conditions.is_empty() {
        return true;
    }
    let mut any: Truth = Some(false);
    let mut group: Truth = Some(true);
    for (i, c) in conditions.iter().enumerate() {
        group = and(group, evaluate_one(row, c));
        let joiner = c["query_operator"]
            .as_str()
            .unwrap_or("")
            .to_ascii_uppercase();
        if joiner == "OR" || i + 1 == conditions.len() {
            any = or(any, group);
            group = Some(true);
        }
    }
    any == Some(true)
}

#[test]
fn random_filters_select_what_the_reference_rules_select() {
    let seed: u64 = std::env::var("FILTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
    crate::provision::bootstrap(&db, None, 0).unwrap();
    let rows = seed_rows(&db, &mut rng);
    let by_id: BTreeMap<i64, &Row> = rows.iter().map(|r| (r.conversation.id, r)).collect();
    let definitions = vec![
        definition("plan", AttributeDisplayType::List),
        definition("seats", AttributeDisplayType::Number),
        definition("renewal", AttributeDisplayType::Date),
        definition("trial", AttributeDisplayType::Checkbox),
    ];
    let admin = Principal {
        actor: crate::models::Actor::User(1),
        account_id: 1,
        role: Role::Administrator,
    };
    let mut accepted = 0;
    let mut attempts = 0;
    while accepted < 10_000 {
        attempts += 1;
        assert!(attempts < 200_000, "seed {seed}: too few payloads accepted");
        let payload = random_payload(&mut rng);
        let Ok(conditions) = parse(&payload, &definitions) else {
            continue;
        };
        accepted += 1;
        let compiled = compile(&conditions, today(), super::Dialect::Sqlite);
        for value in payload["payload"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| strings(&c["values"]))
        {
            if value.len() > 2 && HOSTILE.contains(&value.as_str()) {
                assert!(
                    !compiled.sql.contains(&value),
                    "seed {seed}: {value:?} in {}",
                    compiled.sql
                );
            }
        }
        let filter = Filter {
            condition: Some(std::sync::Arc::new(compiled)),
            ..Filter::default()
        };
        let found: BTreeSet<i64> = db
            .read_now(|c| {
                conversation_list::page(
                    c,
                    &admin,
                    &filter,
                    AssigneeTab::All,
                    Sort::LastActivityAtDesc,
                    1,
                    1000,
                )
            })
            .unwrap_or_else(|e| panic!("seed {seed}: {payload} failed: {e}"))
            .into_iter()
            .map(|c| c.id)
            .collect();
        let expected: BTreeSet<i64> = by_id
            .iter()
            .filter(|(_, row)| evaluate(row, &payload))
            .map(|(&id, _)| id)
            .collect();
        assert_eq!(found, expected, "seed {seed}: {payload}");
    }
}
