//! Masked personal data (S-AC-5): what staff see of a customer without a grant. Enough to
//! recognise the right account on a call ("J*** D***, phone ending 89"), not enough to use.

/// `John Doe` → `J*** D***`.
pub fn name(full: &str) -> String {
    full.split_whitespace()
        .map(|word| match word.chars().next() {
            Some(first) => format!("{first}***"),
            None => String::new(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `john.doe@example.com` → `j***@e***.com`.
pub fn email(address: &str) -> String {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return "***".to_owned();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let tld = domain.rsplit_once('.').map(|(_, tld)| tld).unwrap_or("");
    format!("{}***@{}***.{tld}", first(local), first(domain))
}

/// `+1 555 123 4589` → `+1 *** *** **89`: the country code and the last two digits stay,
/// every other digit becomes `*`, separators keep the shape.
pub fn phone(number: &str) -> String {
    let total = number.chars().filter(char::is_ascii_digit).count();
    // A leading `+CC ` country code stays visible.
    let country_len = match number.strip_prefix('+') {
        Some(rest) => rest.chars().take_while(char::is_ascii_digit).count(),
        None => 0,
    };
    let keep_country = country_len > 0 && country_len <= 3 && total > country_len + 2;
    let mut seen = 0;
    number
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            let in_country = keep_country && seen <= country_len;
            if in_country || seen > total.saturating_sub(2) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// `123 Main St, Apt 4` → `*** Main St, Apt *`: house and unit numbers hidden, the street kept
/// so a caller can confirm it.
pub fn street(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_number = false;
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push_str("***");
                in_number = true;
            }
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_initials_only() {
        assert_eq!(name("John Doe"), "J*** D***");
        assert_eq!(name("  Zoë  Ångström "), "Z*** Å***");
        assert_eq!(name(""), "");
    }

    #[test]
    fn emails_keep_first_letters_and_the_top_level_domain() {
        assert_eq!(email("john.doe@example.com"), "j***@e***.com");
        assert_eq!(email("not-an-address"), "***");
    }

    #[test]
    fn phones_keep_country_code_and_last_two_digits() {
        assert_eq!(phone("+1 555 123 4589"), "+1 *** *** **89");
        assert_eq!(phone("(555) 123-4589"), "(***) ***-**89");
        assert_eq!(phone("+44 20 7946 0958"), "+44 ** **** **58");
        // Without separators the country code cannot be told apart: only two digits stay.
        assert_eq!(phone("+15551234589"), "+*********89");
    }

    #[test]
    fn street_numbers_are_hidden() {
        assert_eq!(street("123 Main St"), "*** Main St");
        assert_eq!(street("4B Elm Road, Apt 12"), "***B Elm Road, Apt ***");
    }
}
