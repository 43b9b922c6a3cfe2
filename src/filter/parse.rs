//! JSON payload -> validated conditions, with Chatwoot's 422 messages, in Chatwoot's order:
//! the query operators of the whole payload first, then per condition the operator of a
//! standard key, blank values, an unknown key, and values that do not parse.

use chrono::NaiveDate;
use serde_json::Value as Json;

use super::keys::{self, Source, StandardKey};
use super::{
    Condition, CustomKind, FilterError, Joiner, Operator, Target, Value, MAX_CONDITIONS,
    MAX_VALUES, MAX_VALUE_CHARS,
};
use crate::models::{AttributeDisplayType, AttributeModel, Priority, Status};
use crate::store::custom_attributes::Definition;

/// Chatwoot validates `days_before` to this range.
const MAX_DAYS_BEFORE: i64 = 998;

fn invalid_operator(key: &StandardKey) -> FilterError {
    let allowed: Vec<&str> = key.operators.iter().map(|o| o.name()).collect();
    FilterError(format!(
        "Invalid operator. The allowed operators for {} are [{}].",
        key.name,
        allowed.join(",")
    ))
}

fn invalid_value(key: &str) -> FilterError {
    FilterError(format!(
        "Invalid value. The values provided for {key} are invalid"
    ))
}

fn invalid_attribute(key: &str) -> FilterError {
    FilterError(format!(
        "Invalid attribute key - [{key}]. The key should be one of [{}] or a custom attribute defined in the account.",
        keys::standard_names()
    ))
}

fn bad_shape(message: &str) -> FilterError {
    FilterError(message.to_string())
}

/// The payload's conditions, validated against the account's custom attribute definitions.
pub fn parse(body: &Json, definitions: &[Definition]) -> Result<Vec<Condition>, FilterError> {
    let payload = match body.get("payload") {
        Some(Json::Array(payload)) => payload,
        None | Some(Json::Null) => {
            return Err(bad_shape(
                "payload is required: an array of filter conditions",
            ))
        }
        Some(_) => return Err(bad_shape("payload must be an array of filter conditions")),
    };
    if payload.len() > MAX_CONDITIONS {
        return Err(FilterError(format!(
            "A filter may have at most {MAX_CONDITIONS} conditions"
        )));
    }
    let raw: Vec<&serde_json::Map<String, Json>> = payload
        .iter()
        .map(|c| {
            c.as_object()
                .ok_or_else(|| bad_shape("Each filter condition must be an object"))
        })
        .collect::<Result<_, _>>()?;
    let joiners = raw
        .iter()
        .map(|c| joiner(c.get("query_operator")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(Some(_)) = joiners.last() {
        return Err(bad_shape(
            "The last filter condition must not have a query_operator",
        ));
    }
    raw.iter()
        .zip(joiners)
        .map(|(c, joiner)| condition(c, joiner, definitions))
        .collect()
}

fn joiner(given: Option<&Json>) -> Result<Option<Joiner>, FilterError> {
    let invalid = || bad_shape("Query operator must be either \"AND\" or \"OR\".");
    match given {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.is_empty() => Ok(None),
        Some(Json::String(s)) if s.eq_ignore_ascii_case("and") => Ok(Some(Joiner::And)),
        Some(Json::String(s)) if s.eq_ignore_ascii_case("or") => Ok(Some(Joiner::Or)),
        Some(_) => Err(invalid()),
    }
}

fn text_field<'a>(c: &'a serde_json::Map<String, Json>, name: &str) -> &'a str {
    c.get(name).and_then(Json::as_str).unwrap_or("")
}

