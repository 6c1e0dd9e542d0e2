//! The access review (S-AC-2): every staff account with its role, second factor, last sign-in
//! and live grants, with the findings a reviewer acts on: staff without a second factor,
//! accounts nobody has used for 90 days, invitations never accepted.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use super::service::{self, StaffError, StaffMember};
use crate::access::grants;

/// ASVS 2.5 / common audit practice: an account unused this long should be disabled.
pub const STALE_AFTER_DAYS: i64 = 90;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReviewEntry {
    #[serde(flatten)]
    pub member: StaffMember,
    pub live_grants: u64,
    /// `no_mfa`, `unused_90_days`, `invitation_pending`.
    pub flags: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AccessReview {
    pub generated_at: DateTime<Utc>,
    pub stale_after_days: i64,
    pub items: Vec<ReviewEntry>,
    pub staff_without_mfa: usize,
    pub unused_accounts: usize,
}

pub fn flags(member: &StaffMember, now: DateTime<Utc>) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if member.disabled {
        return flags;
    }
    if !member.mfa_enabled {
        flags.push("no_mfa");
    }
    let last_use = member.last_login_at.unwrap_or(member.created_at);
    if now - last_use > TimeDelta::days(STALE_AFTER_DAYS) {
        flags.push("unused_90_days");
    }
    if member.invited {
        flags.push("invitation_pending");
    }
    flags
}

pub async fn review(db: &DatabaseConnection) -> Result<AccessReview, StaffError> {
    let now = Utc::now();
    let counts = grants::live_counts(db, now).await?;
    let items: Vec<ReviewEntry> = service::list(db)
        .await?
        .into_iter()
        .map(|member| {
            let live_grants = member
                .id
                .parse::<uuid::Uuid>()
                .ok()
                .and_then(|id| counts.get(&id).copied())
                .unwrap_or(0);
            ReviewEntry {
                flags: flags(&member, now),
                live_grants,
                member,
            }
        })
        .collect();
    Ok(AccessReview {
        generated_at: now,
        stale_after_days: STALE_AFTER_DAYS,
        staff_without_mfa: items.iter().filter(|e| e.flags.contains(&"no_mfa")).count(),
        unused_accounts: items
            .iter()
            .filter(|e| e.flags.contains(&"unused_90_days"))
            .count(),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn member(mfa: bool, last_login_days_ago: Option<i64>, created_days_ago: i64) -> StaffMember {
        let now = Utc::now();
        StaffMember {
            id: uuid::Uuid::nil().to_string(),
            name: "A".into(),
            email: "a@example.com".into(),
            role: Role::Support,
            mfa_enabled: mfa,
            disabled: false,
            invited: false,
            created_at: now - TimeDelta::days(created_days_ago),
            last_login_at: last_login_days_ago.map(|d| now - TimeDelta::days(d)),
        }
    }

    #[test]
    fn accounts_unused_for_ninety_days_and_staff_without_mfa_are_flagged() {
        let now = Utc::now();
        assert!(flags(&member(true, Some(1), 400), now).is_empty());
        assert_eq!(flags(&member(true, Some(91), 400), now), vec!["unused_90_days"]);
        assert_eq!(flags(&member(true, None, 91), now), vec!["unused_90_days"]);
        assert!(flags(&member(true, None, 10), now).is_empty());
        assert_eq!(flags(&member(false, Some(1), 10), now), vec!["no_mfa"]);
    }
}
