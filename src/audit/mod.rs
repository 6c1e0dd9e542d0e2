//! The audit trail: one call, `audit::record`, written in the same transaction as the change
//! it describes, so a change without its audit row (or the reverse) can never be committed.
//!
//! `Details` takes only `&'static str` keys and values that cannot hold free text typed by a
//! user (static strings, numbers, booleans, ids), so personal data and secrets cannot reach
//! the trail by accident.

pub mod api;
pub mod chain;
pub mod journal;
pub(crate) mod row;
mod signals;
mod store;

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::Utc;
use sea_orm::DbErr;
use serde_json::Value;

use crate::access::Role;
use crate::http::{RequestContext, RequestId};
use crate::ids::UserId;

pub use api::router;
pub(crate) use row as store_entity;
pub use store::{AuditEvent, Filter, page, page_for, recent};

/// How many `action` events touched `target` since `since` (for rate caps on notices).
pub async fn count_since<C: crate::db::Conn>(
    conn: &C,
    action: Action,
    target: &Target,
    since: chrono::DateTime<Utc>,
) -> Result<u64, DbErr> {
    store::count_since(conn, action, target, since).await
}

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Http,
    Cli,
    System,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Http => "http",
            Origin::Cli => "cli",
            Origin::System => "system",
        }
    }
}

/// Who did it, from where.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    pub origin: Origin,
    pub client_ip: Option<IpAddr>,
    pub request_id: Option<RequestId>,
}

impl Actor {
    /// An operator at the server's command line.
    pub fn cli() -> Self {
        Self {
            user_id: None,
            role: None,
            origin: Origin::Cli,
            client_ip: None,
            request_id: None,
        }
    }

    /// The server itself (scheduled work, start-up).
    pub fn system() -> Self {
        Self {
            origin: Origin::System,
            ..Self::cli()
        }
    }

    /// A request with no signed-in user.
    pub fn anonymous(ctx: &RequestContext) -> Self {
        Self {
            user_id: None,
            role: None,
            origin: Origin::Http,
            client_ip: Some(ctx.client_ip),
            request_id: Some(ctx.request_id),
        }
    }

    /// A request by a signed-in user.
    pub fn user(ctx: &RequestContext, user_id: UserId, role: Role) -> Self {
        Self {
            user_id: Some(user_id),
            role: Some(role),
            ..Self::anonymous(ctx)
        }
    }
}

/// What happened. Names are stable: reports and alerts match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    UserCreated,
    DemoDataSeeded,
    SignupWithExistingEmail,
    EmailVerified,
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    Logout,
    RefreshTokenReused,
    SessionEnded,
    Reauthenticated,
    ReauthFailed,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    MfaEnabled,
    MfaDisabled,
    MfaFailed,
    ProfileUpdated,
    EmailChanged,
    AccessDenied,
    ObjectAccessDenied,
    GrantOpened,
    GrantEnded,
    CustomerPiiViewed,
    StaffInvited,
    StaffInviteAccepted,
    StaffRoleChanged,
    StaffDisabled,
    StaffEnabled,
    SessionsRevoked,
    VerificationResent,
    SiteCreated,
    SiteUpdated,
    UsageImported,
    QuoteCreated,
    CatalogChanged,
    CrewChanged,
    OrderCreated,
    CheckoutStarted,
    PaymentReceived,
    WebhookRefused,
    BookingMade,
    BookingReleased,
    BookingMoved,
    OfferMade,
    OfferAccepted,
    OfferDeclined,
    OfferExpired,
    JobTransition,
    PhotoUploaded,
    KeysRotated,
    IpBlocked,
    IpUnblocked,
    /// A client kept going over its request budget (S-DE-3).
    RateLimited,
    NewDeviceNotified,
    /// A customer rated, or changed their rating of, the crew that installed their system.
    CrewRated,
}

