//! The account's labels.

use crate::db::{Conn, Row};
use crate::params;

use super::{execute_unique, insert_unique, one_row, StoreError, StoreResult};

#[derive(Clone, Debug)]
pub struct Label {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub color: String,
    pub show_on_sidebar: Option<bool>,
}

const SELECT_LABEL: &str = "SELECT id, title, description, color, show_on_sidebar FROM labels";

fn label_from_row(row: &Row) -> crate::db::SqlResult<Label> {
    Ok(Label {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        color: row.get(3)?,
        show_on_sidebar: row.get(4)?,
    })
}

pub fn list(conn: &Conn, account_id: i64) -> StoreResult<Vec<Label>> {
    let sql = format!("{SELECT_LABEL} WHERE account_id = ?1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([account_id], label_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Conn, account_id: i64, label_id: i64) -> StoreResult<Label> {
    let sql = format!("{SELECT_LABEL} WHERE account_id = ?1 AND id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([account_id, label_id], label_from_row)?)
}

fn duplicate_title() -> StoreError {
    StoreError::invalid("title", "Title has already been taken")
}

pub struct LabelFields {
    pub title: String,
    pub description: Option<String>,
    pub color: String,
    pub show_on_sidebar: Option<bool>,
}

pub fn create(conn: &Conn, account_id: i64, label: &LabelFields, now: i64) -> StoreResult<i64> {
    insert_unique(
        conn,
        "INSERT INTO labels (account_id, title, description, color, show_on_sidebar, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
        params![account_id, label.title, label.description, label.color, label.show_on_sidebar, now],
        duplicate_title,
    )
}

/// Updates the label; a new title is carried over to the conversations tagged with the old one,
/// as Chatwoot's label update job does.
pub fn update(
    conn: &Conn,
    account_id: i64,
    label_id: i64,
    label: &LabelFields,
    now: i64,
) -> StoreResult<()> {
    let old_title = get(conn, account_id, label_id)?.title;
    execute_unique(
        conn,
        "UPDATE labels SET title = ?3, description = ?4, color = ?5, show_on_sidebar = ?6, updated_at = ?7
          WHERE account_id = ?1 AND id = ?2",
        params![account_id, label_id, label.title, label.description, label.color, label.show_on_sidebar, now],
        duplicate_title,
    )?;
    if old_title != label.title {
        // A conversation already tagged with the new title keeps one tag, not two.
        // Rows whose conversation has the new title already are left for the delete below.
        super::execute(
            conn,
            "UPDATE conversation_labels SET title = ?3
              WHERE account_id = ?1 AND title = ?2
                AND NOT EXISTS (SELECT 1 FROM conversation_labels o
                                 WHERE o.conversation_id = conversation_labels.conversation_id
                                   AND o.title = ?3)",
            params![account_id, old_title, label.title],
        )?;
        super::execute(
            conn,
            "DELETE FROM conversation_labels WHERE account_id = ?1 AND title = ?2",
            params![account_id, old_title],
        )?;
    }
    Ok(())
}

pub fn delete(conn: &Conn, account_id: i64, label_id: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "DELETE FROM labels WHERE account_id = ?1 AND id = ?2",
        [account_id, label_id],
    )?)
}
