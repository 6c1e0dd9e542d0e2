//! The admin pages for installer companies and crews: add them, set a crew's area, skills,
//! capacity and working days, its members and its days off. The same services as the API.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::model::{
    ArrivalWindow, Crew, CrewPatch, CrewProblem, CrewWindow, CrewWindows, DAILY_CAPACITY, MAX_WINDOWS,
    NewCrew, RADIUS_KM, RATING, WindowText,
};
use super::service::{self, Company, CrewError, Member, NewCompany};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::auth::browser::{CsrfProtected, PageCaller};
use crate::geo::ZipCode;
use crate::http::{IdPath, PageError};
use crate::ids::{CompanyId, CrewId, UserId};
use crate::state::AppState;
use crate::web::form::Problems;
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/crews", Permission::ManageCrews, list)
        .post("/admin/crews/companies", Permission::ManageCrews, add_company)
        .post("/admin/crews", Permission::ManageCrews, add_crew)
        .get("/admin/crews/{id}", Permission::ManageCrews, show)
        .post("/admin/crews/{id}", Permission::ManageCrews, change)
        .post("/admin/crews/{id}/members", Permission::ManageCrews, members)
        .post("/admin/crews/{id}/days-off", Permission::ManageCrews, days_off)
}

/// Day names as stored, with the words the form shows.
const DAYS: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

/// Skills as stored, with the words the form shows.
const SKILL_WORDS: [(&str, &str); 6] = [
    ("battery", "Batteries"),
    ("ev_charger", "EV chargers"),
    ("main_panel", "Main panel upgrades"),
    ("tile_roof", "Tile roofs"),
    ("metal_roof", "Metal roofs"),
    ("flat_roof", "Flat roofs"),
];

/// The crew form's fields, top to bottom: the order of its problems.
const CREW_FIELDS: [&str; 9] = [
    "company",
    "name",
    "base_zip",
    "radius",
    "capacity",
    "rating",
    "skills",
    "working_days",
    "windows",
];

const WINDOWS_MESSAGE: &str = "Give one to four arrival windows, each at least an hour long between 6 am and 8 pm, on the quarter hour, not overlapping; jobs at most 1 to 10, or empty.";

/// Where a rule of the crew model lands on the form, and what it says there.
fn crew_problem(p: &CrewProblem) -> (&'static str, String) {
    match p.0 {
        "name" => ("name", "Enter the crew's name, up to 100 characters.".into()),
        "base_latitude" | "base_longitude" => ("base_zip", ZIP_MESSAGE.into()),
        "service_radius_km" => (
            "radius",
            format!("Enter a distance from {} to {} km.", RADIUS_KM.0, RADIUS_KM.1),
        ),
        "daily_capacity" => (
            "capacity",
            format!(
                "Enter a whole number of jobs a day, from {} to {}.",
                DAILY_CAPACITY.0, DAILY_CAPACITY.1
            ),
        ),
        "rating" => (
            "rating",
            format!("Enter a rating from {} to {}.", RATING.0, RATING.1),
        ),
        "skills" => ("skills", "Choose skills from the list.".into()),
        "working_days" => ("working_days", "Tick at least one day the crew works.".into()),
        "arrival_windows" => ("windows", WINDOWS_MESSAGE.into()),
        "company_id" => ("company", "Choose the crew's company.".into()),
        "user_id" => ("member", "That account cannot join a crew.".into()),
        _ => ("name", "Check the crew's details.".into()),
    }
}

const ZIP_MESSAGE: &str = "Enter the 5-digit ZIP code where the crew starts its day.";

