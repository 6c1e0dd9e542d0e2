//! Money: US dollars as a whole number of cents. Integer cents keep sums exact; the only
//! rounding is where a share of a price is taken (a deposit, a tax credit), and it rounds to
//! the nearest cent once, there.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

use serde::{Deserialize, Serialize};

/// An amount in US cents. On the API and in stored JSON it is the bare integer, under a field
/// named `…_cents`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    /// Dollars, rounded to the nearest cent.
    pub fn from_dollars(dollars: f64) -> Self {
        Self((dollars * 100.0).round() as i64)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    pub fn dollars(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// `percent` % of this amount, rounded to the nearest cent.
    pub fn percent(self, percent: f64) -> Self {
        Self((self.0 as f64 * percent / 100.0).round() as i64)
    }

    /// Whole dollars with thousands separators: `$12,345` (cents dropped, for prices and
    /// chart labels where cents are noise).
    pub fn whole(self) -> String {
        let mut out = String::new();
        if self.0 < 0 {
            out.push('-');
        }
        out.push('$');
        out.push_str(&group_thousands(self.0.unsigned_abs() / 100));
        out
    }
}

/// Dollars and cents with thousands separators: `$12,345.67`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.whole(), self.0.unsigned_abs() % 100)
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

/// A unit price times a count.
impl Mul<i64> for Money {
    type Output = Money;
    fn mul(self, rhs: i64) -> Money {
        Money(self.0 * rhs)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_with_thousands_separators_and_its_sign() {
        assert_eq!(Money::from_cents(123_456_789).whole(), "$1,234,567");
        assert_eq!(Money::from_cents(123_456_789).to_string(), "$1,234,567.89");
        assert_eq!(Money::from_cents(-15_005).to_string(), "-$150.05");
        assert_eq!(Money::from_cents(-5).to_string(), "-$0.05");
        assert_eq!(Money::ZERO.to_string(), "$0.00");
        assert_eq!(Money::from_cents(99_999).whole(), "$999");
        assert_eq!(Money::from_cents(100_000).whole(), "$1,000");
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(100), "100");
        assert_eq!(group_thousands(1000), "1,000");
    }

    #[test]
    fn shares_round_to_the_nearest_cent_once() {
        assert_eq!(Money::from_cents(12_345).percent(10.0), Money::from_cents(1_235));
        assert_eq!(
            Money::from_cents(100_000).percent(30.0),
            Money::from_cents(30_000)
        );
        assert_eq!(Money::from_dollars(0.125), Money::from_cents(13));
        let total: Money = [Money::from_cents(1), Money::from_cents(2)].into_iter().sum();
        assert_eq!(total * 3 - Money::from_cents(9), Money::ZERO);
    }

    #[test]
    fn money_is_a_bare_integer_on_the_wire() {
        assert_eq!(serde_json::to_string(&Money::from_cents(250)).unwrap(), "250");
        assert_eq!(
            serde_json::from_str::<Money>("-7").unwrap(),
            Money::from_cents(-7)
        );
    }
}
