//! Validated conditions -> one SQL condition on `conversations c`. The text is assembled only
//! from the static pieces below (the columns and JSON paths of the standard keys included), so
//! one payload shape is always the same statement; every value, custom attribute key included,
//! is bound. Each engine has its pieces (`Dialect`): PostgreSQL reads bound lists with
//! `jsonb_array_elements_text` and typed attribute values (docs/storage.md §10).

use chrono::{Duration, NaiveDate};

use super::keys::Source;
use super::{Condition, CustomKind, Joiner, Operator, Target, Value};
use crate::db::Param;
use crate::models::AttributeModel;

/// A compiled filter: a parenthesised condition and its parameters, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Which engine's SQL a filter compiles to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    #[default]
    Sqlite,
    Postgres,
}

#[derive(Default)]
struct Sql {
    text: String,
    params: Vec<Param>,
    dialect: Dialect,
}

/// What the elements of a bound list are compared as, on PostgreSQL (SQLite compares by
/// value whatever the type).
#[derive(Clone, Copy)]
enum Element {
    Integer,
    Text,
    Real,
    Date,
}

/// A bound JSON list's elements as PostgreSQL rows of one type.
macro_rules! pg_list {
    ($op:literal, $element:literal) => {
        concat!(
            " ",
            $op,
            " (SELECT ",
            $element,
            " FROM jsonb_array_elements_text(CAST(? AS text)::jsonb) AS j(value))"
        )
    };
}