/// A service refusal on the crew page: a problem beside the field it concerns, or the error
/// the page cannot show as one.
fn refusal(e: CrewError, field: &'static str, problems: &mut Problems) -> Result<(), PageError> {
    match e {
        CrewError::Internal(e) => return Err(PageError::Internal(e)),
        CrewError::NotFound => return Err(PageError::NotFound),
        CrewError::Invalid(p) => {
            let (at, message) = crew_problem(&p);
            problems.add(if field == "member" { field } else { at }, message);
        }
        other @ (CrewError::NotAnInstaller | CrewError::InAnotherCrew) => {
            problems.add(field, sentence(&other.to_string()))
        }
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "admin/crews.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    companies: Vec<Company>,
    crews: Vec<Crew>,
    skills: [(&'static str, &'static str); 6],
    days: [(&'static str, &'static str); 7],
    notice: Option<&'static str>,
    /// The add-crew form as typed (its defaults the first time).
    form: CrewFields,
    /// The add-company form as typed.
    company_name: String,
    problems: Problems,
}

impl ListPage {
    /// Which form the problems are about, to open its panel.
    fn failed(&self, form: &str) -> bool {
        !self.problems.is_empty() && self.problems.subject().ends_with(form)
    }
}

/// A list row's area in words: "60 km around 27513".
fn area(crew: &Crew) -> String {
    let at = crate::geo::Location {
        latitude: crew.base_latitude,
        longitude: crew.base_longitude,
    };
    match crate::geo::nearest(at) {
        Some(zip) => format!("{} km around {zip}", crew.service_radius_km),
        None => format!("{} km", crew.service_radius_km),
    }
}

fn skill_words(skills: &[String]) -> String {
    let words: Vec<&str> = SKILL_WORDS
        .iter()
        .filter(|(key, _)| skills.iter().any(|s| s == key))
        .map(|(_, words)| *words)
        .collect();
    if words.is_empty() {
        "Panels only".into()
    } else {
        words.join(", ")
    }
}

fn day_words(days: &[String]) -> String {
    DAYS.iter()
        .filter(|(key, _)| days.iter().any(|d| d == key))
        .map(|(_, words)| *words)
        .collect::<Vec<_>>()
        .join(" ")
}

async fn list_page(
    state: &AppState,
    caller: &PageCaller,
    status: StatusCode,
    notice: Option<&'static str>,
    form: CrewFields,
    company_name: String,
    problems: Problems,
) -> Result<Response, PageError> {
    render(
        status,
        &ListPage {
            nav: Nav::for_caller("staff", Some(caller)),
            csrf: caller.csrf.clone(),
            companies: service::companies(&state.db).await.map_err(anyhow::Error::from)?,
            crews: service::crews(&state.db, false)
                .await
                .map_err(anyhow::Error::from)?,
            skills: SKILL_WORDS,
            days: DAYS,
            notice,
            form,
            company_name,
            problems,
        },
    )
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

fn notice_of(q: &NoticeQuery) -> Option<&'static str> {
    match q.notice.as_deref() {
        Some("company") => Some("Company added."),
        Some("added") => Some("Crew added. Add its members below."),
        Some("member") => Some("Members changed."),
        Some("day") => Some("Days off changed."),
        Some(_) => Some("Saved."),
        None => None,
    }
}

async fn list(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageCrews>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    list_page(
        &state,
        &caller,
        StatusCode::OK,
        notice_of(&q),
        CrewFields::new_crew(),
        String::new(),
        Problems::default(),
    )
    .await
}

#[derive(Deserialize)]
struct CompanyFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

impl CsrfProtected for CompanyFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn add_company(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCrews, CompanyFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let name = fields.name.clone();
    match service::add_company(&state.db, &actor, NewCompany { name: fields.name }).await {
        Ok(_) => Ok(Redirect::to("/admin/crews?notice=company").into_response()),
        Err(e) => {
            let mut problems = Problems::about("the company");
            match e {
                CrewError::Invalid(_) => {
                    problems.add("company-name", "Enter the company's name, up to 100 characters.")
                }
                other => refusal(other, "company-name", &mut problems)?,
            }
            list_page(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                CrewFields::new_crew(),
                name,
                problems,
            )
            .await
        }
    }
}

/// The crew form, as typed (and as sent back with its problems).
#[derive(Deserialize, Default)]
struct CrewFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    name: String,
    /// Where the crew starts its day, as a ZIP code.
    #[serde(default)]
    base_zip: String,
    /// The ZIP code the edit form showed: when it comes back unchanged, the stored base (which
    /// may be more exact than a ZIP code's point) is kept.
    #[serde(default)]
    base_zip_was: String,
    #[serde(default)]
    service_radius_km: String,
    #[serde(default)]
    daily_capacity: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    active: String,
    /// One field per ticked box.
    #[serde(default)]
    skills: Vec<String>,
    #[serde(default)]
    working_days: Vec<String>,
    /// The arrival windows' rows, position by position (empty rows are left out).
    #[serde(default)]
    window_from: Vec<String>,
    #[serde(default)]
    window_until: Vec<String>,
    #[serde(default)]
    window_capacity: Vec<String>,
}

