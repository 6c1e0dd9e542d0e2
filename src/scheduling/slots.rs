//! Which arrival windows can be booked for a job, and which crews could take one. A window on
//! a day is free when at least one active crew serves the home, has the skills the job needs,
//! works that weekday, is not off, has that window, and has room left both that day and in
//! that window.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{NaiveDate, TimeDelta};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::Kind;
use crate::crews::Crew;
use crate::crews::model::{ArrivalWindow, distance_km};
use crate::crews::service as crews;
use crate::crews::store::{load, window_load};
use crate::ids::CrewId;

/// An arrival window on a day that a customer may book.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Slot {
    /// Pass it back to book: `survey:2026-12-03@08:00-12:00`.
    pub id: String,
    pub kind: Kind,
    pub date: NaiveDate,
    /// When the crew arrives, in the home's time zone.
    #[schema(value_type = crate::crews::model::WindowText)]
    pub window: ArrivalWindow,
}

/// What a slot id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotKey {
    pub kind: Kind,
    pub day: NaiveDate,
    pub window: ArrivalWindow,
}

impl Slot {
    pub fn new(kind: Kind, date: NaiveDate, window: ArrivalWindow) -> Self {
        Self {
            id: format!("{}:{}@{}", kind.as_str(), date.format("%Y-%m-%d"), window.key()),
            kind,
            date,
            window,
        }
    }

    pub fn parse(id: &str) -> Option<SlotKey> {
        let (kind, rest) = id.split_once(':')?;
        let (date, window) = rest.split_once('@')?;
        Some(SlotKey {
            kind: Kind::parse(kind)?,
            day: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
            window: ArrivalWindow::parse(window)?,
        })
    }
}

