//! `/api/v1/accounts/{a}/agents`: the account's users. Reading is open to every member;
//! changes are for administrators (Chatwoot's UserPolicy). A new email becomes a user at once and
//! is mailed a link to choose a password; the email of a user who belongs to other accounts gets
//! an invitation (see `invitations`).

use crate::api::openapi::schemas as doc;
use crate::db::Conn;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::input::{parse_enum, FlexBool, JsonBody};
use super::validate::{self, invalid};
use super::{invitations, ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::mail::password as mail_template;
use crate::models::{Agent, Availability, Principal, Role};
use crate::store::agents::{self, Adding, AgentChange, NewAgent};
use crate::store::invitations::NewInvitation;
use crate::store::{accounts, mail, password_tokens, StoreResult};
use crate::views;
use crate::views::conversations::Links;

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
    /// The agent an administrator asks to add: a valid email, and a name (the email's local part
    /// when none is sent, as Chatwoot).
    fn new_agent(self) -> Result<NewAgent, ApiError> {
        let email = self
            .email()?
            .ok_or_else(|| invalid("email", "Email can't be blank".into()))?;
        let name = match self.name.clone() {
            Some(name) => validate::required("name", "Name", Some(name), "can't be blank")?,
            None => email.split('@').next().unwrap_or(&email).to_string(),
        };
        Ok(NewAgent {
            name,
            email,
            role: self.role()?.unwrap_or(Role::Agent),
            availability: self.availability()?.unwrap_or(Availability::Online),
            auto_offline: self.auto_offline.is_none_or(|b| b.0),
            confirmed: false,
        })
    }

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

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/agents",
    responses((status = 200, body = Vec<doc::Agent>)))]
pub async fn index(state: web::Data<AppState>, principal: Principal) -> ApiResult {
    let account_id = principal.account_id;
    let list = state
        .db
        .read(move |conn| agents::list(conn, account_id))
        .await?;
    Ok(HttpResponse::Ok().json(views::agents(&list)))
}

/// What `POST /agents` did.
enum Created {
    Agent(Box<Agent>),
    /// The email is an existing user's, who was sent an invitation.
    Invited,
    /// ... but the account's emails for the day are used up, so nothing was done.
    OverQuota,
}

/// A new email becomes an agent at once and is mailed a link to choose a password; an existing
/// user who is not a member is invited. Either mail is one of the account's emails for the day:
/// over the quota nothing is written.
fn add_or_invite(
    tx: &Conn,
    account_id: i64,
    agent: &NewAgent,
    links: &Links,
    now: i64,
    emails_per_day: Option<u32>,
) -> StoreResult<Created> {
    if !mail::count_email(tx, account_id, now, emails_per_day)? {
        return Ok(Created::OverQuota);
    }
    let user_id = match agents::add_if_new(tx, account_id, agent, now)? {
        Adding::Added(user_id) => {
            welcome(tx, account_id, user_id, &links.base_url, now)?;
            return Ok(Created::Agent(Box::new(agents::get(
                tx, account_id, user_id,
            )?)));
        }
        Adding::Existing(user_id) => user_id,
    };
    let invitation = NewInvitation {
        account_id,
        user_id,
        role: agent.role,
        availability: agent.availability,
        auto_offline: agent.auto_offline,
    };
    invitations::invite(tx, &invitation, &links.base_url, now)?;
    Ok(Created::Invited)
}

/// Queues the new agent's welcome, with a link to choose their password.
fn welcome(tx: &Conn, account_id: i64, user_id: i64, base_url: &str, now: i64) -> StoreResult<()> {
    let issued =
        password_tokens::issue(tx, user_id, password_tokens::WELCOME_LIFETIME_MICROS, now)?;
    let (email, _) = agents::email_and_name(tx, user_id)?;
    let account_name = accounts::name(tx, account_id)?;
    let rendered =
        mail_template::welcome(&account_name, base_url, &issued.token, issued.expires_at);
    mail::enqueue(tx, &rendered.to(account_id, &email), now)?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/agents",
    request_body = doc::AgentInput,
    responses((status = 200, description = "The new agent, or (`id` null, `invitation_pending`) the invited user", body = doc::Agent)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    links: Links,
    body: JsonBody<AgentInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let agent = body.0.new_agent()?;
    let sent = agent.clone();
    let (account_id, now, quota) = (principal.account_id, state.now(), state.emails_per_day);
    let created = state
        .db
        .write(move |tx| add_or_invite(tx, account_id, &agent, &links, now, quota))
        .await?;
    match created {
        Created::Agent(agent) => {
            state.mailer.queued();
            Ok(HttpResponse::Ok().json(views::agent(&agent)))
        }
        Created::Invited => {
            state.mailer.queued();
            // Built from the request alone: nothing of the existing user is shown.
            Ok(HttpResponse::Ok().json(views::pending_agent(account_id, &sent)))
        }
        Created::OverQuota => Err(ApiError::TooManyRequests(
            "The account's daily email limit is reached: the agent was not added or invited".into(),
        )),
    }
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/agents/{id}",
    request_body = doc::AgentInput,
    responses((status = 200, body = doc::Agent)))]
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

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/agents/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, agents::remove).await
}
