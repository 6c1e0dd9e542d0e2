//! Crews as the marketplace sees them: where they work, what they can do, how much a day, and
//! on which days. Inputs are parsed here, once, into these types.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a crew is qualified for beyond panels on a pitched shingle roof.
pub const SKILLS: [&str; 6] = [
    "battery",
    "ev_charger",
    "main_panel",
    "tile_roof",
    "metal_roof",
    "flat_roof",
];

/// Days of the week a crew works, Monday first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkingDays([bool; 7]);

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WorkingDays {
    pub const WEEKDAYS: WorkingDays = WorkingDays([true, true, true, true, true, false, false]);

    /// From day names (`["mon", "tue", …]`); at least one.
    pub fn parse(names: &[String]) -> Result<Self, CrewProblem> {
        let mut days = [false; 7];
        for name in names {
            let i = DAY_NAMES
                .iter()
                .position(|d| d.eq_ignore_ascii_case(name.trim()))
                .ok_or(CrewProblem("working_days"))?;
            days[i] = true;
        }
        if !days.contains(&true) {
            return Err(CrewProblem("working_days"));
        }
        Ok(Self(days))
    }

    /// The stored form: seven `0`/`1` characters.
    pub fn encode(self) -> String {
        self.0.iter().map(|d| if *d { '1' } else { '0' }).collect()
    }

    pub fn decode(raw: &str) -> Self {
        let mut days = [false; 7];
        for (i, c) in raw.chars().take(7).enumerate() {
            days[i] = c == '1';
        }
        Self(days)
    }

    pub fn works_on(self, day: NaiveDate) -> bool {
        self.0[day.weekday().num_days_from_monday() as usize]
    }

    pub fn names(self) -> Vec<String> {
        DAY_NAMES
            .iter()
            .zip(self.0)
            .filter(|(_, on)| *on)
            .map(|(n, _)| (*n).to_owned())
            .collect()
    }
}

/// A field of a crew or company that is missing or out of range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is missing or out of range")]
pub struct CrewProblem(pub &'static str);

/// Great-circle distance in km (haversine on a 6,371 km sphere: metres of error over a
/// service area, which is all matching needs).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h =
        ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

pub fn parse_skills(raw: &[String]) -> Result<Vec<String>, CrewProblem> {
    let mut skills: Vec<String> = Vec::new();
    for s in raw {
        let s = s.trim().to_ascii_lowercase();
        if !SKILLS.contains(&s.as_str()) {
            return Err(CrewProblem("skills"));
        }
        if !skills.contains(&s) {
            skills.push(s);
        }
    }
    skills.sort();
    Ok(skills)
}

/// A crew, as admins manage it and matching reads it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Crew {
    #[schema(value_type = String)]
    pub id: crate::ids::CrewId,
    #[schema(value_type = String)]
    pub company_id: crate::ids::CompanyId,
    pub name: String,
    pub base_latitude: f64,
    pub base_longitude: f64,
    pub service_radius_km: f64,
    pub skills: Vec<String>,
    pub daily_capacity: i32,
    /// Day names, Monday first (`mon` … `sun`).
    pub working_days: Vec<String>,
    pub rating: f64,
    pub active: bool,
    /// How many customers rated the crew, and their average (1–5) once there is one.
    pub reviews: i32,
    pub reviews_average: Option<f64>,
    #[serde(skip)]
    pub days: WorkingDays,
}

impl Crew {
    pub fn serves(&self, at: (f64, f64)) -> bool {
        distance_km((self.base_latitude, self.base_longitude), at) <= self.service_radius_km
    }

    pub fn has_skills(&self, needed: &[&str]) -> bool {
        needed.iter().all(|n| self.skills.iter().any(|s| s == n))
    }

    pub fn works_on(&self, day: NaiveDate) -> bool {
        self.days.works_on(day)
    }

    /// The rating dispatch ranks by: customers' average once enough of them rated the crew,
    /// the admins' number before that (a crew's first ratings say little).
    pub fn ranking_rating(&self) -> f64 {
        match self.reviews_average {
            Some(average) if self.reviews >= MIN_REVIEWS => average,
            _ => self.rating,
        }
    }
}

/// How many customers' ratings a crew needs before dispatch ranks it by them.
pub const MIN_REVIEWS: i32 = 5;

/// A new crew (admins).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCrew {
    #[schema(value_type = String)]
    pub company_id: crate::ids::CompanyId,
    pub name: String,
    pub base_latitude: f64,
    pub base_longitude: f64,
    /// 1–300 km around the base.
    pub service_radius_km: f64,
    #[serde(default)]
    pub skills: Vec<String>,
    /// 1–10 jobs a day.
    pub daily_capacity: i32,
    /// Day names (`mon` … `sun`); weekdays when left out.
    #[serde(default)]
    pub working_days: Vec<String>,
}

