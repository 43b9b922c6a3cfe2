//! The custom attribute values of a conversation or contact, one row per key, which the filter
//! compiler reads. On SQLite triggers write them from the stored JSON (with SQL's `fold()`); on
//! PostgreSQL the store writes them here, in the same transaction as the JSON, because the fold
//! is Rust's (docs/storage.md §4) and a database function would fold some characters otherwise.

use serde_json::Value;

use crate::db::{Conn, Sql};
use crate::search::text::folded;

use super::StoreResult;

/// Whose values these are.
#[derive(Clone, Copy)]
pub enum Owner {
    Conversation,
    Contact,
}

impl Owner {
    fn statements(self) -> (Sql, Sql) {
        match self {
            Owner::Conversation => (
                Sql::same("DELETE FROM conversation_attribute_values WHERE conversation_id = ?1"),
                Sql::same(
                    "INSERT INTO conversation_attribute_values
                         (conversation_id, key, type, text_value, number_value, bool_value, folded)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                ),
            ),
            Owner::Contact => (
                Sql::same("DELETE FROM contact_attribute_values WHERE contact_id = ?1"),
                Sql::same(
                    "INSERT INTO contact_attribute_values
                         (contact_id, key, type, text_value, number_value, bool_value, folded)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                ),
            ),
        }
    }
}

/// One key's row as SQLite's `json_each` and `fold()` would make it.
#[derive(Debug, PartialEq)]
struct Typed {
    kind: &'static str,
    text: Option<String>,
    number: Option<f64>,
    flag: Option<bool>,
    folded: Option<String>,
}

fn typed(value: &Value) -> Typed {
    let row = |kind, text, number, flag, folded| Typed {
        kind,
        text,
        number,
        flag,
        folded,
    };
    match value {
        Value::Null => row("null", None, None, None, None),
        Value::Bool(true) => row("true", None, None, Some(true), Some("1".into())),
        Value::Bool(false) => row("false", None, None, Some(false), Some("0".into())),
        Value::Number(n) => match n.as_i64() {
            Some(i) => row("integer", None, Some(i as f64), None, Some(i.to_string())),
            None => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                row("real", None, Some(f), None, Some(f.to_string()))
            }
        },
        Value::String(s) => row("text", Some(s.clone()), None, None, Some(folded(s))),
        Value::Array(_) | Value::Object(_) => {
            let kind = if value.is_array() { "array" } else { "object" };
            let text = value.to_string();
            let fold = folded(&text);
            row(kind, Some(text), None, None, Some(fold))
        }
    }
}

/// Replaces the rows of `owner_id` with those of `attributes` (a JSON object; anything else
/// leaves none). Nothing to do on SQLite, whose triggers follow the column.
pub fn replace(conn: &Conn, owner: Owner, owner_id: i64, attributes: &Value) -> StoreResult<()> {
    if !conn.is_postgres() {
        return Ok(());
    }
    let (delete, insert) = owner.statements();
    super::execute(conn, &delete, [owner_id])?;
    let Value::Object(attributes) = attributes else {
        return Ok(());
    };
    let mut insert = conn.prepare_cached(&insert)?;
    for (key, value) in attributes {
        let row = typed(value);
        insert.execute(crate::params![
            owner_id, key, row.kind, row.text, row.number, row.flag, row.folded
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The rows SQLite's trigger makes from the same JSON, typed as PostgreSQL keeps them.
    #[test]
    fn each_json_type_becomes_the_row_sqlites_trigger_makes() {
        let (_dir, db) = crate::db::scratch_db("");
        let attributes = json!({"n": 3, "r": 2.5, "t": "Ünïcode İ", "b": true, "f": false,
                                "z": null, "a": [1, "x"], "o": {"k": "V"}});
        let from_sqlite = db
            .read_now(|conn| {
                let mut stmt = conn.prepare(
                    "SELECT j.key, j.type, fold(j.value) FROM json_each(?1) j ORDER BY j.key",
                )?;
                let rows = stmt.query_map([attributes.to_string()], |row| {
                    Ok((row.get::<String>(0)?, row.get::<String>(1)?, row.get(2)?))
                })?;
                Ok(rows.collect::<Result<Vec<(String, String, Option<String>)>, _>>()?)
            })
            .unwrap();
        let mut ours: Vec<_> = attributes
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let row = typed(v);
                (k.clone(), row.kind.to_string(), row.folded)
            })
            .collect();
        ours.sort();
        assert_eq!(ours, from_sqlite);
        assert_eq!(typed(&json!(3)).number, Some(3.0));
        assert_eq!(typed(&json!("Ab")).text.as_deref(), Some("Ab"));
        assert_eq!(typed(&json!(true)).flag, Some(true));
    }
}
