//! The mails that carry a set-password link: the welcome of an agent an administrator added, and
//! a reset an administrator (or anyone, through "forgot password") asked for. The link holds a one-time token; no other credential is
//! needed to use it.

use v_htmlescape::escape_fmt;

use super::{utc_time, Rendered};
use crate::passwords::set_password_url;

/// A new agent's welcome: the account they were added to, and where to choose a password.
pub fn welcome(account_name: &str, base_url: &str, token: &str, expires_at: i64) -> Rendered {
    let url = set_password_url(base_url, token);
    let expires = utc_time(expires_at);
    let subject = format!("Welcome to {account_name}");
    let text = format!(
        "You have been added as an agent to the account \"{account_name}\".\n\n\
         Choose your password before {expires} at this address:\n\n\
         {url}\n\n\
         The link works once. If you did not expect this mail, you can ignore it.\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body>\
         <p>You have been added as an agent to the account <strong>{}</strong>.</p>\
         <p>Choose your password before {} at this address:</p>\
         <p><a href=\"{}\">{}</a></p>\
         <p>The link works once. If you did not expect this mail, you can ignore it.</p>\
         </body></html>",
        escape_fmt(account_name),
        escape_fmt(&expires),
        escape_fmt(&url),
        escape_fmt(&url),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// Who asked for a new password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskedBy {
    /// An administrator of the user's accounts.
    Administrator,
    /// Whoever typed the email into "forgot password", perhaps not its owner.
    Anyone,
}

/// A reset: where to choose a new password.
pub fn reset(base_url: &str, token: &str, expires_at: i64, asked_by: AskedBy) -> Rendered {
    let url = set_password_url(base_url, token);
    let expires = utc_time(expires_at);
    let subject = "Choose a new password".to_string();
    let asked = match asked_by {
        AskedBy::Administrator => "An administrator asked for you to choose a new password.",
        AskedBy::Anyone => {
            "Someone asked for a new password for this address. If it was not you, ignore \
             this mail."
        }
    };
    let text = format!(
        "{asked}\n\n\
         Choose it before {expires} at this address:\n\n\
         {url}\n\n\
         The link works once. Your current password keeps working until you choose a new one.\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body>\
         <p>{}</p>\
         <p>Choose it before {} at this address:</p>\
         <p><a href=\"{}\">{}</a></p>\
         <p>The link works once. Your current password keeps working until you choose a new \
         one.</p></body></html>",
        escape_fmt(asked),
        escape_fmt(&expires),
        escape_fmt(&url),
        escape_fmt(&url),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_welcome_names_the_account_and_holds_the_link() {
        let mail = welcome(
            "Acme",
            "https://s.example.com",
            "Tok3n",
            1_767_225_600_000_000,
        );
        assert_eq!(mail.subject, "Welcome to Acme");
        let url = "https://s.example.com/app/#/password?token=Tok3n";
        assert!(mail.text.contains(url), "{}", mail.text);
        assert!(mail.text.contains("2026-01-01 00:00 UTC"));
        assert!(
            mail.html.replace("&#x2f;", "/").contains(url),
            "{}",
            mail.html
        );
    }

    #[test]
    fn the_reset_holds_the_link_and_the_account_name_is_escaped() {
        let mail = reset("http://localhost:3000", "Tok3n", 0, AskedBy::Anyone);
        assert!(mail.text.starts_with("Someone asked"));
        assert!(mail
            .text
            .contains("http://localhost:3000/app/#/password?token=Tok3n"));
        let mail = welcome("<b>Acme</b>", "http://x", "t", 0);
        assert!(mail.html.contains("&lt;b&gt;Acme"));
    }
}