impl Action {
    /// Every action, in declaration order (a test checks the order, so a new action placed
    /// anywhere but last is caught; one placed last must be added here too).
    pub const ALL: [Action; 57] = [
        Action::UserCreated,
        Action::DemoDataSeeded,
        Action::SignupWithExistingEmail,
        Action::EmailVerified,
        Action::LoginSucceeded,
        Action::LoginFailed,
        Action::LoginThrottled,
        Action::Logout,
        Action::RefreshTokenReused,
        Action::SessionEnded,
        Action::Reauthenticated,
        Action::ReauthFailed,
        Action::PasswordChanged,
        Action::PasswordResetRequested,
        Action::PasswordReset,
        Action::MfaEnabled,
        Action::MfaDisabled,
        Action::MfaFailed,
        Action::ProfileUpdated,
        Action::EmailChanged,
        Action::AccessDenied,
        Action::ObjectAccessDenied,
        Action::GrantOpened,
        Action::GrantEnded,
        Action::CustomerPiiViewed,
        Action::StaffInvited,
        Action::StaffInviteAccepted,
        Action::StaffRoleChanged,
        Action::StaffDisabled,
        Action::StaffEnabled,
        Action::SessionsRevoked,
        Action::VerificationResent,
        Action::SiteCreated,
        Action::SiteUpdated,
        Action::UsageImported,
        Action::QuoteCreated,
        Action::CatalogChanged,
        Action::CrewChanged,
        Action::OrderCreated,
        Action::CheckoutStarted,
        Action::PaymentReceived,
        Action::WebhookRefused,
        Action::BookingMade,
        Action::BookingReleased,
        Action::BookingMoved,
        Action::OfferMade,
        Action::OfferAccepted,
        Action::OfferDeclined,
        Action::OfferExpired,
        Action::JobTransition,
        Action::PhotoUploaded,
        Action::KeysRotated,
        Action::IpBlocked,
        Action::IpUnblocked,
        Action::RateLimited,
        Action::NewDeviceNotified,
        Action::CrewRated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::UserCreated => "user.created",
            Action::DemoDataSeeded => "demo.seeded",
            Action::SignupWithExistingEmail => "signup.existing_email",
            Action::EmailVerified => "user.email_verified",
            Action::LoginSucceeded => "auth.login_succeeded",
            Action::LoginFailed => "auth.login_failed",
            Action::LoginThrottled => "auth.login_throttled",
            Action::Logout => "auth.logout",
            Action::RefreshTokenReused => "auth.refresh_token_reused",
            Action::SessionEnded => "auth.session_ended",
            Action::Reauthenticated => "auth.reauthenticated",
            Action::ReauthFailed => "auth.reauth_failed",
            Action::PasswordChanged => "auth.password_changed",
            Action::PasswordResetRequested => "auth.password_reset_requested",
            Action::PasswordReset => "auth.password_reset",
            Action::MfaEnabled => "auth.mfa_enabled",
            Action::MfaDisabled => "auth.mfa_disabled",
            Action::MfaFailed => "auth.mfa_failed",
            Action::ProfileUpdated => "user.profile_updated",
            Action::EmailChanged => "user.email_changed",
            Action::AccessDenied => "access.denied",
            Action::ObjectAccessDenied => "access.object_denied",
            Action::GrantOpened => "access.grant_opened",
            Action::GrantEnded => "access.grant_ended",
            Action::CustomerPiiViewed => "customer.pii_viewed",
            Action::StaffInvited => "staff.invited",
            Action::StaffInviteAccepted => "staff.invite_accepted",
            Action::StaffRoleChanged => "staff.role_changed",
            Action::StaffDisabled => "staff.disabled",
            Action::StaffEnabled => "staff.enabled",
            Action::SessionsRevoked => "user.sessions_revoked",
            Action::VerificationResent => "user.verification_resent",
            Action::SiteCreated => "site.created",
            Action::SiteUpdated => "site.updated",
            Action::UsageImported => "site.usage_imported",
            Action::QuoteCreated => "quote.created",
            Action::CatalogChanged => "catalog.changed",
            Action::CrewChanged => "crew.changed",
            Action::OrderCreated => "order.created",
            Action::CheckoutStarted => "payment.checkout_started",
            Action::PaymentReceived => "payment.received",
            Action::WebhookRefused => "payment.webhook_refused",
            Action::BookingMade => "booking.made",
            Action::BookingReleased => "booking.released",
            Action::BookingMoved => "booking.moved",
            Action::OfferMade => "offer.made",
            Action::OfferAccepted => "offer.accepted",
            Action::OfferDeclined => "offer.declined",
            Action::OfferExpired => "offer.expired",
            Action::JobTransition => "job.transition",
            Action::PhotoUploaded => "job.photo_uploaded",
            Action::KeysRotated => "keys.rotated",
            Action::IpBlocked => "security.ip_blocked",
            Action::IpUnblocked => "security.ip_unblocked",
            Action::RateLimited => "security.rate_limited",
            Action::NewDeviceNotified => "auth.new_device_notified",
            Action::CrewRated => "job.crew_rated",
        }
    }

    /// What the action says in the audit trail's sentences, `{target}` standing for what it
    /// happened to ("disabled the account of {target}"). Every action has words: a new one does
    /// not compile without them.
    pub fn words(self) -> &'static str {
        match self {
            Action::UserCreated => "created the account of {target}",
            Action::DemoDataSeeded => "loaded the demo data",
            Action::SignupWithExistingEmail => {
                "signed up with the address of {target}, which has an account already"
            }
            Action::EmailVerified => "confirmed their email address",
            Action::LoginSucceeded => "signed in",
            Action::LoginFailed => "failed to sign in as {target}",
            Action::LoginThrottled => "was slowed down signing in as {target}",
            Action::Logout => "signed out",
            Action::RefreshTokenReused => "reused a spent refresh token, so every session of {target} ended",
            Action::SessionEnded => "ended {target}",
            Action::Reauthenticated => "confirmed it was them",
            Action::ReauthFailed => "failed to confirm it was them",
            Action::PasswordChanged => "changed their password",
            Action::PasswordResetRequested => "asked for a password reset for {target}",
            Action::PasswordReset => "reset the password of {target}",
            Action::MfaEnabled => "turned on two-step sign-in",
            Action::MfaDisabled => "turned off two-step sign-in for {target}",
            Action::MfaFailed => "entered a wrong two-step code",
            Action::ProfileUpdated => "changed the profile of {target}",
            Action::EmailChanged => "changed the email address of {target}",
            Action::AccessDenied => "was refused something their role does not allow",
            Action::ObjectAccessDenied => "was refused {target}, which is not theirs",
            Action::GrantOpened => "opened a customer's personal data ({target})",
            Action::GrantEnded => "closed access to a customer's personal data ({target})",
            Action::CustomerPiiViewed => "viewed the personal data of {target}",
            Action::StaffInvited => "invited {target} to the staff",
            Action::StaffInviteAccepted => "accepted a staff invitation",
            Action::StaffRoleChanged => "changed the role of {target}",
            Action::StaffDisabled => "disabled the account of {target}",
            Action::StaffEnabled => "enabled the account of {target}",
            Action::SessionsRevoked => "signed {target} out everywhere",
            Action::VerificationResent => "sent a new confirmation link to {target}",
            Action::SiteCreated => "added {target}",
            Action::SiteUpdated => "changed {target}",
            Action::UsageImported => "added electricity usage to {target}",
            Action::QuoteCreated => "made {target}",
            Action::CatalogChanged => "changed the catalog: {target}",
            Action::CrewChanged => "changed {target}",
            Action::OrderCreated => "placed {target}",
            Action::CheckoutStarted => "started a payment ({target})",
            Action::PaymentReceived => "received a payment ({target})",
            Action::WebhookRefused => "refused a payment notification",
            Action::BookingMade => "booked {target}",
            Action::BookingReleased => "released {target}",
            Action::BookingMoved => "moved {target} to another time",
            Action::OfferMade => "offered a job to a crew ({target})",
            Action::OfferAccepted => "accepted {target}",
            Action::OfferDeclined => "declined {target}",
            Action::OfferExpired => "let {target} expire",
            Action::JobTransition => "moved {target} to its next step",
            Action::PhotoUploaded => "added a photo to {target}",
            Action::KeysRotated => "rotated the encryption keys",
            Action::IpBlocked => "blocked {target}",
            Action::IpUnblocked => "unblocked {target}",
            Action::RateLimited => "was slowed down for sending too many requests",
            Action::NewDeviceNotified => "was told of a sign-in from a new device",
            Action::CrewRated => "rated the crew of {target}",
        }
    }

    /// The action a row records, from its stored name.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// What it happened to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kind: &'static str,
    pub id: String,
}

