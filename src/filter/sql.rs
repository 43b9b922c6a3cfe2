//! Validated conditions -> one SQL condition on `conversations c`. The text is assembled only
//! from the static pieces below (the columns and JSON paths of the standard keys included), so
//! one payload shape is always the same statement; every value, custom attribute key included,
//! is bound.

use chrono::{Duration, NaiveDate};
use rusqlite::types::Value as SqlValue;

use super::keys::Source;
use super::{Condition, CustomKind, Joiner, Operator, Target, Value};
use crate::models::AttributeModel;

/// A compiled filter: a parenthesised condition and its parameters, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

#[derive(Default)]
struct Sql {
    text: String,
    params: Vec<SqlValue>,
}

impl Sql {
    fn push(&mut self, piece: &'static str) -> &mut Self {
        self.text.push_str(piece);
        self
    }

    fn bind(&mut self, value: SqlValue) -> &mut Self {
        self.params.push(value);
        self
    }

    /// Binds the values as one JSON array, read back with `json_each(?)`.
    fn bind_list(&mut self, values: &[Value]) -> &mut Self {
        let list: Vec<serde_json::Value> = values.iter().map(json_of).collect();
        self.bind(SqlValue::Text(serde_json::Value::from(list).to_string()))
    }
}

fn json_of(value: &Value) -> serde_json::Value {
    match value {
        Value::Integer(i) => (*i).into(),
        Value::Real(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Text(t) => t.clone().into(),
        Value::Day(d) => d.format("%Y-%m-%d").to_string().into(),
        Value::Bool(b) => (if *b { "true" } else { "false" }).into(),
        Value::Nothing => serde_json::Value::Null,
    }
}

const IN_LIST: &str = " IN (SELECT value FROM json_each(?))";
const NOT_IN_LIST: &str = " NOT IN (SELECT value FROM json_each(?))";

/// Microseconds at the start of a UTC day.
fn day_start(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_micros())
}

/// The conditions joined as Chatwoot joins them: each one's operator links it to the next,
/// without parentheses, so AND binds tighter than OR. `today` resolves `days_before`.
pub fn compile(conditions: &[Condition], today: NaiveDate) -> Compiled {
    let mut sql = Sql::default();
    sql.push("(");
    if conditions.is_empty() {
        sql.push("1");
    }
    for (n, condition) in conditions.iter().enumerate() {
        if n > 0 {
            match conditions[n - 1].joiner {
                Some(Joiner::Or) => sql.push(" OR "),
                // A missing operator between two conditions is read as AND.
                Some(Joiner::And) | None => sql.push(" AND "),
            };
        }
        sql.push("(");
        one(&mut sql, condition, today);
        sql.push(")");
    }
    sql.push(")");
    Compiled {
        sql: sql.text,
        params: sql.params,
    }
}

fn days_ago(values: &[Value], today: NaiveDate) -> NaiveDate {
    let days = match values.first() {
        Some(Value::Integer(n)) => *n,
        _ => 0,
    };
    today - Duration::days(days)
}

fn first_day(values: &[Value]) -> NaiveDate {
    match values.first() {
        Some(Value::Day(d)) => *d,
        _ => NaiveDate::default(),
    }
}

fn one(sql: &mut Sql, condition: &Condition, today: NaiveDate) {
    use Operator::*;
    let values = &condition.values;
    match &condition.target {
        Target::Standard(key) => match key.source {
            Source::Status => in_list(sql, "c.status", condition.operator, values),
            Source::Priority => in_list(sql, "c.priority", condition.operator, values),
            Source::Id(column) => in_list(sql, column, condition.operator, values),
            Source::DisplayId => match condition.operator {
                Contains => {
                    sql.push("EXISTS (SELECT 1 FROM json_each(?) v WHERE instr(CAST(c.display_id AS TEXT), v.value) > 0)")
                        .bind_list(values);
                }
                DoesNotContain => {
                    sql.push("NOT EXISTS (SELECT 1 FROM json_each(?) v WHERE instr(CAST(c.display_id AS TEXT), v.value) > 0)")
                        .bind_list(values);
                }
                operator => in_list(sql, "c.display_id", operator, values),
            },
            Source::Labels => {
                let fragment = match condition.operator {
                    EqualTo => "EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.title IN (SELECT value FROM json_each(?)))",
                    NotEqualTo => "NOT EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.title IN (SELECT value FROM json_each(?)))",
                    IsPresent => "EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id)",
                    _ => "NOT EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id)",
                };
                sql.push(fragment);
                if matches!(condition.operator, EqualTo | NotEqualTo) {
                    sql.bind_list(values);
                }
            }
            Source::Additional(path) => additional(sql, path, condition.operator, values),
            Source::Date(column) => {
                sql.push(column);
                match condition.operator {
                    // Later than that UTC day: from the start of the next one.
                    IsGreaterThan => sql.push(" >= ?").bind(SqlValue::Integer(day_start(
                        first_day(values) + Duration::days(1),
                    ))),
                    IsLessThan => sql
                        .push(" < ?")
                        .bind(SqlValue::Integer(day_start(first_day(values)))),
                    _ => sql
                        .push(" < ?")
                        .bind(SqlValue::Integer(day_start(days_ago(values, today)))),
                };
            }
        },
        Target::Custom { key, model, kind } => {
            custom(sql, key, *model, *kind, condition.operator, values, today)
        }
    }
}

