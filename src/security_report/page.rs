//! The report for admins: `/admin/security/report` and its JSON twin. The server runs the checks
//! it can from where it stands (configuration, database, policy); probing its own public URL,
//! the advisory database and the deployment files are the CLI's (`sunbridge audit`).

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Inputs, Report, Status};
use crate::access::Caller;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::http::{ApiError, PageError};
use crate::state::AppState;
use crate::web::{Nav, render};

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/api/v1/admin/security/report",
            Permission::ManageSecurity,
            report_json,
        )
        .get("/admin/security/report", Permission::ManageSecurity, page)
}

async fn live_report(state: &AppState) -> anyhow::Result<Report> {
    let inputs = Inputs {
        settings: &state.settings,
        db: &state.db,
        checkpoint_key: state.settings.audit_checkpoint_key_or_derived(&state.secret_key),
        throttle: &state.throttle_rules,
        url: None,
        advisory_db: None,
        deploy_dir: None,
    };
    super::run(&inputs).await
}

/// The OWASP Top 10 (2021) report, from this server's configuration and database.
#[utoipa::path(get, path = "/api/v1/admin/security/report", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 403, body = crate::http::error::Problem)))]
pub async fn report_json(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageSecurity>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(live_report(&state).await?))
}

#[derive(Template)]
#[template(path = "admin/security_report.html")]
struct ReportPage {
    nav: Nav,
    report: Report,
    pass: usize,
    warn: usize,
    fail: usize,
    unchecked: usize,
}

impl ReportPage {
    fn class(&self, status: &Status) -> &'static str {
        match status {
            Status::Pass => "status-pass",
            Status::Warn => "status-warn",
            Status::Fail => "status-fail",
            Status::NotChecked => "status-unchecked",
        }
    }
}

async fn page(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageSecurity>,
) -> Result<Response, PageError> {
    let report = live_report(&state).await?;
    let (pass, warn, fail, unchecked) = report.counts();
    render(
        StatusCode::OK,
        &ReportPage {
            nav: Nav::for_caller("staff", Some(&caller)),
            report,
            pass,
            warn,
            fail,
            unchecked,
        },
    )
}
