//! The seam between the store and an engine (docs/storage.md §2). The store speaks to a `Conn`
//! through statements, bound values (`Bind`) and column reads (`Column`), and never names a
//! driver. On SQLite every call is the driver's own, statement cache included, behind one
//! `match`; on PostgreSQL a statement's `?N` placeholders become `$N` once, when it is first
//! prepared on a session.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use postgres::error::SqlState;
use postgres::types::{FromSql, Type};
use rusqlite::types::{ToSqlOutput, ValueRef};

use super::Param;

/// A connection (or a transaction on one) of either engine.
#[derive(Clone, Copy)]
pub enum Conn<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c PgSession),
}

/// A statement written once per engine where the two differ (docs/storage.md §3): both texts
/// sit side by side where the statement is used. Made with `sql!(sqlite: "...", postgres: "...")`.
#[derive(Clone, Copy, Debug)]
pub struct Sql {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Sql {
    /// One text both engines take, where a `Sql` is expected beside texts that differ.
    pub const fn same(text: &'static str) -> Self {
        Self {
            sqlite: text,
            postgres: text,
        }
    }
}

/// A statement's text as each engine takes it: plain text is the same for both.
pub trait Text {
    fn text(&self, postgres: bool) -> &str;
}

impl Text for str {
    fn text(&self, _: bool) -> &str {
        self
    }
}

impl Text for String {
    fn text(&self, _: bool) -> &str {
        self
    }
}

impl Text for Sql {
    fn text(&self, postgres: bool) -> &str {
        if postgres {
            self.postgres
        } else {
            self.sqlite
        }
    }
}

/// A statement whose text differs per engine: `sql!(sqlite: "...", postgres: "...")`.
#[macro_export]
macro_rules! sql {
    (sqlite: $sqlite:expr, postgres: $postgres:expr $(,)?) => {
        $crate::db::Sql {
            sqlite: $sqlite,
            postgres: $postgres,
        }
    };
}

/// A failed statement, whichever engine ran it.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("query returned no rows")]
    NoRows,
    #[error("column {index}: {message}")]
    Column { index: usize, message: String },
    #[error("{0} is SQLite's alone")]
    SqliteOnly(&'static str),
}

pub type SqlResult<T> = Result<T, SqlError>;

/// The server's own words for a failed statement: the driver's `Display` says only "db error".
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}

impl SqlError {
    pub fn is_no_rows(&self) -> bool {
        matches!(
            self,
            SqlError::NoRows | SqlError::Sqlite(rusqlite::Error::QueryReturnedNoRows)
        )
    }

    /// A UNIQUE (or primary key) violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            SqlError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
                    && (e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
            }
            SqlError::Postgres(e) => e.code() == Some(&SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }

    /// The disk (or SQLite's configured size limit) is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            SqlError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            SqlError::Postgres(e) => e.code() == Some(&SqlState::DISK_FULL),
            _ => false,
        }
    }

    /// Text the database cannot hold: PostgreSQL's text has no U+0000 (SQLite's has).
    pub fn is_unstorable_text(&self) -> bool {
        match self {
            SqlError::Postgres(e) => {
                e.code() == Some(&SqlState::CHARACTER_NOT_IN_REPERTOIRE)
                    || e.code() == Some(&SqlState::UNTRANSLATABLE_CHARACTER)
            }
            _ => false,
        }
    }

    /// PostgreSQL aborted the transaction for a conflict with another one: a serialization
    /// failure or a deadlock. Running the transaction again may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            SqlError::Postgres(e) if e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
                || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
        )
    }
}

/// `Option` for a statement that may find no row, as rusqlite's extension of the same name.
pub trait OptionalExtension<T> {
    fn optional(self) -> SqlResult<Option<T>>;
}

impl<T> OptionalExtension<T> for SqlResult<T> {
    fn optional(self) -> SqlResult<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_no_rows() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A value as a statement binds it, borrowed from what the store holds.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
    /// A list of ids: `rarray(?)` on SQLite, an array on PostgreSQL.
    Ids(&'a IdList),
}

/// What the store can bind.
pub trait Bind {
    fn arg(&self) -> Arg<'_>;
}

macro_rules! bind_integer {
    ($($t:ty),*) => {$(
        impl Bind for $t {
            fn arg(&self) -> Arg<'_> {
                Arg::Integer(i64::from(*self))
            }
        }
    )*};
}
bind_integer!(i64, i32, u32, i16, u16, u8, bool);

