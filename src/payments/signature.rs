//! Webhook signatures in Stripe's scheme (S-IT-2): the header
//! `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (several `v1`
//! values while a secret is being rolled). A signature is valid when one `v1` matches under the
//! secret and `t` is within the tolerance of now, so a captured event cannot be replayed later.
//! The same scheme signs what we send to installers.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

pub const HEADER: &str = "stripe-signature";

/// Stripe's default: 5 minutes either way.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signature header")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

fn mac(secret: &SecretString, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` signed at `at`.
pub fn sign(secret: &SecretString, at: DateTime<Utc>, body: &[u8]) -> String {
    let t = at.timestamp();
    let digest = mac(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(digest))
}

/// Checks `header` against `body` at `now`.
pub fn verify(
    secret: &SecretString,
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            "v1" => signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
            // Other schemes (v0 test signatures) are ignored, as Stripe does.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    // verify_slice compares in constant time.
    if signatures
        .iter()
        .any(|s| mac(secret, timestamp, body).verify_slice(s).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn secret() -> SecretString {
        SecretString::from("whsec_test_0123456789abcdef0123456789")
    }

    #[test]
    fn a_signature_made_now_verifies_and_nothing_else_does() {
        let now = Utc::now();
        let body = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
        let header = sign(&secret(), now, body);
        assert_eq!(verify(&secret(), Some(&header), body, now), Ok(()));
        // Another body, another secret, no header, garbage.
        assert_eq!(
            verify(&secret(), Some(&header), br#"{"id":"evt_2"}"#, now),
            Err(SignatureError::Mismatch)
        );
        let other = SecretString::from("whsec_other_0123456789abcdef012345");
        assert_eq!(
            verify(&other, Some(&header), body, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&secret(), None, body, now), Err(SignatureError::Missing));
        assert_eq!(
            verify(&secret(), Some("t=abc,v1=zz"), body, now),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&secret(), Some(&format!("t={}", now.timestamp())), body, now),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn old_and_future_timestamps_are_refused() {
        let now = Utc::now();
        let body = b"{}";
        let old = sign(&secret(), now - TimeDelta::seconds(TOLERANCE_SECS + 1), body);
        assert_eq!(
            verify(&secret(), Some(&old), body, now),
            Err(SignatureError::Stale)
        );
        let future = sign(&secret(), now + TimeDelta::seconds(TOLERANCE_SECS + 1), body);
        assert_eq!(
            verify(&secret(), Some(&future), body, now),
            Err(SignatureError::Stale)
        );
        let edge = sign(&secret(), now - TimeDelta::seconds(TOLERANCE_SECS - 1), body);
        assert_eq!(verify(&secret(), Some(&edge), body, now), Ok(()));
    }

    #[test]
    fn any_matching_v1_passes_while_a_secret_is_rolled() {
        let now = Utc::now();
        let body = b"{}";
        let good = sign(&secret(), now, body);
        let v1 = good.split(",v1=").nth(1).unwrap();
        let header = format!("t={},v1={},v1={v1}", now.timestamp(), "00".repeat(32));
        assert_eq!(verify(&secret(), Some(&header), body, now), Ok(()));
    }

    #[test]
    fn matches_stripes_documented_construction() {
        // HMAC-SHA256("whsec_test", "1700000000.{}"), computed with Python's hmac module.
        let secret = SecretString::from("whsec_test");
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(
            sign(&secret, at, b"{}"),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }
}
