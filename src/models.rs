//! Domain enums and rows shared by the store, the handlers and the views. Enums carry Chatwoot's
//! wire names and the Rails integers they are stored as.

use serde_json::Value;

/// Implements the wire-name and stored-integer conversions of a Chatwoot enum.
macro_rules! chatwoot_enum {
    ($name:ident { $($variant:ident = $code:literal, $wire:literal;)+ }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn code(self) -> i64 {
                match self { $($name::$variant => $code),+ }
            }

            pub fn from_code(code: i64) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn parse(wire: &str) -> Option<Self> {
                match wire { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// The wire names, for error messages that list what is allowed.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

chatwoot_enum!(Role {
    Agent = 0, "agent";
    Administrator = 1, "administrator";
});

chatwoot_enum!(Availability {
    Online = 0, "online";
    Offline = 1, "offline";
    Busy = 2, "busy";
});

chatwoot_enum!(AttributeDisplayType {
    Text = 0, "text";
    Number = 1, "number";
    Currency = 2, "currency";
    Percent = 3, "percent";
    Link = 4, "link";
    Date = 5, "date";
    List = 6, "list";
    Checkbox = 7, "checkbox";
});

chatwoot_enum!(AttributeModel {
    Conversation = 0, "conversation_attribute";
    Contact = 1, "contact_attribute";
});

chatwoot_enum!(BotType {
    Webhook = 0, "webhook";
});

/// Who a token belongs to: a user, or an account's agent bot (Chatwoot's `AgentBot`, whose token
/// opens only the few endpoints a bot may call; see `auth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    Bot(i64),
}

/// Who made a change, as events name it in `performed_by`: a token's actor, or a contact
/// (through the public Client API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Performer {
    User(i64),
    Bot(i64),
    Contact(i64),
}

impl From<Actor> for Performer {
    fn from(actor: Actor) -> Self {
        match actor {
            Actor::User(id) => Self::User(id),
            Actor::Bot(id) => Self::Bot(id),
        }
    }
}

impl Performer {
    /// The `type` an event's `performed_by` shows, in Chatwoot's naming of senders.
    pub fn kind(self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Bot(_) => "agent_bot",
            Self::Contact(_) => "contact",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Self::User(id) | Self::Bot(id) | Self::Contact(id) => id,
        }
    }
}

/// Who is calling: the token's user (or bot), and their role in the account of the request's
/// path. A bot's role is `Agent`: it is never an administrator.
#[derive(Clone, Debug)]
pub struct Principal {
    pub actor: Actor,
    pub account_id: i64,
    pub role: Role,
}

impl Principal {
    pub fn is_administrator(&self) -> bool {
        self.role == Role::Administrator
    }

    /// Administrators and agent bots act in every inbox of the account; agents in the inboxes
    /// they are members of (Chatwoot's policies let a bot see any conversation).
    pub fn sees_all_inboxes(&self) -> bool {
        self.is_administrator() || self.is_bot()
    }

    /// The calling user; None for a bot. Compare with `is_some_and`, never `==` against another
    /// Option: a bot's None must not match an unassigned conversation's None.
    pub const fn user_id(&self) -> Option<i64> {
        match self.actor {
            Actor::User(id) => Some(id),
            Actor::Bot(_) => None,
        }
    }

    pub const fn bot_id(&self) -> Option<i64> {
        match self.actor {
            Actor::Bot(id) => Some(id),
            Actor::User(_) => None,
        }
    }

    pub const fn is_bot(&self) -> bool {
        matches!(self.actor, Actor::Bot(_))
    }

    /// Whether the caller is this user.
    pub fn is_user(&self, user_id: i64) -> bool {
        self.actor == Actor::User(user_id)
    }

    /// The `(sender_type, sender_id)` of what the caller writes: Chatwoot's polymorphic sender.
    pub const fn sender(&self) -> (&'static str, i64) {
        match self.actor {
            Actor::User(id) => ("User", id),
            Actor::Bot(id) => ("AgentBot", id),
        }
    }
}

/// A user as a member of one account (Chatwoot's agent).
#[derive(Clone, Debug)]
pub struct Agent {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub display_name: Option<String>,
    pub email: String,
    pub avatar_url: Option<String>,
    pub confirmed: bool,
    pub pubsub_token: String,
    pub role: Role,
    pub availability: Availability,
    pub auto_offline: bool,
    pub custom_attributes: Value,
}

impl Agent {
    /// Chatwoot's `available_name`: the display name when set, else the name.
    pub fn available_name(&self) -> &str {
        match self.display_name.as_deref() {
            Some(shown) if !shown.is_empty() => shown,
            _ => &self.name,
        }
    }
}

chatwoot_enum!(Status {
    Open = 0, "open";
    Resolved = 1, "resolved";
    Pending = 2, "pending";
    Snoozed = 3, "snoozed";
});

chatwoot_enum!(Priority {
    Low = 0, "low";
    Medium = 1, "medium";
    High = 2, "high";
    Urgent = 3, "urgent";
});

chatwoot_enum!(MessageType {
    Incoming = 0, "incoming";
    Outgoing = 1, "outgoing";
    Activity = 2, "activity";
    Template = 3, "template";
});

chatwoot_enum!(MessageStatus {
    Sent = 0, "sent";
    Delivered = 1, "delivered";
    Read = 2, "read";
    Failed = 3, "failed";
});

chatwoot_enum!(FileType {
    Image = 0, "image";
    Audio = 1, "audio";
    Video = 2, "video";
    File = 3, "file";
    Location = 4, "location";
    Fallback = 5, "fallback";
    Share = 6, "share";
    StoryMention = 7, "story_mention";
    Contact = 8, "contact";
});

/// An attachment's storage key, `<32 hex chars>/<file name>`, split into folder and file name;
/// None for anything else. The key is joined to the attachment folder, so this is what keeps a
/// key (from a request, a database row or a backup archive) from naming a path outside it.
pub fn storage_key_parts(key: &str) -> Option<(&str, &str)> {
    let (folder, name) = key.split_once('/')?;
    let folder_ok = folder.len() == 32 && folder.bytes().all(|b| b.is_ascii_hexdigit());
    let name_ok =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    (folder_ok && name_ok).then_some((folder, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hex_folder_and_a_plain_name_make_a_storage_key() {
        let folder = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            storage_key_parts(&format!("{folder}/a.png")),
            Some((folder, "a.png"))
        );
        for bad in [
            format!("{folder}/../x"),
            format!("{folder}/.."),
            format!("{folder}/"),
            format!("{folder}/a\\b"),
            format!("{folder}/a\0"),
            "../../etc/passwd".to_string(),
            "0123/a.png".to_string(),
            format!("{}/a.png", "g".repeat(32)),
        ] {
            assert_eq!(storage_key_parts(&bad), None, "{bad}");
        }
    }
}
