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

impl Param {
    /// What kind of value it is, for errors that must not repeat the value itself.
    fn kind(&self) -> &'static str {
        match self {
            Param::Null => "null",
            Param::Integer(_) => "an integer",
            Param::Real(_) => "a real number",
            Param::Text(_) => "text",
        }
    }
}

/// PostgreSQL types each bound value's column: an integer is sent as the width its column
/// has (flags are `smallint`, most ids `bigint`), so the store binds `i64` on both engines.
impl postgres::types::ToSql for Param {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match (self, ty) {
            (Param::Null, _) => Ok(postgres::types::IsNull::Yes),
            (Param::Integer(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Param::Integer(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Param::Integer(i), &Type::INT8) => i.to_sql(ty, out),
            (Param::Integer(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Param::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Param::Text(text), &Type::TEXT | &Type::VARCHAR) => text.to_sql(ty, out),
            (param, ty) => Err(format!("{} cannot be bound as {ty}", param.kind()).into()),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        matches!(
            *ty,
            Type::INT2 | Type::INT4 | Type::INT8 | Type::FLOAT8 | Type::TEXT | Type::VARCHAR
        )
    }

    postgres::types::to_sql_checked!();
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
