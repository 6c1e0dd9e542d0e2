//! The sales pipeline (S-AC-5: names, stages and figures; no street address, phone, email,
//! documents or payment data). Today the pipeline has the stages an account goes through
//! before a quote: signed up, then confirmed. Quote and order stages join it as those
//! domains land, each as one more stage and one more weekly series.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Role;
use crate::auth::store::user;
use crate::ids::UserId;

/// Weeks shown in the weekly chart.
pub const WEEKS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Signed up, address not yet confirmed.
    SignedUp,
    /// Confirmed address: ready for a quote.
    Confirmed,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::SignedUp => "Signed up",
            Stage::Confirmed => "Confirmed",
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Lead {
    pub customer_id: String,
    pub name: String,
    pub stage: Stage,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StageCount {
    pub stage: Stage,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Week {
    /// Monday of the week (UTC).
    pub week_start: NaiveDate,
    pub new_customers: u64,
    pub confirmed: u64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Pipeline {
    pub stages: Vec<StageCount>,
    pub weeks: Vec<Week>,
    pub items: Vec<Lead>,
    pub next_cursor: Option<String>,
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The weekly buckets ending with the current week, oldest first.
pub fn weeks(now: DateTime<Utc>, created: &[DateTime<Utc>], confirmed: &[DateTime<Utc>]) -> Vec<Week> {
    let this_monday = monday_of(now.date_naive());
    let starts: Vec<NaiveDate> = (0..WEEKS)
        .rev()
        .map(|i| this_monday - Duration::weeks(i as i64))
        .collect();
    let bucket = |at: &DateTime<Utc>| {
        let monday = monday_of(at.date_naive());
        starts.iter().position(|s| *s == monday)
    };
    let mut out: Vec<Week> = starts
        .iter()
        .map(|s| Week {
            week_start: *s,
            new_customers: 0,
            confirmed: 0,
        })
        .collect();
    for at in created {
        if let Some(i) = bucket(at) {
            out[i].new_customers += 1;
        }
    }
    for at in confirmed {
        if let Some(i) = bucket(at) {
            out[i].confirmed += 1;
        }
    }
    out
}

pub async fn pipeline(
    db: &DatabaseConnection,
    before: Option<UserId>,
    limit: u64,
) -> Result<Pipeline, DbErr> {
    let now = Utc::now();
    let customers = || user::Entity::find().filter(user::Column::Role.eq(Role::Customer.as_str()));
    let total = customers().count(db).await?;
    let confirmed_total = customers()
        .filter(user::Column::EmailVerifiedAt.is_not_null())
        .count(db)
        .await?;
    let since = now - TimeDelta::weeks(WEEKS as i64 + 1);
    let recent = customers()
        .filter(
            sea_orm::Condition::any()
                .add(user::Column::CreatedAt.gte(since))
                .add(user::Column::EmailVerifiedAt.gte(since)),
        )
        .all(db)
        .await?;
    let created: Vec<_> = recent.iter().map(|u| u.created_at).collect();
    let confirmed: Vec<_> = recent.iter().filter_map(|u| u.email_verified_at).collect();

    let mut q = customers();
    if let Some(before) = before {
        q = q.filter(user::Column::Id.lt(before.0));
    }
    let mut rows = q.order_by_desc(user::Column::Id).limit(limit + 1).all(db).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|u| u.id.to_string())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|u| Lead {
            customer_id: u.id.to_string(),
            stage: if u.email_verified_at.is_some() {
                Stage::Confirmed
            } else {
                Stage::SignedUp
            },
            name: u.name,
            created_at: u.created_at,
        })
        .collect();
    Ok(Pipeline {
        stages: vec![
            StageCount {
                stage: Stage::SignedUp,
                count: total - confirmed_total,
            },
            StageCount {
                stage: Stage::Confirmed,
                count: confirmed_total,
            },
        ],
        weeks: weeks(now, &created, &confirmed),
        items,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn events_fall_into_the_week_of_their_monday() {
        // Wednesday 2026-11-18.
        let now = Utc.with_ymd_and_hms(2026, 11, 18, 12, 0, 0).unwrap();
        let created = [
            Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 1).unwrap(), // this Monday
            Utc.with_ymd_and_hms(2026, 11, 15, 23, 59, 0).unwrap(), // last Sunday
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),   // too old: not shown
        ];
        let w = weeks(now, &created, &[]);
        assert_eq!(w.len(), WEEKS);
        assert_eq!(
            w[WEEKS - 1].week_start,
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
        );
        assert_eq!(w[WEEKS - 1].new_customers, 1);
        assert_eq!(w[WEEKS - 2].new_customers, 1);
        assert_eq!(w.iter().map(|x| x.new_customers).sum::<u64>(), 2);
    }
}
