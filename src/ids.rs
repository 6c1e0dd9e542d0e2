//! Typed ids: a `UserId` can never be passed where a `QuoteId` is expected. Ids are UUIDv7
//! (time-ordered, so index inserts stay local) and opaque strings on the API.

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl $name {
            /// A short reference for people (`Q-3F9A-12C4` with prefix `Q`): the last eight
            /// hex digits, the random part of a UUIDv7. Not unique over millions of ids; the
            /// full id stays the key, the reference is what a customer reads out on the phone.
            pub fn reference(&self, prefix: &str) -> String {
                $crate::ids::reference(prefix, self.0)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }
    };
}

/// The short reference of any id (see the ids' `reference`): the audit trail names the
/// objects of its rows by it without knowing their types.
pub fn reference(prefix: &str, id: uuid::Uuid) -> String {
    let hex = id.simple().to_string().to_ascii_uppercase();
    format!("{prefix}-{}-{}", &hex[24..28], &hex[28..32])
}

typed_id!(
    /// An account of any role.
    UserId
);

typed_id!(
    /// A signed-in session (one device, one sign-in).
    SessionId
);

typed_id!(
    /// A staff member's time-limited access to one customer's personal data.
    GrantId
);

typed_id!(
    /// A customer's home.
    SiteId
);

typed_id!(
    /// One version of a quote.
    QuoteId
);

typed_id!(
    /// An order: an accepted quote with its deposit.
    OrderId
);

typed_id!(
    /// The work of an order, from the deposit to the utility's permission to operate.
    JobId
);

typed_id!(
    /// An independent installer company.
    CompanyId
);

typed_id!(
    /// A crew of an installer company.
    CrewId
);

typed_id!(
    /// A day booked for a survey or an installation.
    BookingId
);

typed_id!(
    /// A job offered to one crew.
    OfferId
);

typed_id!(
    /// One checkout of a deposit with the payment provider.
    PaymentId
);

typed_id!(
    /// A photo of a job.
    PhotoId
);
