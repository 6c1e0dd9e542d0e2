//! Crews as the marketplace sees them: where they work, what they can do, how much a day, and
//! on which days. Inputs are parsed here, once, into these types.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
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

/// When a crew arrives: a stretch of the day in the home's time zone, on whole quarter hours.
///
/// In the API it is a `WindowText`; fields of this type say so with `#[schema(value_type)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "WindowText", into = "WindowText")]
pub struct ArrivalWindow {
    from: NaiveTime,
    until: NaiveTime,
}

/// An arrival window as the API writes it: `{"from": "08:00", "until": "12:00"}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowText {
    #[schema(example = "08:00")]
    pub from: String,
    #[schema(example = "12:00")]
    pub until: String,
}

impl TryFrom<WindowText> for ArrivalWindow {
    type Error = CrewProblem;
    fn try_from(t: WindowText) -> Result<Self, CrewProblem> {
        let time = |raw: &str| {
            NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| CrewProblem("arrival_windows"))
        };
        ArrivalWindow::new(time(&t.from)?, time(&t.until)?)
    }
}

impl From<ArrivalWindow> for WindowText {
    fn from(w: ArrivalWindow) -> Self {
        Self {
            from: w.from.format("%H:%M").to_string(),
            until: w.until.format("%H:%M").to_string(),
        }
    }
}

/// The hours a window may span: crews arrive by daylight.
pub const WINDOW_HOURS: (u32, u32) = (6, 20);

impl ArrivalWindow {
    /// At least an hour long, within `WINDOW_HOURS`, on quarter hours.
    pub fn new(from: NaiveTime, until: NaiveTime) -> Result<Self, CrewProblem> {
        let quarter = |t: NaiveTime| t.minute().is_multiple_of(15) && t.second() == 0 && t.nanosecond() == 0;
        let earliest = NaiveTime::from_hms_opt(WINDOW_HOURS.0, 0, 0).unwrap_or(NaiveTime::MIN);
        let latest = NaiveTime::from_hms_opt(WINDOW_HOURS.1, 0, 0).unwrap_or(NaiveTime::MIN);
        let long_enough = until.signed_duration_since(from) >= chrono::TimeDelta::hours(1);
        if !(quarter(from) && quarter(until) && from >= earliest && until <= latest && long_enough) {
            return Err(CrewProblem("arrival_windows"));
        }
        Ok(Self { from, until })
    }

    pub fn from(self) -> NaiveTime {
        self.from
    }

    pub fn until(self) -> NaiveTime {
        self.until
    }

    /// Minutes after midnight: how bookings and load rows store a window.
    pub fn minutes(self) -> (i32, i32) {
        let m = |t: NaiveTime| (t.num_seconds_from_midnight() / 60) as i32;
        (m(self.from), m(self.until))
    }

    pub fn from_minutes(from: i32, until: i32) -> Option<Self> {
        let t = |m: i32| {
            u32::try_from(m)
                .ok()
                .and_then(|m| NaiveTime::from_hms_opt(m / 60, m % 60, 0))
        };
        Self::new(t(from)?, t(until)?).ok()
    }

    /// The stored and slot-id form: `08:00-12:00`.
    pub fn key(self) -> String {
        format!("{}-{}", self.from.format("%H:%M"), self.until.format("%H:%M"))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let (from, until) = raw.split_once('-')?;
        Self::try_from(WindowText {
            from: from.to_owned(),
            until: until.to_owned(),
        })
        .ok()
    }

    /// What people read: `8 am – 12 pm`, `8:30 am – 1 pm`.
    pub fn words(self) -> String {
        format!("{} – {}", clock_words(self.from), clock_words(self.until))
    }

    /// The part of the day, for a heading: morning, afternoon, evening, or "day".
    pub fn part_of_day(self) -> &'static str {
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN);
        let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN);
        if self.until <= noon {
            "Morning"
        } else if self.from >= five {
            "Evening"
        } else if self.from >= noon {
            "Afternoon"
        } else {
            "Midday"
        }
    }
}

fn clock_words(t: NaiveTime) -> String {
    let (pm, hour) = t.hour12();
    let suffix = if pm { "pm" } else { "am" };
    if t.minute() == 0 {
        format!("{hour} {suffix}")
    } else {
        format!("{hour}:{:02} {suffix}", t.minute())
    }
}

/// One of a crew's windows, with how many jobs it holds when that is fewer than the day's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrewWindow {
    #[schema(value_type = WindowText)]
    pub window: ArrivalWindow,
    /// Jobs that may start in this window (1–10); left out, the day's capacity bounds it alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<i32>,
}

impl CrewWindow {
    /// The jobs this window holds for a crew whose day holds `daily`.
    pub fn holds(self, daily: i32) -> i32 {
        self.capacity.map_or(daily, |c| c.min(daily))
    }
}

/// A crew's arrival windows: one to four, in order, not overlapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrewWindows(Vec<CrewWindow>);

/// How many windows a crew's day may have.
pub const MAX_WINDOWS: usize = 4;

