//! All SQL lives here, one file per aggregate. Every statement is static text with bound
//! parameters. Functions take a `&Connection` (reads, or writes inside the caller's transaction:
//! a `Transaction` derefs to one) and never know about HTTP.

pub mod accounts;
pub mod agent_bots;
pub mod agents;
pub mod bulk;
pub mod cable_outbox;
pub mod catalog;
pub mod changes;
pub mod contacts;
pub mod conversation_list;
pub mod conversations;
pub mod custom_attributes;
pub mod details;
pub mod event_capture;
pub mod event_data;
pub mod event_outbox;
pub mod fixtures;
pub mod inboxes;
pub mod invitations;
pub mod labels;
pub mod mail;
pub mod members;
pub mod messages;
pub mod page_details;
pub mod password_tokens;
pub mod public;
pub mod realtime;
pub mod reset;
pub mod search_feed;
pub mod sessions;
pub mod teams;
pub mod tokens;
pub mod webhooks;

use rusqlite::types::FromSql;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Params};
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A model validation failure: Rails' `{"message", "attributes"}`.
    #[error("{message}")]
    Invalid {
        message: String,
        attributes: Vec<String>,
    },
    /// A refused operation with a plain message (`{"error": ...}`).
    #[error("{0}")]
    Rejected(String),
    /// The principal may not act on this object (Chatwoot's 401 "not authorized to do this").
    #[error("not allowed")]
    NotAllowed,
    /// A credential checked inside the transaction did not hold: 401 with this message.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The disk (or the configured size limit) is full: nothing was written.
    #[error("database full: {0}")]
    Full(String),
    #[error("database: {0}")]
    Database(String),
}

impl StoreError {
    /// One failed validation, e.g. `invalid("email", "Email has already been taken")`.
    pub fn invalid(attribute: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            attributes: vec![attribute.to_string()],
        }
    }
}

impl StoreError {
    /// What a failed statement or commit means for the caller.
    pub fn of(error: &rusqlite::Error) -> Self {
        match error {
            rusqlite::Error::QueryReturnedNoRows => Self::NotFound,
            rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::DiskFull => {
                Self::Full(error.to_string())
            }
            other => Self::Database(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::of(&error)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// True when `error` is a UNIQUE (or primary key) violation.
pub fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation
            && (e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// `Connection::execute` through the statement cache: writes are parsed once per connection,
/// not once per call.
pub fn execute(conn: &Connection, sql: &str, params: impl Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Runs an INSERT/UPDATE, turning a UNIQUE violation into the given validation error.
pub fn execute_unique(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    on_duplicate: impl FnOnce() -> StoreError,
) -> StoreResult<usize> {
    execute(conn, sql, params).map_err(|e| unique_or(e, on_duplicate))
}

/// Runs an INSERT ending in `RETURNING id` and gives the new row's id. Both engines say it so,
/// where `last_insert_rowid()` is SQLite's alone.
pub fn insert(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params, |row| row.get(0))?)
}

/// `insert`, turning a UNIQUE violation into the given validation error.
pub fn insert_unique(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    on_duplicate: impl FnOnce() -> StoreError,
) -> StoreResult<i64> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.query_row(params, |row| row.get(0)))
        .map_err(|e| unique_or(e, on_duplicate))
}

fn unique_or(error: rusqlite::Error, on_duplicate: impl FnOnce() -> StoreError) -> StoreError {
    if is_unique_violation(&error) {
        on_duplicate()
    } else {
        error.into()
    }
}

/// A stored JSON object column, tolerant of anything that is not an object (it reads as `{}`).
pub fn json_object(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => value,
        _ => Value::Object(Map::new()),
    }
}

/// A stored JSON array column, `[]` when unreadable.
pub fn json_array(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Array(_)) => value,
        _ => Value::Array(Vec::new()),
    }
}

/// Ids of a one-column query.
pub fn ids(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<Vec<i64>> {
    column(conn, sql, params)
}

pub fn column<T: FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ids bound as one parameter, for `IN rarray(?)` (duplicates dropped).
pub fn id_array(ids: impl IntoIterator<Item = i64>) -> std::rc::Rc<Vec<rusqlite::types::Value>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    std::rc::Rc::new(
        ids.into_iter()
            .map(rusqlite::types::Value::Integer)
            .collect(),
    )
}

/// The (key, value) rows of `sql` as a map.
pub fn map_of<K, V>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    row: impl FnMut(&rusqlite::Row) -> rusqlite::Result<(K, V)>,
) -> StoreResult<std::collections::HashMap<K, V>>
where
    K: std::hash::Hash + Eq,
{
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a one-row query finds anything.
pub fn exists(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<bool> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt.query_row(params, |_| Ok(())).optional()?.is_some())
}

/// The result of an UPDATE or DELETE aimed at one row: zero rows means there was nothing to change.
pub fn one_row(changed: usize) -> StoreResult<()> {
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Where a target's events go and the secret that signs them, from a query of (url, secret) by
/// id: None when the row is gone or its URL is blank.
fn delivery_target(conn: &Connection, sql: &str, id: i64) -> StoreResult<Option<(String, String)>> {
    let found: Option<(Option<String>, String)> = conn
        .prepare_cached(sql)?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(found.and_then(|(url, secret)| {
        url.filter(|u| !u.trim().is_empty())
            .map(|url| (url, secret))
    }))
}

/// Page `page` (1-based) of `per_page` rows as a LIMIT/OFFSET pair; absurd pages read as empty.
pub fn page_window(page: i64, per_page: i64) -> (i64, i64) {
    let page = page.max(1);
    (per_page, (page - 1).saturating_mul(per_page))
}

/// The schema step the database is at (`PRAGMA user_version`).
pub fn schema_version(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}
