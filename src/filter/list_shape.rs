//! Payloads that say no more than the list's own filters: status, inbox, team and assignee, each
//! equal to one value, joined by "and". The list answers these from the count table and its
//! composite indexes, where the compiled statement would read every match to count it.

use super::keys::Source;
use super::{Condition, Joiner, Operator, Target, Value};
use crate::models::Status;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListShape {
    pub status: Option<Status>,
    pub inbox_id: Option<i64>,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
}

/// The payload as list filters, or None when it says anything they cannot.
pub fn list_shape(conditions: &[Condition]) -> Option<ListShape> {
    if conditions.is_empty() {
        return None;
    }
    let mut shape = ListShape::default();
    for (n, condition) in conditions.iter().enumerate() {
        let last = n + 1 == conditions.len();
        if !last && condition.joiner != Some(Joiner::And) {
            return None;
        }
        let (Target::Standard(key), Operator::EqualTo, [Value::Integer(value)]) = (
            &condition.target,
            condition.operator,
            condition.values.as_slice(),
        ) else {
            return None;
        };
        let value = *value;
        // A key given twice is left to the compiled statement.
        let free = match key.source {
            Source::Status => shape.status.replace(Status::from_code(value)?).is_none(),
            Source::Id("c.inbox_id") => shape.inbox_id.replace(value).is_none(),
            Source::Id("c.team_id") => shape.team_id.replace(value).is_none(),
            Source::Id("c.assignee_id") => shape.assignee_id.replace(value).is_none(),
            _ => return None,
        };
        if !free {
            return None;
        }
    }
    Some(shape)
}

/// Payloads that are the list's filters and one condition besides, all joined by "and": the
/// list's filters as a shape, and the other condition. None for any other payload.
pub fn values_shape(conditions: &[Condition]) -> Option<(ListShape, &Condition)> {
    let last = conditions.len().checked_sub(1)?;
    if conditions[..last]
        .iter()
        .any(|condition| condition.joiner != Some(Joiner::And))
    {
        return None;
    }
    let mut others = conditions.iter().filter(|c| !is_list_filter(c));
    let (Some(other), None) = (others.next(), others.next()) else {
        return None;
    };
    let list: Vec<Condition> = conditions
        .iter()
        .filter(|c| is_list_filter(c))
        .cloned()
        .collect();
    let shape = if list.is_empty() {
        ListShape::default()
    } else {
        list_shape(&list)?
    };
    Some((shape, other))
}

/// Whether the condition is one the list's filters can say.
fn is_list_filter(condition: &Condition) -> bool {
    matches!(
        (&condition.target, condition.operator, condition.values.as_slice()),
        (Target::Standard(key), Operator::EqualTo, [Value::Integer(_)])
            if matches!(key.source, Source::Status | Source::Id("c.inbox_id" | "c.team_id" | "c.assignee_id"))
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::filter::parse;

    /// The conditions as a payload, the last one with no joiner.
    fn shape_of(mut payload: serde_json::Value) -> Option<ListShape> {
        if let Some(last) = payload.as_array_mut().and_then(|list| list.last_mut()) {
            last["query_operator"] = serde_json::Value::Null;
        }
        list_shape(&parse(&json!({ "payload": payload }), &[]).unwrap())
    }

    fn condition(
        key: &str,
        operator: &str,
        values: serde_json::Value,
        joiner: &str,
    ) -> serde_json::Value {
        json!({
            "attribute_key": key,
            "filter_operator": operator,
            "values": values,
            "query_operator": joiner,
        })
    }

    #[test]
    fn equalities_of_list_keys_joined_by_and_are_list_filters() {
        let shape = shape_of(json!([
            condition("status", "equal_to", json!(["pending"]), "and"),
            condition("inbox_id", "equal_to", json!([3]), "and"),
            condition("team_id", "equal_to", json!(["2"]), "and"),
            condition("assignee_id", "equal_to", json!([7]), "or"),
        ]));
        assert_eq!(
            shape,
            Some(ListShape {
                status: Some(Status::Pending),
                inbox_id: Some(3),
                team_id: Some(2),
                assignee_id: Some(7),
            })
        );
        assert_eq!(
            shape_of(json!([condition(
                "inbox_id",
                "equal_to",
                json!([1]),
                "and"
            )])),
            Some(ListShape {
                inbox_id: Some(1),
                ..ListShape::default()
            })
        );
    }

    #[test]
    fn anything_more_is_left_to_the_compiled_statement() {
        let status = |values| condition("status", "equal_to", values, "and");
        for payload in [
            json!([status(json!(["open", "pending"]))]),
            json!([status(json!(["all"]))]),
            json!([status(json!(["nonsense"]))]),
            json!([condition("status", "not_equal_to", json!(["open"]), "and")]),
            json!([condition("assignee_id", "is_present", json!([]), "and")]),
            json!([condition("priority", "equal_to", json!(["high"]), "and")]),
            json!([
                condition("status", "equal_to", json!(["open"]), "or"),
                condition("inbox_id", "equal_to", json!([1]), "and"),
            ]),
            json!([
                condition("inbox_id", "equal_to", json!([1]), "and"),
                condition("inbox_id", "equal_to", json!([2]), "and"),
            ]),
            json!([
                condition("inbox_id", "equal_to", json!([1]), "and"),
                condition("labels", "equal_to", json!(["billing"]), "and"),
            ]),
        ] {
            assert_eq!(shape_of(payload.clone()), None, "{payload}");
        }
    }
}
