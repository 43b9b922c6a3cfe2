//! Custom attribute definitions (the filter compiler types custom attributes by these).

use crate::db::{Conn, Row};
use crate::params;
use serde_json::Value;

use super::{execute_unique, insert_unique, json_array, one_row, StoreError, StoreResult};
use crate::models::{AttributeDisplayType, AttributeModel};

#[derive(Clone, Debug)]
pub struct Definition {
    pub id: i64,
    pub display_name: String,
    pub key: String,
    pub display_type: AttributeDisplayType,
    pub model: AttributeModel,
    pub description: Option<String>,
    pub values: Value,
    pub default_value: Option<String>,
    pub regex_pattern: Option<String>,
    pub regex_cue: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Definition {
    /// A definition with a key, a type and a model and nothing else: what the filter compiler
    /// reads, for its tests and benchmarks.
    pub fn bare(key: &str, display_type: AttributeDisplayType, model: AttributeModel) -> Self {
        Definition {
            id: 0,
            display_name: key.to_string(),
            key: key.to_string(),
            display_type,
            model,
            description: None,
            values: Value::Array(Vec::new()),
            default_value: None,
            regex_pattern: None,
            regex_cue: None,
            created_at: 0,
            updated_at: 0,
        }
    }
}

const SELECT_DEFINITION: &str =
    "SELECT id, attribute_display_name, attribute_key, attribute_display_type,
        attribute_model, attribute_description, attribute_values, default_value, regex_pattern,
        regex_cue, created_at, updated_at
   FROM custom_attribute_definitions";

fn definition_from_row(row: &Row) -> crate::db::SqlResult<Definition> {
    Ok(Definition {
        id: row.get(0)?,
        display_name: row.get(1)?,
        key: row.get(2)?,
        display_type: AttributeDisplayType::from_code(row.get(3)?)
            .unwrap_or(AttributeDisplayType::Text),
        model: AttributeModel::from_code(row.get(4)?).unwrap_or(AttributeModel::Conversation),
        description: row.get(5)?,
        values: json_array(&row.get::<String>(6)?),
        default_value: row.get(7)?,
        regex_pattern: row.get(8)?,
        regex_cue: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

/// All definitions of the account, or those of one model.
pub fn list(
    conn: &Conn,
    account_id: i64,
    model: Option<AttributeModel>,
) -> StoreResult<Vec<Definition>> {
    let sql = format!("{SELECT_DEFINITION} WHERE account_id = ?1 AND (CAST(?2 AS integer) IS NULL OR attribute_model = ?2) ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![account_id, model.map(AttributeModel::code)],
        definition_from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Conn, account_id: i64, id: i64) -> StoreResult<Definition> {
    let sql = format!("{SELECT_DEFINITION} WHERE account_id = ?1 AND id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([account_id, id], definition_from_row)?)
}

pub struct DefinitionFields {
    pub display_name: String,
    pub key: String,
    pub display_type: AttributeDisplayType,
    pub model: AttributeModel,
    pub description: Option<String>,
    /// A JSON array of strings.
    pub values: Value,
    pub regex_pattern: Option<String>,
    pub regex_cue: Option<String>,
}

fn duplicate_key() -> StoreError {
    StoreError::invalid("attribute_key", "Attribute key has already been taken")
}

pub fn create(
    conn: &Conn,
    account_id: i64,
    fields: &DefinitionFields,
    now: i64,
) -> StoreResult<i64> {
    insert_unique(
        conn,
        "INSERT INTO custom_attribute_definitions
             (account_id, attribute_display_name, attribute_key, attribute_display_type, attribute_model,
              attribute_description, attribute_values, regex_pattern, regex_cue, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id",
        params![
            account_id,
            fields.display_name,
            fields.key,
            fields.display_type.code(),
            fields.model.code(),
            fields.description,
            fields.values.to_string(),
            fields.regex_pattern,
            fields.regex_cue,
            now
        ],
        duplicate_key,
    )
}

pub fn update(
    conn: &Conn,
    account_id: i64,
    id: i64,
    fields: &DefinitionFields,
    now: i64,
) -> StoreResult<()> {
    one_row(execute_unique(
        conn,
        "UPDATE custom_attribute_definitions
            SET attribute_display_name = ?3, attribute_key = ?4, attribute_display_type = ?5,
                attribute_model = ?6, attribute_description = ?7, attribute_values = ?8,
                regex_pattern = ?9, regex_cue = ?10, updated_at = ?11
          WHERE account_id = ?1 AND id = ?2",
        params![
            account_id,
            id,
            fields.display_name,
            fields.key,
            fields.display_type.code(),
            fields.model.code(),
            fields.description,
            fields.values.to_string(),
            fields.regex_pattern,
            fields.regex_cue,
            now
        ],
        duplicate_key,
    )?)
}

pub fn delete(conn: &Conn, account_id: i64, id: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "DELETE FROM custom_attribute_definitions WHERE account_id = ?1 AND id = ?2",
        [account_id, id],
    )?)
}
