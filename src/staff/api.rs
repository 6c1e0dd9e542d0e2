//! Staff administration and the access review in the JSON API (admins; changes need a recent
//! re-authentication, S-AU-7).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::review::{self, AccessReview};
use super::service::{self, Invitation, InviteContext, StaffChange, StaffMember};
use crate::access::{Caller, Permission, Role, Routes, perm};
use crate::auth::api::require_recent_auth;
use crate::auth::{EmailAddress, PersonName};
use crate::http::json::ApiJson;
use crate::http::{ApiError, FieldError, IdPath};
use crate::ids::UserId;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/admin/staff", Permission::ManageStaff, list)
        .post("/api/v1/admin/staff", Permission::ManageStaff, invite)
        .patch("/api/v1/admin/staff/{id}", Permission::ManageStaff, change)
        .get(
            "/api/v1/admin/access-review",
            Permission::ReviewAccess,
            access_review,
        )
}

fn invalid(field: &str) -> ApiError {
    ApiError::Validation(vec![FieldError {
        field: field.into(),
        code: "invalid",
    }])
}

pub(crate) fn invite_context(state: &AppState) -> InviteContext<'_> {
    InviteContext {
        db: &state.db,
        mailer: &state.mailer,
        public_url: &state.settings.public_url,
        ttl: state.settings.links().staff_invite,
    }
}

#[derive(Serialize, ToSchema)]
pub struct StaffList {
    items: Vec<StaffMember>,
}

/// Every staff account.
#[utoipa::path(get, path = "/api/v1/admin/staff", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = StaffList), (status = 403, body = crate::http::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageStaff>,
) -> Result<axum::Json<StaffList>, ApiError> {
    let items = service::list(&state.db).await?;
    Ok(axum::Json(StaffList { items }))
}

/// The fields an admin may set when inviting; anything else (a password, a verified flag, a
/// second factor) is refused (S-AC-4).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffBody {
    email: String,
    name: String,
    /// installer, support, sales, engineer or admin.
    role: Role,
}

/// Invite a staff member: the account is created without a password and its owner gets a
/// link to choose one; a second factor is required at their first sign-in.
#[utoipa::path(post, path = "/api/v1/admin/staff", tag = "admin", request_body = NewStaffBody,
    security(("bearer" = [])),
    responses((status = 201, body = StaffMember),
        (status = 401, description = "`reauth_required`", body = crate::http::error::Problem),
        (status = 409, description = "`email_taken`", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller<perm::ManageStaff>,
    ApiJson(body): ApiJson<NewStaffBody>,
) -> Result<(StatusCode, axum::Json<StaffMember>), ApiError> {
    require_recent_auth(&state, &caller)?;
    let email = EmailAddress::parse(&body.email).map_err(|_| invalid("email"))?;
    let name = PersonName::parse(&body.name).map_err(|_| invalid("name"))?;
    let actor = caller.actor();
    let invitation = Invitation {
        email,
        name,
        role: body.role,
    };
    let member = service::invite(&invite_context(&state), &actor, invitation).await?;
    Ok((StatusCode::CREATED, axum::Json(member)))
}

/// What an admin may change about a staff account (S-AC-4: nothing else is accepted).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    role: Option<Role>,
    /// `true` disables the account and ends its sessions; `false` enables it again.
    disabled: Option<bool>,
}

/// Change a staff member's role, or disable / enable the account. Acts on their next request
/// (S-AC-7).
#[utoipa::path(patch, path = "/api/v1/admin/staff/{id}", tag = "admin",
    params(("id" = String, Path)), request_body = StaffPatch,
    security(("bearer" = [])),
    responses((status = 200, body = StaffMember),
        (status = 401, description = "`reauth_required`", body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`own_account`", body = crate::http::error::Problem)))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller<perm::ManageStaff>,
    IdPath(target): IdPath<UserId>,
    ApiJson(patch): ApiJson<StaffPatch>,
) -> Result<axum::Json<StaffMember>, ApiError> {
    require_recent_auth(&state, &caller)?;
    let actor = caller.actor();
    let change = StaffChange {
        role: patch.role,
        disabled: patch.disabled,
    };
    let member = service::change(&state.db, &state.auth_cache, &actor, caller.user, target, change).await?;
    Ok(axum::Json(member))
}

/// The access review: every staff account with role, second factor, last sign-in and live
/// grants, flagging staff without a second factor and accounts unused for 90 days.
#[utoipa::path(get, path = "/api/v1/admin/access-review", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AccessReview), (status = 403, body = crate::http::error::Problem)))]
pub async fn access_review(
    State(state): State<AppState>,
    _caller: Caller<perm::ReviewAccess>,
) -> Result<axum::Json<AccessReview>, ApiError> {
    Ok(axum::Json(review::review(&state.db).await?))
}