/// Rails' `blank?` for the values: missing, null, empty array or empty string.
fn blank(values: Option<&Json>) -> bool {
    match values {
        None | Some(Json::Null) => true,
        Some(Json::Array(a)) => a.is_empty(),
        Some(Json::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

fn condition(
    c: &serde_json::Map<String, Json>,
    joiner: Option<Joiner>,
    definitions: &[Definition],
) -> Result<Condition, FilterError> {
    let key = text_field(c, "attribute_key");
    let operator = Operator::parse(text_field(c, "filter_operator"));
    let standard = keys::standard(key);
    if let Some(standard) = standard {
        if !standard.operators.contains(&operator) {
            return Err(invalid_operator(standard));
        }
    }
    let values_json = c.get("values");
    if !operator.takes_no_values() && blank(values_json) {
        return Err(invalid_value(key));
    }
    let target = match standard {
        Some(standard) => Target::Standard(standard),
        None => custom_target(c, key, definitions)?,
    };
    let values = if operator.takes_no_values() {
        Vec::new()
    } else {
        let list = match values_json {
            Some(Json::Array(list)) => list,
            _ => return Err(bad_shape("values must be an array")),
        };
        if list.len() > MAX_VALUES {
            return Err(FilterError(format!(
                "A filter condition may have at most {MAX_VALUES} values"
            )));
        }
        typed_values(&target, operator, key, list)?
    };
    Ok(Condition {
        target,
        operator,
        values,
        joiner,
    })
}

fn custom_target(
    c: &serde_json::Map<String, Json>,
    key: &str,
    definitions: &[Definition],
) -> Result<Target, FilterError> {
    let model = match text_field(c, "custom_attribute_type") {
        "" => Some(AttributeModel::Conversation),
        other => AttributeModel::parse(other),
    };
    let definition = model
        .and_then(|model| {
            definitions
                .iter()
                .find(|d| d.key == key && d.model == model)
        })
        .ok_or_else(|| invalid_attribute(key))?;
    let kind = match definition.display_type {
        AttributeDisplayType::Text | AttributeDisplayType::Link | AttributeDisplayType::List => {
            CustomKind::Text
        }
        AttributeDisplayType::Number
        | AttributeDisplayType::Currency
        | AttributeDisplayType::Percent => CustomKind::Number,
        AttributeDisplayType::Date => CustomKind::Date,
        AttributeDisplayType::Checkbox => CustomKind::Boolean,
    };
    Ok(Target::Custom {
        key: key.to_string(),
        model: definition.model,
        kind,
    })
}

/// A scalar as text (numbers and booleans by their JSON spelling); arrays and objects are not
/// values.
fn as_text(value: &Json) -> Option<String> {
    let text = match value {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        _ => return None,
    };
    (text.chars().count() <= MAX_VALUE_CHARS).then_some(text)
}

fn as_integer(value: &Json) -> Option<i64> {
    match value {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_number(value: &Json) -> Option<f64> {
    match value {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// An ISO-8601 date, any time part dropped (`Date.iso8601`).
fn as_day(value: &Json) -> Option<NaiveDate> {
    let text = value.as_str()?.trim();
    let day = text.get(..10)?;
    let rest = &text[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
        return None;
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

fn as_bool(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn all<T>(
    list: &[Json],
    key: &str,
    read: impl Fn(&Json) -> Option<T>,
) -> Result<Vec<T>, FilterError> {
    list.iter()
        .map(|v| read(v).ok_or_else(|| invalid_value(key)))
        .collect()
}

fn first<T>(list: &[Json], key: &str, read: impl Fn(&Json) -> Option<T>) -> Result<T, FilterError> {
    list.first()
        .and_then(read)
        .ok_or_else(|| invalid_value(key))
}

/// `days_before N`: a whole number of days in Chatwoot's range.
fn days(list: &[Json], key: &str) -> Result<Vec<Value>, FilterError> {
    let n = first(list, key, as_integer)?;
    if !(1..=MAX_DAYS_BEFORE).contains(&n) {
        return Err(invalid_value(key));
    }
    Ok(vec![Value::Integer(n)])
}

fn texts(list: &[Json], key: &str) -> Result<Vec<Value>, FilterError> {
    Ok(all(list, key, as_text)?
        .into_iter()
        .map(Value::Text)
        .collect())
}

/// Values for `contains`: stripped, as Chatwoot does.
fn needles(list: &[Json], key: &str) -> Result<Vec<Value>, FilterError> {
    Ok(all(list, key, as_text)?
        .into_iter()
        .map(|t| Value::Text(t.trim().to_string()))
        .collect())
}

fn typed_values(
    target: &Target,
    operator: Operator,
    key: &str,
    list: &[Json],
) -> Result<Vec<Value>, FilterError> {
    use Operator::*;
    match target {
        Target::Standard(standard) => {
            match (standard.source, operator) {
                (Source::Status, _) => Ok(list
                    .iter()
                    .flat_map(|v| match v.as_str() {
                        Some("all") => Status::ALL
                            .iter()
                            .map(|s| Value::Integer(s.code()))
                            .collect(),
                        Some(name) => vec![Status::parse(name)
                            .map_or(Value::Nothing, |s| Value::Integer(s.code()))],
                        None => vec![Value::Nothing],
                    })
                    .collect()),
                (Source::Priority, _) => Ok(list
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .and_then(Priority::parse)
                            .map_or(Value::Nothing, |p| Value::Integer(p.code()))
                    })
                    .collect()),
                (Source::Id(_), _) | (Source::DisplayId, EqualTo | NotEqualTo) => {
                    Ok(all(list, key, as_integer)?
                        .into_iter()
                        .map(Value::Integer)
                        .collect())
                }
                (Source::DisplayId, _) => needles(list, key),
                (Source::Labels, _) => texts(list, key),
                (Source::Additional(_), Contains | DoesNotContain) => needles(list, key),
                (Source::Additional(_), _) => texts(list, key),
                (Source::Date(_), DaysBefore) => days(list, key),
                (Source::Date(_), _) => Ok(vec![Value::Day(first(list, key, as_day)?)]),
            }
        }
        Target::Custom { kind, .. } => match (kind, operator) {
            (_, Unknown) => Ok(Vec::new()),
            (CustomKind::Text, IsGreaterThan | IsLessThan | DaysBefore) => Err(invalid_value(key)),
            // Chatwoot compares a text attribute with its first value only.
            (CustomKind::Text, _) => Ok(vec![Value::Text(first(list, key, as_text)?)]),
            (_, Contains | DoesNotContain) => Err(FilterError(format!(
                "Invalid operator. {} is not allowed for {key}, which is not a text attribute",
                operator.name()
            ))),
            (CustomKind::Number, DaysBefore) | (CustomKind::Boolean, DaysBefore) => {
                Err(invalid_value(key))
            }
            (CustomKind::Number, IsGreaterThan | IsLessThan) => {
                Ok(vec![Value::Real(first(list, key, as_number)?)])
            }
            (CustomKind::Number, _) => Ok(all(list, key, as_number)?
                .into_iter()
                .map(Value::Real)
                .collect()),
            (CustomKind::Date, DaysBefore) => days(list, key),
            (CustomKind::Date, IsGreaterThan | IsLessThan) => {
                Ok(vec![Value::Day(first(list, key, as_day)?)])
            }
            (CustomKind::Date, _) => Ok(all(list, key, as_day)?
                .into_iter()
                .map(Value::Day)
                .collect()),
            (CustomKind::Boolean, IsGreaterThan | IsLessThan) => Err(invalid_value(key)),
            (CustomKind::Boolean, _) => Ok(all(list, key, as_bool)?
                .into_iter()
                .map(Value::Bool)
                .collect()),
        },
    }
}
