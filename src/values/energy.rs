//! Energy and power, kept apart so that a kWh figure is never added to a kW rating: `Kwh`
//! (energy over a period, usage and production) and `Kw` (a system's rated DC power).

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub};

use serde::{Deserialize, Serialize};

use super::money::group_thousands;

/// Kilowatt-hours. On the API it is the bare number, under a field named `…_kwh`.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kwh(pub f64);

/// Kilowatts of rated (DC) power. On the API it is the bare number, under a field named `…_kw`.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kw(pub f64);

impl Kwh {
    pub const ZERO: Kwh = Kwh(0.0);

    pub const fn value(self) -> f64 {
        self.0
    }

    pub fn is_finite(self) -> bool {
        self.0.is_finite()
    }

    pub fn min(self, other: Kwh) -> Kwh {
        Kwh(self.0.min(other.0))
    }
}

impl Kw {
    pub const fn value(self) -> f64 {
        self.0
    }

    pub fn from_watts(watts: u64) -> Kw {
        Kw(watts as f64 / 1000.0)
    }
}

/// Whole kWh with thousands separators: `12,480 kWh`.
impl fmt::Display for Kwh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = self.0.round();
        let sign = if rounded < 0.0 { "-" } else { "" };
        write!(f, "{sign}{} kWh", group_thousands(rounded.abs() as u64))
    }
}

/// Two decimals: `7.20 kW`.
impl fmt::Display for Kw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} kW", self.0)
    }
}

impl Add for Kwh {
    type Output = Kwh;
    fn add(self, rhs: Kwh) -> Kwh {
        Kwh(self.0 + rhs.0)
    }
}

impl AddAssign for Kwh {
    fn add_assign(&mut self, rhs: Kwh) {
        self.0 += rhs.0;
    }
}

impl Sub for Kwh {
    type Output = Kwh;
    fn sub(self, rhs: Kwh) -> Kwh {
        Kwh(self.0 - rhs.0)
    }
}

impl Sum for Kwh {
    fn sum<I: Iterator<Item = Kwh>>(iter: I) -> Kwh {
        iter.fold(Kwh::ZERO, Add::add)
    }
}

/// A share or a factor of an energy figure.
impl Mul<f64> for Kwh {
    type Output = Kwh;
    fn mul(self, rhs: f64) -> Kwh {
        Kwh(self.0 * rhs)
    }
}

/// Energy per installed kW (a specific yield) times a system's power.
impl Mul<Kw> for Kwh {
    type Output = Kwh;
    fn mul(self, rhs: Kw) -> Kwh {
        Kwh(self.0 * rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_and_power_are_written_for_people() {
        assert_eq!(Kwh(12_480.4).to_string(), "12,480 kWh");
        assert_eq!(Kwh(-3.6).to_string(), "-4 kWh");
        assert_eq!(Kw(7.2).to_string(), "7.20 kW");
        assert_eq!(Kw::from_watts(7_200), Kw(7.2));
        assert_eq!(Kwh(1_350.0) * Kw(2.0), Kwh(2_700.0));
        assert_eq!([Kwh(1.0), Kwh(2.5)].into_iter().sum::<Kwh>(), Kwh(3.5));
        assert_eq!(serde_json::to_string(&Kwh(1.5)).unwrap(), "1.5");
    }
}
