//! Which other pages may call the application API from a browser: none unless listed
//! (`--cors-origins`), as before; the Client API under `/public/` allows every page itself.

use actix_cors::Cors;
use actix_web::middleware::Condition;

/// The origins listed, checked once at start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    #[default]
    None,
    Any,
    Listed(Vec<String>),
}

/// Reads the list: `*` for any page, or origins such as `https://app.example.com`.
pub fn parse(list: &[String]) -> Result<AllowedOrigins, String> {
    let given: Vec<&str> = list
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if given.is_empty() {
        return Ok(AllowedOrigins::None);
    }
    if given.contains(&"*") {
        return Ok(AllowedOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in given {
        let origin = origin.trim_end_matches('/');
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let well_formed = rest.is_some_and(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        });
        if !well_formed {
            return Err(format!(
                "--cors-origins: {origin:?} is not an origin like https://app.example.com (or *)"
            ));
        }
        origins.push(origin.to_ascii_lowercase());
    }
    Ok(AllowedOrigins::Listed(origins))
}

/// The CORS layer of the application API: absent when no origin is listed.
pub fn application(origins: &AllowedOrigins) -> Condition<Cors> {
    let base = || {
        Cors::default()
            .allow_any_method()
            .allow_any_header()
            .max_age(86_400)
    };
    match origins {
        AllowedOrigins::None => Condition::new(false, Cors::default()),
        AllowedOrigins::Any => Condition::new(true, base().allow_any_origin().send_wildcard()),
        AllowedOrigins::Listed(list) => {
            let cors = list
                .iter()
                .fold(base(), |cors, origin| cors.allowed_origin(origin));
            Condition::new(true, cors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn origins_are_checked_and_star_means_any() {
        assert_eq!(parse(&[]), Ok(AllowedOrigins::None));
        assert_eq!(parse(&list(&["*"])), Ok(AllowedOrigins::Any));
        assert_eq!(
            parse(&list(&[
                "https://App.example.com/",
                "http://127.0.0.1:8080"
            ])),
            Ok(AllowedOrigins::Listed(list(&[
                "https://app.example.com",
                "http://127.0.0.1:8080"
            ])))
        );
        for bad in [
            "app.example.com",
            "https://",
            "https://a.example/path",
            "ftp://x",
        ] {
            assert!(parse(&list(&[bad])).is_err(), "{bad}");
        }
    }
}
