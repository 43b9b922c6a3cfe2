//! A value bound to a statement, owned by wootlite rather than by a driver, so that what the
//! domain assembles before it reaches an engine (a compiled filter's values) says nothing of
//! which engine will bind it.

#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

/// PostgreSQL types each bound value's column: an integer is sent as the width its column
/// has (flags are `smallint`, most ids `bigint`), so the store binds `i64` on both engines.
impl postgres::types::ToSql for Param {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        super::conn::PgArg::from(super::Bind::arg(self)).to_sql(ty, out)
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}
