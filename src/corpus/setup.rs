//! The account a dataset lives in: inboxes, agents with their inbox and team memberships, teams,
//! labels and custom attribute definitions, made through the store as the API would make them.

use crate::db::Conn;
use serde_json::json;

use crate::models::{AttributeDisplayType, AttributeModel, Availability, Role};
use crate::store::members::{self, Group};
use crate::store::{agents, custom_attributes, inboxes, labels, teams, StoreResult};

use super::Shape;

pub const ACCOUNT: i64 = 1;

/// The conversation custom attributes every generated conversation carries.
pub const REGION_KEY: &str = "region";
pub const REGIONS: &[&str] = &["north", "south", "east", "west"];
pub const PLAN_KEY: &str = "plan";
pub const PLANS: &[&str] = &["free", "starter", "pro", "enterprise"];
pub const SEATS_KEY: &str = "seats";
/// True on about one conversation in a hundred.
pub const ESCALATED_KEY: &str = "escalated";

const LABEL_WORDS: &[&str] = &[
    "billing",
    "bug",
    "feature-request",
    "vip",
    "shipping",
    "onboarding",
    "churn-risk",
    "enterprise",
    "mobile",
    "integration",
    "security",
    "feedback",
    "sales",
    "returns",
    "outage",
    "password",
    "invoice",
    "upgrade",
    "downgrade",
    "api",
    "webhook",
    "sso",
    "export",
    "import",
    "localization",
    "accessibility",
    "partner",
    "trial",
    "legal",
    "spam",
];

/// The label titles of a shape, most used first.
pub fn label_titles(shape: &Shape) -> Vec<String> {
    (0..shape.labels as usize)
        .map(|i| match LABEL_WORDS.get(i) {
            Some(word) => (*word).to_string(),
            None => format!("label-{}", i + 1),
        })
        .collect()
}

/// Inboxes an agent (user id, the administrator being 1) is a member of: two of them.
pub fn inboxes_of(user_id: i64, shape: &Shape) -> [i64; 2] {
    let inboxes = shape.inboxes as i64;
    [(user_id - 1) % inboxes + 1, (user_id + 3) % inboxes + 1]
}

/// The team an agent belongs to.
pub fn team_of(user_id: i64, shape: &Shape) -> i64 {
    (user_id - 1) % shape.teams as i64 + 1
}

/// Adds everything but conversations and contacts to account 1, which provisioning has just made
/// with user 1 (its administrator) and inbox 1. Ids follow on from those.
pub fn populate(tx: &Conn, shape: &Shape, now: i64) -> StoreResult<()> {
    for n in 2..=shape.inboxes {
        inboxes::create(tx, ACCOUNT, &format!("Inbox {n}"), now)?;
    }
    for n in 2..=shape.agents {
        agents::add(
            tx,
            ACCOUNT,
            &agents::NewAgent {
                name: format!("Agent {n}"),
                email: format!("agent{n}@example.com"),
                role: Role::Agent,
                availability: Availability::Online,
                auto_offline: true,
                confirmed: true,
            },
            now,
        )?;
    }
    for n in 1..=shape.teams {
        teams::create(
            tx,
            ACCOUNT,
            &teams::TeamFields {
                name: format!("Team {n}"),
                description: None,
                allow_auto_assign: true,
            },
            now,
        )?;
    }
    for user in 1..=shape.agents as i64 {
        for inbox in inboxes_of(user, shape) {
            members::add(tx, Group::Inbox(inbox), &[user], now)?;
        }
        members::add(tx, Group::Team(team_of(user, shape)), &[user], now)?;
    }
    for title in label_titles(shape) {
        labels::create(
            tx,
            ACCOUNT,
            &labels::LabelFields {
                title,
                description: None,
                color: "#1f93ff".into(),
                show_on_sidebar: Some(true),
            },
            now,
        )?;
    }
    define_attributes(tx, now)
}

fn define_attributes(tx: &Conn, now: i64) -> StoreResult<()> {
    for (key, display_type, values) in [
        (REGION_KEY, AttributeDisplayType::Text, &[][..]),
        (PLAN_KEY, AttributeDisplayType::List, PLANS),
        (SEATS_KEY, AttributeDisplayType::Number, &[][..]),
        (ESCALATED_KEY, AttributeDisplayType::Checkbox, &[][..]),
    ] {
        let fields = custom_attributes::DefinitionFields {
            display_name: key.to_string(),
            key: key.to_string(),
            display_type,
            model: AttributeModel::Conversation,
            description: None,
            values: json!(values),
            regex_pattern: None,
            regex_cue: None,
        };
        custom_attributes::create(tx, ACCOUNT, &fields, now)?;
    }
    Ok(())
}
