//! `/api/v1/accounts/{a}/agents`: the account's users. Reading is open to every member;
//! changes are for administrators (Chatwoot's UserPolicy).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::input::{parse_enum, FlexBool, JsonBody};
use super::validate::{self, invalid};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{Availability, Principal, Role};
use crate::store::agents::{self, AgentChange, NewAgent};
use crate::views;

#[derive(Deserialize)]
pub struct AgentInput {
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
    /// Chatwoot permits both spellings.
    availability: Option<String>,
    availability_status: Option<String>,
    auto_offline: Option<FlexBool>,
}

impl AgentInput {
    fn role(&self) -> Result<Option<Role>, ApiError> {
        parse_enum(self.role.as_deref(), "role", Role::parse, Role::names)
    }

    fn availability(&self) -> Result<Option<Availability>, ApiError> {
        let given = self
            .availability
            .as_deref()
            .or(self.availability_status.as_deref());
        parse_enum(
            given,
            "availability",
            Availability::parse,
            Availability::names,
        )
    }

    fn email(&self) -> Result<Option<String>, ApiError> {
        match self.email.as_deref().map(str::trim) {
            None => Ok(None),
            Some(email) if validate::is_email(email) && email.len() <= validate::MAX_NAME_CHARS => {
                Ok(Some(email.to_lowercase()))
            }
            Some(_) => Err(invalid("email", "Email is invalid".into())),
        }
    }
}

pub async fn index(state: web::Data<AppState>, principal: Principal) -> ApiResult {
    let account_id = principal.account_id;
    let list = state
        .db
        .read(move |conn| agents::list(conn, account_id))
        .await?;
    Ok(HttpResponse::Ok().json(views::agents(&list)))
}

pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<AgentInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let input = body.0;
    let email = input
        .email()?
        .ok_or_else(|| invalid("email", "Email can't be blank".into()))?;
    let name = match input.name.clone() {
        Some(name) => validate::required("name", "Name", Some(name), "can't be blank")?,
        // Chatwoot names an agent created without a name after the email's local part.
        None => email.split('@').next().unwrap_or(&email).to_string(),
    };
    let agent = NewAgent {
        name,
        email,
        role: input.role()?.unwrap_or(Role::Agent),
        availability: input.availability()?.unwrap_or(Availability::Online),
        auto_offline: input.auto_offline.is_none_or(|b| b.0),
        confirmed: false,
    };
    let (account_id, now) = (principal.account_id, state.now());
    let created = state
        .db
        .write(move |tx| {
            let user_id = agents::add(tx, account_id, &agent, now)?;
            agents::get(tx, account_id, user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::agent(&created)))
}

pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<AgentInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let input = body.0;
    let change = AgentChange {
        name: input
            .name
            .clone()
            .map(|name| validate::required("name", "Name", Some(name), "can't be blank"))
            .transpose()?,
        role: input.role()?,
        availability: input.availability()?,
        auto_offline: input.auto_offline.map(|b| b.0),
    };
    let (account_id, user_id, now) = (principal.account_id, path.id, state.now());
    let updated = state
        .db
        .write(move |tx| {
            agents::update(tx, account_id, user_id, &change, now)?;
            agents::get(tx, account_id, user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::agent(&updated)))
}

pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, agents::remove).await
}