impl Sql {
    fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            ..Self::default()
        }
    }

    fn postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    fn push(&mut self, piece: &'static str) -> &mut Self {
        self.text.push_str(piece);
        self
    }

    /// This engine's piece of the two.
    fn pick(&mut self, sqlite: &'static str, postgres: &'static str) -> &mut Self {
        self.push(if self.postgres() { postgres } else { sqlite })
    }

    /// ` IN (list)` or ` NOT IN (list)`, the list bound as one parameter.
    fn list(&mut self, negated: bool, element: Element, values: &[Value]) -> &mut Self {
        let piece = match (self.dialect, negated, element) {
            (Dialect::Sqlite, false, _) => IN_LIST,
            (Dialect::Sqlite, true, _) => NOT_IN_LIST,
            (Dialect::Postgres, false, Element::Integer) => pg_list!("IN", "CAST(value AS bigint)"),
            (Dialect::Postgres, true, Element::Integer) => {
                pg_list!("NOT IN", "CAST(value AS bigint)")
            }
            (Dialect::Postgres, false, Element::Text) => pg_list!("IN", "value"),
            (Dialect::Postgres, true, Element::Text) => pg_list!("NOT IN", "value"),
            (Dialect::Postgres, false, Element::Real) => {
                pg_list!("IN", "CAST(value AS double precision)")
            }
            (Dialect::Postgres, true, Element::Real) => {
                pg_list!("NOT IN", "CAST(value AS double precision)")
            }
            (Dialect::Postgres, false, Element::Date) => pg_list!("IN", "CAST(value AS date)"),
            (Dialect::Postgres, true, Element::Date) => pg_list!("NOT IN", "CAST(value AS date)"),
        };
        self.push(piece).bind_list(values)
    }

    fn bind(&mut self, value: Param) -> &mut Self {
        self.params.push(value);
        self
    }

    /// Binds the values as one JSON array, read back with `json_each(?)` (SQLite) or
    /// `jsonb_array_elements_text` (PostgreSQL).
    fn bind_list(&mut self, values: &[Value]) -> &mut Self {
        let list: Vec<serde_json::Value> = values.iter().map(json_of).collect();
        self.bind(Param::Text(serde_json::Value::from(list).to_string()))
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
pub fn compile(conditions: &[Condition], today: NaiveDate, dialect: Dialect) -> Compiled {
    let mut sql = Sql::new(dialect);
    sql.push("(");
    if conditions.is_empty() {
        sql.pick("1", "TRUE");
    }
    let anchored = anchored_groups(conditions);
    for (n, condition) in conditions.iter().enumerate() {
        if n > 0 {
            match conditions[n - 1].joiner {
                Some(Joiner::Or) => sql.push(" OR "),
                // A missing operator between two conditions is read as AND.
                Some(Joiner::And) | None => sql.push(" AND "),
            };
        }
        sql.push("(");
        one(&mut sql, condition, today, anchored[n]);
        sql.push(")");
    }
    sql.push(")");
    Compiled {
        sql: sql.text,
        params: sql.params,
    }
}

/// For each condition, whether its AND group (conditions between two ORs) also holds an
/// equality with one inbox, assignee or team. Such a group is read from that column's list
/// index, and its custom attribute conditions are best checked row by row there; without one,
/// they select through the values table's indexes. SQLite cannot tell these apart itself: its
/// statistics average over every attribute key, so a 4-valued key looks as selective as a
/// 1,000-valued one.
fn anchored_groups(conditions: &[Condition]) -> Vec<bool> {
    let is_anchor = |c: &Condition| {
        matches!(&c.target, Target::Standard(key)
            if matches!(key.source, Source::Id("c.inbox_id" | "c.assignee_id" | "c.team_id")))
            && c.operator == Operator::EqualTo
            && c.values.len() == 1
    };
    let mut anchored = vec![false; conditions.len()];
    let mut start = 0;
    for end in 0..conditions.len() {
        let last_of_group =
            conditions[end].joiner == Some(Joiner::Or) || end + 1 == conditions.len();
        if last_of_group {
            let group = start..=end;
            let anchor = conditions[group.clone()].iter().any(is_anchor);
            anchored[group].fill(anchor);
            start = end + 1;
        }
    }
    anchored
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

fn one(sql: &mut Sql, condition: &Condition, today: NaiveDate, anchored: bool) {
    use Operator::*;
    let values = &condition.values;
    match &condition.target {
        Target::Standard(key) => match key.source {
            Source::Status => in_list(sql, "c.status", condition.operator, values),
            Source::Priority => in_list(sql, "c.priority", condition.operator, values),
            Source::Id(column) => in_list(sql, column, condition.operator, values),
            Source::DisplayId => match condition.operator {
                Contains => {
                    sql.pick(
                        "EXISTS (SELECT 1 FROM json_each(?) v WHERE instr(CAST(c.display_id AS TEXT), v.value) > 0)",
                        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(? AS text)::jsonb) AS v(value) WHERE strpos(CAST(c.display_id AS text), v.value) > 0)",
                    )
                    .bind_list(values);
                }
                DoesNotContain => {
                    sql.pick(
                        "NOT EXISTS (SELECT 1 FROM json_each(?) v WHERE instr(CAST(c.display_id AS TEXT), v.value) > 0)",
                        "NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(? AS text)::jsonb) AS v(value) WHERE strpos(CAST(c.display_id AS text), v.value) > 0)",
                    )
                    .bind_list(values);
                }
                operator => in_list(sql, "c.display_id", operator, values),
            },
            Source::Labels => match condition.operator {
                EqualTo | NotEqualTo => {
                    sql.push(if condition.operator == EqualTo {
                        "EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.title"
                    } else {
                        "NOT EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.title"
                    })
                    .list(false, Element::Text, values)
                    .push(")");
                }
                IsPresent => {
                    sql.push("EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id)");
                }
                _ => {
                    sql.push("NOT EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id)");
                }
            },
            Source::Additional(path) => additional(sql, path, condition.operator, values),
            Source::Date(column) => {
                sql.push(column);
                match condition.operator {
                    // Later than that UTC day: from the start of the next one.
                    IsGreaterThan => sql.push(" >= ?").bind(Param::Integer(day_start(
                        first_day(values) + Duration::days(1),
                    ))),
                    IsLessThan => sql
                        .push(" < ?")
                        .bind(Param::Integer(day_start(first_day(values)))),
                    _ => sql
                        .push(" < ?")
                        .bind(Param::Integer(day_start(days_ago(values, today)))),
                };
            }
        },
        Target::Custom { key, model, kind } => {
            let lookup = if anchored {
                Lookup::PerRow
            } else {
                Lookup::Index
            };
            let attribute = Attribute {
                key,
                model: *model,
                kind: *kind,
            };
            custom(sql, &attribute, lookup, condition.operator, values, today)
        }
    }
}