/// `col IN (values)` and its relatives on a plain column. NOT IN leaves out NULL rows, as SQL
/// (and so Chatwoot) does.
fn in_list(sql: &mut Sql, column: &'static str, operator: Operator, values: &[Value]) {
    sql.push(column);
    match operator {
        Operator::EqualTo => sql.push(IN_LIST).bind_list(values),
        Operator::NotEqualTo => sql.push(NOT_IN_LIST).bind_list(values),
        Operator::IsPresent => sql.push(" IS NOT NULL"),
        _ => sql.push(" IS NULL"),
    };
}

/// A key of `additional_attributes`: equality is case-sensitive, contains is not; NULL rows
/// never match a negative operator.
fn additional(sql: &mut Sql, path: &'static str, operator: Operator, values: &[Value]) {
    let expr = |sql: &mut Sql| {
        sql.push("json_extract(c.additional_attributes, '")
            .push(path)
            .push("')");
    };
    match operator {
        Operator::EqualTo | Operator::NotEqualTo => {
            expr(sql);
            sql.push(if operator == Operator::EqualTo {
                IN_LIST
            } else {
                NOT_IN_LIST
            })
            .bind_list(values);
        }
        Operator::Contains | Operator::DoesNotContain => {
            if operator == Operator::DoesNotContain {
                expr(sql);
                sql.push(" IS NOT NULL AND NOT ");
            }
            sql.push("EXISTS (SELECT 1 FROM json_each(?) v WHERE instr(fold(");
            sql.bind_list(&folded(values));
            expr(sql);
            sql.push("), v.value) > 0)");
        }
        _ => {
            sql.push("0");
        }
    }
}

fn folded(values: &[Value]) -> Vec<Value> {
    values
        .iter()
        .map(|v| match v {
            Value::Text(t) => Value::Text(crate::search::text::folded(t)),
            other => other.clone(),
        })
        .collect()
}

/// What a per-row expression reads from a custom attribute's row.
#[derive(Clone, Copy)]
enum Part {
    Value,
    Type,
    Folded,
}

