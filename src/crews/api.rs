//! Admin routes for installer companies and crews.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{Crew, CrewPatch, NewCrew};
use super::service::{self, Company, Member, NewCompany};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::json::ApiJson;
use crate::http::{ApiError, FieldError, IdPath};
use crate::ids::{CompanyId, CrewId, UserId};
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/admin/companies", Permission::ManageCrews, companies)
        .post("/api/v1/admin/companies", Permission::ManageCrews, add_company)
        .patch(
            "/api/v1/admin/companies/{id}",
            Permission::ManageCrews,
            change_company,
        )
        .get("/api/v1/admin/crews", Permission::ManageCrews, crews)
        .post("/api/v1/admin/crews", Permission::ManageCrews, add_crew)
        .get("/api/v1/admin/crews/{id}", Permission::ManageCrews, crew)
        .patch("/api/v1/admin/crews/{id}", Permission::ManageCrews, change_crew)
        .post(
            "/api/v1/admin/crews/{id}/members",
            Permission::ManageCrews,
            add_member,
        )
        .delete(
            "/api/v1/admin/crews/{id}/members/{user_id}",
            Permission::ManageCrews,
            remove_member,
        )
        .put(
            "/api/v1/admin/crews/{id}/days-off/{day}",
            Permission::ManageCrews,
            add_day_off,
        )
        .delete(
            "/api/v1/admin/crews/{id}/days-off/{day}",
            Permission::ManageCrews,
            remove_day_off,
        )
}

/// An id of a route with two path parameters: malformed is 404, as `IdPath` answers.
fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

#[derive(Serialize, ToSchema)]
pub struct CompanyList {
    items: Vec<Company>,
}

/// Installer companies.
#[utoipa::path(get, path = "/api/v1/admin/companies", tag = "crews", security(("bearer" = [])),
    responses((status = 200, body = CompanyList)))]
pub async fn companies(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageCrews>,
) -> Result<axum::Json<CompanyList>, ApiError> {
    let items = service::companies(&state.db).await.map_err(anyhow::Error::from)?;
    Ok(axum::Json(CompanyList { items }))
}

/// Add an installer company.
#[utoipa::path(post, path = "/api/v1/admin/companies", tag = "crews", request_body = NewCompany,
    security(("bearer" = [])), responses((status = 201, body = Company), (status = 422, body = crate::http::error::Problem)))]
pub async fn add_company(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    ApiJson(new): ApiJson<NewCompany>,
) -> Result<(StatusCode, axum::Json<Company>), ApiError> {
    let actor = caller.actor();
    let company = service::add_company(&state.db, &actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(company)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyPatch {
    /// `false` takes the company and all its crews out of matching.
    active: bool,
}

/// Enable or disable a company (disabling takes its crews out of matching).
#[utoipa::path(patch, path = "/api/v1/admin/companies/{id}", tag = "crews",
    params(("id" = String, Path)), request_body = CompanyPatch,
    security(("bearer" = [])), responses((status = 204, description = "Changed"), (status = 404, body = crate::http::error::Problem)))]
pub async fn change_company(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    IdPath(id): IdPath<CompanyId>,
    ApiJson(patch): ApiJson<CompanyPatch>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    service::set_company_active(&state.db, &actor, id, patch.active).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct CrewList {
    items: Vec<Crew>,
}

/// Every crew, active or not.
#[utoipa::path(get, path = "/api/v1/admin/crews", tag = "crews", security(("bearer" = [])),
    responses((status = 200, body = CrewList)))]
pub async fn crews(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageCrews>,
) -> Result<axum::Json<CrewList>, ApiError> {
    let items = service::crews(&state.db, false)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(CrewList { items }))
}

/// Add a crew to a company: base, service radius, skills, daily capacity, working days.
#[utoipa::path(post, path = "/api/v1/admin/crews", tag = "crews", request_body = NewCrew,
    security(("bearer" = [])), responses((status = 201, body = Crew), (status = 422, body = crate::http::error::Problem)))]
