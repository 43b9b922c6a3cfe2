//! Teams and their members.

use std::collections::HashMap;

use crate::db::{Conn, Row};
use crate::params;

use super::{execute_unique, insert_unique, one_row, StoreError, StoreResult};

#[derive(Clone, Debug)]
pub struct Team {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub allow_auto_assign: bool,
    /// Whether the user the team was read for is a member (never for a bot: no viewer).
    pub is_member: bool,
}

const SELECT_TEAM: &str = "SELECT t.id, t.account_id, t.name, t.description, t.allow_auto_assign,
        EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.user_id = ?2)
   FROM teams t";

fn team_from_row(row: &Row) -> crate::db::SqlResult<Team> {
    Ok(Team {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        allow_auto_assign: row.get(4)?,
        is_member: row.get(5)?,
    })
}

pub fn list(conn: &Conn, account_id: i64, viewer: Option<i64>) -> StoreResult<Vec<Team>> {
    let sql = format!("{SELECT_TEAM} WHERE t.account_id = ?1 ORDER BY t.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![account_id, viewer], team_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Conn, account_id: i64, team_id: i64, viewer: Option<i64>) -> StoreResult<Team> {
    let sql = format!("{SELECT_TEAM} WHERE t.account_id = ?1 AND t.id = ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt.query_row(params![account_id, viewer, team_id], team_from_row)?)
}

/// The account's teams among `team_ids`, keyed by id, as seen by `viewer` (`get` for many).
pub fn get_many(
    conn: &Conn,
    account_id: i64,
    team_ids: impl IntoIterator<Item = i64>,
    viewer: Option<i64>,
) -> StoreResult<HashMap<i64, Team>> {
    let sql = format!(
        "{SELECT_TEAM} WHERE t.account_id = ?1 AND {}",
        super::among_ids(conn, "t.id", 3)
    );
    super::map_of(
        conn,
        &sql,
        params![account_id, viewer, super::id_array(team_ids)],
        |row| team_from_row(row).map(|t| (t.id, t)),
    )
}

fn duplicate_name() -> StoreError {
    StoreError::invalid("name", "Name has already been taken")
}

pub struct TeamFields {
    pub name: String,
    pub description: Option<String>,
    pub allow_auto_assign: bool,
}

pub fn create(conn: &Conn, account_id: i64, team: &TeamFields, now: i64) -> StoreResult<i64> {
    insert_unique(
        conn,
        "INSERT INTO teams (account_id, name, description, allow_auto_assign, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
        params![account_id, team.name, team.description, team.allow_auto_assign, now],
        duplicate_name,
    )
}

pub fn update(
    conn: &Conn,
    account_id: i64,
    team_id: i64,
    team: &TeamFields,
    now: i64,
) -> StoreResult<()> {
    one_row(execute_unique(
        conn,
        "UPDATE teams SET name = ?3, description = ?4, allow_auto_assign = ?5, updated_at = ?6
          WHERE account_id = ?1 AND id = ?2",
        params![
            account_id,
            team_id,
            team.name,
            team.description,
            team.allow_auto_assign,
            now
        ],
        duplicate_name,
    )?)
}

/// Deletes the team; its memberships go with it and its conversations lose their team
/// (foreign keys: CASCADE and SET NULL).
pub fn delete(conn: &Conn, account_id: i64, team_id: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "DELETE FROM teams WHERE account_id = ?1 AND id = ?2",
        [account_id, team_id],
    )?)
}

/// (created_at, updated_at) of a team, for the raw record an assignment answers with.
pub fn timestamps(conn: &Conn, team_id: i64) -> StoreResult<(i64, i64)> {
    Ok(conn
        .prepare_cached("SELECT created_at, updated_at FROM teams WHERE id = ?1")?
        .query_row([team_id], |row| Ok((row.get(0)?, row.get(1)?)))?)
}

pub fn has_member(conn: &Conn, team_id: i64, user_id: i64) -> StoreResult<bool> {
    super::exists(
        conn,
        "SELECT 1 FROM team_members WHERE team_id = ?1 AND user_id = ?2",
        [team_id, user_id],
    )
}