impl CsrfProtected for CrewFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl CrewFields {
    /// The add form's defaults: 60 km, one job a day, weekdays.
    fn new_crew() -> CrewFields {
        CrewFields {
            service_radius_km: "60".into(),
            daily_capacity: "1".into(),
            working_days: DAYS[..5].iter().map(|(d, _)| (*d).to_owned()).collect(),
            ..CrewFields::default()
        }
        .with_windows(CrewWindows::standard().all())
    }

    /// The window rows filled from `windows`.
    fn with_windows(mut self, windows: &[CrewWindow]) -> CrewFields {
        let text = |w: &CrewWindow| WindowText::from(w.window);
        self.window_from = windows.iter().map(|w| text(w).from).collect();
        self.window_until = windows.iter().map(|w| text(w).until).collect();
        self.window_capacity = windows
            .iter()
            .map(|w| w.capacity.map(|c| c.to_string()).unwrap_or_default())
            .collect();
        self
    }

    /// Always `MAX_WINDOWS` rows on the form: (from, until, capacity), empty past the crew's.
    fn window_rows(&self) -> Vec<(String, String, String)> {
        let at = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
        (0..MAX_WINDOWS)
            .map(|i| {
                (
                    at(&self.window_from, i),
                    at(&self.window_until, i),
                    at(&self.window_capacity, i),
                )
            })
            .collect()
    }

    /// The filled rows as windows, or the problem with the first that is not one.
    fn windows(&self) -> Result<Vec<CrewWindow>, ()> {
        let mut windows = Vec::new();
        for (from, until, capacity) in self.window_rows() {
            if from.trim().is_empty() && until.trim().is_empty() && capacity.trim().is_empty() {
                continue;
            }
            let window = ArrivalWindow::try_from(WindowText { from, until }).map_err(drop)?;
            let capacity = match capacity.trim() {
                "" => None,
                n => Some(n.parse::<i32>().map_err(drop)?),
            };
            windows.push(CrewWindow { window, capacity });
        }
        Ok(windows)
    }

    /// The edit form filled from the stored crew.
    fn of(crew: &Crew) -> CrewFields {
        let zip = crate::geo::nearest(crate::geo::Location {
            latitude: crew.base_latitude,
            longitude: crew.base_longitude,
        })
        .map(|z| z.to_string())
        .unwrap_or_default();
        CrewFields {
            csrf: String::new(),
            company_id: crew.company_id.to_string(),
            name: crew.name.clone(),
            base_zip: zip.clone(),
            base_zip_was: zip,
            service_radius_km: crew.service_radius_km.to_string(),
            daily_capacity: crew.daily_capacity.to_string(),
            rating: crew.rating.to_string(),
            active: crew.active.to_string(),
            skills: crew.skills.clone(),
            working_days: crew.working_days.clone(),
            ..CrewFields::default()
        }
        .with_windows(crew.windows.all())
    }

    fn has_skill(&self, key: &&str) -> bool {
        self.skills.iter().any(|s| s == key)
    }

    fn works_on(&self, key: &&str) -> bool {
        self.working_days.iter().any(|d| d == key)
    }

