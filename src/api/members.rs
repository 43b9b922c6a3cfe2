//! What inbox members and team members share: validating a `user_ids` list against the account
//! and applying add / replace / remove in one transaction.

use crate::db::Conn;
use serde::Deserialize;

use super::input::IdList;
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{Agent, Principal};
use crate::store::members::{self, Group};
use crate::store::{agents, StoreError};

/// Chatwoot's message when a listed user is not in the account.
pub const INVALID_USER_IDS: &str = "Invalid User IDs";

#[derive(Deserialize)]
pub struct UserIds {
    pub user_ids: Option<IdList>,
}

impl UserIds {
    pub fn ids(&self) -> Result<Vec<i64>, ApiError> {
        self.user_ids
            .as_ref()
            .map(|list| list.0.clone())
            .ok_or_else(|| {
                ApiError::unprocessable("param is missing or the value is empty: user_ids")
            })
    }
}

#[derive(Clone, Copy)]
pub enum Change {
    Add,
    Replace,
    Remove,
}

/// The result of a change, in the two forms Chatwoot renders: inbox members answer with the
/// whole member set, team members with the agents just added.
pub struct Applied {
    pub added: Vec<Agent>,
    pub members: Vec<Agent>,
}

/// Applies the change in one transaction. `None` when a listed user is not in the account (the
/// caller answers with its Chatwoot error); `locate` finds the group (404 if the inbox or team
/// is not the account's).
pub async fn apply(
    state: &AppState,
    principal: &Principal,
    user_ids: Vec<i64>,
    change: Change,
    mut locate: impl FnMut(&Conn) -> Result<Group, StoreError> + Send + 'static,
) -> Result<Option<Applied>, ApiError> {
    let (account_id, now) = (principal.account_id, state.now());
    state
        .db
        .write(move |tx| {
            let group = locate(tx)?;
            if !agents::all_members(tx, account_id, &user_ids)? {
                return Ok(None);
            }
            let added = match change {
                Change::Add => members::add(tx, group, &user_ids, now)?,
                Change::Replace => {
                    members::replace(tx, group, &user_ids, now)?;
                    Vec::new()
                }
                Change::Remove => {
                    members::remove(tx, group, &user_ids)?;
                    Vec::new()
                }
            };
            let members = members::member_ids(tx, group)?;
            Ok(Some(Applied {
                added: agents::list_ids(tx, account_id, &added)?,
                members: agents::list_ids(tx, account_id, &members)?,
            }))
        })
        .await
}
/// The group's members as agents.
pub async fn list(
    state: &AppState,
    account_id: i64,
    locate: impl FnOnce(&Conn) -> Result<Group, StoreError> + Send + 'static,
) -> Result<Vec<Agent>, ApiError> {
    state
        .db
        .read(move |conn| {
            let group = locate(conn)?;
            let ids = members::member_ids(conn, group)?;
            agents::list_ids(conn, account_id, &ids)
        })
        .await
}
