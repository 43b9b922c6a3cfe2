//! Copying a SQLite database into an empty PostgreSQL one and back (`wootlite migrate`,
//! docs/storage.md §11). Into PostgreSQL: every table in foreign-key order through binary COPY,
//! in one transaction, then each identity moved past the largest id copied, then a check of
//! what arrived. Back into a new data dir: every table read as a stream and inserted in the
//! same order, in one transaction, with SQLite's triggers deriving what they derive; then the
//! same check.
//!
//! Table and column names come from the two schemas' own catalogs, never from input, and are
//! quoted where they become statement text; every value is bound.
//!
//! What the target derives itself is not copied: the count table is recounted from the copied
//! conversations and compared with SQLite's, and the search outbox stays empty, because each
//! node builds its search replica from the tables. The target's triggers are off while a table
//! is copied. Custom attribute values are copied into PostgreSQL's typed columns, since no
//! trigger writes them there.

use std::collections::{BTreeMap, HashMap};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rusqlite::types::Value;
use rusqlite::Connection;

use super::Param;

/// Tables the target builds for itself.
const REBUILT: &[&str] = &["conversation_counts", "search_outbox"];
/// Tables whose values PostgreSQL holds in typed columns.
const TYPED_VALUES: &[&str] = &["conversation_attribute_values", "contact_attribute_values"];
/// Rows compared value by value in each table with an `id`, spread evenly over its ids.
const SAMPLED_ROWS: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("{0}")]
    Schema(#[from] super::DbError),
    #[error(
        "the data dir has schema version {found}, not {expected}: start `wootlite serve` on it \
         once (which brings it up to date), stop it, then migrate"
    )]
    SourceVersion { found: i64, expected: i64 },
    #[error("the target database is not empty: table {0} has rows")]
    NotEmpty(String),
    #[error("the copy does not match its source: {0}")]
    Mismatch(String),
    #[error("the data dir already holds data: table {0} has rows")]
    TargetNotEmpty(String),
    #[error("table {table}, column {column}: a blob, which no wootlite column holds")]
    Blob { table: String, column: String },
}

/// What was copied, table by table.
#[derive(Debug, Default)]
pub struct CopyReport {
    /// Rows copied, by table, in copy order.
    pub tables: Vec<(String, u64)>,
    /// Rows compared value by value.
    pub sampled: u64,
}

/// Copies `source` into the database `target` is connected to, which must have no rows.
pub fn sqlite_to_postgres(
    source: &Connection,
    target: &mut postgres::Client,
) -> Result<CopyReport, CopyError> {
    // The two schemas are twins only at the same version.
    let found = super::snapshot::schema_version(source)?;
    if found != super::SCHEMA_VERSION {
        return Err(CopyError::SourceVersion {
            found,
            expected: super::SCHEMA_VERSION,
        });
    }
    super::pg_schema::migrate(target)?;
    let tables = tables_in_copy_order(source)?;
    for table in &tables {
        if has_rows(target, table)? {
            return Err(CopyError::NotEmpty(table.clone()));
        }
    }
    let mut report = CopyReport::default();
    let mut tx = target.transaction()?;
    for table in &tables {
        if REBUILT.contains(&table.as_str()) {
            continue;
        }
        // Row by row, the count triggers would update a few hot rows a million times in one
        // transaction, each update walking the row's growing chain of versions: quadratic. The
        // outbox triggers would queue every message for a replica that rebuilds anyway.
        let quiet = format!("ALTER TABLE {} DISABLE TRIGGER USER", quoted(table));
        tx.batch_execute(&quiet)?;
        let copied = copy_table(source, &mut tx, table)?;
        let awake = format!("ALTER TABLE {} ENABLE TRIGGER USER", quoted(table));
        tx.batch_execute(&awake)?;
        report.tables.push((table.clone(), copied));
    }
    tx.batch_execute(
        "INSERT INTO conversation_counts (account_id, status, inbox_id, team_id, assignee_id, n)
         SELECT account_id, status, inbox_id, COALESCE(team_id, 0), COALESCE(assignee_id, 0), COUNT(*)
           FROM conversations
          GROUP BY 1, 2, 3, 4, 5",
    )?;
    move_identities(&mut tx)?;
    tx.commit()?;
    for (table, copied) in &report.tables {
        let arrived = count(target, table)?;
        if arrived != *copied {
            return Err(CopyError::Mismatch(format!(
                "{table}: {copied} rows copied, {arrived} there"
            )));
        }
    }
    compare_counts(source, target)?;
    for table in &tables {
        if REBUILT.contains(&table.as_str()) || TYPED_VALUES.contains(&table.as_str()) {
            continue;
        }
        report.sampled += compare_sample(source, target, table)?;
    }
    Ok(report)
}

