//! Signing a delivery, as Chatwoot does (PR #13573): `X-Chatwoot-Signature: sha256=<hex>` where
//! `<hex>` is the lowercase hex HMAC-SHA256, keyed with the target's secret (its UTF-8 bytes), of
//! `<timestamp>.<exact body bytes>`; the timestamp (unix seconds, decimal) is sent beside it in
//! `X-Chatwoot-Timestamp`. The timestamp is taken per attempt, so each attempt is signed anew.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Chatwoot-Signature";
/// Header carrying the unix seconds the signature covers.
pub const TIMESTAMP_HEADER: &str = "X-Chatwoot-Timestamp";
/// Header carrying the delivery's uuid, made once per (event, target) and kept across retries:
/// the receiver's idempotency key.
pub const DELIVERY_HEADER: &str = "X-Chatwoot-Delivery";

/// `"sha256=" + lowercase hex HMAC-SHA256(key = secret, message = "<timestamp>.<body>")`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let digest = hmac_sha256_hex(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]);
    format!("sha256={digest}")
}

/// The headers of one attempt: the delivery id when there is one, and the timestamp and signature
/// when the target has a secret (unsigned otherwise, as Chatwoot before secrets existed).
pub fn delivery_headers(
    delivery_id: Option<&str>,
    secret: Option<&str>,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut headers = Vec::with_capacity(3);
    if let Some(id) = delivery_id {
        headers.push((DELIVERY_HEADER, id.to_string()));
    }
    if let Some(secret) = secret {
        headers.push((TIMESTAMP_HEADER, timestamp.to_string()));
        headers.push((SIGNATURE_HEADER, sign(secret, timestamp, body)));
    }
    headers
}

pub(crate) fn hmac_sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 1: a 20-byte key of 0x0b.
        assert_eq!(
            hmac_sha256_hex(&[0x0b; 20], &[b"Hi There"]),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    // The expected values were computed once with Python:
    // hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    #[test]
    fn sign_matches_an_independent_computation() {
        assert_eq!(
            sign(
                "whsec_test",
                1_700_000_000,
                br#"{"event":"message_created","id":1}"#
            ),
            "sha256=ba55871d2fd9eab97ecf99c4cb52f005f74b4d28e892450237808d85a43a3ea7"
        );
        assert_eq!(
            sign("", 0, b""),
            "sha256=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"
        );
        // A non-ASCII secret is keyed by its UTF-8 bytes; the body is raw bytes, not text.
        let body: Vec<u8> = (0..=255u8).collect();
        assert_eq!(
            sign("sécret", -5, &body),
            "sha256=874c55428a25b497774c3616ad3a4848c211c74cc640150e838927c48ce2c3e7"
        );
    }

    #[test]
    fn every_input_changes_the_signature() {
        let base = sign("s", 1, b"{}");
        assert_ne!(base, sign("t", 1, b"{}"));
        assert_ne!(base, sign("s", 2, b"{}"));
        assert_ne!(base, sign("s", 1, b"{ }"));
        assert!(base.starts_with("sha256="));
        let hex = &base["sha256=".len()..];
        assert_eq!(hex.len(), 64);
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }

    #[test]
    fn delivery_headers_sign_only_with_a_secret() {
        assert_eq!(
            delivery_headers(Some("d-1"), None, 5, b"{}"),
            vec![(DELIVERY_HEADER, "d-1".to_string())]
        );
        assert_eq!(
            delivery_headers(None, Some("k"), 5, b"{}"),
            vec![
                (TIMESTAMP_HEADER, "5".to_string()),
                (SIGNATURE_HEADER, sign("k", 5, b"{}")),
            ]
        );
    }
}
