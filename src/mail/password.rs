//! The mails that carry a set-password link: the welcome of an agent an administrator added, and
//! a reset an administrator (or anyone, through "forgot password") asked for. The link holds a
//! one-time token; no other credential is needed to use it.

use v_htmlescape::escape_fmt;

use super::{utc_time, Rendered};
use crate::passwords::set_password_url;

/// A new agent's welcome: the account they were added to, and where to choose a password.
pub fn welcome(account_name: &str, base_url: &str, token: &str, expires_at: i64) -> Rendered {
    let opening = format!("You have been added as an agent to the account \"{account_name}\".");
    let opening_html = format!(
        "You have been added as an agent to the account <strong>{}</strong>.",
        escape_fmt(account_name)
    );
    link_mail(
        format!("Welcome to {account_name}"),
        (&opening, &opening_html),
        "Choose your password",
        &set_password_url(base_url, token),
        expires_at,
        "The link works once. If you did not expect this mail, you can ignore it.",
    )
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
    let asked = match asked_by {
        AskedBy::Administrator => "An administrator asked for you to choose a new password.",
        AskedBy::Anyone => {
            "Someone asked for a new password for this address. If it was not you, ignore \
             this mail."
        }
    };
    link_mail(
        "Choose a new password".to_string(),
        (asked, &escape_fmt(asked).to_string()),
        "Choose it",
        &set_password_url(base_url, token),
        expires_at,
        "The link works once. Your current password keeps working until you choose a new one.",
    )
}

/// The shape both mails share: an opening (as text, and as HTML already escaped), what to do
/// before the link expires, the link, and a closing line.
fn link_mail(
    subject: String,
    (opening, opening_html): (&str, &str),
    choose: &str,
    url: &str,
    expires_at: i64,
    closing: &str,
) -> Rendered {
    let expires = utc_time(expires_at);
    let text =
        format!("{opening}\n\n{choose} before {expires} at this address:\n\n{url}\n\n{closing}\n");
    let html = format!(
        "<!DOCTYPE html><html><body>\
         <p>{opening_html}</p>\
         <p>{} before {} at this address:</p>\
         <p><a href=\"{}\">{}</a></p>\
         <p>{}</p></body></html>",
        escape_fmt(choose),
        escape_fmt(&expires),
        escape_fmt(url),
        escape_fmt(url),
        escape_fmt(closing),
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