/// The ids of the conversations whose own custom attribute meets `condition`, from the values
/// table's indexes alone; None for any other condition (another target, a contact's attribute,
/// or an operator that a missing attribute also meets).
pub fn values_selection(
    condition: &Condition,
    today: NaiveDate,
    dialect: Dialect,
) -> Option<Compiled> {
    use Operator::*;
    let Target::Custom { key, model, kind } = &condition.target else {
        return None;
    };
    let positive = matches!(
        condition.operator,
        EqualTo | Contains | IsGreaterThan | IsLessThan | DaysBefore | IsPresent
    );
    if *model != AttributeModel::Conversation || !positive {
        return None;
    }
    let attribute = Attribute {
        key,
        model: *model,
        kind: *kind,
    };
    let mut sql = Sql::new(dialect);
    custom(
        &mut sql,
        &attribute,
        Lookup::Selection,
        condition.operator,
        &condition.values,
        today,
    );
    Some(Compiled {
        sql: sql.text,
        params: sql.params,
    })
}

/// `col IN (values)` and its relatives on a plain column. NOT IN leaves out NULL rows, as SQL
/// (and so Chatwoot) does.
fn in_list(sql: &mut Sql, column: &'static str, operator: Operator, values: &[Value]) {
    sql.push(column);
    // One value is a plain comparison, which SQLite can match to an index; a list's length is
    // unknown to it when the statement is planned.
    match (operator, values) {
        (Operator::EqualTo, [one]) => sql.push(" = ?").bind(sql_value(Some(one))),
        (Operator::NotEqualTo, [one]) => sql.push(" <> ?").bind(sql_value(Some(one))),
        (Operator::EqualTo, _) => sql.list(false, Element::Integer, values),
        (Operator::NotEqualTo, _) => sql.list(true, Element::Integer, values),
        (Operator::IsPresent, _) => sql.push(" IS NOT NULL"),
        _ => sql.push(" IS NULL"),
    };
}

