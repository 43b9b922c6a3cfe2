//! Users and their membership of an account (Chatwoot's agents).

use std::collections::HashMap;

use crate::db::{Conn, OptionalExtension, Row};
use crate::{params, sql};

use super::{exists, json_object, one_row, StoreError, StoreResult};
use crate::models::{Agent, Availability, Role};

const SELECT_AGENT: &str =
    "SELECT u.id, au.account_id, u.name, u.display_name, u.email, u.avatar_url, u.confirmed,
        au.role, au.availability, au.auto_offline, u.custom_attributes, u.pubsub_token
   FROM account_users au JOIN users u ON u.id = au.user_id";

/// A user as seen from one of their accounts, or with default membership fields when they have
/// none (a user whose last account membership was removed can still read their profile).
pub fn user(conn: &Conn, user_id: i64, account_id: Option<i64>) -> StoreResult<Agent> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, COALESCE(au.account_id, 0), u.name, u.display_name, u.email, u.avatar_url, u.confirmed,
                COALESCE(au.role, 0), COALESCE(au.availability, 0), COALESCE(au.auto_offline, 1), u.custom_attributes,
                u.pubsub_token
           FROM users u LEFT JOIN account_users au ON au.user_id = u.id AND au.account_id = ?2
          WHERE u.id = ?1",
    )?;
    Ok(stmt.query_row(params![user_id, account_id], agent_from_row)?)
}

fn agent_from_row(row: &Row) -> crate::db::SqlResult<Agent> {
    Ok(Agent {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        display_name: row.get(3)?,
        email: row.get(4)?,
        avatar_url: row.get(5)?,
        confirmed: row.get(6)?,
        role: Role::from_code(row.get(7)?).unwrap_or(Role::Agent),
        availability: Availability::from_code(row.get(8)?).unwrap_or(Availability::Online),
        auto_offline: row.get(9)?,
        custom_attributes: json_object(&row.get::<String>(10)?),
        pubsub_token: row.get(11)?,
    })
}