impl Target {
    pub fn user(id: UserId) -> Self {
        Self {
            kind: "user",
            id: id.to_string(),
        }
    }
}

/// A value allowed in the details of an audit event.
pub enum DetailValue {
    Static(&'static str),
    Int(i64),
    Bool(bool),
    Id(uuid::Uuid),
}

impl From<&'static str> for DetailValue {
    fn from(v: &'static str) -> Self {
        DetailValue::Static(v)
    }
}
impl From<i64> for DetailValue {
    fn from(v: i64) -> Self {
        DetailValue::Int(v)
    }
}
impl From<bool> for DetailValue {
    fn from(v: bool) -> Self {
        DetailValue::Bool(v)
    }
}
impl From<UserId> for DetailValue {
    fn from(v: UserId) -> Self {
        DetailValue::Id(v.0)
    }
}
impl From<uuid::Uuid> for DetailValue {
    fn from(v: uuid::Uuid) -> Self {
        DetailValue::Id(v)
    }
}
impl From<Role> for DetailValue {
    fn from(v: Role) -> Self {
        DetailValue::Static(v.as_str())
    }
}

#[derive(Default)]
pub struct Details(BTreeMap<&'static str, Value>);

impl Details {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, key: &'static str, value: impl Into<DetailValue>) -> Self {
        let value = match value.into() {
            DetailValue::Static(s) => Value::from(s),
            DetailValue::Int(i) => Value::from(i),
            DetailValue::Bool(b) => Value::from(b),
            DetailValue::Id(id) => Value::from(id.to_string()),
        };
        self.0.insert(key, value);
        self
    }

    /// Keys sorted (BTreeMap), no whitespace: the same bytes on every database.
    fn canonical_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// Appends an event. Pass the transaction of the change it describes. Only records: what
/// reacts to an event (a block after repeated alarms) reads the request's `journal` once the
/// request is done.
pub async fn record<C: crate::db::Conn>(
    conn: &C,
    actor: &Actor,
    action: Action,
    target: Option<Target>,
    details: Details,
) -> Result<(), DbErr> {
    store::insert(conn, Utc::now(), actor, action, target, details.canonical_json()).await?;
    signals::count(action);
    if actor.origin == Origin::Http
        && let Some(ip) = actor.client_ip
    {
        journal::note(action, ip);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_canonical_json_with_sorted_keys() {
        let d = Details::new()
            .with("role", Role::Admin)
            .with("count", 3i64)
            .with("active", true);
        assert_eq!(d.canonical_json(), r#"{"active":true,"count":3,"role":"admin"}"#);
    }
}
