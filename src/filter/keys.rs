//! Chatwoot's standard filter keys (`lib/filters/filter_keys.yml`) and what each compiles to.

use super::Operator::{self, *};

/// Where a standard key's value lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `conversations.status`, values are status names (and `all`).
    Status,
    /// `conversations.priority`, values are priority names.
    Priority,
    /// An integer id column of `conversations c`.
    Id(&'static str),
    /// `conversations.display_id`, matched as a number or, with contains, as its digits.
    DisplayId,
    /// The conversation's labels.
    Labels,
    /// A key of `conversations.additional_attributes` (the JSON path is static text).
    Additional(&'static str),
    /// A timestamp column (micros), compared by UTC calendar day.
    Date(&'static str),
}

pub struct StandardKey {
    pub name: &'static str,
    pub source: Source,
    pub operators: &'static [Operator],
}

const EQUALITY: &[Operator] = &[EqualTo, NotEqualTo];
const PRESENCE: &[Operator] = &[EqualTo, NotEqualTo, IsPresent, IsNotPresent];
const TEXT: &[Operator] = &[EqualTo, NotEqualTo, Contains, DoesNotContain];
const DATE: &[Operator] = &[IsGreaterThan, IsLessThan, DaysBefore];

pub const STANDARD_KEYS: &[StandardKey] = &[
    StandardKey {
        name: "status",
        source: Source::Status,
        operators: EQUALITY,
    },
    StandardKey {
        name: "assignee_id",
        source: Source::Id("c.assignee_id"),
        operators: PRESENCE,
    },
    StandardKey {
        name: "inbox_id",
        source: Source::Id("c.inbox_id"),
        operators: PRESENCE,
    },
    StandardKey {
        name: "team_id",
        source: Source::Id("c.team_id"),
        operators: PRESENCE,
    },
    StandardKey {
        name: "priority",
        source: Source::Priority,
        operators: EQUALITY,
    },
    StandardKey {
        name: "display_id",
        source: Source::DisplayId,
        operators: TEXT,
    },
    StandardKey {
        name: "campaign_id",
        source: Source::Id("c.campaign_id"),
        operators: PRESENCE,
    },
    StandardKey {
        name: "labels",
        source: Source::Labels,
        operators: PRESENCE,
    },
    StandardKey {
        name: "browser_language",
        source: Source::Additional("$.browser_language"),
        operators: EQUALITY,
    },
    StandardKey {
        name: "conversation_language",
        source: Source::Additional("$.conversation_language"),
        operators: EQUALITY,
    },
    StandardKey {
        name: "country_code",
        source: Source::Additional("$.country_code"),
        operators: EQUALITY,
    },
    StandardKey {
        name: "referer",
        source: Source::Additional("$.referer"),
        operators: TEXT,
    },
    StandardKey {
        name: "mail_subject",
        source: Source::Additional("$.mail_subject"),
        operators: TEXT,
    },
    StandardKey {
        name: "created_at",
        source: Source::Date("c.created_at"),
        operators: DATE,
    },
    StandardKey {
        name: "last_activity_at",
        source: Source::Date("c.last_activity_at"),
        operators: DATE,
    },
];

pub fn standard(name: &str) -> Option<&'static StandardKey> {
    STANDARD_KEYS.iter().find(|k| k.name == name)
}

/// `status,assignee_id,...`, as Chatwoot's invalid-attribute message lists them.
pub fn standard_names() -> String {
    STANDARD_KEYS
        .iter()
        .map(|k| k.name)
        .collect::<Vec<_>>()
        .join(",")
}