impl CrewWindows {
    pub fn new(mut windows: Vec<CrewWindow>) -> Result<Self, CrewProblem> {
        windows.sort_by_key(|w| w.window);
        let overlap = windows.windows(2).any(|p| p[1].window.from < p[0].window.until);
        let bad_capacity = windows.iter().any(|w| {
            w.capacity
                .is_some_and(|c| !(DAILY_CAPACITY.0..=DAILY_CAPACITY.1).contains(&c))
        });
        if windows.is_empty() || windows.len() > MAX_WINDOWS || overlap || bad_capacity {
            return Err(CrewProblem("arrival_windows"));
        }
        Ok(Self(windows))
    }

    /// Morning 8–12 and afternoon 12–4, each bounded by the day's capacity alone.
    pub fn standard() -> Self {
        let hours = |from: u32, until: u32| CrewWindow {
            window: ArrivalWindow {
                from: NaiveTime::from_hms_opt(from, 0, 0).unwrap_or(NaiveTime::MIN),
                until: NaiveTime::from_hms_opt(until, 0, 0).unwrap_or(NaiveTime::MIN),
            },
            capacity: None,
        };
        Self(vec![hours(8, 12), hours(12, 16)])
    }

    /// The stored form: `08:00-12:00,12:00-16:00/2`.
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|w| match w.capacity {
                Some(c) => format!("{}/{c}", w.window.key()),
                None => w.window.key(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the stored form; anything unreadable falls back to the standard windows (the
    /// column is only ever written through `encode`).
    pub fn decode(raw: &str) -> Self {
        let parsed: Option<Vec<CrewWindow>> = raw
            .split(',')
            .map(|part| {
                let (window, capacity) = match part.split_once('/') {
                    Some((w, c)) => (w, Some(c.trim().parse().ok()?)),
                    None => (part, None),
                };
                Some(CrewWindow {
                    window: ArrivalWindow::parse(window.trim())?,
                    capacity,
                })
            })
            .collect();
        match parsed.map(Self::new) {
            Some(Ok(w)) => w,
            _ => Self::standard(),
        }
    }

    pub fn all(&self) -> &[CrewWindow] {
        &self.0
    }

    pub fn find(&self, window: ArrivalWindow) -> Option<CrewWindow> {
        self.0.iter().copied().find(|w| w.window == window)
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
    /// When the crew arrives, in the home's time zone, with each window's own limit if any.
    pub arrival_windows: Vec<CrewWindow>,
    pub rating: f64,
    pub active: bool,
    /// How many customers rated the crew, and their average (1–5) once there is one.
    pub reviews: i32,
    pub reviews_average: Option<f64>,
    #[serde(skip)]
    pub days: WorkingDays,
    #[serde(skip)]
    pub windows: CrewWindows,
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
    /// One to four windows; morning 8–12 and afternoon 12–4 when left out.
    #[serde(default)]
    pub arrival_windows: Option<Vec<CrewWindow>>,
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
    pub arrival_windows: Option<Vec<CrewWindow>>,
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
        if let Some(v) = &self.arrival_windows {
            note(CrewWindows::new(v.clone()).map(drop));
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
            arrival_windows: Vec::new(),
            windows: CrewWindows::standard(),
        };
        assert_eq!(crew.ranking_rating(), 4.0, "four ratings: the admins' number");
        crew.reviews = MIN_REVIEWS;
        assert_eq!(crew.ranking_rating(), 2.5, "five: the customers' average");
    }

    #[test]
    fn arrival_windows_parse_round_trip_and_refuse_overlaps() {
        let standard = CrewWindows::standard();
        assert_eq!(standard.all().len(), 2);
        assert_eq!(standard.encode(), "08:00-12:00,12:00-16:00");
        let mine = CrewWindows::decode("13:30-17:00/2,07:00-10:00");
        assert_eq!(mine.encode(), "07:00-10:00,13:30-17:00/2", "kept in order");
        assert_eq!(mine.all()[0].window.words(), "7 am – 10 am");
        assert_eq!(mine.all()[1].window.words(), "1:30 pm – 5 pm");
        assert_eq!(mine.all()[1].holds(1), 1, "never more than the day holds");
        assert_eq!(mine.all()[1].holds(3), 2);
        assert_eq!(mine.all()[0].holds(3), 3);
        let w = |a: &str| {
            ArrivalWindow::parse(a).map(|window| CrewWindow {
                window,
                capacity: None,
            })
        };
        assert!(CrewWindows::new(vec![w("08:00-12:00").unwrap(), w("11:00-15:00").unwrap()]).is_err());
        assert!(CrewWindows::new(Vec::new()).is_err());
        for bad in [
            "08:10-12:00",
            "12:00-08:00",
            "05:00-09:00",
            "18:00-21:00",
            "08:00-08:30",
            "8-12",
            "",
        ] {
            assert!(ArrivalWindow::parse(bad).is_none(), "{bad}");
        }
        let (from, until) = standard.all()[1].window.minutes();
        assert_eq!((from, until), (720, 960));
        assert_eq!(
            ArrivalWindow::from_minutes(from, until),
            Some(standard.all()[1].window)
        );
        assert_eq!(standard.all()[0].window.part_of_day(), "Morning");
        assert_eq!(standard.all()[1].window.part_of_day(), "Afternoon");
        // Garbage in the column reads as the standard windows.
        assert_eq!(CrewWindows::decode("nonsense"), standard);
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