impl Bind for usize {
    fn arg(&self) -> Arg<'_> {
        Arg::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Bind for f64 {
    fn arg(&self) -> Arg<'_> {
        Arg::Real(*self)
    }
}

impl Bind for str {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl Bind for String {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl Bind for [u8] {
    fn arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}

impl Bind for Vec<u8> {
    fn arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}

impl<T: Bind> Bind for Option<T> {
    fn arg(&self) -> Arg<'_> {
        match self {
            Some(value) => value.arg(),
            None => Arg::Null,
        }
    }
}

impl<T: Bind + ?Sized> Bind for &T {
    fn arg(&self) -> Arg<'_> {
        (**self).arg()
    }
}

impl<T: Bind + ?Sized> Bind for Box<T> {
    fn arg(&self) -> Arg<'_> {
        (**self).arg()
    }
}

impl Bind for Param {
    fn arg(&self) -> Arg<'_> {
        match self {
            Param::Null => Arg::Null,
            Param::Integer(i) => Arg::Integer(*i),
            Param::Real(f) => Arg::Real(*f),
            Param::Text(text) => Arg::Text(text),
        }
    }
}

impl Bind for IdList {
    fn arg(&self) -> Arg<'_> {
        Arg::Ids(self)
    }
}

impl Bind for Arg<'_> {
    fn arg(&self) -> Arg<'_> {
        *self
    }
}

/// Ids bound as one value, sorted and without repeats.
#[derive(Clone, Debug, Default)]
pub struct IdList(Rc<Vec<rusqlite::types::Value>>);

impl IdList {
    pub fn new(ids: impl IntoIterator<Item = i64>) -> Self {
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        Self(Rc::new(
            ids.into_iter()
                .map(rusqlite::types::Value::Integer)
                .collect(),
        ))
    }

    fn integers(&self) -> Vec<i64> {
        self.0
            .iter()
            .filter_map(|v| match v {
                rusqlite::types::Value::Integer(i) => Some(*i),
                _ => None,
            })
            .collect()
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Arg::Integer(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Arg::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Arg::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Arg::Blob(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
            Arg::Ids(ids) => ToSqlOutput::Array(ids.0.clone()),
        })
    }
}

/// The bound values of one statement.
pub trait Params {
    fn args(&self) -> impl Iterator<Item = Arg<'_>>;
}

impl Params for &[&dyn Bind] {
    fn args(&self) -> impl Iterator<Item = Arg<'_>> {
        self.iter().map(|b| b.arg())
    }
}

impl Params for Vec<&dyn Bind> {
    fn args(&self) -> impl Iterator<Item = Arg<'_>> {
        self.iter().map(|b| b.arg())
    }
}

impl Params for &[Param] {
    fn args(&self) -> impl Iterator<Item = Arg<'_>> {
        self.iter().map(Bind::arg)
    }
}

impl Params for [&dyn Bind; 0] {
    fn args(&self) -> impl Iterator<Item = Arg<'_>> {
        std::iter::empty()
    }
}

macro_rules! params_of_arrays {
    ($($n:literal)*) => {$(
        impl<T: Bind> Params for [T; $n] {
            fn args(&self) -> impl Iterator<Item = Arg<'_>> {
                self.iter().map(Bind::arg)
            }
        }
    )*};
}
params_of_arrays!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

/// Values of mixed types for one statement: `params![account_id, title, now]`.
#[macro_export]
macro_rules! params {
    () => {
        [] as [&dyn $crate::db::Bind; 0]
    };
    ($($value:expr),+ $(,)?) => {
        &[$(&$value as &dyn $crate::db::Bind),+] as &[&dyn $crate::db::Bind]
    };
}

fn sqlite_args<P: Params>(params: &P) -> rusqlite::ParamsFromIter<impl Iterator<Item = Arg<'_>>> {
    rusqlite::params_from_iter(params.args())
}

/// A value as PostgreSQL receives it: owned where SQLite's form is not `Sync`.
#[derive(Debug)]
pub(super) enum PgArg<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
    Ids(Vec<i64>),
}

impl<'a> From<Arg<'a>> for PgArg<'a> {
    fn from(arg: Arg<'a>) -> Self {
        match arg {
            Arg::Null => PgArg::Null,
            Arg::Integer(i) => PgArg::Integer(i),
            Arg::Real(f) => PgArg::Real(f),
            Arg::Text(text) => PgArg::Text(text),
            Arg::Blob(bytes) => PgArg::Blob(bytes),
            Arg::Ids(ids) => PgArg::Ids(ids.integers()),
        }
    }
}

