//! The admin pages for installer companies and crews: add them, set a crew's area, skills,
//! capacity and working days, its members and its days off. The same services as the API.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::model::{Crew, CrewPatch, NewCrew, SKILLS};
use super::service::{self, Company, CrewError, Member, NewCompany};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::auth::browser::{CsrfProtected, PageCaller};
use crate::http::{IdPath, PageError};
use crate::ids::{CompanyId, CrewId, UserId};
use crate::state::AppState;
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

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn message(e: CrewError) -> Result<String, PageError> {
    match e {
        CrewError::Internal(e) => Err(PageError::Internal(e)),
        CrewError::NotFound => Err(PageError::NotFound),
        CrewError::Invalid(p) => Ok(format!(
            "Check the {}: it is missing or out of range.",
            p.0.replace('_', " ")
        )),
        other => Ok(sentence(&other.to_string())),
    }
}

#[derive(Template)]
#[template(path = "admin/crews.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    companies: Vec<Company>,
    crews: Vec<Crew>,
    skills: [&'static str; 6],
    days: [&'static str; 7],
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    caller: &PageCaller,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
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
            skills: SKILLS,
            days: DAYS,
            notice,
            error,
        },
    )
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

fn notice_of(q: &NoticeQuery) -> Option<&'static str> {
    q.notice.as_deref().map(|_| "Saved.")
}

async fn list(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageCrews>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, StatusCode::OK, notice_of(&q), None).await
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
    match service::add_company(&state.db, &actor, NewCompany { name: fields.name }).await {
        Ok(_) => Ok(Redirect::to("/admin/crews?notice=saved").into_response()),
        Err(e) => {
            list_page(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message(e)?),
            )
            .await
        }
    }
}

/// The crew form, as typed.
#[derive(Deserialize)]
struct CrewFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    base_latitude: String,
    #[serde(default)]
    base_longitude: String,
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
}

impl CsrfProtected for CrewFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn number<T: std::str::FromStr>(field: &'static str, raw: &str) -> Result<T, CrewError> {
    raw.trim()
        .parse()
        .map_err(|_| CrewError::Invalid(super::model::CrewProblem(field)))
}

async fn add_crew(
    State(state): State<AppState>,
    SignedInForm(caller, f): SignedInForm<perm::ManageCrews, CrewFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let new = (|| -> Result<NewCrew, CrewError> {
        Ok(NewCrew {
            company_id: f
                .company_id
                .parse::<CompanyId>()
                .map_err(|_| CrewError::Invalid(super::model::CrewProblem("company_id")))?,
            name: f.name.clone(),
            base_latitude: number("base_latitude", &f.base_latitude)?,
            base_longitude: number("base_longitude", &f.base_longitude)?,
            service_radius_km: number("service_radius_km", &f.service_radius_km)?,
            skills: f.skills.clone(),
            daily_capacity: number("daily_capacity", &f.daily_capacity)?,
            working_days: f.working_days.clone(),
        })
    })();
    let result = match new {
        Ok(new) => service::add_crew(&state.db, &actor, new).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(crew) => Ok(Redirect::to(&format!("/admin/crews/{}?notice=saved", crew.id)).into_response()),
        Err(e) => {
            list_page(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message(e)?),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/crew.html")]
struct CrewPage {
    nav: Nav,
    csrf: String,
    crew: Crew,
    members: Vec<Member>,
    days_off: Vec<NaiveDate>,
    skills: [&'static str; 6],
    days: [&'static str; 7],
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn crew_page(
    state: &AppState,
    caller: &PageCaller,
    id: CrewId,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
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
            crew,
            days_off,
            skills: SKILLS,
            days: DAYS,
            notice,
            error,
        },
    )
}

async fn show(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageCrews>,
    IdPath(id): IdPath<CrewId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    crew_page(&state, &caller, id, StatusCode::OK, notice_of(&q), None).await
}

async fn change(
    State(state): State<AppState>,
    IdPath(id): IdPath<CrewId>,
    SignedInForm(caller, f): SignedInForm<perm::ManageCrews, CrewFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let patch = (|| -> Result<CrewPatch, CrewError> {
        Ok(CrewPatch {
            name: Some(f.name.clone()),
            base_latitude: Some(number("base_latitude", &f.base_latitude)?),
            base_longitude: Some(number("base_longitude", &f.base_longitude)?),
            service_radius_km: Some(number("service_radius_km", &f.service_radius_km)?),
            skills: Some(f.skills.clone()),
            daily_capacity: Some(number("daily_capacity", &f.daily_capacity)?),
            working_days: Some(f.working_days.clone()),
            rating: Some(number("rating", &f.rating)?),
            active: Some(f.active == "true"),
        })
    })();
    let result = match patch {
        Ok(patch) => service::update_crew(&state.db, &actor, id, patch).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/crews/{id}?notice=saved")).into_response()),
        Err(e) => {
            crew_page(
                &state,
                &caller,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message(e)?),
            )
            .await
        }
    }
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
    let Some(user) = user else {
        let error = Some(
            "No active account has that email address. Invite the installer from Back office → Staff first."
                .to_owned(),
        );
        return crew_page(&state, &caller, id, StatusCode::UNPROCESSABLE_ENTITY, None, error).await;
    };
    let result = if f.action == "remove" {
        service::remove_member(&state.db, &actor, id, user).await
    } else {
        service::add_member(&state.db, &actor, id, user).await
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/crews/{id}?notice=saved")).into_response()),
        Err(e) => {
            crew_page(
                &state,
                &caller,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message(e)?),
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
    let Ok(day) = NaiveDate::parse_from_str(f.day.trim(), "%Y-%m-%d") else {
        let error = Some("Enter the day as YYYY-MM-DD.".to_owned());
        return crew_page(&state, &caller, id, StatusCode::UNPROCESSABLE_ENTITY, None, error).await;
    };
    match service::set_day_off(&state.db, &actor, id, day, f.action != "remove").await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/crews/{id}?notice=saved")).into_response()),
        Err(e) => {
            crew_page(
                &state,
                &caller,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message(e)?),
            )
            .await
        }
    }
}
