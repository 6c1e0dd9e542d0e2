//! The sales pipeline (S-AC-5: names, stages and figures; no street address, phone, email,
//! documents or payment data). Stages: signed up, confirmed, quoted, ordered (an order that is
//! not cancelled); orders per week next to sign-ups, confirmations and quotes.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Role;
use crate::auth::store::user;
use crate::ids::UserId;
use crate::jobs::JobState;
use crate::jobs::store::job;
use crate::orders::store::order;
use crate::quotes::model::Figures;
use crate::quotes::store::quote;
use std::collections::{HashMap, HashSet};

/// Weeks shown in the weekly chart.
pub const WEEKS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Signed up, address not yet confirmed.
    SignedUp,
    /// Confirmed address: ready for a quote.
    Confirmed,
    /// Has at least one quote.
    Quoted,
    /// Has an order that is not cancelled.
    Ordered,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::SignedUp => "Signed up",
            Stage::Confirmed => "Confirmed",
            Stage::Quoted => "Quoted",
            Stage::Ordered => "Ordered",
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Lead {
    pub customer_id: String,
    pub name: String,
    pub stage: Stage,
    pub created_at: DateTime<Utc>,
    /// Size and price of the newest quote, if any.
    pub quoted_kw: Option<f64>,
    pub quoted_price_cents: Option<i64>,
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
    pub quotes: u64,
    #[serde(default)]
    pub orders: u64,
    /// Customers whose first quote was made that week (people, like the sign-ups).
    #[serde(default)]
    pub first_quotes: u64,
    /// Customers who placed their first order that week.
    #[serde(default)]
    pub first_orders: u64,
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
/// Events per week: sign-ups, confirmations, quotes, orders.
pub struct Events<'a> {
    pub created: &'a [DateTime<Utc>],
    pub confirmed: &'a [DateTime<Utc>],
    pub quoted: &'a [DateTime<Utc>],
    pub ordered: &'a [DateTime<Utc>],
    pub first_quoted: &'a [DateTime<Utc>],
    pub first_ordered: &'a [DateTime<Utc>],
}

pub fn weeks(now: DateTime<Utc>, events: Events<'_>) -> Vec<Week> {
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
            quotes: 0,
            orders: 0,
            first_quotes: 0,
            first_orders: 0,
        })
        .collect();
    type Count = fn(&mut Week);
    let series: [(&[DateTime<Utc>], Count); 6] = [
        (events.created, |w| w.new_customers += 1),
        (events.confirmed, |w| w.confirmed += 1),
        (events.quoted, |w| w.quotes += 1),
        (events.ordered, |w| w.orders += 1),
        (events.first_quoted, |w| w.first_quotes += 1),
        (events.first_ordered, |w| w.first_orders += 1),
    ];
    for (times, count) in series {
        for at in times {
            if let Some(i) = bucket(at) {
                count(&mut out[i]);
            }
        }
    }
    out
}