    /// The form checked field by field: the changes to save, or every problem at once.
    /// `editing` adds the rating and the in-service choice (a new crew starts at 4.0, active).
    fn checked(&self, editing: bool) -> Result<CrewPatch, Problems> {
        let mut problems = Problems::about("the crew");
        let base = if editing && self.base_zip.trim() == self.base_zip_was.trim() {
            None
        } else {
            let place = ZipCode::parse(&self.base_zip).and_then(crate::geo::locate);
            problems.check("base_zip", place.ok_or(()), ZIP_MESSAGE)
        };
        let radius = problems.check(
            "radius",
            self.service_radius_km.trim().parse::<f64>(),
            &format!("Enter a distance from {} to {} km.", RADIUS_KM.0, RADIUS_KM.1),
        );
        let capacity = problems.check(
            "capacity",
            self.daily_capacity.trim().parse::<i32>(),
            &format!(
                "Enter a whole number of jobs a day, from {} to {}.",
                DAILY_CAPACITY.0, DAILY_CAPACITY.1
            ),
        );
        let rating = if editing {
            problems.check(
                "rating",
                self.rating.trim().parse::<f64>(),
                &format!("Enter a rating from {} to {}.", RATING.0, RATING.1),
            )
        } else {
            None
        };
        // A form without the window rows at all (not the page's own) leaves the windows as
        // they are; the page always sends its rows, and clearing them all is a problem.
        let sent_windows =
            !(self.window_from.is_empty() && self.window_until.is_empty() && self.window_capacity.is_empty());
        let windows = if sent_windows {
            problems.check("windows", self.windows(), WINDOWS_MESSAGE)
        } else {
            None
        };
        if !editing && self.company_id.parse::<CompanyId>().is_err() {
            problems.add("company", "Choose the crew's company.");
        }
        let patch = CrewPatch {
            name: Some(self.name.clone()),
            base_latitude: base.map(|at| at.latitude),
            base_longitude: base.map(|at| at.longitude),
            service_radius_km: radius,
            skills: Some(self.skills.clone()),
            daily_capacity: capacity,
            working_days: Some(self.working_days.clone()),
            arrival_windows: windows,
            rating,
            active: editing.then(|| self.active == "true"),
        };
        for p in patch.problems() {
            let (field, message) = crew_problem(&p);
            problems.add(field, message);
        }
        if problems.is_empty() {
            Ok(patch)
        } else {
            Err(problems.in_order(&CREW_FIELDS))
        }
    }
}

async fn add_crew(
    State(state): State<AppState>,
    SignedInForm(caller, f): SignedInForm<perm::ManageCrews, CrewFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let problems = match f.checked(false) {
        Ok(patch) => {
            let company_id = f.company_id.parse::<CompanyId>();
            let new = company_id.map(|company_id| NewCrew {
                company_id,
                name: f.name.clone(),
                base_latitude: patch.base_latitude.unwrap_or_default(),
                base_longitude: patch.base_longitude.unwrap_or_default(),
                service_radius_km: patch.service_radius_km.unwrap_or_default(),
                skills: f.skills.clone(),
                daily_capacity: patch.daily_capacity.unwrap_or_default(),
                working_days: f.working_days.clone(),
                arrival_windows: patch.arrival_windows.clone(),
            });
            let added = match new {
                Ok(new) => service::add_crew(&state.db, &actor, new).await,
                Err(_) => Err(CrewError::Invalid(CrewProblem("company_id"))),
            };
            match added {
                Ok(crew) => {
                    return Ok(
                        Redirect::to(&format!("/admin/crews/{}?notice=added", crew.id)).into_response()
                    );
                }
                Err(e) => {
                    let mut problems = Problems::about("the crew");
                    refusal(e, "name", &mut problems)?;
                    problems
                }
            }
        }
        Err(problems) => problems,
    };
    list_page(
        &state,
        &caller,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        f,
        String::new(),
        problems,
    )
    .await
}

#[derive(Template)]
#[template(path = "admin/crew.html")]
struct CrewPage {
    nav: Nav,
    csrf: String,
    crew: Crew,
    members: Vec<Member>,
    /// What customers said, newest first.
    reviews: Vec<super::ratings::Review>,
    days_off: Vec<NaiveDate>,
    skills: [(&'static str, &'static str); 6],
    days: [(&'static str, &'static str); 7],
    notice: Option<&'static str>,
    /// The crew form as typed, or as stored.
    form: CrewFields,
    /// The member and day-off forms as typed.
    member: String,
    day: String,
    problems: Problems,
}

/// What the crew page's three forms were sent with, when one comes back.
#[derive(Default)]
struct Typed {
    form: Option<CrewFields>,
    member: String,
    day: String,
}

