//! Admin routes and page for blocked addresses.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Block;
use crate::access::SignedInForm;
use crate::access::{Caller, PageUser, Permission, Routes, perm};
use crate::http::{ApiError, IdPath, PageError};
use crate::state::AppState;
use crate::web::confirm::{ConfirmOnly, Confirmation};
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
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageSecurity>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    // Only fixed messages: the query string cannot put text of its own on the page.
    let notice = match q.notice.as_deref() {
        Some("lifted") => Some("Block lifted. The address is served again on every server."),
        Some("gone") => Some("That block had already ended; nothing was changed."),
        _ => None,
    };
    let blocks = super::list(&state.db).await.map_err(anyhow::Error::from)?;
    render(
        StatusCode::OK,
        &SecurityPage {
            nav: Nav::for_caller("staff", Some(&caller)),
            csrf: caller.csrf.clone(),
            blocks,
            notice,
        },
    )
}

/// Lifts a block from the page, after a step that names the address and what lifting means.
async fn lift_from_page(
    State(state): State<AppState>,
    IdPath(id): IdPath<uuid::Uuid>,
    SignedInForm(caller, form): SignedInForm<perm::ManageSecurity, ConfirmOnly>,
) -> Result<Response, PageError> {
    if !form.confirmed() {
        let wanted = id.to_string();
        let block = super::list(&state.db)
            .await
            .map_err(anyhow::Error::from)?
            .into_iter()
            .find(|b| b.id == wanted && b.active)
            .ok_or(PageError::NotFound)?;
        return Confirmation {
            nav: Nav::for_caller("staff", Some(&caller)),
            title: format!("Lift the block on {}?", block.ip),
            will_happen: vec![
                format!(
                    "Requests from {} are served again at once, on every server. It was blocked for {} until {} UTC.",
                    block.ip,
                    block.reason.replace('_', " "),
                    block.expires_at.format("%Y-%m-%d %H:%M")
                ),
                "The lift is written to the audit trail under your name.".to_owned(),
                "If the same behaviour comes back, the address is blocked again automatically.".to_owned(),
            ],
            action: format!("/admin/security/blocks/{id}"),
            fields: vec![("csrf", caller.csrf.clone())],
            confirm: "Yes, lift the block",
            destructive: false,
            back: "/admin/security".to_owned(),
            back_label: "Keep it blocked",
        }
        .page();
    }
    let actor = caller.actor();
    let lifted = super::lift(&state.db, &actor, caller.user, id, &state.blocks)
        .await
        .map_err(anyhow::Error::from)?;
    let notice = if lifted { "lifted" } else { "gone" };
    Ok(Redirect::to(&format!("/admin/security?notice={notice}")).into_response())
}
