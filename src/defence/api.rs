//! Admin routes and page for blocked addresses.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::Block;
use crate::access::SignedInForm;
use crate::access::{Caller, PageUser, Permission, Routes, perm};
use crate::auth::browser::CsrfOnly;
use crate::http::{ApiError, IdPath, PageError};
use crate::state::AppState;
use crate::web::{Nav, render};

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/admin/ip-blocks", Permission::ManageSecurity, list)
        .delete("/api/v1/admin/ip-blocks/{id}", Permission::ManageSecurity, lift)
        .get("/admin/security", Permission::ManageSecurity, page)
        .post(
            "/admin/security/blocks/{id}",
            Permission::ManageSecurity,
            lift_from_page,
        )
}

#[derive(Serialize, ToSchema)]
pub struct BlockList {
    items: Vec<Block>,
}

/// The newest 100 address blocks, active or not.
#[utoipa::path(get, path = "/api/v1/admin/ip-blocks", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = BlockList), (status = 403, body = crate::http::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageSecurity>,
) -> Result<axum::Json<BlockList>, ApiError> {
    let items = super::list(&state.db).await.map_err(anyhow::Error::from)?;
    Ok(axum::Json(BlockList { items }))
}

/// Lift a block early (audited).
#[utoipa::path(delete, path = "/api/v1/admin/ip-blocks/{id}", tag = "admin",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Lifted"), (status = 404, body = crate::http::error::Problem)))]
pub async fn lift(
    State(state): State<AppState>,
    caller: Caller<perm::ManageSecurity>,
    IdPath(id): IdPath<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    if super::lift(&state.db, &actor, caller.user, id, &state.blocks)
        .await
        .map_err(anyhow::Error::from)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Template)]
#[template(path = "admin/security.html")]
struct SecurityPage {
    nav: Nav,
    csrf: String,
    blocks: Vec<Block>,
}

async fn page(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageSecurity>,
) -> Result<Response, PageError> {
    let blocks = super::list(&state.db).await.map_err(anyhow::Error::from)?;
    render(
        StatusCode::OK,
        &SecurityPage {
            nav: Nav::for_caller("staff", Some(&caller)),
            csrf: caller.csrf.clone(),
            blocks,
        },
    )
}

async fn lift_from_page(
    State(state): State<AppState>,
    IdPath(id): IdPath<uuid::Uuid>,
    SignedInForm(caller, _form): SignedInForm<perm::ManageSecurity, CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    super::lift(&state.db, &actor, caller.user, id, &state.blocks)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Redirect::to("/admin/security").into_response())
}