async fn crew_page(
    state: &AppState,
    caller: &PageCaller,
    id: CrewId,
    status: StatusCode,
    notice: Option<&'static str>,
    typed: Typed,
    problems: Problems,
) -> Result<Response, PageError> {
    let crew = service::crew(&state.db, id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(PageError::NotFound)?;
    let today = chrono::Utc::now().date_naive();
    let days_off = service::days_off(&state.db, &[id], today, today + chrono::TimeDelta::days(365))
        .await
        .map_err(anyhow::Error::from)?
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    render(
        status,
        &CrewPage {
            nav: Nav::for_caller("staff", Some(caller)),
            csrf: caller.csrf.clone(),
            members: service::members(&state.db, id)
                .await
                .map_err(anyhow::Error::from)?,
            reviews: super::ratings::latest_of_crew(&state.db, id, super::ratings::REVIEWS_SHOWN)
                .await
                .map_err(anyhow::Error::from)?,
            form: typed.form.unwrap_or_else(|| CrewFields::of(&crew)),
            crew,
            days_off,
            skills: SKILL_WORDS,
            days: DAYS,
            notice,
            member: typed.member,
            day: typed.day,
            problems,
        },
    )
}

async fn show(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageCrews>,
    IdPath(id): IdPath<CrewId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    crew_page(
        &state,
        &caller,
        id,
        StatusCode::OK,
        notice_of(&q),
        Typed::default(),
        Problems::default(),
    )
    .await
}

async fn change(
    State(state): State<AppState>,
    IdPath(id): IdPath<CrewId>,
    SignedInForm(caller, f): SignedInForm<perm::ManageCrews, CrewFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let problems = match f.checked(true) {
        Ok(patch) => match service::update_crew(&state.db, &actor, id, patch).await {
            Ok(_) => return Ok(Redirect::to(&format!("/admin/crews/{id}?notice=saved")).into_response()),
            Err(e) => {
                let mut problems = Problems::about("the crew");
                refusal(e, "name", &mut problems)?;
                problems
            }
        },
        Err(problems) => problems,
    };
    let typed = Typed {
        form: Some(f),
        ..Typed::default()
    };
    crew_page(
        &state,
        &caller,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        typed,
        problems,
    )
    .await
}

#[derive(Deserialize)]
struct MemberFields {
    #[serde(default)]
    csrf: String,
    /// The installer's account id (the remove buttons) or email address (the add form).
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    action: String,
}

impl CsrfProtected for MemberFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn members(
    State(state): State<AppState>,
    IdPath(id): IdPath<CrewId>,
    SignedInForm(caller, f): SignedInForm<perm::ManageCrews, MemberFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let user = match f.user_id.trim().parse::<UserId>() {
        Ok(user) => Some(user),
        Err(_) => crate::auth::id_by_email(&state.db, &f.email)
            .await
            .map_err(anyhow::Error::from)?,
    };
    let typed = Typed {
        member: f.email.clone(),
        ..Typed::default()
    };
    let mut problems = Problems::about("the member");
    let Some(user) = user else {
        problems.add(
            "member",
            "No active account has that email address. Invite the installer from Back office → Staff first.",
        );
        return crew_page(
            &state,
            &caller,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            typed,
            problems,
        )
        .await;
    };
    let result = if f.action == "remove" {
        service::remove_member(&state.db, &actor, id, user).await
    } else {
        service::add_member(&state.db, &actor, id, user).await
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/crews/{id}?notice=member")).into_response()),
        Err(e) => {
            refusal(e, "member", &mut problems)?;
            crew_page(
                &state,
                &caller,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                typed,
                problems,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct DayFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    action: String,
}

impl CsrfProtected for DayFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn days_off(
    State(state): State<AppState>,
    IdPath(id): IdPath<CrewId>,
    SignedInForm(caller, f): SignedInForm<perm::ManageCrews, DayFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let typed = Typed {
        day: f.day.clone(),
        ..Typed::default()
    };
    let mut problems = Problems::about("the day off");
    let Ok(day) = NaiveDate::parse_from_str(f.day.trim(), "%Y-%m-%d") else {
        problems.add("day", "Choose the day, or type it as YYYY-MM-DD.");
        return crew_page(
            &state,
            &caller,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            typed,
            problems,
        )
        .await;
    };
    match service::set_day_off(&state.db, &actor, id, day, f.action != "remove").await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/crews/{id}?notice=day")).into_response()),
        Err(e) => {
            refusal(e, "day", &mut problems)?;
            crew_page(
                &state,
                &caller,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                typed,
                problems,
            )
            .await
        }
    }
}