/// PostgreSQL types each parameter by its column: an integer goes at that column's width, and a
/// boolean column (none in wootlite's schema, but a cast may ask for one) takes 0/1.
impl postgres::types::ToSql for PgArg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self, ty) {
            (PgArg::Null, _) => Ok(postgres::types::IsNull::Yes),
            (PgArg::Integer(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (PgArg::Integer(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (PgArg::Integer(i), &Type::INT8) => i.to_sql(ty, out),
            (PgArg::Integer(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (PgArg::Integer(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (PgArg::Integer(i), &Type::TEXT | &Type::VARCHAR) => i.to_string().to_sql(ty, out),
            (PgArg::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (PgArg::Text(text), &Type::TEXT | &Type::VARCHAR) => text.to_sql(ty, out),
            (PgArg::Blob(bytes), &Type::BYTEA) => bytes.to_sql(ty, out),
            (PgArg::Ids(ids), &Type::INT8_ARRAY) => ids.to_sql(ty, out),
            (PgArg::Ids(ids), &Type::INT4_ARRAY) => ids
                .iter()
                .map(|&i| i32::try_from(i))
                .collect::<Result<Vec<i32>, _>>()?
                .to_sql(ty, out),
            (arg, ty) => Err(format!("{} cannot be bound as {ty}", arg.kind()).into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl PgArg<'_> {
    /// What kind of value it is, for errors that must not repeat the value itself.
    fn kind(&self) -> &'static str {
        match self {
            PgArg::Null => "null",
            PgArg::Integer(_) => "an integer",
            PgArg::Real(_) => "a real number",
            PgArg::Text(_) => "text",
            PgArg::Blob(_) => "a blob",
            PgArg::Ids(_) => "a list of ids",
        }
    }
}

/// Statements a PostgreSQL session keeps prepared, as many as SQLite's statement cache holds.
const STATEMENT_CACHE: usize = 256;

/// One PostgreSQL client, in the transaction its owner began, with the statements it prepared.
pub struct PgSession {
    client: RefCell<Option<postgres::Client>>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    /// Whether a statement met a conflict since `take_conflict` last asked.
    conflicted: std::cell::Cell<bool>,
    /// How many of its engine's session set-ups (`Db::on_each_writer`) have run on it.
    set_up: std::cell::Cell<usize>,
}

impl PgSession {
    pub fn new(client: postgres::Client) -> Self {
        Self {
            client: RefCell::new(Some(client)),
            statements: RefCell::default(),
            conflicted: std::cell::Cell::new(false),
            set_up: std::cell::Cell::new(0),
        }
    }

    pub fn client_mut(&mut self) -> &mut postgres::Client {
        self.client
            .get_mut()
            .as_mut()
            .expect("a session's client is there until it is dropped")
    }

    fn client(&self) -> std::cell::RefMut<'_, postgres::Client> {
        std::cell::RefMut::map(self.client.borrow_mut(), |client| {
            client
                .as_mut()
                .expect("a session's client is there until it is dropped")
        })
    }

    /// Whether a statement met a conflict (see `SqlError::is_conflict`) since the last call.
    pub fn take_conflict(&self) -> bool {
        self.conflicted.replace(false)
    }

    /// How many set-ups have run on this session; `set_up_to` records more.
    pub(super) fn set_up(&self) -> usize {
        self.set_up.get()
    }

    pub(super) fn set_up_to(&self, count: usize) {
        self.set_up.set(count);
    }

    fn noted<T>(&self, result: Result<T, postgres::Error>) -> SqlResult<T> {
        result.map_err(|e| {
            let e = SqlError::Postgres(e);
            if e.is_conflict() {
                self.conflicted.set(true);
            }
            e
        })
    }

    pub fn into_client(mut self) -> postgres::Client {
        self.client
            .get_mut()
            .take()
            .expect("a session's client is there until it is dropped")
    }

    fn prepare(&self, sql: &str) -> SqlResult<postgres::Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= STATEMENT_CACHE {
            // The filter compiler's statements vary with their payloads: the cache stays
            // bounded by starting over when it is full.
            statements.clear();
        }
        drop(statements);
        let statement = self.noted(self.client().prepare(&numbered_placeholders(sql)))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn query(
        &self,
        statement: &postgres::Statement,
        params: &impl Params,
    ) -> SqlResult<Vec<postgres::Row>> {
        with_pg_args(params, |args| {
            self.noted(self.client().query(statement, args))
        })
    }

    fn execute(&self, statement: &postgres::Statement, params: &impl Params) -> SqlResult<usize> {
        let changed = with_pg_args(params, |args| {
            self.noted(self.client().execute(statement, args))
        })?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    fn batch(&self, sql: &str) -> SqlResult<()> {
        self.noted(self.client().batch_execute(sql))
    }
}

impl Drop for PgSession {
    /// The client says goodbye to the server on its own small runtime, which panics on a thread
    /// that drives another (a request worker dropping the last handle at shutdown); there it
    /// closes on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            }
        }
    }
}

fn with_pg_args<T>(
    params: &impl Params,
    run: impl FnOnce(&[&(dyn postgres::types::ToSql + Sync)]) -> SqlResult<T>,
) -> SqlResult<T> {
    let args: Vec<PgArg> = params.args().map(PgArg::from).collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = args
        .iter()
        .map(|a| a as &(dyn postgres::types::ToSql + Sync))
        .collect();
    run(&refs)
}

/// `?N` (and a bare `?`, numbered by position) as PostgreSQL's `$N`, outside quoted text.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut next_bare = 1;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next_bare.to_string());
                    next_bare += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            None => out.push(c),
        }
    }
    out
}

impl<'c> Conn<'c> {
    /// The SQLite connection, for the few things only SQLite has (pragmas, its backup, the
    /// bulk loader); an error on PostgreSQL.
    pub fn sqlite(&self, what: &'static str) -> SqlResult<&'c rusqlite::Connection> {
        match self {
            Conn::Sqlite(conn) => Ok(conn),
            Conn::Postgres(_) => Err(SqlError::SqliteOnly(what)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// A statement from the connection's cache (prepared on first use).
    pub fn prepare_cached(&self, sql: &(impl Text + ?Sized)) -> SqlResult<Stmt<'c>> {
        let sql = sql.text(self.is_postgres());
        Ok(match *self {
            Conn::Sqlite(conn) => Stmt::Sqlite(conn.prepare_cached(sql)?),
            Conn::Postgres(session) => Stmt::Postgres {
                session,
                statement: session.prepare(sql)?,
            },
        })
    }

    /// A statement prepared for this call alone (one that is rarely run, or built per call).
    pub fn prepare(&self, sql: &(impl Text + ?Sized)) -> SqlResult<Stmt<'c>> {
        let sql = sql.text(self.is_postgres());
        Ok(match *self {
            Conn::Sqlite(conn) => Stmt::Uncached(conn.prepare(sql)?),
            Conn::Postgres(session) => Stmt::Postgres {
                session,
                statement: session.prepare(sql)?,
            },
        })
    }

    pub fn execute<P: Params>(&self, sql: &(impl Text + ?Sized), params: P) -> SqlResult<usize> {
        match *self {
            Conn::Sqlite(conn) => Ok(conn.execute(sql.text(false), sqlite_args(&params))?),
            Conn::Postgres(_) => self.prepare_cached(sql)?.execute(params),
        }
    }

    pub fn query_row<T, P: Params>(
        &self,
        sql: &(impl Text + ?Sized),
        params: P,
        f: impl FnOnce(&Row) -> SqlResult<T>,
    ) -> SqlResult<T> {
        self.prepare(sql)?.query_row(params, f)
    }

    /// Statements without parameters, separated by semicolons.
    pub fn execute_batch(&self, sql: &(impl Text + ?Sized)) -> SqlResult<()> {
        match *self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql.text(false))?),
            Conn::Postgres(session) => session.batch(sql.text(true)),
        }
    }
}

/// A prepared statement of either engine.
pub enum Stmt<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Uncached(rusqlite::Statement<'c>),
    Postgres {
        session: &'c PgSession,
        statement: postgres::Statement,
    },
}

/// One statement, seen as its engine's own.
enum Engine<'s, 'c> {
    Sqlite(&'s mut rusqlite::Statement<'c>),
    Postgres(&'c PgSession, &'s postgres::Statement),
}

impl<'c> Stmt<'c> {
    fn engine(&mut self) -> Engine<'_, 'c> {
        match self {
            Stmt::Sqlite(statement) => Engine::Sqlite(statement),
            Stmt::Uncached(statement) => Engine::Sqlite(statement),
            Stmt::Postgres { session, statement } => Engine::Postgres(session, statement),
        }
    }

    pub fn execute<P: Params>(&mut self, params: P) -> SqlResult<usize> {
        match self.engine() {
            Engine::Sqlite(statement) => Ok(statement.execute(sqlite_args(&params))?),
            Engine::Postgres(session, statement) => session.execute(statement, &params),
        }
    }

    /// The first row, mapped; `NoRows` when there is none.
    pub fn query_row<T, P: Params>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row) -> SqlResult<T>,
    ) -> SqlResult<T> {
        match self.engine() {
            Engine::Sqlite(statement) => {
                let mut rows = statement.query(sqlite_args(&params))?;
                match rows.next()? {
                    Some(row) => f(&Row::Sqlite(row)),
                    None => Err(SqlError::NoRows),
                }
            }
            Engine::Postgres(session, statement) => {
                match session.query(statement, &params)?.first() {
                    Some(row) => f(&Row::Postgres(row)),
                    None => Err(SqlError::NoRows),
                }
            }
        }
    }

    /// Whether the statement gives a row.
    pub fn exists<P: Params>(&mut self, params: P) -> SqlResult<bool> {
        self.query_row(params, |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
    }

    /// Every row, mapped as it is read.
    pub fn query_map<T, P: Params, F: FnMut(&Row) -> SqlResult<T>>(
        &mut self,
        params: P,
        f: F,
    ) -> SqlResult<MappedRows<'_, F>> {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// Every row, read one at a time with `Rows::next`.
    pub fn query<P: Params>(&mut self, params: P) -> SqlResult<Rows<'_>> {
        match self.engine() {
            Engine::Sqlite(statement) => Ok(Rows::Sqlite(statement.query(sqlite_args(&params))?)),
            Engine::Postgres(session, statement) => Ok(Rows::Postgres {
                rows: session.query(statement, &params)?.into_iter(),
                current: None,
            }),
        }
    }
}

/// The rows of a query, read one at a time.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres {
        rows: std::vec::IntoIter<postgres::Row>,
        current: Option<postgres::Row>,
    },
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> SqlResult<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Postgres { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

/// The rows of a query, each mapped by `f` as it is read.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row) -> SqlResult<T>> Iterator for MappedRows<'_, F> {
    type Item = SqlResult<T>;

    fn next(&mut self) -> Option<SqlResult<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.f)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// One row of a result.