/// Slots in day order (as `free` lists them) grouped by day, each day once with its windows.
pub fn by_day(slots: Vec<Slot>) -> Vec<(NaiveDate, Vec<Slot>)> {
    let mut days: Vec<(NaiveDate, Vec<Slot>)> = Vec::new();
    for slot in slots {
        match days.last_mut() {
            Some((day, windows)) if *day == slot.date => windows.push(slot),
            _ => days.push((slot.date, vec![slot])),
        }
    }
    days
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

/// `crew`, if it could work `day` in `window` for the job, whatever its load: a crew moving its
/// own booking within a full day gives its unit back before it takes the new one.
pub async fn eligible<C: crate::db::Conn>(
    conn: &C,
    need: Need,
    day: NaiveDate,
    window: ArrivalWindow,
    crew: CrewId,
) -> Result<Option<Crew>, DbErr> {
    let Some(found) = candidates(conn, need)
        .await?
        .into_iter()
        .find(|c| c.id == crew && c.works_on(day) && c.windows.find(window).is_some())
    else {
        return Ok(None);
    };
    let off = crews::days_off(conn, &[crew], day, day).await?;
    Ok(off.is_empty().then_some(found))
}

/// Jobs held per crew, day and window start within `[from, to]`.
pub async fn window_loads<C: crate::db::Conn>(
    conn: &C,
    crews: &[CrewId],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<(CrewId, NaiveDate, i32), i32>, DbErr> {
    if crews.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(window_load::Entity::find()
        .filter(window_load::Column::CrewId.is_in(crews.iter().map(|c| c.0)))
        .filter(window_load::Column::Day.gte(from))
        .filter(window_load::Column::Day.lte(to))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| ((CrewId(l.crew_id), l.day, l.starts), l.booked))
        .collect())
}

/// Does `crew` have room in `window` on `day`, given the loads read?
fn window_room(
    crew: &Crew,
    day: NaiveDate,
    window: ArrivalWindow,
    held: &HashMap<(CrewId, NaiveDate, i32), i32>,
) -> bool {
    crew.windows.find(window).is_some_and(|own| {
        held.get(&(crew.id, day, window.minutes().0))
            .copied()
            .unwrap_or(0)
            < own.holds(crew.daily_capacity)
    })
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
    let held_windows = window_loads(conn, &ids, window.first, window.last).await?;
    let mut slots = Vec::new();
    let mut day = window.first;
    while day <= window.last {
        if !holidays.contains(&day) {
            // Crews' windows differ: the customer sees each distinct one someone can take.
            let open: BTreeSet<ArrivalWindow> = crews
                .iter()
                .filter(|c| {
                    c.works_on(day)
                        && !off.contains(&(c.id, day))
                        && held.get(&(c.id, day)).copied().unwrap_or(0) < c.daily_capacity
                })
                .flat_map(|c| {
                    c.windows
                        .all()
                        .iter()
                        .map(|w| w.window)
                        .filter(|w| window_room(c, day, *w, &held_windows))
                        .collect::<Vec<_>>()
                })
                .collect();
            slots.extend(open.into_iter().map(|w| Slot::new(need.kind, day, w)));
        }
        day += TimeDelta::days(1);
    }
    Ok(slots)
}

/// Crews that could take `day` (in `window`, for bookings that have one), best first: near the
/// home, lightly loaded over the fortnight around the day, well rated. Ties go to the crew id,
/// so every replica ranks alike.
pub async fn ranked<C: crate::db::Conn>(
    conn: &C,
    need: Need,
    day: NaiveDate,
    window: Option<ArrivalWindow>,
    exclude: &[CrewId],
) -> Result<Vec<Crew>, DbErr> {
    let crews: Vec<Crew> = candidates(conn, need)
        .await?
        .into_iter()
        .filter(|c| !exclude.contains(&c.id) && c.works_on(day))
        .filter(|c| window.is_none_or(|w| c.windows.find(w).is_some()))
        .collect();
    let ids: Vec<CrewId> = crews.iter().map(|c| c.id).collect();
    let off: HashSet<(CrewId, NaiveDate)> =
        crews::days_off(conn, &ids, day, day).await?.into_iter().collect();
    let (from, to) = (day - TimeDelta::days(7), day + TimeDelta::days(7));
    let held = loads(conn, &ids, from, to).await?;
    let held_windows = match window {
        Some(_) => window_loads(conn, &ids, day, day).await?,
        None => HashMap::new(),
    };
    let mut scored: Vec<(f64, Crew)> = crews
        .into_iter()
        .filter(|c| {
            !off.contains(&(c.id, day))
                && held.get(&(c.id, day)).copied().unwrap_or(0) < c.daily_capacity
                && window.is_none_or(|w| window_room(c, day, w, &held_windows))
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
        let morning = ArrivalWindow::parse("08:00-12:00").unwrap();
        let slot = Slot::new(Kind::Survey, day, morning);
        assert_eq!(slot.id, "survey:2026-12-03@08:00-12:00");
        assert_eq!(
            Slot::parse(&slot.id),
            Some(SlotKey {
                kind: Kind::Survey,
                day,
                window: morning
            })
        );
        for bad in [
            "survey",
            "survey:2026-12-03",
            "survey:2026-12-03@",
            "survey:2026-12-03@12:00-08:00",
            "repair:2026-12-03@08:00-12:00",
            "install:2026-13-40@08:00-12:00",
            "install:tomorrow@08:00-12:00",
            "",
        ] {
            assert_eq!(Slot::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn slots_group_by_day_in_order() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let (am, pm) = (
            ArrivalWindow::parse("08:00-12:00").unwrap(),
            ArrivalWindow::parse("12:00-16:00").unwrap(),
        );
        let next = day + TimeDelta::days(1);
        let days = by_day(vec![
            Slot::new(Kind::Survey, day, am),
            Slot::new(Kind::Survey, day, pm),
            Slot::new(Kind::Survey, next, pm),
        ]);
        let shape: Vec<(NaiveDate, usize)> = days.iter().map(|(d, w)| (*d, w.len())).collect();
        assert_eq!(shape, vec![(day, 2), (next, 1)]);
        assert!(by_day(Vec::new()).is_empty());
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
