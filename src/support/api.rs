//! Support routes of the JSON API: customer search (masked), a customer's account, grants
//! with a reason, ending a user's sessions, a new confirmation link.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::grants::{self, Grant};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::json::ApiJson;
use crate::http::{ApiError, FieldError, IdPath};
use crate::ids::{GrantId, UserId};
use crate::state::AppState;

use super::service::{self, CustomerSummary, CustomerView};

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/staff/customers", Permission::ViewCustomers, search)
        .get(
            "/api/v1/staff/customers/{id}",
            Permission::ViewCustomers,
            customer,
        )
        .post(
            "/api/v1/staff/customers/{id}/access",
            Permission::ReadCustomerPii,
            open_access,
        )
        .post(
            "/api/v1/staff/customers/{id}/verification",
            Permission::AssistCustomers,
            resend_verification,
        )
        .get("/api/v1/staff/grants", Permission::ReadCustomerPii, my_grants)
        .delete(
            "/api/v1/staff/grants/{id}",
            Permission::ReadCustomerPii,
            end_grant,
        )
        .post(
            "/api/v1/admin/users/{id}/sessions/revoke",
            Permission::AssistCustomers,
            revoke_sessions,
        )
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words of the customer's email address or name, each matched by its start, case and
    /// accents aside ("jane.doe@ex", "doe jan"); 3 characters at least. Single letters and
    /// punctuation only separate words.
    query: String,
    /// At most 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    items: Vec<CustomerSummary>,
    next_cursor: Option<String>,
}

/// Find customers by the start of words of their email or name. Results are masked (S-AC-5).
#[utoipa::path(get, path = "/api/v1/staff/customers", tag = "staff", params(SearchQuery), security(("bearer" = [])),
    responses((status = 200, body = CustomerList), (status = 403, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn search(
    State(state): State<AppState>,
    _caller: Caller<perm::ViewCustomers>,
    Query(q): Query<SearchQuery>,
) -> Result<axum::Json<CustomerList>, ApiError> {
    let limit = crate::http::page_limit(q.limit, 20)?;
    let after = match q.cursor {
        Some(c) => Some(
            c.parse()
                .map_err(|_| ApiError::BadRequest("invalid cursor".into()))?,
        ),
        None => None,
    };
    let (items, next_cursor) = service::search(&state.db, &q.query, after, limit).await?;
    Ok(axum::Json(CustomerList { items, next_cursor }))
}

/// A customer's account: masked, or in full while the caller holds a live grant (each view
/// under a grant is counted and audited).
#[utoipa::path(get, path = "/api/v1/staff/customers/{id}", tag = "staff",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CustomerView), (status = 404, body = crate::http::error::Problem)))]
pub async fn customer(
    State(state): State<AppState>,
    caller: Caller<perm::ViewCustomers>,
    IdPath(id): IdPath<UserId>,
) -> Result<axum::Json<CustomerView>, ApiError> {
    let actor = caller.actor();
    let view = service::view(&state.db, &actor, (caller.user, caller.role), id).await?;
    Ok(axum::Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// Why: the ticket reference and what the customer asked for. The customer sees it.
    reason: String,
}

/// Open a customer's personal data for a stated reason. The grant is for this customer and
/// this caller only, and expires (`access_grant_ttl_secs`, 60 minutes by default).
#[utoipa::path(post, path = "/api/v1/staff/customers/{id}/access", tag = "staff",
    params(("id" = String, Path)), request_body = AccessRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Grant), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`too_many_grants`: 10 customers are open already", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn open_access(
    State(state): State<AppState>,
    caller: Caller<perm::ReadCustomerPii>,
    IdPath(customer): IdPath<UserId>,
    ApiJson(body): ApiJson<AccessRequest>,
) -> Result<(StatusCode, axum::Json<Grant>), ApiError> {
    let reason = grants::Reason::parse(&body.reason).map_err(|_| {
        ApiError::Validation(vec![FieldError {
            field: "reason".into(),
            code: "invalid",
        }])
    })?;
    let actor = caller.actor();
    let ttl = state.settings.links().access_grant;
    let grant = service::open_grant(
        &state.db,
        &actor,
        (caller.user, caller.role),
        customer,
        reason,
        ttl,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(grant)))
}

#[derive(Serialize, ToSchema)]
pub struct GrantList {
    items: Vec<Grant>,
}

/// My live grants.
#[utoipa::path(get, path = "/api/v1/staff/grants", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = GrantList)))]
pub async fn my_grants(
    State(state): State<AppState>,
    caller: Caller<perm::ReadCustomerPii>,
) -> Result<axum::Json<GrantList>, ApiError> {
    let items = grants::live_for_staff(&state.db, caller.user, chrono::Utc::now())
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(GrantList { items }))
}

/// End a grant before it expires. Only its holder (or an admin) can; others get 404.
#[utoipa::path(delete, path = "/api/v1/staff/grants/{id}", tag = "staff",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Ended"), (status = 404, body = crate::http::error::Problem)))]
pub async fn end_grant(
    State(state): State<AppState>,
    caller: Caller<perm::ReadCustomerPii>,
    IdPath(id): IdPath<GrantId>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    let may_end_any = crate::access::policy::allows(caller.role, Permission::ManageStaff);
    grants::end(&state.db, &actor, caller.user, may_end_any, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send the customer a new confirmation link (at most 3 an hour, as for the customer).
#[utoipa::path(post, path = "/api/v1/staff/customers/{id}/verification", tag = "staff",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 202, description = "Sent"), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`already_verified`", body = crate::http::error::Problem)))]
pub async fn resend_verification(
    State(state): State<AppState>,
    caller: Caller<perm::AssistCustomers>,
    IdPath(id): IdPath<UserId>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    service::resend_verification(&state.signup_context(), &actor, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// End every session of a user (a lost phone, a suspected takeover). Support reaches
/// customers and installers; admins reach everyone.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/sessions/revoke", tag = "staff",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Ended"), (status = 404, body = crate::http::error::Problem)))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    caller: Caller<perm::AssistCustomers>,
    IdPath(id): IdPath<UserId>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    service::end_sessions(&state.db, &state.auth_cache, &actor, caller.role, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