/// A key of `additional_attributes`: equality is case-sensitive, contains is not; NULL rows
/// never match a negative operator.
///
/// On PostgreSQL the key is read with `->>` (text, where SQLite's `json_extract` keeps a
/// number a number), which the expression indexes of its schema match; and contains folds with
/// the database's `lower()`, as Chatwoot's own query does, where SQLite folds with Rust's rule.
fn additional(sql: &mut Sql, path: &'static str, operator: Operator, values: &[Value]) {
    // "$.key" -> "key"
    let key = path.strip_prefix("$.").unwrap_or(path);
    let expr = |sql: &mut Sql| {
        if sql.postgres() {
            sql.push("(c.additional_attributes::jsonb ->> '")
                .push(key)
                .push("')");
        } else {
            sql.push("json_extract(c.additional_attributes, '")
                .push(path)
                .push("')");
        }
    };
    match operator {
        Operator::EqualTo | Operator::NotEqualTo => {
            expr(sql);
            sql.list(operator == Operator::NotEqualTo, Element::Text, values);
        }
        Operator::Contains | Operator::DoesNotContain => {
            if operator == Operator::DoesNotContain {
                expr(sql);
                sql.push(" IS NOT NULL AND NOT ");
            }
            sql.pick(
                "EXISTS (SELECT 1 FROM json_each(?) v WHERE instr(fold(",
                "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(? AS text)::jsonb) AS v(value) WHERE strpos(lower(",
            );
            sql.bind_list(&folded(values));
            expr(sql);
            sql.push("), v.value) > 0)");
        }
        _ => {
            sql.pick("0", "FALSE");
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

/// A custom attribute a condition is on.
struct Attribute<'a> {
    key: &'a str,
    model: AttributeModel,
    kind: CustomKind,
}

/// How a positive condition on a custom attribute finds its conversations.
#[derive(Clone, Copy)]
enum Lookup {
    /// Through the values table's indexes: the conversations whose attribute row matches.
    Index,
    /// Reading the attribute of each row the rest of the query selects, by primary key.
    PerRow,
    /// The values table's indexes alone, as a statement of its own selecting conversation ids.
    Selection,
}

/// What an expression reads from a custom attribute.
#[derive(Clone, Copy)]
enum Part {
    Value,
    Type,
    Folded,
    /// The value when it is a number, else NULL.
    Number,
    /// The value's day.
    Date,
}

/// One part of the attribute of the conversation of the row, NULL when the key is absent: a
/// primary-key read of the values table the triggers keep. The key is bound.
fn per_row(sql: &mut Sql, attribute: &Attribute, part: Part) {
    let piece = |part: Part| {
        match (attribute.model, part) {
        (AttributeModel::Conversation, Part::Type) => "(SELECT v.type FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (AttributeModel::Conversation, Part::Folded) => "(SELECT v.folded FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (AttributeModel::Conversation, _) => "(SELECT v.value FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (AttributeModel::Contact, Part::Type) => "(SELECT v.type FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (AttributeModel::Contact, Part::Folded) => "(SELECT v.folded FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (AttributeModel::Contact, _) => "(SELECT v.value FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
    }
    };
    let key = || Param::Text(attribute.key.to_string());
    if sql.postgres() {
        sql.push(pg_per_row(attribute.model, part)).bind(key());
        return;
    }
    match part {
        Part::Number => {
            sql.push("(CASE WHEN ")
                .push(piece(Part::Type))
                .bind(key())
                .push(" IN ('integer', 'real') THEN ")
                .push(piece(Part::Value))
                .bind(key())
                .push(" END)");
        }
        Part::Date => {
            sql.push("date(")
                .push(piece(Part::Value))
                .bind(key())
                .push(")");
        }
        part => {
            sql.push(piece(part)).bind(key());
        }
    }
}

/// `per_row` on PostgreSQL, whose values table keeps typed columns: `number_value` only for
/// numbers, and the value itself only to tell a set value (NULL for an absent key or JSON
/// null, as SQLite's `value`). One bound key each.
fn pg_per_row(model: AttributeModel, part: Part) -> &'static str {
    use AttributeModel::*;
    match (model, part) {
        (Conversation, Part::Value) => "(SELECT NULLIF(v.type, 'null') FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (Conversation, Part::Type) => "(SELECT v.type FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (Conversation, Part::Folded) => "(SELECT v.folded FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (Conversation, Part::Number) => "(SELECT v.number_value FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?)",
        (Conversation, Part::Date) => "wootlite_date((SELECT v.text_value FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?))",
        (Contact, Part::Value) => "(SELECT NULLIF(v.type, 'null') FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (Contact, Part::Type) => "(SELECT v.type FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (Contact, Part::Folded) => "(SELECT v.folded FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (Contact, Part::Number) => "(SELECT v.number_value FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?)",
        (Contact, Part::Date) => "wootlite_date((SELECT v.text_value FROM contact_attribute_values v WHERE v.contact_id = c.contact_id AND v.key = ?))",
    }
}

/// The same part, on the values table's row `v` of a `Lookup::Index` selection.
fn on_index_row(sql: &mut Sql, part: Part) {
    match part {
        Part::Value => sql.pick("v.value", "NULLIF(v.type, 'null')"),
        Part::Type => sql.push("v.type"),
        Part::Folded => sql.push("v.folded"),
        Part::Number => sql.pick(
            "v.type IN ('integer', 'real') AND v.value",
            "v.number_value",
        ),
        Part::Date => sql.pick("date(v.value)", "wootlite_date(v.text_value)"),
    };
}

/// How a kind's compared values are listed on PostgreSQL.
fn element_of(kind: CustomKind) -> Element {
    match kind {
        CustomKind::Text | CustomKind::Boolean => Element::Text,
        CustomKind::Number => Element::Real,
        CustomKind::Date => Element::Date,
    }
}

/// ` > ?` and its relatives; PostgreSQL takes a day as text cast to a date, since the driver
/// binds text only as text.
fn compare(sql: &mut Sql, operator: &'static str, kind: CustomKind, value: Param) {
    sql.push(operator);
    if sql.postgres() && kind == CustomKind::Date {
        sql.push("CAST(? AS text)::date");
    } else {
        sql.push("?");
    }
    sql.bind(value);
}

/// The part of the attribute that conditions on its kind compare.
fn compared_part(kind: CustomKind) -> Part {
    match kind {
        CustomKind::Text => Part::Folded,
        CustomKind::Number => Part::Number,
        CustomKind::Date => Part::Date,
        CustomKind::Boolean => Part::Type,
    }
}

/// Positive operators (equal, contains, greater, less, present) select through the indexes, or
/// read each row's attribute (see `Lookup`): where the attribute is absent they give false
/// instead of SQL's NULL, which selects the same rows since conditions are only ever joined
/// with AND and OR. Negative operators keep NULL handling and always read the attribute per row.
fn custom(
    sql: &mut Sql,
    attribute: &Attribute,
    lookup: Lookup,
    operator: Operator,
    values: &[Value],
    today: NaiveDate,
) {
    use Operator::*;
    // Chatwoot compares a text attribute, lowercased, with its first value only.
    let compared: Vec<Value> = match attribute.kind {
        CustomKind::Text => folded(&values[..values.len().min(1)]),
        _ => values.to_vec(),
    };
    let first = sql_value(compared.first());
    match operator {
        EqualTo | Contains | IsGreaterThan | IsLessThan | DaysBefore | IsPresent => {
            let part = |sql: &mut Sql, part: Part| match lookup {
                Lookup::Index | Lookup::Selection => on_index_row(sql, part),
                Lookup::PerRow => per_row(sql, attribute, part),
            };
            match (lookup, attribute.model) {
                (Lookup::PerRow, _) => {}
                (Lookup::Index, AttributeModel::Conversation) => {
                    sql.push("c.id IN (SELECT v.conversation_id FROM conversation_attribute_values v WHERE v.key = ? AND ");
                }
                (Lookup::Index, AttributeModel::Contact) => {
                    sql.push("c.contact_id IN (SELECT v.contact_id FROM contact_attribute_values v WHERE v.key = ? AND ");
                }
                (Lookup::Selection, _) => {
                    sql.push("SELECT v.conversation_id FROM conversation_attribute_values v WHERE v.key = ? AND ");
                }
            }
            if !matches!(lookup, Lookup::PerRow) {
                sql.bind(Param::Text(attribute.key.to_string()));
            }
            let compared_part = compared_part(attribute.kind);
            match (attribute.kind, operator) {
                (_, IsPresent) => {
                    part(sql, Part::Value);
                    sql.push(" IS NOT NULL");
                }
                (CustomKind::Text, EqualTo) | (_, EqualTo) => {
                    part(sql, compared_part);
                    sql.list(false, element_of(attribute.kind), &compared);
                }
                (CustomKind::Text, _) => {
                    sql.pick("instr(", "strpos(");
                    part(sql, Part::Folded);
                    sql.push(", ?) > 0").bind(first);
                }
                (CustomKind::Boolean, _) => {
                    part(sql, Part::Type);
                    sql.list(false, Element::Text, &compared);
                }
                (kind, IsGreaterThan) => {
                    part(sql, compared_part);
                    compare(sql, " > ", kind, first);
                }
                (kind, IsLessThan) => {
                    part(sql, compared_part);
                    compare(sql, " < ", kind, first);
                }
                (CustomKind::Date, _) => {
                    part(sql, Part::Date);
                    let day = sql_value(Some(&Value::Day(days_ago(values, today))));
                    compare(sql, " < ", CustomKind::Date, day);
                }
                (CustomKind::Number, _) => {
                    part(sql, Part::Number);
                    sql.push(" < ?").bind(first);
                }
            }
            if let Lookup::Index = lookup {
                sql.push(")");
            }
        }
        IsNotPresent => {
            per_row(sql, attribute, Part::Value);
            sql.push(" IS NULL");
        }
        // Chatwoot's one NULL exception: a custom attribute that is not set is "not equal".
        NotEqualTo => {
            sql.push("(");
            per_row(sql, attribute, compared_part(attribute.kind));
            sql.list(true, element_of(attribute.kind), &compared)
                .push(" OR ");
            per_row(sql, attribute, Part::Value);
            sql.push(" IS NULL)");
        }
        DoesNotContain => {
            sql.pick("instr(", "strpos(");
            per_row(sql, attribute, Part::Folded);
            sql.push(", ?) = 0").bind(first);
        }
        Unknown => {
            sql.pick("0", "FALSE");
        }
    }
}

fn sql_value(value: Option<&Value>) -> Param {
    match value {
        Some(Value::Integer(i)) => Param::Integer(*i),
        Some(Value::Real(f)) => Param::Real(*f),
        Some(Value::Text(t)) => Param::Text(t.clone()),
        Some(Value::Day(d)) => Param::Text(d.format("%Y-%m-%d").to_string()),
        Some(Value::Bool(b)) => Param::Text(if *b { "true" } else { "false" }.to_string()),
        Some(Value::Nothing) | None => Param::Null,
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
                (Ok(plain), Ok(hostile)) => (
                    compile(&plain, today, Dialect::Sqlite),
                    compile(&hostile, today, Dialect::Sqlite),
                ),
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
        let compiled = compile(
            &parse(&payload, &[]).unwrap(),
            NaiveDate::default(),
            Dialect::Sqlite,
        );
        assert_eq!(
            compiled.sql,
            "((c.status = ?) OR (c.assignee_id IS NOT NULL) AND \
             (NOT EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id)))"
        );
        assert_eq!(compiled.params, vec![Param::Integer(0)]);
        assert_eq!(
            compile(&[], NaiveDate::default(), Dialect::Sqlite).sql,
            "(1)"
        );
    }

    /// A custom attribute condition reads each row's value where its AND group also names one
    /// inbox, assignee or team (that column's index drives), and selects through the values
    /// index elsewhere; lists of several values stay one bound JSON array.
    #[test]
    fn attribute_conditions_are_read_per_row_where_an_inbox_assignee_or_team_leads() {
        let definitions = vec![definition("region", AttributeDisplayType::Text)];
        let compiled = |payload: serde_json::Value| {
            compile(
                &parse(&payload, &definitions).unwrap(),
                NaiveDate::default(),
                Dialect::Sqlite,
            )
            .sql
        };
        let anchored = compiled(json!({ "payload": [
            { "attribute_key": "region", "filter_operator": "equal_to", "values": ["north"], "query_operator": "and" },
            { "attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1], "query_operator": "or" },
            { "attribute_key": "region", "filter_operator": "equal_to", "values": ["south"], "query_operator": "and" },
            { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open", "pending"] },
        ]}));
        assert_eq!(
            anchored,
            "(((SELECT v.folded FROM conversation_attribute_values v WHERE v.conversation_id = c.id AND v.key = ?) \
             IN (SELECT value FROM json_each(?))) AND (c.inbox_id = ?) OR \
             (c.id IN (SELECT v.conversation_id FROM conversation_attribute_values v WHERE v.key = ? AND \
             v.folded IN (SELECT value FROM json_each(?)))) AND (c.status IN (SELECT value FROM json_each(?))))"
        );
        let two_inboxes = compiled(json!({ "payload": [
            { "attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1, 2], "query_operator": "and" },
            { "attribute_key": "region", "filter_operator": "equal_to", "values": ["north"] },
        ]}));
        assert!(
            two_inboxes.contains("c.id IN (SELECT v.conversation_id"),
            "{two_inboxes}"
        );
    }
}
