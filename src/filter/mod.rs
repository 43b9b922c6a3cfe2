//! The filter compiler: Chatwoot's `POST /conversations/filter` payload to a parameterised SQL
//! condition on `conversations c` (reference §6, DESIGN §5).
//!
//! JSON -> typed conditions (standard keys from one static table, custom attributes typed by the
//! account's definitions) -> validated with Chatwoot's 422 messages -> SQL text assembled only
//! from static pieces, with every value bound. Nothing here touches a database.

mod keys;
mod list_shape;
mod parse;
mod sql;

#[cfg(test)]
mod reference_tests;

pub use list_shape::{list_shape, values_shape, ListShape};
pub use parse::parse;
pub use sql::{compile, values_selection, Compiled, Dialect};

use crate::models::AttributeModel;

/// Conditions per payload, values per condition and characters per value accepted.
pub const MAX_CONDITIONS: usize = 50;
pub const MAX_VALUES: usize = 100;
pub const MAX_VALUE_CHARS: usize = 1024;

/// A refused payload: 422 with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    EqualTo,
    NotEqualTo,
    Contains,
    DoesNotContain,
    IsPresent,
    IsNotPresent,
    IsGreaterThan,
    IsLessThan,
    DaysBefore,
    /// An operator Chatwoot does not know, on a custom attribute: it matches nothing there.
    Unknown,
}

impl Operator {
    pub fn parse(name: &str) -> Self {
        match name {
            "equal_to" => Self::EqualTo,
            "not_equal_to" => Self::NotEqualTo,
            "contains" => Self::Contains,
            "does_not_contain" => Self::DoesNotContain,
            "is_present" => Self::IsPresent,
            "is_not_present" => Self::IsNotPresent,
            "is_greater_than" => Self::IsGreaterThan,
            "is_less_than" => Self::IsLessThan,
            "days_before" => Self::DaysBefore,
            _ => Self::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::EqualTo => "equal_to",
            Self::NotEqualTo => "not_equal_to",
            Self::Contains => "contains",
            Self::DoesNotContain => "does_not_contain",
            Self::IsPresent => "is_present",
            Self::IsNotPresent => "is_not_present",
            Self::IsGreaterThan => "is_greater_than",
            Self::IsLessThan => "is_less_than",
            Self::DaysBefore => "days_before",
            Self::Unknown => "unknown",
        }
    }

    /// Operators that need no values.
    pub fn takes_no_values(self) -> bool {
        matches!(self, Self::IsPresent | Self::IsNotPresent)
    }
}

/// How a condition is joined to the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Joiner {
    And,
    Or,
}

/// How a custom attribute's values compare, from its definition's display type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomKind {
    /// text, link and list: lowercased text, first value only.
    Text,
    /// number (and currency, percent).
    Number,
    Date,
    /// checkbox.
    Boolean,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Standard(&'static keys::StandardKey),
    Custom {
        key: String,
        model: AttributeModel,
        kind: CustomKind,
    },
}

impl std::fmt::Debug for keys::StandardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for keys::StandardKey {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// A value after validation, typed for its target.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Integer(i64),
    Real(f64),
    Text(String),
    /// A calendar day, `YYYY-MM-DD`.
    Day(chrono::NaiveDate),
    Bool(bool),
    /// A value that can match nothing (an unknown status name, as Chatwoot's enum lookup).
    Nothing,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub target: Target,
    pub operator: Operator,
    pub values: Vec<Value>,
    /// How this condition is joined to the next; None on the last.
    pub joiner: Option<Joiner>,
}
