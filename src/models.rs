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

/// Who is calling: the token's user, and their role in the account of the request's path.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: i64,
    pub account_id: i64,
    pub role: Role,
}

impl Principal {
    /// The actor events name for what this principal does.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }

    pub fn is_administrator(&self) -> bool {
        self.role == Role::Administrator
    }
}

/// Who made a change, as events report it (`performed_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    AgentBot(i64),
    Contact(i64),
}

impl Actor {
    /// The `type` an event's `performed_by` shows, in Chatwoot's naming of senders.
    pub fn kind(self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::AgentBot(_) => "agent_bot",
            Self::Contact(_) => "contact",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Self::User(id) | Self::AgentBot(id) | Self::Contact(id) => id,
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