/// When each person did a thing for the first time: the earliest of their times in `times`
/// (oldest first), unless they did it before those times began (`before`).
fn firsts(times: &[(uuid::Uuid, DateTime<Utc>)], before: &HashSet<uuid::Uuid>) -> Vec<DateTime<Utc>> {
    let mut seen: HashSet<uuid::Uuid> = HashSet::new();
    times
        .iter()
        .filter(|(who, _)| !before.contains(who) && seen.insert(*who))
        .map(|(_, at)| *at)
        .collect()
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
    // Quotes hold figures, not contact data: size and price are what sales may see. Only the
    // weeks charted and the leads on this page are read, plus one id per quoted customer.
    let quoted_by: Vec<(uuid::Uuid, DateTime<Utc>)> = quote::Entity::find()
        .select_only()
        .column(quote::Column::OwnerId)
        .column(quote::Column::CreatedAt)
        .filter(quote::Column::CreatedAt.gte(since))
        .order_by_asc(quote::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await?;
    let quoted: Vec<DateTime<Utc>> = quoted_by.iter().map(|(_, at)| *at).collect();
    let quoted_before: HashSet<uuid::Uuid> = quote::Entity::find()
        .select_only()
        .column(quote::Column::OwnerId)
        .filter(quote::Column::CreatedAt.lt(since))
        .filter(quote::Column::OwnerId.is_in(quoted_by.iter().map(|(o, _)| *o).collect::<HashSet<_>>()))
        .distinct()
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let first_quoted = firsts(&quoted_by, &quoted_before);
    let quoted_customers = quote::Entity::find()
        .select_only()
        .column(quote::Column::OwnerId)
        .distinct()
        .into_tuple::<uuid::Uuid>()
        .all(db)
        .await?
        .len() as u64;
    // Orders: when they were made, and who has one that is not cancelled (no amounts paid).
    let ordered_by: Vec<(uuid::Uuid, DateTime<Utc>)> = order::Entity::find()
        .select_only()
        .column(order::Column::OwnerId)
        .column(order::Column::CreatedAt)
        .filter(order::Column::CreatedAt.gte(since))
        .order_by_asc(order::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await?;
    let ordered: Vec<DateTime<Utc>> = ordered_by.iter().map(|(_, at)| *at).collect();
    let ordered_before: HashSet<uuid::Uuid> = order::Entity::find()
        .select_only()
        .column(order::Column::OwnerId)
        .filter(order::Column::CreatedAt.lt(since))
        .filter(order::Column::OwnerId.is_in(ordered_by.iter().map(|(o, _)| *o).collect::<HashSet<_>>()))
        .distinct()
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let first_ordered = firsts(&ordered_by, &ordered_before);
    let live_jobs = || job::Entity::find().filter(job::Column::State.ne(JobState::Cancelled.as_str()));
    let ordered_customers = live_jobs()
        .select_only()
        .column(job::Column::OwnerId)
        .distinct()
        .into_tuple::<uuid::Uuid>()
        .all(db)
        .await?
        .len() as u64;
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
    let owners: Vec<uuid::Uuid> = rows.iter().map(|u| u.id).collect();
    let with_orders: std::collections::HashSet<uuid::Uuid> = live_jobs()
        .filter(job::Column::OwnerId.is_in(owners.clone()))
        .select_only()
        .column(job::Column::OwnerId)
        .into_tuple::<uuid::Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut newest: HashMap<uuid::Uuid, (f64, i64)> = HashMap::new();
    for q in quote::Entity::find()
        .filter(quote::Column::OwnerId.is_in(owners))
        .order_by_desc(quote::Column::CreatedAt)
        .all(db)
        .await?
    {
        if newest.contains_key(&q.owner_id) {
            continue;
        }
        if let Ok(f) = serde_json::from_str::<Figures>(&q.figures) {
            newest.insert(q.owner_id, (f.system_kw.value(), f.price_cents.cents()));
        }
    }
    let items = rows
        .into_iter()
        .map(|u| {
            let quote = newest.get(&u.id).copied();
            Lead {
                customer_id: u.id.to_string(),
                stage: match (quote.is_some(), u.email_verified_at.is_some()) {
                    _ if with_orders.contains(&u.id) => Stage::Ordered,
                    (true, _) => Stage::Quoted,
                    (false, true) => Stage::Confirmed,
                    (false, false) => Stage::SignedUp,
                },
                name: u.name,
                created_at: u.created_at,
                quoted_kw: quote.map(|q| q.0),
                quoted_price_cents: quote.map(|q| q.1),
            }
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
                count: confirmed_total.saturating_sub(quoted_customers),
            },
            StageCount {
                stage: Stage::Quoted,
                count: quoted_customers.saturating_sub(ordered_customers),
            },
            StageCount {
                stage: Stage::Ordered,
                count: ordered_customers,
            },
        ],
        weeks: weeks(
            now,
            Events {
                created: &created,
                confirmed: &confirmed,
                quoted: &quoted,
                ordered: &ordered,
                first_quoted: &first_quoted,
                first_ordered: &first_ordered,
            },
        ),
        items,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_person_counts_once_on_the_day_they_first_did_it() {
        let (ann, bob, cy) = (
            uuid::Uuid::from_u128(1),
            uuid::Uuid::from_u128(2),
            uuid::Uuid::from_u128(3),
        );
        let now = Utc::now();
        let t = |d: i64| now + Duration::days(d);
        // Ann twice, Bob once, Cy once but already before the window.
        let times = [(ann, t(-10)), (bob, t(-9)), (ann, t(-2)), (cy, t(-1))];
        let before = HashSet::from([cy]);
        assert_eq!(firsts(&times, &before), vec![t(-10), t(-9)]);
    }

    #[test]
    fn events_fall_into_the_week_of_their_monday() {
        // Wednesday 2026-11-18.
        let now = Utc.with_ymd_and_hms(2026, 11, 18, 12, 0, 0).unwrap();
        let created = [
            Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 1).unwrap(), // this Monday
            Utc.with_ymd_and_hms(2026, 11, 15, 23, 59, 0).unwrap(), // last Sunday
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),   // too old: not shown
        ];
        let w = weeks(
            now,
            Events {
                created: &created,
                confirmed: &[],
                quoted: &[],
                ordered: &created[..1],
                first_quoted: &[],
                first_ordered: &created[..1],
            },
        );
        assert_eq!(w[WEEKS - 1].first_orders, 1);
        assert_eq!(w[WEEKS - 1].orders, 1);
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