#[derive(Clone, Copy)]
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl<'r> Row<'r> {
    pub fn get<T: Column>(&self, index: usize) -> SqlResult<T> {
        match self {
            Row::Sqlite(row) => T::from_sqlite(row, index),
            Row::Postgres(row) => T::from_postgres(row, index),
        }
    }

    /// A text column borrowed from the row, without a copy; `None` for NULL or a value that
    /// is not text.
    pub fn text(&self, index: usize) -> SqlResult<Option<&'r str>> {
        match *self {
            Row::Sqlite(row) => Ok(row.get_ref(index)?.as_str().ok()),
            Row::Postgres(row) => Ok(row.try_get::<_, Option<&str>>(index).ok().flatten()),
        }
    }
}

/// A Rust type a column reads into, on either engine.
pub trait Column: Sized {
    fn from_sqlite(row: &rusqlite::Row, index: usize) -> SqlResult<Self>;
    fn from_postgres(row: &postgres::Row, index: usize) -> SqlResult<Self>;
}

/// Any column, to tell NULL from a value whatever the column's type.
struct AnyValue;

impl<'a> FromSql<'a> for AnyValue {
    fn from_sql(_: &Type, _: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(AnyValue)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn pg_is_null(row: &postgres::Row, index: usize) -> SqlResult<bool> {
    Ok(row.try_get::<_, Option<AnyValue>>(index)?.is_none())
}

fn column_error(index: usize, message: impl Into<String>) -> SqlError {
    SqlError::Column {
        index,
        message: message.into(),
    }
}

/// An integer column of any width (booleans read as 0/1).
fn pg_integer(row: &postgres::Row, index: usize) -> SqlResult<i64> {
    let ty = row
        .columns()
        .get(index)
        .ok_or_else(|| column_error(index, "no such column"))?
        .type_()
        .clone();
    let value = match ty {
        Type::INT2 => row.try_get::<_, i16>(index).map(i64::from),
        Type::INT4 => row.try_get::<_, i32>(index).map(i64::from),
        Type::BOOL => row.try_get::<_, bool>(index).map(i64::from),
        _ => row.try_get::<_, i64>(index),
    };
    Ok(value?)
}

fn pg_real(row: &postgres::Row, index: usize) -> SqlResult<f64> {
    match row.columns().get(index).map(|c| c.type_().clone()) {
        Some(Type::FLOAT4) => Ok(f64::from(row.try_get::<_, f32>(index)?)),
        Some(Type::FLOAT8) | None => Ok(row.try_get::<_, f64>(index)?),
        Some(_) => Ok(pg_integer(row, index)? as f64),
    }
}

macro_rules! integer_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(row: &rusqlite::Row, index: usize) -> SqlResult<Self> {
                Ok(row.get(index)?)
            }

            fn from_postgres(row: &postgres::Row, index: usize) -> SqlResult<Self> {
                let value = pg_integer(row, index)?;
                <$t>::try_from(value).map_err(|_| column_error(index, format!("{value} is out of range")))
            }
        }
    )*};
}
integer_column!(i64, i32, u32, u16, u8, usize);

