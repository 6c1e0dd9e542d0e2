//! The key a client sends with a write it may have to send again (a phone that lost signal
//! before the answer came), so that the second copy records nothing.

/// The key a phone sends with a step or a photo so that a replay (the signal dropped before
/// the answer came) records nothing twice: 8 to 64 letters, digits, `-` or `_` (a UUID fits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Option<IdempotencyKey> {
        let raw = raw.trim();
        ((8..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| IdempotencyKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_short_plain_tokens() {
        assert!(IdempotencyKey::parse("0193b2c4-7f1e-7c3a-9d2e-5b8a1c4e6f70").is_some());
        assert!(IdempotencyKey::parse("short").is_none());
        assert!(IdempotencyKey::parse(&"a".repeat(65)).is_none());
        assert!(IdempotencyKey::parse("has space in it").is_none());
        assert!(IdempotencyKey::parse("semi;colon;key").is_none());
    }
}
