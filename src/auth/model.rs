//! The signed-in caller, and (re-exported) the validated account fields: past the edge, an
//! `EmailAddress` is known to be well formed.

pub use crate::values::{EmailAddress, EmailProblem, NameProblem, PersonName, PhoneNumber, PhoneProblem};

/// The signed-in caller of a request, as the session or token and its account say (loaded per
/// request or from the short cache every account change clears).
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user: crate::ids::UserId,
    pub role: crate::access::Role,
    pub session: crate::ids::SessionId,
    pub authenticated_at: chrono::DateTime<chrono::Utc>,
    pub mfa_enabled: bool,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub phone: Option<String>,
    /// When the credential presented ends: the access token's expiry (or the session's, if
    /// sooner); for a browser, its idle or absolute deadline. A stream opened with it ends then.
    pub credential_expires_at: chrono::DateTime<chrono::Utc>,
}
