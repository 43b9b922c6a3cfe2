//! Creating an account ready to use: the account, its administrator, an API inbox the
//! administrator belongs to, and an access token. Used on first start and by `account create`.

use crate::db::Conn;

use crate::db::Db;
use crate::fixtures::{self, FixtureError, Fixtures, Loaded};
use crate::models::{Availability, Role};
use crate::store::agents::NewAgent;
use crate::store::{
    accounts, agents, inboxes, members, password_tokens, tokens, StoreError, StoreResult,
};

/// What was created (or found) for the banner.
#[derive(Clone, Debug)]
pub struct Provisioned {
    pub account_id: i64,
    pub user_id: i64,
    pub inbox_id: i64,
    /// The plain token; it is shown once and only its digest is kept.
    pub token: String,
}

/// What `serve` found or made at start-up.
#[derive(Clone, Debug)]
pub enum Bootstrap {
    /// The data dir was empty and has been provisioned.
    Created(Provisioned),
    /// The data dir was empty and the fixtures have been loaded into it. `token` is the
    /// bootstrap token when one was given (it is valid for the fixtures' first administrator).
    Loaded {
        loaded: Loaded,
        token: Option<String>,
    },
    /// The data dir was already in use. `token` is the bootstrap token when one was given (it is
    /// now valid for the first administrator); stored tokens cannot be shown again.
    Existing { token: Option<String> },
}

pub struct NewAccount<'a> {
    pub name: &'a str,
    pub admin_name: &'a str,
    pub admin_email: &'a str,
    /// Use this token instead of a random one.
    pub token: Option<&'a str>,
}

pub fn create_account(db: &Db, new: &NewAccount, now: i64) -> StoreResult<Provisioned> {
    db.write_now(|tx| provision(tx, new, now))
}

fn provision(tx: &Conn, new: &NewAccount, now: i64) -> StoreResult<Provisioned> {
    let account_id = accounts::create(tx, new.name, now)?;
    // An existing user with that email becomes the administrator, as users span accounts.
    let admin = NewAgent {
        name: new.admin_name.to_string(),
        email: new.admin_email.to_string(),
        role: Role::Administrator,
        availability: Availability::Online,
        auto_offline: true,
        confirmed: true,
    };
    let user_id = agents::add(tx, account_id, &admin, now)?;
    let inbox_id = inboxes::create(tx, account_id, "API", now)?;
    members::add(tx, members::Group::Inbox(inbox_id), &[user_id], now)?;
    let token = new.token.map_or_else(tokens::generate, str::to_owned);
    tokens::insert(tx, user_id, &token, now)?;
    Ok(Provisioned {
        account_id,
        user_id,
        inbox_id,
        token,
    })
}

/// What an empty database gets on first start (and dev mode's reset): account 1 with its
/// administrator, an API inbox and the token.
pub fn first_start(tx: &Conn, token: Option<&str>, now: i64) -> StoreResult<Provisioned> {
    let first = NewAccount {
        name: "wootlite",
        admin_name: "Administrator",
        admin_email: "admin@wootlite.local",
        token,
    };
    provision(tx, &first, now)
}

/// On an empty database, provisions account 1; otherwise creates nothing, except that a given
/// bootstrap token not yet known is added to the first administrator, so scripts that pin the
/// token keep working against an existing data dir.
pub fn bootstrap(db: &Db, token: Option<&str>, now: i64) -> StoreResult<Bootstrap> {
    db.write_now(|tx| {
        if !accounts::any_exists(tx)? {
            return first_start(tx, token, now).map(Bootstrap::Created);
        }
        existing(tx, token, now)
    })
}

fn existing(tx: &Conn, token: Option<&str>, now: i64) -> StoreResult<Bootstrap> {
    add_token(tx, token, now)?;
    Ok(Bootstrap::Existing {
        token: token.map(str::to_owned),
    })
}

fn add_token(tx: &Conn, token: Option<&str>, now: i64) -> StoreResult<()> {
    if let (Some(token), Some(user_id)) = (token, accounts::first_administrator(tx)?) {
        tokens::insert(tx, user_id, token, now)?;
    }
    Ok(())
}

/// Loads `fixtures` into an empty database inside the caller's transaction and adds `token` to
/// the first administrator, as a first start with them does (dev mode's reset). A bad entry is
/// refused with its name.
pub fn fixtures_start(
    tx: &Conn,
    fixtures: &Fixtures,
    token: Option<&str>,
    now: i64,
) -> StoreResult<crate::fixtures::Loaded> {
    let loaded = fixtures::load_in(tx, fixtures, now)
        .map_err(|e| StoreError::Rejected(format!("the fixtures cannot be loaded: {e}")))?;
    add_token(tx, token, now)?;
    Ok(loaded)
}

/// `bootstrap` with fixtures: on an empty database they are loaded instead of the default
/// account (in the same transaction: a bad entry leaves the database empty); on a database in
/// use they are not looked at. A bootstrap token is added to the first administrator either way.
pub fn bootstrap_fixtures(
    db: &Db,
    fixtures: &Fixtures,
    token: Option<&str>,
    now: i64,
) -> Result<Bootstrap, FixtureError> {
    let mut failure = None;
    let started = db.write_now(|tx| {
        if accounts::any_exists(tx)? {
            return existing(tx, token, now);
        }
        let loaded = fixtures::load_in(tx, fixtures, now).map_err(|e| {
            failure = Some(e);
            StoreError::Rejected("the fixtures were not loaded".into())
        })?;
        add_token(tx, token, now)?;
        Ok(Bootstrap::Loaded {
            loaded,
            token: token.map(str::to_owned),
        })
    });
    match (started, failure) {
        (Ok(started), _) => Ok(started),
        (Err(_), Some(failure)) => Err(failure),
        (Err(e), None) => Err(e.into()),
    }
}

/// While the first administrator has no password, a one-time token to choose it with (the start
/// banner prints the link). Each start issues a fresh one, valid seven days, which replaces the
/// earlier: only the latest printed link works.
pub fn first_password_token(db: &Db, now: i64) -> StoreResult<Option<String>> {
    db.write_now(|tx| {
        let Some(user_id) = accounts::first_administrator(tx)? else {
            return Ok(None);
        };
        if agents::has_password(tx, user_id)? {
            return Ok(None);
        }
        let lifetime = password_tokens::WELCOME_LIFETIME_MICROS;
        Ok(Some(
            password_tokens::issue(tx, user_id, lifetime, now)?.token,
        ))
    })
}