/// Tables a new data dir derives itself, by SQLite's triggers, as its rows arrive.
const DERIVED_BY_SQLITE: &[&str] = &[
    "conversation_counts",
    "search_outbox",
    "conversation_attribute_values",
    "contact_attribute_values",
];

/// Copies the PostgreSQL database `source` is connected to into `target`, a new data dir's
/// database at the same schema version, which must have no rows.
pub fn postgres_to_sqlite(
    source: &mut postgres::Client,
    target: &super::Db,
) -> Result<CopyReport, CopyError> {
    let found = super::pg_schema::version(source)?;
    if found != super::SCHEMA_VERSION {
        return Err(CopyError::SourceVersion {
            found,
            expected: super::SCHEMA_VERSION,
        });
    }
    let mut writer = target.sqlite_writer()?;
    let tables = tables_in_copy_order(&writer)?;
    for table in &tables {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table));
        if writer.query_row(&sql, [], |row| row.get::<_, bool>(0))? {
            return Err(CopyError::TargetNotEmpty(table.clone()));
        }
    }
    let mut report = CopyReport::default();
    // A read-only snapshot: every table as of one moment, while the nodes go on writing.
    let mut snapshot = source
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let tx = writer.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // A table's rows arrive in no particular order, so a row may come before the row of the
    // same table it refers to: the keys are checked at commit.
    tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
    for table in &tables {
        if DERIVED_BY_SQLITE.contains(&table.as_str()) {
            continue;
        }
        let copied = insert_table(&mut snapshot, &tx, table)?;
        report.tables.push((table.clone(), copied));
    }
    // Its triggers queued every message for a search index that `serve` builds from the
    // tables anyway; the sequence stays, as the position that index starts from.
    tx.execute("DELETE FROM search_outbox", [])?;
    tx.commit()?;
    for table in &tables {
        if REBUILT.contains(&table.as_str()) {
            continue;
        }
        let arrived: i64 = writer.query_row(
            &format!("SELECT COUNT(*) FROM {}", quoted(table)),
            [],
            |row| row.get(0),
        )?;
        let there = count(&mut snapshot, table)?;
        if u64::try_from(arrived).ok() != Some(there) {
            return Err(CopyError::Mismatch(format!(
                "{table}: {there} rows in the source, {arrived} copied or derived"
            )));
        }
    }
    compare_counts(&writer, &mut snapshot)?;
    for table in &tables {
        if DERIVED_BY_SQLITE.contains(&table.as_str()) {
            continue;
        }
        report.sampled += compare_sample(&writer, &mut snapshot, table)?;
    }
    snapshot.commit()?;
    Ok(report)
}

/// Streams one PostgreSQL table into the SQLite table of the same name and columns.
fn insert_table(
    source: &mut postgres::Transaction<'_>,
    target: &Connection,
    table: &str,
) -> Result<u64, CopyError> {
    let columns = sqlite_columns(target, table)?;
    let list = columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let placeholders = vec!["?"; columns.len()].join(", ");
    let mut insert = target.prepare(&format!(
        "INSERT INTO {} ({list}) VALUES ({placeholders})",
        quoted(table)
    ))?;
    let read = format!("SELECT {list} FROM {}", quoted(table));
    let mut rows = source.query_raw(read.as_str(), std::iter::empty::<i64>())?;
    let mut copied = 0u64;
    while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
        let values: Vec<Param> = (0..columns.len())
            .map(|i| read_param(&row, i))
            .collect::<Result<_, _>>()?;
        insert.execute(rusqlite::params_from_iter(
            values.iter().map(super::Bind::arg),
        ))?;
        copied += 1;
    }
    Ok(copied)
}

