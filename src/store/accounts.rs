//! Accounts and account memberships.

use crate::db::Conn;
use crate::params;

use super::{exists, StoreResult};
use crate::models::Role;

pub fn create(conn: &Conn, name: &str, now: i64) -> StoreResult<i64> {
    super::insert(
        conn,
        "INSERT INTO accounts (name, created_at, updated_at) VALUES (?1, ?2, ?2) RETURNING id",
        params![name, now],
    )
}

pub fn any_exists(conn: &Conn) -> StoreResult<bool> {
    exists(conn, "SELECT 1 FROM accounts LIMIT 1", [])
}

pub fn add_member(
    conn: &Conn,
    account_id: i64,
    user_id: i64,
    role: Role,
    now: i64,
) -> StoreResult<()> {
    super::execute(
        conn,
        "INSERT INTO account_users (account_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![account_id, user_id, role.code(), now],
    )?;
    Ok(())
}

/// One of a user's accounts, for the profile.
#[derive(Debug, Clone)]
pub struct Membership {
    pub account_id: i64,
    pub account_name: String,
    pub locale: String,
    pub role: Role,
    pub availability: crate::models::Availability,
    pub auto_offline: bool,
}

pub fn memberships_of(conn: &Conn, user_id: i64) -> StoreResult<Vec<Membership>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.name, a.locale, au.role, au.availability, au.auto_offline
           FROM account_users au JOIN accounts a ON a.id = au.account_id
          WHERE au.user_id = ?1
          ORDER BY a.id",
    )?;
    let rows = stmt.query_map([user_id], |row| {
        Ok(Membership {
            account_id: row.get(0)?,
            account_name: row.get(1)?,
            locale: row.get(2)?,
            role: Role::from_code(row.get(3)?).unwrap_or(Role::Agent),
            availability: crate::models::Availability::from_code(row.get(4)?)
                .unwrap_or(crate::models::Availability::Online),
            auto_offline: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The administrator created with the first account: the owner of the bootstrap token.
pub fn first_administrator(conn: &Conn) -> StoreResult<Option<i64>> {
    let ids = super::ids(
        conn,
        "SELECT user_id FROM account_users WHERE role = 1 ORDER BY account_id, user_id LIMIT 1",
        [],
    )?;
    Ok(ids.first().copied())
}

/// The account's name.
pub fn name(conn: &Conn, account_id: i64) -> StoreResult<String> {
    Ok(conn
        .prepare_cached("SELECT name FROM accounts WHERE id = ?1")?
        .query_row([account_id], |row| row.get(0))?)
}
