//! The invitation mail: an existing user is asked to join an account, with the link that accepts
//! the invitation. The link holds the token; no access token is needed to use it.

use v_htmlescape::escape_fmt;

use super::{utc_time, Rendered};
use crate::store::invitations::Issued;

/// Where the invitation is accepted, under `base_url` (the server's public address).
pub fn accept_url(base_url: &str, token: &str) -> String {
    format!(
        "{}/api/v1/invitations/{token}/accept",
        base_url.trim_end_matches('/')
    )
}

pub fn render(invitation: &Issued, base_url: &str) -> Rendered {
    let url = accept_url(base_url, &invitation.token);
    let (account, role, expires) = (
        &invitation.account_name,
        invitation.role.as_str(),
        utc_time(invitation.expires_at),
    );
    let subject = format!("Invitation to join {account}");
    // The acceptance is a POST, so that a link checker opening the URL cannot accept for the
    // user.
    let text = format!(
        "You have been invited to join the account \"{account}\" as {role}.\n\n\
         To accept, send a POST request to this address before {expires}:\n\n\
         {url}\n\n\
         for example: curl -X POST '{url}'\n\n\
         If you did not expect this invitation, ignore this mail: nothing changes until it is \
         accepted.\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body>\
         <p>You have been invited to join the account <strong>{}</strong> as {}.</p>\
         <p>To accept, send a POST request to this address before {}:</p>\
         <p><code>{}</code></p>\
         <p>for example: <code>curl -X POST '{}'</code></p>\
         <p>If you did not expect this invitation, ignore this mail: nothing changes until it is \
         accepted.</p></body></html>",
        escape_fmt(account),
        escape_fmt(role),
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
    use crate::models::Role;

    fn issued(account_name: &str) -> Issued {
        Issued {
            token: "Tok3n".into(),
            recipient: "user@example.com".into(),
            account_name: account_name.into(),
            role: Role::Administrator,
            expires_at: 1_767_225_600_000_000,
        }
    }

    #[test]
    fn the_mail_names_the_account_role_expiry_and_acceptance_address() {
        let mail = render(&issued("Acme"), "https://support.example.com/");
        assert_eq!(mail.subject, "Invitation to join Acme");
        let url = "https://support.example.com/api/v1/invitations/Tok3n/accept";
        // The HTML escapes `/` as `&#x2f;`, which reads as `/`.
        let html = mail.html.replace("&#x2f;", "/");
        for part in [&mail.text, &html] {
            assert!(part.contains(url), "{part}");
            assert!(part.contains("administrator"), "{part}");
            assert!(part.contains("2026-01-01 00:00 UTC"), "{part}");
        }
    }

    #[test]
    fn the_account_name_is_escaped_in_html() {
        let mail = render(&issued("<b>Acme</b>"), "http://localhost:3000");
        assert!(mail.html.contains("&lt;b&gt;Acme"), "{}", mail.html);
        assert!(!mail.html.contains("<b>Acme"));
    }
}
