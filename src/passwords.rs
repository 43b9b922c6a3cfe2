//! Users' passwords: Argon2id (the `argon2` crate's default parameters) in PHC strings with a
//! random salt. Hashing and verifying are slow by design, so callers run them off the request
//! workers and never inside a database write.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Where the agent app lets the holder of a one-time token choose a password; the token follows.
pub const SET_PASSWORD_PATH: &str = "/app/#/password?token=";

/// The link that sets a password with `token`, under `base_url` (the server's public address).
pub fn set_password_url(base_url: &str, token: &str) -> String {
    format!(
        "{}{SET_PASSWORD_PATH}{token}",
        base_url.trim_end_matches('/')
    )
}

/// The shortest password `wootlite user password` accepts, in characters.
pub const MIN_LENGTH: usize = 8;

/// Why a password is refused.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!(
            "the password is too short: it needs at least {MIN_LENGTH} characters"
        ));
    }
    Ok(())
}

/// The PHC string to store for `password`.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the stored hash. With no hash (an unknown email, a user without a
/// password) a stand-in hash is verified all the same, so that the answer takes as long and
/// cannot tell which case it was; the result is then always false.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (stand_in(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        // A stored value that is no PHC string matches nothing; still spend the same time.
        let _ = verify(None, password);
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    real && matches
}

/// The hash of a random password, made once, verified when there is no real hash.
fn stand_in() -> &'static str {
    static STAND_IN: OnceLock<String> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        hash(&crate::store::tokens::generate()).expect("hashing a generated password")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(Some(&stored), "correct horse"));
        assert!(!verify(Some(&stored), "wrong horse"));
    }

    #[test]
    fn the_same_password_hashes_with_different_salts() {
        assert_ne!(
            hash("same password").unwrap(),
            hash("same password").unwrap()
        );
    }

    #[test]
    fn nothing_matches_without_a_hash_or_with_a_bad_one() {
        assert!(!verify(None, "anything at all"));
        assert!(!verify(Some("not a phc string"), "not a phc string"));
    }

    #[test]
    fn the_set_password_link_opens_the_apps_password_page() {
        assert_eq!(
            set_password_url("https://support.example.com/", "Tok3n"),
            "https://support.example.com/app/#/password?token=Tok3n"
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_strength("1234567").is_err());
        assert!(check_strength("12345678").is_ok());
    }
}
