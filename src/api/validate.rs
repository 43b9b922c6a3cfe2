//! Rails-style validations of input, producing Chatwoot's 422 `{"message", "attributes"}` bodies.

use crate::error::ApiError;

/// Longest name-like string accepted (Rails' default string column limit in Chatwoot).
pub const MAX_NAME_CHARS: usize = 255;
/// Longest free text (descriptions, messages) accepted in account-level objects.
pub const MAX_TEXT_CHARS: usize = 16 * 1024;
/// Longest URL accepted (webhooks, bots, inboxes): far above any real endpoint, well below the
/// body limit.
pub const MAX_URL_CHARS: usize = 2048;

pub fn invalid(attribute: &str, message: String) -> ApiError {
    ApiError::Invalid {
        message,
        attributes: vec![attribute.to_string()],
    }
}

/// Failed validations, gathered so that one 422 names them all, as Rails does.
#[derive(Default)]
pub struct Failures {
    messages: Vec<String>,
    attributes: Vec<String>,
}

impl Failures {
    pub fn add(&mut self, attribute: &str, message: String) {
        self.messages.push(message);
        self.attributes.push(attribute.to_string());
    }

    /// The value of a passed check, or None with the check's 422 kept among the failures.
    pub fn take<T>(&mut self, checked: Result<T, ApiError>) -> Option<T> {
        match checked {
            Ok(value) => Some(value),
            Err(ApiError::Invalid {
                message,
                attributes,
            }) => {
                self.messages.push(message);
                self.attributes.extend(attributes);
                None
            }
            Err(other) => {
                self.messages.push(other.to_string());
                None
            }
        }
    }

    pub fn into_result<T>(self, value: T) -> Result<T, ApiError> {
        if self.messages.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::Invalid {
                message: self.messages.join(", "),
                attributes: self.attributes,
            })
        }
    }
}

/// A present, non-blank, not too long value; `label` is the human name ("Name").
pub fn required(
    attribute: &str,
    label: &str,
    value: Option<String>,
    blank: &str,
) -> Result<String, ApiError> {
    let value = value.map(|v| v.trim().to_string()).unwrap_or_default();
    if value.is_empty() {
        return Err(invalid(attribute, format!("{label} {blank}")));
    }
    max_chars(attribute, label, value, MAX_NAME_CHARS)
}

pub fn max_chars(
    attribute: &str,
    label: &str,
    value: String,
    max: usize,
) -> Result<String, ApiError> {
    if value.chars().count() > max {
        return Err(invalid(
            attribute,
            format!("{label} is too long (maximum is {max} characters)"),
        ));
    }
    Ok(value)
}

/// An optional text: blank reads as absent (NULL), as Rails' `presence`.
pub fn optional(
    attribute: &str,
    label: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        Some(v) => max_chars(attribute, label, v, max).map(Some),
        None => Ok(None),
    }
}

/// An absolute http(s) URL with a host, as Chatwoot's URI check; `None` when it is not one.
/// Kept as sent (trimmed): uniqueness compares what the administrator typed, as Chatwoot.
pub fn http_url(text: &str) -> Option<String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    // The URL parser is lenient where Chatwoot's check is not: it drops tabs and newlines, reads
    // `http:host` and `https:///host` as if the host were written right, and `\` as `/`.
    let plain = !text.chars().any(|c| c.is_whitespace() || c.is_control());
    let authority = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    let prefixed = authority.is_some_and(|rest| !rest.starts_with(['/', '\\', '?', '#']));
    let parsed = url::Url::parse(text).ok()?;
    let has_host = parsed.host_str().is_some_and(|h| !h.is_empty());
    (plain && prefixed && has_host && matches!(parsed.scheme(), "http" | "https"))
        .then(|| text.to_string())
}

/// An optional http(s) URL (`webhook_url`, `outgoing_url`): blank or null is none; anything else
/// must be an http(s) URL of at most `MAX_URL_CHARS`, else a 422 on `attribute` ("<label> is
/// invalid").
pub fn optional_http_url(
    attribute: &str,
    label: &str,
    value: Option<String>,
) -> Result<Option<String>, ApiError> {
    let Some(text) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let text = max_chars(attribute, label, text, MAX_URL_CHARS)?;
    http_url(&text)
        .map(Some)
        .ok_or_else(|| invalid(attribute, format!("{label} is invalid")))
}

/// A plausible email address: one `@`, something before it, a dotted domain after it, no spaces.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// E.164: `+`, a non-zero digit, then 1 to 14 more digits.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Chatwoot's title rule: a letter or digit, then at least one more letter, digit, `_` or `-`.
pub fn is_valid_title(title: &str) -> bool {
    let mut chars = title.chars();
    chars.next().is_some_and(char::is_alphanumeric)
        && title.chars().count() >= 2
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Longest custom attribute key accepted.
pub const MAX_KEY_CHARS: usize = 64;

/// A custom attribute key: trimmed, 1 to `MAX_KEY_CHARS` ASCII letters, digits or underscores.
pub fn valid_key(key: String) -> Result<String, ApiError> {
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(invalid(
            "attribute_key",
            "Attribute key can't be blank".into(),
        ));
    }
    let well_formed =
        key.len() <= MAX_KEY_CHARS && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err(invalid(
            "attribute_key",
            format!("Attribute key must be 1 to {MAX_KEY_CHARS} letters, digits or underscores"),
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("jane@example.com"));
        assert!(!is_email("jane"));
        assert!(!is_email("jane@localhost"));
        assert!(!is_email("a b@example.com"));
        assert!(!is_email("@example.com"));
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(is_e164("+14155552671"));
        assert!(!is_e164("14155552671"));
        assert!(!is_e164("+0123"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+1 415"));
    }

    #[test]
    fn blank_required_values_are_refused_with_the_label() {
        let error = required("name", "Name", Some("  ".into()), "must not be blank").unwrap_err();
        assert!(
            matches!(error, ApiError::Invalid { message, .. } if message == "Name must not be blank")
        );
        assert!(required("name", "Name", Some("x".repeat(256)), "must not be blank").is_err());
    }
}
