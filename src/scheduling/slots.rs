//! Which days can be booked for a job, and which crews could take one. A day is free when at
//! least one active crew serves the home, has the skills the job needs, works that weekday, is
//! not off, and has room left.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, TimeDelta};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::Kind;
use crate::crews::Crew;
use crate::crews::model::distance_km;
use crate::crews::service as crews;
use crate::crews::store::load;
use crate::ids::CrewId;

/// A day a customer may book.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Slot {
    /// Pass it back to book: `survey:2026-12-03`.
    pub id: String,
    pub kind: Kind,
    pub date: NaiveDate,
}

impl Slot {
    pub fn new(kind: Kind, date: NaiveDate) -> Self {
        Self {
            id: format!("{}:{}", kind.as_str(), date.format("%Y-%m-%d")),
            kind,
            date,
        }
    }

    pub fn parse(id: &str) -> Option<(Kind, NaiveDate)> {
        let (kind, date) = id.split_once(':')?;
        Some((
            Kind::parse(kind)?,
            NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
        ))
    }
}

/// What the job needs from a crew, and where.
#[derive(Clone, Copy, Debug)]
pub struct Need {
    pub kind: Kind,
    pub at: (f64, f64),
    pub battery: bool,
}

impl Need {
    fn skills(&self) -> Vec<&'static str> {
        if self.kind == Kind::Install && self.battery {
            vec!["battery"]
        } else {
            Vec::new()
        }
    }
}

/// The bookable window: from `lead` days after today to `horizon` days after today.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Window {
    pub fn from_today(today: NaiveDate, lead_days: u32, horizon_days: u32) -> Self {
        Self {
            first: today + TimeDelta::days(i64::from(lead_days)),
            last: today + TimeDelta::days(i64::from(horizon_days.max(lead_days))),
        }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        (self.first..=self.last).contains(&day)
    }
}

/// Active crews that serve the place and have the skills.
pub async fn candidates<C: crate::db::Conn>(conn: &C, need: Need) -> Result<Vec<Crew>, DbErr> {
    let skills = need.skills();
    Ok(crews::crews(conn, true)
        .await?
        .into_iter()
        .filter(|c| c.serves(need.at) && c.has_skills(&skills))
        .collect())
}

/// Jobs held per crew and day within `[from, to]`.
pub async fn loads<C: crate::db::Conn>(
    conn: &C,
    crews: &[CrewId],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<(CrewId, NaiveDate), i32>, DbErr> {
    if crews.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(load::Entity::find()
        .filter(load::Column::CrewId.is_in(crews.iter().map(|c| c.0)))
        .filter(load::Column::Day.gte(from))
        .filter(load::Column::Day.lte(to))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| ((CrewId(l.crew_id), l.day), l.booked))
        .collect())
}

/// Free days in the window.
pub async fn free<C: crate::db::Conn>(
    conn: &C,
    need: Need,
    region: &str,
    window: Window,
) -> Result<Vec<Slot>, DbErr> {
    let crews = candidates(conn, need).await?;
    // Public holidays of the home's region: no crew works them.
    let holidays = crate::catalog::holidays::closed_days(conn, region, window.first, window.last).await?;
    let ids: Vec<CrewId> = crews.iter().map(|c| c.id).collect();
    let off: HashSet<(CrewId, NaiveDate)> = crews::days_off(conn, &ids, window.first, window.last)
        .await?
        .into_iter()
        .collect();
    let held = loads(conn, &ids, window.first, window.last).await?;
    let mut slots = Vec::new();
    let mut day = window.first;
    while day <= window.last {
        let open = !holidays.contains(&day)
            && crews.iter().any(|c| {
                c.works_on(day)
                    && !off.contains(&(c.id, day))
                    && held.get(&(c.id, day)).copied().unwrap_or(0) < c.daily_capacity
            });
        if open {
            slots.push(Slot::new(need.kind, day));
        }
        day += TimeDelta::days(1);
    }
    Ok(slots)
}

/// Crews that could take `day`, best first: near the home, lightly loaded over the fortnight
/// around the day, well rated. Ties go to the crew id, so every replica ranks alike.
pub async fn ranked<C: crate::db::Conn>(
    conn: &C,
    need: Need,
    day: NaiveDate,
    exclude: &[CrewId],
) -> Result<Vec<Crew>, DbErr> {
    let crews: Vec<Crew> = candidates(conn, need)
        .await?
        .into_iter()
        .filter(|c| !exclude.contains(&c.id) && c.works_on(day))
        .collect();
    let ids: Vec<CrewId> = crews.iter().map(|c| c.id).collect();
    let off: HashSet<(CrewId, NaiveDate)> =
        crews::days_off(conn, &ids, day, day).await?.into_iter().collect();
    let (from, to) = (day - TimeDelta::days(7), day + TimeDelta::days(7));
    let held = loads(conn, &ids, from, to).await?;
    let mut scored: Vec<(f64, Crew)> = crews
        .into_iter()
        .filter(|c| {
            !off.contains(&(c.id, day)) && held.get(&(c.id, day)).copied().unwrap_or(0) < c.daily_capacity
        })
        .map(|c| {
            let distance = distance_km((c.base_latitude, c.base_longitude), need.at) / c.service_radius_km;
            let fortnight: i32 = held
                .iter()
                .filter(|((id, _), _)| *id == c.id)
                .map(|(_, n)| *n)
                .sum();
            let load = f64::from(fortnight) / f64::from(c.daily_capacity.max(1) * 10);
            let rating = (5.0 - c.ranking_rating().clamp(0.0, 5.0)) / 5.0;
            (distance + load + 0.5 * rating, c)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    Ok(scored.into_iter().map(|(_, c)| c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ids_round_trip_and_refuse_garbage() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let slot = Slot::new(Kind::Survey, day);
        assert_eq!(slot.id, "survey:2026-12-03");
        assert_eq!(Slot::parse(&slot.id), Some((Kind::Survey, day)));
        for bad in [
            "survey",
            "repair:2026-12-03",
            "install:2026-13-40",
            "install:tomorrow",
            "",
        ] {
            assert_eq!(Slot::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_window_starts_after_the_lead_time() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let w = Window::from_today(today, 2, 42);
        assert!(!w.contains(today + TimeDelta::days(1)));
        assert!(w.contains(today + TimeDelta::days(2)));
        assert!(w.contains(today + TimeDelta::days(42)));
        assert!(!w.contains(today + TimeDelta::days(43)));
    }
}
