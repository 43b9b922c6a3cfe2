//! All SQL lives here, one file per aggregate. Every statement is static text with bound
//! parameters. Functions take a `&Conn` (reads, or writes inside the caller's transaction) and
//! never know about HTTP or a driver.

pub mod accounts;
pub mod agent_bots;
pub mod agents;
pub mod attribute_values;
pub mod bulk;
pub mod cable_feed;
pub mod cable_outbox;
pub mod cable_watch;
pub mod catalog;
pub mod changes;
pub mod claims;
pub mod contacts;
pub mod conversation_list;
pub mod conversations;
pub mod custom_attributes;
pub mod details;
pub mod dev_state;
pub mod event_capture;
pub mod event_data;
pub mod event_outbox;
pub mod feed_follow;
pub mod fixtures;
pub mod inboxes;
pub mod invitations;
pub mod labels;
pub mod mail;
pub mod members;
pub mod messages;
pub mod page_details;
pub mod password_tokens;
pub mod presence;
pub mod public;
pub mod realtime;
pub mod reset;
pub mod search_feed;
pub mod sessions;
pub mod teams;
pub mod tokens;
pub mod webhooks;

use crate::db::{Column, Conn, IdList, OptionalExtension, Params, Row, SqlError, SqlResult, Text};
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
    pub fn of(error: &SqlError) -> Self {
        if error.is_no_rows() {
            Self::NotFound
        } else if error.is_disk_full() {
            Self::Full(error.to_string())
        } else if error.is_unstorable_text() {
            Self::Rejected("Text may not contain the NUL character (\\u0000)".into())
        } else {
            Self::Database(error.to_string())
        }
    }
}

impl From<SqlError> for StoreError {
    fn from(error: SqlError) -> Self {
        Self::of(&error)
    }
}

/// The database layer's own statements (transactions, savepoints) speak SQLite directly.
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::of(&SqlError::Sqlite(error))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A statement through the statement cache: writes are parsed once per connection, not once
/// per call.
pub fn execute(conn: &Conn, sql: &(impl Text + ?Sized), params: impl Params) -> SqlResult<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Runs an INSERT/UPDATE, turning a UNIQUE violation into the given validation error.
pub fn execute_unique(
    conn: &Conn,
    sql: &(impl Text + ?Sized),
    params: impl Params,
    on_duplicate: impl FnOnce() -> StoreError,
) -> StoreResult<usize> {
    execute(conn, sql, params).map_err(|e| unique_or(e, on_duplicate))
}

/// Runs an INSERT ending in `RETURNING id` and gives the new row's id. Both engines say it so,
/// where `last_insert_rowid()` is SQLite's alone.
pub fn insert(conn: &Conn, sql: &(impl Text + ?Sized), params: impl Params) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params, |row| row.get(0))?)
}

/// `insert`, turning a UNIQUE violation into the given validation error.
pub fn insert_unique(
    conn: &Conn,
    sql: &(impl Text + ?Sized),
    params: impl Params,
    on_duplicate: impl FnOnce() -> StoreError,
) -> StoreResult<i64> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.query_row(params, |row| row.get(0)))
        .map_err(|e| unique_or(e, on_duplicate))
}

fn unique_or(error: SqlError, on_duplicate: impl FnOnce() -> StoreError) -> StoreError {
    if error.is_unique_violation() {
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

/// The condition that `column` is among the ids bound at parameter `n` (an `IdList`): SQLite
/// reads the list as a table (`rarray`), PostgreSQL as an array.
pub fn among_ids(conn: &Conn, column: &'static str, n: u8) -> String {
    if conn.is_postgres() {
        format!("{column} = ANY(?{n})")
    } else {
        format!("{column} IN rarray(?{n})")
    }
}

/// Ids of a one-column query.
pub fn ids(conn: &Conn, sql: &(impl Text + ?Sized), params: impl Params) -> StoreResult<Vec<i64>> {
    column(conn, sql, params)
}

pub fn column<T: Column>(
    conn: &Conn,
    sql: &(impl Text + ?Sized),
    params: impl Params,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ids bound as one parameter, for `IN rarray(?)` (duplicates dropped).
pub fn id_array(ids: impl IntoIterator<Item = i64>) -> IdList {
    IdList::new(ids)
}

/// The (key, value) rows of `sql` as a map.
pub fn map_of<K, V>(
    conn: &Conn,
    sql: &(impl Text + ?Sized),
    params: impl Params,
    row: impl FnMut(&Row) -> SqlResult<(K, V)>,
) -> StoreResult<std::collections::HashMap<K, V>>
where
    K: std::hash::Hash + Eq,
{
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a one-row query finds anything.
pub fn exists(conn: &Conn, sql: &(impl Text + ?Sized), params: impl Params) -> StoreResult<bool> {
    Ok(conn.prepare_cached(sql)?.exists(params)?)
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
fn delivery_target(
    conn: &Conn,
    sql: &(impl Text + ?Sized),
    id: i64,
) -> StoreResult<Option<(String, String)>> {
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

/// The schema step the database is at (`PRAGMA user_version`, or PostgreSQL's version row).
pub fn schema_version(conn: &Conn) -> StoreResult<i64> {
    if conn.is_postgres() {
        return Ok(conn
            .prepare_cached("SELECT version FROM wootlite_schema")?
            .query_row([], |row| row.get(0))?);
    }
    Ok(conn
        .sqlite("the schema version pragma")?
        .pragma_query_value(None, "user_version", |row| row.get(0))?)
}
