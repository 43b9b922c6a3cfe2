//! TEMPORARY
use super::StoreResult;
use rusqlite::Connection;
pub fn active_for_inbox(_conn: &Connection, _inbox_id: i64) -> StoreResult<Option<i64>> {
    Ok(None)
}
pub fn delivery_target(_conn: &Connection, _id: i64) -> StoreResult<Option<(String, String)>> {
    Ok(None)
}