pub async fn add_crew(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    ApiJson(new): ApiJson<NewCrew>,
) -> Result<(StatusCode, axum::Json<Crew>), ApiError> {
    let actor = caller.actor();
    let crew = service::add_crew(&state.db, &actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(crew)))
}

#[derive(Serialize, ToSchema)]
pub struct CrewDetail {
    #[serde(flatten)]
    crew: Crew,
    members: Vec<Member>,
    /// What customers said, newest first (the latest `REVIEWS_SHOWN`, 20): stars, comment and
    /// the job, never who.
    latest_reviews: Vec<super::ratings::Review>,
}

/// One crew with its members and its latest reviews.
#[utoipa::path(get, path = "/api/v1/admin/crews/{id}", tag = "crews",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CrewDetail), (status = 404, body = crate::http::error::Problem)))]
pub async fn crew(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageCrews>,
    IdPath(id): IdPath<CrewId>,
) -> Result<axum::Json<CrewDetail>, ApiError> {
    let crew = service::crew(&state.db, id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(ApiError::NotFound)?;
    let members = service::members(&state.db, id)
        .await
        .map_err(anyhow::Error::from)?;
    let latest_reviews = super::ratings::latest_of_crew(&state.db, id, super::ratings::REVIEWS_SHOWN)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(CrewDetail {
        crew,
        members,
        latest_reviews,
    }))
}

/// Change a crew: area, skills, capacity, working days, rating, or take it out of matching.
#[utoipa::path(patch, path = "/api/v1/admin/crews/{id}", tag = "crews",
    params(("id" = String, Path)), request_body = CrewPatch,
    security(("bearer" = [])), responses((status = 200, body = Crew), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn change_crew(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    IdPath(id): IdPath<CrewId>,
    ApiJson(patch): ApiJson<CrewPatch>,
) -> Result<axum::Json<Crew>, ApiError> {
    let actor = caller.actor();
    let crew = service::update_crew(&state.db, &actor, id, patch).await?;
    Ok(axum::Json(crew))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// An installer account (`sunbridge admin create-user --role installer` or an invitation).
    #[schema(value_type = String)]
    user_id: UserId,
}

/// Put an installer account in a crew (one crew per installer).
#[utoipa::path(post, path = "/api/v1/admin/crews/{id}/members", tag = "crews",
    params(("id" = String, Path)), request_body = NewMember,
    security(("bearer" = [])), responses((status = 204, description = "Added"), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "in another crew", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    IdPath(id): IdPath<CrewId>,
    ApiJson(new): ApiJson<NewMember>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    service::add_member(&state.db, &actor, id, new.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take an installer out of a crew: the account no longer sees the crew's jobs.
#[utoipa::path(delete, path = "/api/v1/admin/crews/{id}/members/{user_id}", tag = "crews",
    security(("bearer" = [])), responses((status = 204, description = "Removed"), (status = 404, body = crate::http::error::Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    service::remove_member(&state.db, &actor, parse_id(&id)?, parse_id(&user_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_day(raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::Validation(vec![FieldError {
            field: "day".into(),
            code: "invalid",
        }])
    })
}

/// Mark a day off (`YYYY-MM-DD`): no new bookings go to the crew that day.
#[utoipa::path(put, path = "/api/v1/admin/crews/{id}/days-off/{day}", tag = "crews",
    security(("bearer" = [])), responses((status = 204, description = "Marked"), (status = 404, body = crate::http::error::Problem)))]
pub async fn add_day_off(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    Path((id, day)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    service::set_day_off(&state.db, &actor, parse_id(&id)?, parse_day(&day)?, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A day off becomes a working day again.
#[utoipa::path(delete, path = "/api/v1/admin/crews/{id}/days-off/{day}", tag = "crews",
    security(("bearer" = [])), responses((status = 204, description = "Removed"), (status = 404, body = crate::http::error::Problem)))]
pub async fn remove_day_off(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    Path((id, day)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    service::set_day_off(&state.db, &actor, parse_id(&id)?, parse_day(&day)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
