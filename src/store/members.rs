//! Membership sets of users: inbox members and team members behave alike (add, remove, replace).

use crate::db::Conn;
use crate::params;

use super::StoreResult;

/// Which membership table; each variant carries its own static SQL.
#[derive(Clone, Copy, Debug)]
pub enum Group {
    Inbox(i64),
    Team(i64),
}

impl Group {
    fn id(self) -> i64 {
        match self {
            Group::Inbox(id) | Group::Team(id) => id,
        }
    }

    fn select_sql(self) -> &'static str {
        match self {
            Group::Inbox(_) => {
                "SELECT user_id FROM inbox_members WHERE inbox_id = ?1 ORDER BY user_id"
            }
            Group::Team(_) => {
                "SELECT user_id FROM team_members WHERE team_id = ?1 ORDER BY user_id"
            }
        }
    }

    fn insert_sql(self) -> &'static str {
        match self {
            Group::Inbox(_) => {
                "INSERT INTO inbox_members (inbox_id, user_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"
            }
            Group::Team(_) => {
                "INSERT INTO team_members (team_id, user_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"
            }
        }
    }

    fn delete_sql(self) -> &'static str {
        match self {
            Group::Inbox(_) => "DELETE FROM inbox_members WHERE inbox_id = ?1 AND user_id = ?2",
            Group::Team(_) => "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2",
        }
    }
}

pub fn member_ids(conn: &Conn, group: Group) -> StoreResult<Vec<i64>> {
    super::ids(conn, group.select_sql(), [group.id()])
}

/// Adds the users that are not members yet; returns the ids that were added.
pub fn add(conn: &Conn, group: Group, user_ids: &[i64], now: i64) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(group.insert_sql())?;
    let mut added = Vec::new();
    for &user_id in user_ids {
        if stmt.execute(params![group.id(), user_id, now])? == 1 {
            added.push(user_id);
        }
    }
    Ok(added)
}

pub fn remove(conn: &Conn, group: Group, user_ids: &[i64]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(group.delete_sql())?;
    for &user_id in user_ids {
        stmt.execute([group.id(), user_id])?;
    }
    Ok(())
}

/// Makes the member set exactly `user_ids`.
pub fn replace(conn: &Conn, group: Group, user_ids: &[i64], now: i64) -> StoreResult<()> {
    let stale: Vec<i64> = member_ids(conn, group)?
        .into_iter()
        .filter(|id| !user_ids.contains(id))
        .collect();
    remove(conn, group, &stale)?;
    add(conn, group, user_ids, now)?;
    Ok(())
}
