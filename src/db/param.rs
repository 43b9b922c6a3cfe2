//! A value bound to a statement, owned by wootlite rather than by a driver, so that what the
//! domain assembles before it reaches an engine (a compiled filter's values) says nothing of
//! which engine will bind it.

use rusqlite::types::{ToSqlOutput, Value, ValueRef};

#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Null => ToSqlOutput::Owned(Value::Null),
            Param::Integer(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Param::Real(f) => ToSqlOutput::Owned(Value::Real(*f)),
            Param::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
        })
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::Param;

    #[test]
    fn each_kind_of_value_reaches_sqlite_as_its_own_type() {
        let conn = Connection::open_in_memory().unwrap();
        let params = [
            Param::Null,
            Param::Integer(-7),
            Param::Real(2.5),
            Param::Text("é'; --".to_string()),
        ];
        let types: (String, String, String, String, String) = conn
            .query_row(
                "SELECT typeof(?1), typeof(?2), typeof(?3), typeof(?4), ?4",
                rusqlite::params_from_iter(params.iter()),
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(
            types,
            (
                "null".to_string(),
                "integer".to_string(),
                "real".to_string(),
                "text".to_string(),
                "é'; --".to_string()
            )
        );
    }
}