/// Tables in an order where each comes after the tables its foreign keys name.
fn tables_in_copy_order(source: &Connection) -> Result<Vec<String>, CopyError> {
    let mut names: Vec<String> = Vec::new();
    let mut stmt = source.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    )?;
    for name in stmt.query_map([], |row| row.get::<_, String>(0))? {
        names.push(name?);
    }
    let mut references: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt = source.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")?;
    for name in &names {
        let parents = stmt
            .query_map([name], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        references.insert(name.clone(), parents);
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let before = ordered.len();
        for name in &names {
            let ready = !ordered.contains(name)
                && references[name]
                    .iter()
                    .all(|parent| parent == name || ordered.contains(parent));
            if ready {
                ordered.push(name.clone());
            }
        }
        if ordered.len() == before {
            return Err(CopyError::Mismatch(
                "the source's foreign keys form a cycle".to_string(),
            ));
        }
    }
    Ok(ordered)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn has_rows(target: &mut postgres::Client, table: &str) -> Result<bool, CopyError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table));
    Ok(target.query_one(sql.as_str(), &[])?.get(0))
}

fn count(target: &mut impl postgres::GenericClient, table: &str) -> Result<u64, CopyError> {
    let sql = format!("SELECT COUNT(*) FROM {}", quoted(table));
    let n: i64 = target.query_one(sql.as_str(), &[])?.get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

fn sqlite_columns(source: &Connection, table: &str) -> Result<Vec<String>, CopyError> {
    let mut stmt = source.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let columns = stmt
        .query_map([table], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(columns)
}

fn copy_table(
    source: &Connection,
    tx: &mut postgres::Transaction<'_>,
    table: &str,
) -> Result<u64, CopyError> {
    let read = sqlite_columns(source, table)?;
    let written = if TYPED_VALUES.contains(&table) {
        typed_value_columns(&read)
    } else {
        read.clone()
    };
    let list = |columns: &[String]| {
        columns
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let types: Vec<Type> = tx
        .prepare(&format!(
            "SELECT {} FROM {} LIMIT 0",
            list(&written),
            quoted(table)
        ))?
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    let sink = tx.copy_in(&format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        quoted(table),
        list(&written)
    ))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut stmt = source.prepare(&format!("SELECT {} FROM {}", list(&read), quoted(table)))?;
    let mut rows = stmt.query([])?;
    let mut copied = 0u64;
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(read.len());
        for (i, column) in read.iter().enumerate() {
            values.push(param_of(row.get::<_, Value>(i)?, table, column)?);
        }
        if TYPED_VALUES.contains(&table) {
            values = typed_values(&read, values);
        }
        let bound: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        writer.write(&bound)?;
        copied += 1;
    }
    writer.finish()?;
    Ok(copied)
}

fn param_of(value: Value, table: &str, column: &str) -> Result<Param, CopyError> {
    Ok(match value {
        Value::Null => Param::Null,
        Value::Integer(i) => Param::Integer(i),
        Value::Real(f) => Param::Real(f),
        Value::Text(text) => Param::Text(text),
        Value::Blob(_) => {
            return Err(CopyError::Blob {
                table: table.to_string(),
                column: column.to_string(),
            })
        }
    })
}

/// SQLite's `value` column becomes PostgreSQL's `text_value`, `number_value` and `bool_value`.
fn typed_value_columns(read: &[String]) -> Vec<String> {
    let mut columns = Vec::with_capacity(read.len() + 2);
    for column in read {
        if column == "value" {
            columns.extend(["text_value", "number_value", "bool_value"].map(String::from));
        } else {
            columns.push(column.clone());
        }
    }
    columns
}

/// The value as the column its type names: json_each's type, which the row keeps beside it.
fn typed_values(read: &[String], values: Vec<Param>) -> Vec<Param> {
    let kind = read
        .iter()
        .position(|c| c == "type")
        .and_then(|i| match &values[i] {
            Param::Text(kind) => Some(kind.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut typed = Vec::with_capacity(values.len() + 2);
    for (column, value) in read.iter().zip(values) {
        if column != "value" {
            typed.push(value);
            continue;
        }
        let (text, number, flag) = match (kind.as_str(), value) {
            ("text" | "array" | "object", Param::Text(text)) => {
                (Param::Text(text), Param::Null, Param::Null)
            }
            ("integer", Param::Integer(i)) => (Param::Null, Param::Real(i as f64), Param::Null),
            ("real", Param::Real(f)) => (Param::Null, Param::Real(f), Param::Null),
            ("real", Param::Integer(i)) => (Param::Null, Param::Real(i as f64), Param::Null),
            ("true", _) => (Param::Null, Param::Null, Param::Integer(1)),
            ("false", _) => (Param::Null, Param::Null, Param::Integer(0)),
            _ => (Param::Null, Param::Null, Param::Null),
        };
        typed.extend([text, number, flag]);
    }
    typed
}

/// Each identity continues past the largest id copied, so new rows never reuse one.
fn move_identities(tx: &mut postgres::Transaction<'_>) -> Result<(), CopyError> {
    let identities: Vec<(String, String)> = tx
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = 'public' AND is_identity = 'YES'",
            &[],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    for (table, column) in identities {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), m, true)
               FROM (SELECT MAX({}) AS m FROM {}) AS copied WHERE m IS NOT NULL",
            quoted(&column),
            quoted(&table)
        );
        tx.query(sql.as_str(), &[&quoted(&table), &column])?;
    }
    Ok(())
}

/// The count table the target's triggers built against the source's.
fn compare_counts(
    source: &Connection,
    target: &mut impl postgres::GenericClient,
) -> Result<(), CopyError> {
    let mut stmt = source.prepare(
        "SELECT account_id, status, inbox_id, team_id, assignee_id, n FROM conversation_counts WHERE n > 0",
    )?;
    let before: BTreeMap<[i64; 5], i64> = stmt
        .query_map([], |row| {
            Ok((
                [
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ],
                row.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let after: BTreeMap<[i64; 5], i64> = target
        .query(
            "SELECT account_id, status::bigint, inbox_id, team_id, assignee_id, n::bigint
               FROM conversation_counts WHERE n > 0",
            &[],
        )?
        .iter()
        .map(|row| {
            (
                [row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)],
                row.get(5),
            )
        })
        .collect();
    if before != after {
        return Err(CopyError::Mismatch(format!(
            "the count table: {} buckets in the source, {} rebuilt, or their counts differ",
            before.len(),
            after.len()
        )));
    }
    Ok(())
}

/// Rows of a table with an `id`, compared value by value: the first, the last and up to
/// `SAMPLED_ROWS` spread between them. Returns how many were compared.
fn compare_sample(
    source: &Connection,
    target: &mut impl postgres::GenericClient,
    table: &str,
) -> Result<u64, CopyError> {
    let columns = sqlite_columns(source, table)?;
    if !columns.iter().any(|c| c == "id") {
        return Ok(0);
    }
    let rows: i64 = source.query_row(
        &format!("SELECT COUNT(*) FROM {}", quoted(table)),
        [],
        |row| row.get(0),
    )?;
    let step = usize::try_from(rows).unwrap_or(0) / SAMPLED_ROWS + 1;
    // Walked rather than collected: a table may hold millions of ids.
    let mut stmt = source.prepare(&format!("SELECT id FROM {} ORDER BY id", quoted(table)))?;
    let mut sample = Vec::with_capacity(SAMPLED_ROWS + 2);
    let mut last = None;
    for (n, id) in stmt.query_map([], |row| row.get::<_, i64>(0))?.enumerate() {
        let id = id?;
        if n % step == 0 {
            sample.push(id);
        }
        last = Some(id);
    }
    sample.extend(last.filter(|id| sample.last() != Some(id)));
    let list = columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let mut read = source.prepare(&format!(
        "SELECT {list} FROM {} WHERE id = ?1",
        quoted(table)
    ))?;
    let fetch = target.prepare(&format!(
        "SELECT {list} FROM {} WHERE id = $1",
        quoted(table)
    ))?;
    for id in &sample {
        let values: Vec<Value> = read.query_row([id], |row| {
            (0..columns.len()).map(|i| row.get::<_, Value>(i)).collect()
        })?;
        let before: Vec<Param> = values
            .into_iter()
            .zip(&columns)
            .map(|(value, column)| param_of(value, table, column))
            .collect::<Result<_, _>>()?;
        let row = target.query_one(&fetch, &[id])?;
        let after: Vec<Param> = (0..columns.len())
            .map(|i| read_param(&row, i))
            .collect::<Result<_, _>>()?;
        if before != after {
            return Err(CopyError::Mismatch(format!("{table} row {id} differs")));
        }
    }
    Ok(sample.len() as u64)
}

/// A PostgreSQL column read back as the value SQLite would hold.
fn read_param(row: &postgres::Row, i: usize) -> Result<Param, postgres::Error> {
    let ty = row.columns()[i].type_();
    Ok(match *ty {
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Param::Integer(v.into())),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Param::Integer(v.into())),
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Param::Integer),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Param::Real),
        _ => row.try_get::<_, Option<String>>(i)?.map(Param::Text),
    }
    .unwrap_or(Param::Null))
}