pub fn list(conn: &Conn, account_id: i64) -> StoreResult<Vec<Agent>> {
    let sql = format!("{SELECT_AGENT} WHERE au.account_id = ?1 ORDER BY lower(u.name), u.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([account_id], agent_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The account's agents among `user_ids`, in id order.
pub fn list_ids(conn: &Conn, account_id: i64, user_ids: &[i64]) -> StoreResult<Vec<Agent>> {
    let mut agents = Vec::with_capacity(user_ids.len());
    for &user_id in user_ids {
        if let Some(agent) = find(conn, account_id, user_id)? {
            agents.push(agent);
        }
    }
    agents.sort_by_key(|a| a.id);
    Ok(agents)
}

/// The account's agents among `user_ids`, keyed by user id (`find` for many).
pub fn find_many(
    conn: &Conn,
    account_id: i64,
    user_ids: impl IntoIterator<Item = i64>,
) -> StoreResult<HashMap<i64, Agent>> {
    let sql = format!(
        "{SELECT_AGENT} WHERE au.account_id = ?1 AND {}",
        super::among_ids(conn, "au.user_id", 2)
    );
    super::map_of(
        conn,
        &sql,
        params![account_id, super::id_array(user_ids)],
        |row| agent_from_row(row).map(|a| (a.id, a)),
    )
}

/// Users with their role in account `?2`, for a list of ids.
macro_rules! users_by_id {
    () => {
        "SELECT u.id, COALESCE(au.account_id, 0), u.name, u.display_name, u.email, u.avatar_url, u.confirmed,
                COALESCE(au.role, 0), COALESCE(au.availability, 0), COALESCE(au.auto_offline, 1), u.custom_attributes,
                u.pubsub_token
           FROM users u LEFT JOIN account_users au ON au.user_id = u.id AND au.account_id = ?2"
    };
}

/// Users by id as seen from `account_id`, keyed by user id (`user` for many).
pub fn users(
    conn: &Conn,
    user_ids: impl IntoIterator<Item = i64>,
    account_id: i64,
) -> StoreResult<HashMap<i64, Agent>> {
    super::map_of(
        conn,
        &sql!(
            sqlite: concat!(users_by_id!(), " WHERE u.id IN rarray(?1)"),
            postgres: concat!(users_by_id!(), " WHERE u.id = ANY(?1)"),
        ),
        params![super::id_array(user_ids), account_id],
        |row| agent_from_row(row).map(|a| (a.id, a)),
    )
}

pub fn find(conn: &Conn, account_id: i64, user_id: i64) -> StoreResult<Option<Agent>> {
    let sql = format!("{SELECT_AGENT} WHERE au.account_id = ?1 AND au.user_id = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt
        .query_row([account_id, user_id], agent_from_row)
        .optional()?)
}

pub fn get(conn: &Conn, account_id: i64, user_id: i64) -> StoreResult<Agent> {
    find(conn, account_id, user_id)?.ok_or(StoreError::NotFound)
}

pub fn is_member(conn: &Conn, account_id: i64, user_id: i64) -> StoreResult<bool> {
    exists(
        conn,
        "SELECT 1 FROM account_users WHERE account_id = ?1 AND user_id = ?2",
        [account_id, user_id],
    )
}

/// True when every id is a member of the account (Chatwoot refuses the whole list otherwise).
pub fn all_members(conn: &Conn, account_id: i64, user_ids: &[i64]) -> StoreResult<bool> {
    for &user_id in user_ids {
        if !is_member(conn, account_id, user_id)? {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn create_user(
    conn: &Conn,
    name: &str,
    email: &str,
    confirmed: bool,
    now: i64,
) -> StoreResult<i64> {
    super::insert_unique(
        conn,
        "INSERT INTO users (name, email, confirmed, pubsub_token, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
        params![
            name,
            email,
            confirmed,
            uuid::Uuid::new_v4().simple().to_string(),
            now
        ],
        || StoreError::invalid("email", "Email has already been taken"),
    )
}

pub fn user_exists(conn: &Conn, user_id: i64) -> StoreResult<bool> {
    exists(conn, "SELECT 1 FROM users WHERE id = ?1", [user_id])
}

fn user_by_email(conn: &Conn, email: &str) -> StoreResult<Option<i64>> {
    let mut stmt = conn.prepare_cached(&sql!(
        sqlite: "SELECT id FROM users WHERE email = ?1",
        postgres: "SELECT id FROM users WHERE lower(email) = lower(?1)",
    ))?;
    Ok(stmt.query_row([email], |row| row.get(0)).optional()?)
}

#[derive(Clone)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub availability: Availability,
    pub auto_offline: bool,
    /// Whether a user created for this agent starts confirmed (API invitations do not).
    pub confirmed: bool,
}

/// Adds an agent to the account: the user with that email if one exists (users are shared
/// between accounts, as in Chatwoot), otherwise a new user. For operators (provisioning, the
/// generated corpus); an administrator's request goes through `add_if_new`.
pub fn add(conn: &Conn, account_id: i64, agent: &NewAgent, now: i64) -> StoreResult<i64> {
    let user_id = match user_by_email(conn, &agent.email)? {
        Some(id) => id,
        None => create_user(conn, &agent.name, &agent.email, agent.confirmed, now)?,
    };
    add_membership(conn, account_id, user_id, agent, now)?;
    Ok(user_id)
}

/// What `add_if_new` found.
pub enum Adding {
    /// No user had the email: one was created and added to the account.
    Added(i64),
    /// The email is that of an existing user who is not a member: nothing was written, since
    /// only the user may agree to join (by accepting an invitation).
    Existing(i64),
}

/// Adds an agent with a new email at once; an existing member is refused as a duplicate.
pub fn add_if_new(conn: &Conn, account_id: i64, agent: &NewAgent, now: i64) -> StoreResult<Adding> {
    match user_by_email(conn, &agent.email)? {
        None => {
            let user_id = create_user(conn, &agent.name, &agent.email, agent.confirmed, now)?;
            add_membership(conn, account_id, user_id, agent, now)?;
            Ok(Adding::Added(user_id))
        }
        Some(user_id) if is_member(conn, account_id, user_id)? => Err(already_member()),
        Some(user_id) => Ok(Adding::Existing(user_id)),
    }
}

fn already_member() -> StoreError {
    StoreError::invalid("user_id", "User has already been taken")
}

fn add_membership(
    conn: &Conn,
    account_id: i64,
    user_id: i64,
    agent: &NewAgent,
    now: i64,
) -> StoreResult<()> {
    super::execute_unique(
        conn,
        "INSERT INTO account_users (account_id, user_id, role, availability, auto_offline, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            account_id,
            user_id,
            agent.role.code(),
            agent.availability.code(),
            agent.auto_offline,
            now
        ],
        already_member,
    )?;
    Ok(())
}

/// Only the fields that were sent change. The email is not one of them: Chatwoot ignores it.
#[derive(Default)]
pub struct AgentChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub availability: Option<Availability>,
    pub auto_offline: Option<bool>,
}

pub fn update(
    conn: &Conn,
    account_id: i64,
    user_id: i64,
    change: &AgentChange,
    now: i64,
) -> StoreResult<()> {
    let updated = super::execute(
        conn,
        "UPDATE account_users
            SET role = COALESCE(?3, role),
                availability = COALESCE(?4, availability),
                auto_offline = COALESCE(?5, auto_offline)
          WHERE account_id = ?1 AND user_id = ?2",
        params![
            account_id,
            user_id,
            change.role.map(Role::code),
            change.availability.map(Availability::code),
            change.auto_offline
        ],
    )?;
    one_row(updated)?;
    if let Some(name) = &change.name {
        refuse_shared_rename(conn, account_id, user_id, name)?;
    }
    super::execute(
        conn,
        "UPDATE users SET name = COALESCE(?2, name), updated_at = ?3 WHERE id = ?1",
        params![user_id, change.name, now],
    )?;
    Ok(())
}

/// The name belongs to the user, not to one membership: an administrator of one account may not
/// rename someone who also belongs to another account, since the new name would show there too.
/// Sending the current name back (as edit forms do) is not a rename.
fn refuse_shared_rename(conn: &Conn, account_id: i64, user_id: i64, name: &str) -> StoreResult<()> {
    let renamed = !exists(
        conn,
        "SELECT 1 FROM users WHERE id = ?1 AND name = ?2",
        params![user_id, name],
    )?;
    let shared = exists(
        conn,
        "SELECT 1 FROM account_users WHERE user_id = ?1 AND account_id <> ?2",
        [user_id, account_id],
    )?;
    if renamed && shared {
        return Err(StoreError::invalid(
            "name",
            "Name can't be changed here: the user also belongs to another account",
        ));
    }
    Ok(())
}

/// Takes the user out of the account: its inbox and team memberships there go too, and its
/// conversations in the account become unassigned (Chatwoot does this in a background job).
pub fn remove(conn: &Conn, account_id: i64, user_id: i64) -> StoreResult<()> {
    let removed = super::execute(
        conn,
        "DELETE FROM account_users WHERE account_id = ?1 AND user_id = ?2",
        [account_id, user_id],
    )?;
    one_row(removed)?;
    super::execute(
        conn,
        "DELETE FROM inbox_members
          WHERE user_id = ?2 AND inbox_id IN (SELECT id FROM inboxes WHERE account_id = ?1)",
        [account_id, user_id],
    )?;
    super::execute(
        conn,
        "DELETE FROM team_members
          WHERE user_id = ?2 AND team_id IN (SELECT id FROM teams WHERE account_id = ?1)",
        [account_id, user_id],
    )?;
    super::execute(
        conn,
        "UPDATE conversations SET assignee_id = NULL WHERE account_id = ?1 AND assignee_id = ?2",
        [account_id, user_id],
    )?;
    Ok(())
}

/// Sets the password hash of the user with that email (emails compare without case). False when
/// no user has the email. The hash is made before the write, never inside it.
pub fn set_password_hash(conn: &Conn, email: &str, hash: &str, now: i64) -> StoreResult<bool> {
    let changed = super::execute(
        conn,
        &sql!(
            sqlite: "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE email = ?1",
            postgres: "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE lower(email) = lower(?1)",
        ),
        params![email, hash, now],
    )?;
    Ok(changed == 1)
}

/// The user with that email and their password hash (None when they have no password).
pub fn credentials(conn: &Conn, email: &str) -> StoreResult<Option<(i64, Option<String>)>> {
    let mut stmt = conn.prepare_cached(&sql!(
        sqlite: "SELECT id, password_hash FROM users WHERE email = ?1",
        postgres: "SELECT id, password_hash FROM users WHERE lower(email) = lower(?1)",
    ))?;
    Ok(stmt
        .query_row([email], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// Sets the password hash of the user with that id; false when there is none.
pub fn set_password_hash_of(conn: &Conn, user_id: i64, hash: &str, now: i64) -> StoreResult<bool> {
    let changed = super::execute(
        conn,
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![user_id, hash, now],
    )?;
    Ok(changed == 1)
}

/// Whether the user has a password to sign in with.
pub fn has_password(conn: &Conn, user_id: i64) -> StoreResult<bool> {
    exists(
        conn,
        "SELECT 1 FROM users WHERE id = ?1 AND password_hash IS NOT NULL",
        [user_id],
    )
}

/// Whether `admin_id` is an administrator of every account `user_id` belongs to: only then may
/// they choose the user's password, since it opens all of those accounts.
pub fn administers_every_account_of(conn: &Conn, admin_id: i64, user_id: i64) -> StoreResult<bool> {
    let outside = exists(
        conn,
        "SELECT 1 FROM account_users target
          WHERE target.user_id = ?2
            AND NOT EXISTS (SELECT 1 FROM account_users admin
                             WHERE admin.account_id = target.account_id
                               AND admin.user_id = ?1 AND admin.role = ?3)",
        params![admin_id, user_id, Role::Administrator.code()],
    )?;
    Ok(!outside)
}

/// The user's email and name.
pub fn email_and_name(conn: &Conn, user_id: i64) -> StoreResult<(String, String)> {
    Ok(conn
        .prepare_cached("SELECT email, name FROM users WHERE id = ?1")?
        .query_row([user_id], |row| Ok((row.get(0)?, row.get(1)?)))?)
}

/// Marks the user's email as confirmed: they used a link mailed to it.
pub fn confirm(conn: &Conn, user_id: i64, now: i64) -> StoreResult<()> {
    super::execute(
        conn,
        "UPDATE users SET confirmed = 1, updated_at = ?2 WHERE id = ?1 AND confirmed = 0",
        params![user_id, now],
    )?;
    Ok(())
}