/// One part of the attribute's value for the conversation of the row, NULL when the key is
/// absent: a primary-key read of the values table the triggers keep. The key is bound.
fn custom_part(sql: &mut Sql, key: &str, model: AttributeModel, part: Part) {
    let piece = match (model, part) {
        (AttributeModel::Conversation, Part::Value) => "(SELECT v.value FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (AttributeModel::Conversation, Part::Type) => "(SELECT v.type FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (AttributeModel::Conversation, Part::Folded) => "(SELECT v.folded FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (AttributeModel::Contact, Part::Value) => "(SELECT v.value FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (AttributeModel::Contact, Part::Type) => "(SELECT v.type FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (AttributeModel::Contact, Part::Folded) => "(SELECT v.folded FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
    };
    sql.push(piece).bind(SqlValue::Text(key.to_string()));
}

/// The start of a condition answered from the values table's indexes: the conversations whose
/// attribute row satisfies what follows (on `v`), closed by `)`.
fn custom_rows(sql: &mut Sql, key: &str, model: AttributeModel) {
    let piece = match model {
        AttributeModel::Conversation => "c.id IN (SELECT v.conversation_id FROM conversation_attribute_values v WHERE v.key = ? AND ",
        AttributeModel::Contact => "c.contact_id IN (SELECT v.contact_id FROM contact_attribute_values v WHERE v.key = ? AND ",
    };
    sql.push(piece).bind(SqlValue::Text(key.to_string()));
}

/// Positive operators (equal, contains, greater, less, present) select through the indexes:
/// where the attribute is absent they give false instead of SQL's NULL, which selects the same
/// rows since conditions are only ever joined with AND and OR. Negative operators keep NULL
/// handling and read the attribute per row.
#[allow(clippy::too_many_arguments)]
fn custom(
    sql: &mut Sql,
    key: &str,
    model: AttributeModel,
    kind: CustomKind,
    operator: Operator,
    values: &[Value],
    today: NaiveDate,
) {
    use Operator::*;
    // Chatwoot compares a text attribute, lowercased, with its first value only.
    let compared: Vec<Value> = match kind {
        CustomKind::Text => folded(&values[..values.len().min(1)]),
        _ => values.to_vec(),
    };
    let first = sql_value(compared.first());
    match operator {
        EqualTo | Contains | IsGreaterThan | IsLessThan | DaysBefore | IsPresent => {
            custom_rows(sql, key, model);
            match (kind, operator) {
                (_, IsPresent) => {
                    sql.push("v.value IS NOT NULL");
                }
                (CustomKind::Text, EqualTo) => {
                    sql.push("v.folded").push(IN_LIST).bind_list(&compared);
                }
                (CustomKind::Text, _) => {
                    sql.push("instr(v.folded, ?) > 0").bind(first);
                }
                (CustomKind::Number, EqualTo) => {
                    sql.push("v.type IN ('integer', 'real') AND v.value")
                        .push(IN_LIST)
                        .bind_list(&compared);
                }
                (CustomKind::Number, IsGreaterThan) => {
                    sql.push("v.type IN ('integer', 'real') AND v.value > ?")
                        .bind(first);
                }
                (CustomKind::Number, _) => {
                    sql.push("v.type IN ('integer', 'real') AND v.value < ?")
                        .bind(first);
                }
                (CustomKind::Date, EqualTo) => {
                    sql.push("date(v.value)").push(IN_LIST).bind_list(&compared);
                }
                (CustomKind::Date, IsGreaterThan) => {
                    sql.push("date(v.value) > ?").bind(first);
                }
                (CustomKind::Date, IsLessThan) => {
                    sql.push("date(v.value) < ?").bind(first);
                }
                (CustomKind::Date, _) => {
                    sql.push("date(v.value) < ?")
                        .bind(sql_value(Some(&Value::Day(days_ago(values, today)))));
                }
                (CustomKind::Boolean, _) => {
                    sql.push("v.type").push(IN_LIST).bind_list(&compared);
                }
            }
            sql.push(")");
        }
        IsNotPresent => {
            custom_part(sql, key, model, Part::Value);
            sql.push(" IS NULL");
        }
        // Chatwoot's one NULL exception: a custom attribute that is not set is "not equal".
        NotEqualTo => {
            sql.push("(");
            typed(sql, key, model, kind);
            sql.push(NOT_IN_LIST).bind_list(&compared).push(" OR ");
            custom_part(sql, key, model, Part::Value);
            sql.push(" IS NULL)");
        }
        DoesNotContain => {
            sql.push("instr(");
            custom_part(sql, key, model, Part::Folded);
            sql.push(", ?) = 0").bind(first);
        }
        Unknown => {
            sql.push("0");
        }
    }
}

/// The compared form of the attribute for the row, by type.
fn typed(sql: &mut Sql, key: &str, model: AttributeModel, kind: CustomKind) {
    match kind {
        CustomKind::Text => custom_part(sql, key, model, Part::Folded),
        CustomKind::Number => {
            sql.push("(CASE WHEN ");
            custom_part(sql, key, model, Part::Type);
            sql.push(" IN ('integer', 'real') THEN ");
            custom_part(sql, key, model, Part::Value);
            sql.push(" END)");
        }
        CustomKind::Date => {
            sql.push("date(");
            custom_part(sql, key, model, Part::Value);
            sql.push(")");
        }
        CustomKind::Boolean => custom_part(sql, key, model, Part::Type),
    }
}

fn sql_value(value: Option<&Value>) -> SqlValue {
    match value {
        Some(Value::Integer(i)) => SqlValue::Integer(*i),
        Some(Value::Real(f)) => SqlValue::Real(*f),
        Some(Value::Text(t)) => SqlValue::Text(t.clone()),
        Some(Value::Day(d)) => SqlValue::Text(d.format("%Y-%m-%d").to_string()),
        Some(Value::Bool(b)) => SqlValue::Text(if *b { "true" } else { "false" }.to_string()),
        Some(Value::Nothing) | None => SqlValue::Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::filter::{keys::STANDARD_KEYS, parse};
    use crate::models::AttributeDisplayType;
    use crate::store::custom_attributes::Definition;

    const HOSTILE: &str = "x') OR 1=1; DROP TABLE conversations; --\"%_\\";

    fn definition(key: &str, display_type: AttributeDisplayType) -> Definition {
        Definition::bare(key, display_type, AttributeModel::Conversation)
    }

    fn values_for(key: &str, operator: &str, hostile: bool) -> serde_json::Value {
        let text = if hostile { HOSTILE } else { "plain" };
        match (key, operator) {
            (_, "days_before") => json!([3]),
            ("created_at" | "last_activity_at" | "renewal", _) => json!(["2024-02-03"]),
            ("assignee_id" | "inbox_id" | "team_id" | "campaign_id" | "seats", _) => {
                json!([7, "8"])
            }
            ("display_id", "equal_to" | "not_equal_to") => json!([7]),
            ("trial", _) => json!([true]),
            _ => json!([text, "other"]),
        }
    }

    /// Every standard key with each of its operators, and each custom type with each operator
    /// it takes: the SQL never holds a value, and the same shape is the same text.
    #[test]
    fn every_key_and_operator_compiles_to_static_text_with_bound_values() {
        let definitions = vec![
            definition("plan", AttributeDisplayType::List),
            definition("seats", AttributeDisplayType::Number),
            definition("renewal", AttributeDisplayType::Date),
            definition("trial", AttributeDisplayType::Checkbox),
            definition(HOSTILE, AttributeDisplayType::Text),
        ];
        let mut cases: Vec<(&str, &str)> = STANDARD_KEYS
            .iter()
            .flat_map(|k| k.operators.iter().map(move |o| (k.name, o.name())))
            .collect();
        for op in [
            "equal_to",
            "not_equal_to",
            "contains",
            "does_not_contain",
            "is_present",
            "is_not_present",
            "is_greater_than",
            "is_less_than",
            "days_before",
        ] {
            cases.extend([
                ("plan", op),
                ("seats", op),
                ("renewal", op),
                ("trial", op),
                (HOSTILE, op),
            ]);
        }
        let today = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let mut compiled_cases = 0;
        for (key, operator) in cases {
            let payload = |hostile| {
                json!({ "payload": [{ "attribute_key": key, "filter_operator": operator,
                                      "values": values_for(key, operator, hostile) }] })
            };
            let (plain, hostile) = match (
                parse(&payload(false), &definitions),
                parse(&payload(true), &definitions),
            ) {
                (Ok(plain), Ok(hostile)) => (compile(&plain, today), compile(&hostile, today)),
                // Refused (e.g. contains on a number): refused whatever the values.
                (Err(_), _) => continue,
                (Ok(_), Err(e)) => panic!("{key} {operator}: hostile values refused: {e}"),
            };
            compiled_cases += 1;
            assert!(
                !hostile.sql.contains("DROP") && !hostile.sql.contains("1=1"),
                "{key} {operator}: {}",
                hostile.sql
            );
            assert_eq!(
                plain.sql, hostile.sql,
                "{key} {operator}: the shape depends on the values"
            );
            assert_eq!(
                plain.params.len(),
                plain.sql.matches('?').count(),
                "{key} {operator}: {}",
                plain.sql
            );
        }
        assert!(compiled_cases > 50, "{compiled_cases}");
    }

    #[test]
    fn chains_are_joined_without_parentheses_between_conditions() {
        let payload = json!({ "payload": [
            { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "OR" },
            { "attribute_key": "assignee_id", "filter_operator": "is_present", "query_operator": "and" },
            { "attribute_key": "labels", "filter_operator": "is_not_present" },
        ]});
        let compiled = compile(&parse(&payload, &[]).unwrap(), NaiveDate::default());
        assert_eq!(
            compiled.sql,
            "((c.status IN (SELECT value FROM json_each(?))) OR (c.assignee_id IS NOT NULL) AND \
             (NOT EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id)))"
        );
        assert_eq!(compiled.params, vec![SqlValue::Text("[0]".into())]);
        assert_eq!(compile(&[], NaiveDate::default()).sql, "(1)");
    }
}
