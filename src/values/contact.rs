//! Validated contact fields: past the edge, an `EmailAddress` is known to be well formed, a
//! `PersonName` fits the pages and mails it goes into, a `PhoneNumber` can be dialled.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailProblem {
    #[error("enter an email address")]
    Empty,
    #[error("that email address is too long")]
    TooLong,
    #[error("that is not a valid email address")]
    Invalid,
}

impl EmailAddress {
    /// Trims and lower-cases the address: `Ann@Example.com` and `ann@example.com` are one
    /// account (mail providers treat them alike in practice).
    pub fn parse(raw: &str) -> Result<Self, EmailProblem> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailProblem::Empty);
        }
        if trimmed.len() > 254 {
            return Err(EmailProblem::TooLong);
        }
        let lower = trimmed.to_lowercase();
        let parsed = email_address::EmailAddress::parse_with_options(
            &lower,
            // Display names ("Ann <ann@x>") and domain literals ([192.0.2.1]) are not addresses
            // we send to.
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal()
                .with_required_tld(),
        )
        .map_err(|_| EmailProblem::Invalid)?;
        Ok(Self(parsed.email()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, used to keep it out of passwords.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or("")
    }
}

// Personal data: Debug shows the domain only, so a stray `{:?}` cannot log an address.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.split('@').nth(1).unwrap_or("");
        write!(f, "EmailAddress(***@{domain})")
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    #[error("enter a name")]
    Empty,
    #[error("that name is too long (100 characters at most)")]
    TooLong,
    #[error("that name contains characters that are not allowed")]
    ForbiddenCharacters,
}

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, NameProblem> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(NameProblem::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(NameProblem::TooLong);
        }
        // Control characters would let a name forge lines in emails and CSV exports.
        if trimmed.chars().any(char::is_control) {
            return Err(NameProblem::ForbiddenCharacters);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(***)")
    }
}

/// A telephone number as the person writes it (`+1 555 123 4589`, `(555) 123-4589`): digits
/// with the usual separators, 7 to 15 digits (E.164 allows 15). It is not dialled by the
/// server, so it is checked for shape, not for a carrier.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneProblem {
    #[error("a phone number has 7 to 15 digits")]
    Digits,
    #[error("a phone number holds digits, spaces, +, -, ( and ) only")]
    Characters,
}

impl PhoneNumber {
    /// A `tel:` link a phone dials on tap (RFC 3966: the digits, with a leading `+` kept).
    /// `None` for a stored number that no longer parses.
    pub fn tel_uri(stored: &str) -> Option<String> {
        let number = PhoneNumber::parse(stored).ok()?;
        let plus = if number.0.starts_with('+') { "+" } else { "" };
        let digits: String = number.0.chars().filter(char::is_ascii_digit).collect();
        Some(format!("tel:{plus}{digits}"))
    }

    pub fn parse(raw: &str) -> Result<Self, PhoneProblem> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.chars().count() > 32 {
            return Err(PhoneProblem::Digits);
        }
        let mut chars = collapsed.chars().peekable();
        if chars.peek() == Some(&'+') {
            chars.next();
        }
        if !chars.all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.')) {
            return Err(PhoneProblem::Characters);
        }
        let digits = collapsed.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return Err(PhoneProblem::Digits);
        }
        Ok(Self(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber(***)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn phone_numbers_keep_their_shape_and_need_seven_to_fifteen_digits() {
        assert_eq!(
            PhoneNumber::parse("  +1  555 123 4589 ").unwrap().as_str(),
            "+1 555 123 4589"
        );
        assert!(PhoneNumber::parse("(555) 123-4589").is_ok());
        assert_eq!(PhoneNumber::parse("12345"), Err(PhoneProblem::Digits));
        assert_eq!(
            PhoneNumber::parse("+1 555 CALL NOW"),
            Err(PhoneProblem::Characters)
        );
        assert_eq!(PhoneNumber::parse("1+555 1234567"), Err(PhoneProblem::Characters));
        assert!(!format!("{:?}", PhoneNumber::parse("5551234589").unwrap()).contains('5'));
    }

    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            EmailAddress::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "Ann <ann@example.com>",
            "ann@[192.0.2.1]",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            EmailAddress::parse(&format!("{}@example.com", "a".repeat(250))),
            Err(EmailProblem::TooLong)
        );
    }

    #[test]
    fn debug_does_not_show_the_address() {
        let e = EmailAddress::parse("ann@example.com").unwrap();
        assert_eq!(format!("{e:?}"), "EmailAddress(***@example.com)");
        assert!(!format!("{:?}", PersonName::parse("Ann Lee").unwrap()).contains("Ann"));
    }

    #[test]
    fn names_are_bounded_and_free_of_control_characters() {
        assert_eq!(
            PersonName::parse("  Zoë Ångström ").unwrap().as_str(),
            "Zoë Ångström"
        );
        assert_eq!(PersonName::parse(" "), Err(NameProblem::Empty));
        assert_eq!(PersonName::parse(&"x".repeat(101)), Err(NameProblem::TooLong));
        assert_eq!(
            PersonName::parse("Ann\r\nBcc: x"),
            Err(NameProblem::ForbiddenCharacters)
        );
    }
}