impl Column for bool {
    fn from_sqlite(row: &rusqlite::Row, index: usize) -> SqlResult<Self> {
        Ok(row.get(index)?)
    }

    fn from_postgres(row: &postgres::Row, index: usize) -> SqlResult<Self> {
        Ok(pg_integer(row, index)? != 0)
    }
}

impl Column for f64 {
    fn from_sqlite(row: &rusqlite::Row, index: usize) -> SqlResult<Self> {
        Ok(row.get(index)?)
    }

    fn from_postgres(row: &postgres::Row, index: usize) -> SqlResult<Self> {
        pg_real(row, index)
    }
}

impl Column for String {
    fn from_sqlite(row: &rusqlite::Row, index: usize) -> SqlResult<Self> {
        Ok(row.get(index)?)
    }

    fn from_postgres(row: &postgres::Row, index: usize) -> SqlResult<Self> {
        Ok(row.try_get(index)?)
    }
}

impl Column for Vec<u8> {
    fn from_sqlite(row: &rusqlite::Row, index: usize) -> SqlResult<Self> {
        Ok(row.get(index)?)
    }

    fn from_postgres(row: &postgres::Row, index: usize) -> SqlResult<Self> {
        Ok(row.try_get(index)?)
    }
}

/// A nullable column: on SQLite the driver's own `Option` read (one look at the value), on
/// PostgreSQL a NULL check before the value's own read.
macro_rules! nullable_column {
    ($($t:ty),*) => {$(
        impl Column for Option<$t> {
            fn from_sqlite(row: &rusqlite::Row, index: usize) -> SqlResult<Self> {
                Ok(row.get(index)?)
            }

            fn from_postgres(row: &postgres::Row, index: usize) -> SqlResult<Self> {
                if pg_is_null(row, index)? {
                    return Ok(None);
                }
                <$t>::from_postgres(row, index).map(Some)
            }
        }
    )*};
}
nullable_column!(i64, i32, u32, u16, u8, usize, bool, f64, String, Vec<u8>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quoted_text() {
        assert_eq!(
            numbered_placeholders("SELECT ?1, '?2', \"a?\" FROM t WHERE a = ?12 AND b = ?"),
            "SELECT $1, '?2', \"a?\" FROM t WHERE a = $12 AND b = $1"
        );
        assert_eq!(
            numbered_placeholders("x IN (?, ?) AND y = 'it''s ?'"),
            "x IN ($1, $2) AND y = 'it''s ?'"
        );
    }

    #[test]
    fn sqlite_statements_bind_and_read_each_kind_of_value() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        rusqlite::vtab::array::load_module(&conn).unwrap();
        let conn = Conn::Sqlite(&conn);
        let ids = IdList::new([3, 1, 3]);
        let title = "é'; --".to_string();
        let missing: Option<i64> = None;
        let param = Param::Real(-0.5);
        type Kinds = (i64, String, Option<i64>, bool, f64, i64, String);
        let row: Kinds = conn
            .prepare_cached(
                "SELECT ?1, ?2, ?3, ?4, ?5, (SELECT COUNT(*) FROM rarray(?6)),
                        typeof(?1) || typeof(?2) || typeof(?3) || typeof(?4) || typeof(?7)",
            )
            .unwrap()
            .query_row(
                params![7_i64, title, missing, true, 2.5, ids, param],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                    ))
                },
            )
            .unwrap();
        let types = "integertextnullintegerreal".to_string();
        assert_eq!(row, (7, title, None, true, 2.5, 2, types));
        let none = conn
            .prepare_cached("SELECT 1 WHERE 0")
            .unwrap()
            .query_row(params![], |row| row.get::<i64>(0))
            .optional()
            .unwrap();
        assert_eq!(none, None);
    }
}
