//! The roles of the product: who a person is to it. What each role may do is the policy
//! table's business (`access::policy`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Installer,
    Support,
    Sales,
    Engineer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Customer,
        Role::Installer,
        Role::Support,
        Role::Sales,
        Role::Engineer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Installer => "installer",
            Role::Support => "support",
            Role::Sales => "sales",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }

    /// Staff roles (every role but customer) must use a second factor (S-AU-4).
    pub fn is_staff(self) -> bool {
        self != Role::Customer
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role `{0}`: expected one of customer, installer, support, sales, engineer, admin")]
pub struct UnknownRole(String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownRole(s.chars().take(32).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
        assert!(!Role::Customer.is_staff());
        assert!(Role::Installer.is_staff());
    }
}