/// What admins may change on a crew.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrewPatch {
    pub name: Option<String>,
    pub base_latitude: Option<f64>,
    pub base_longitude: Option<f64>,
    pub service_radius_km: Option<f64>,
    pub skills: Option<Vec<String>>,
    pub daily_capacity: Option<i32>,
    pub working_days: Option<Vec<String>>,
    /// 0–5: customers' average, set by admins until reviews exist.
    pub rating: Option<f64>,
    pub active: Option<bool>,
}

/// How far around its base a crew may serve, in km.
pub const RADIUS_KM: (f64, f64) = (1.0, 300.0);
/// Jobs a crew may take a day.
pub const DAILY_CAPACITY: (i32, i32) = (1, 10);
/// The rating scale.
pub const RATING: (f64, f64) = (0.0, 5.0);

impl CrewPatch {
    /// Every field that is set and wrong, in the form's order: a page shows them all at once;
    /// the service checks the same rules again when it writes.
    pub fn problems(&self) -> Vec<CrewProblem> {
        let mut found = Vec::new();
        let mut note = |result: Result<(), CrewProblem>| {
            if let Err(p) = result {
                found.push(p);
            }
        };
        if let Some(v) = &self.name {
            note(check_name("name", v).map(drop));
        }
        if let Some(v) = self.base_latitude {
            note(check_range("base_latitude", v, -90.0, 90.0).map(drop));
        }
        if let Some(v) = self.base_longitude {
            note(check_range("base_longitude", v, -180.0, 180.0).map(drop));
        }
        if let Some(v) = self.service_radius_km {
            note(check_range("service_radius_km", v, RADIUS_KM.0, RADIUS_KM.1).map(drop));
        }
        if let Some(v) = self.daily_capacity {
            note(check_range("daily_capacity", v, DAILY_CAPACITY.0, DAILY_CAPACITY.1).map(drop));
        }
        if let Some(v) = self.rating {
            note(check_range("rating", v, RATING.0, RATING.1).map(drop));
        }
        if let Some(v) = &self.skills {
            note(parse_skills(v).map(drop));
        }
        if let Some(v) = &self.working_days {
            note(WorkingDays::parse(v).map(drop));
        }
        found
    }
}

pub fn check_range<T: PartialOrd>(field: &'static str, v: T, low: T, high: T) -> Result<T, CrewProblem> {
    if v >= low && v <= high {
        Ok(v)
    } else {
        Err(CrewProblem(field))
    }
}

pub fn check_name(field: &'static str, raw: &str) -> Result<String, CrewProblem> {
    let v = raw.trim();
    if v.is_empty() || v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(CrewProblem(field));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_ranks_by_customers_once_five_rated() {
        let mut crew = Crew {
            id: crate::ids::CrewId::new(),
            company_id: crate::ids::CompanyId::new(),
            name: "Crew".into(),
            base_latitude: 36.0,
            base_longitude: -79.8,
            service_radius_km: 60.0,
            skills: Vec::new(),
            daily_capacity: 1,
            working_days: Vec::new(),
            rating: 4.0,
            active: true,
            reviews: 4,
            reviews_average: Some(2.5),
            days: WorkingDays::WEEKDAYS,
        };
        assert_eq!(crew.ranking_rating(), 4.0, "four ratings: the admins' number");
        crew.reviews = MIN_REVIEWS;
        assert_eq!(crew.ranking_rating(), 2.5, "five: the customers' average");
    }

    #[test]
    fn working_days_parse_and_round_trip() {
        let days = WorkingDays::parse(&["mon".into(), "Wed".into(), "sat".into()]).unwrap();
        assert_eq!(days.encode(), "1010010");
        assert_eq!(WorkingDays::decode("1010010"), days);
        assert_eq!(days.names(), vec!["mon", "wed", "sat"]);
        // 2026-11-30 is a Monday; 2026-12-01 a Tuesday.
        assert!(days.works_on(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()));
        assert!(!days.works_on(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()));
        assert!(WorkingDays::parse(&[]).is_err());
        assert!(WorkingDays::parse(&["someday".into()]).is_err());
    }

    #[test]
    fn distances_match_known_city_pairs() {
        // Greensboro to Raleigh, about 112 km as the crow flies.
        let d = distance_km((36.0726, -79.7920), (35.7796, -78.6382));
        assert!((d - 110.0).abs() < 5.0, "{d}");
        assert!(distance_km((36.0, -79.0), (36.0, -79.0)).abs() < 1e-9);
    }

    #[test]
    fn skills_come_from_the_list_once_each() {
        assert_eq!(
            parse_skills(&["battery".into(), "BATTERY".into(), "flat_roof".into()]).unwrap(),
            vec!["battery", "flat_roof"]
        );
        assert!(parse_skills(&["welding".into()]).is_err());
    }
}
