//! The customer's homes in the browser: add a home, upload a Green Button file or type a
//! yearly figure, and see what the import understood with a monthly chart.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::model::SiteForm;
use super::service::{self, Site, SiteError, UsageInput, UsageSummary};
use super::usage::month_label;
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::audit::Actor;
use crate::auth::browser::{CsrfProtected, PageCaller, file_after_csrf};
use crate::catalog::Region;
use crate::http::origin::SameOrigin;
use crate::http::{IdPath, PageError};
use crate::ids::SiteId;
use crate::state::AppState;
use crate::web::chart::{BarChart, Series};
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/sites", Permission::OwnSites, list)
        .post("/sites", Permission::OwnSites, create)
        .get("/sites/{id}", Permission::OwnSites, show)
        .upload("/sites/{id}/usage/file", Permission::OwnSites, upload)
        .post("/sites/{id}/usage/typed", Permission::OwnSites, typed)
}

#[derive(Template)]
#[template(path = "sites/list.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    sites: Vec<Site>,
    regions: Vec<Region>,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    caller: &PageCaller,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    let page = ListPage {
        nav: Nav::for_caller("sites", Some(caller)),
        csrf: caller.csrf.clone(),
        sites: service::list_own(&state.db, caller.user, None, crate::http::PAGE_MAX).await?,
        regions: crate::catalog::regions(&state.db)
            .await
            .map_err(anyhow::Error::from)?,
        error,
    };
    render(status, &page)
}

async fn list(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnSites>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, StatusCode::OK, None).await
}

#[derive(Deserialize)]
struct SiteFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    region_id: String,
    #[serde(default)]
    roof_tilt_deg: String,
    #[serde(default)]
    roof_azimuth_deg: String,
    #[serde(default)]
    max_panels: String,
}

impl CsrfProtected for SiteFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn number(field: &str, raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .map_err(|_| format!("Enter a number for {field}."))
}

impl SiteFields {
    fn into_form(self) -> Result<SiteForm, String> {
        Ok(SiteForm {
            latitude: number("the latitude", &self.latitude)?,
            longitude: number("the longitude", &self.longitude)?,
            roof_tilt_deg: number("the roof pitch", &self.roof_tilt_deg)?,
            roof_azimuth_deg: number("the roof direction", &self.roof_azimuth_deg)?,
            max_panels: self
                .max_panels
                .trim()
                .parse()
                .map_err(|_| "Enter a whole number of panels.".to_owned())?,
            label: self.label,
            address: self.address,
            region_id: self.region_id,
        })
    }
}

async fn create(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnSites, SiteFields>,
) -> Result<Response, PageError> {
    let form = match fields.into_form() {
        Ok(form) => form,
        Err(message) => {
            return list_page(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await;
        }
    };
    let actor = caller.actor();
    match service::create(&state.db, &actor, caller.user, form).await {
        Ok(site) => Ok(Redirect::to(&format!("/sites/{}", site.id)).into_response()),
        Err(SiteError::Invalid(problem)) => {
            let message = format!(
                "Check the {}: {}.",
                problem.field.replace('_', " "),
                problem.problem
            );
            list_page(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "sites/site.html")]
struct SitePage {
    nav: Nav,
    csrf: String,
    site: Site,
    usage: Option<UsageSummary>,
    interval_label: String,
    chart: Option<BarChart>,
    /// This site's quotes, newest first: (id, version, made, size kW, price).
    quotes: Vec<(String, i32, String, String, String)>,
    panels: Vec<crate::catalog::Panel>,
    options: Vec<crate::catalog::QuoteOption>,
    /// Under the chart: which system the production bars are for.
    production_note: Option<String>,
    month_names: Vec<String>,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn interval_label(secs: Option<i32>) -> String {
    match secs {
        Some(900) => "every 15 minutes".into(),
        Some(3600) => "hourly".into(),
        Some(86_400) => "daily".into(),
        Some(s) if s >= 28 * 86_400 => "monthly".into(),
        Some(s) => format!("every {} minutes", s / 60),
        None => String::new(),
    }
}

async fn site_page(
    state: &AppState,
    caller: &PageCaller,
    actor: &Actor,
    id: SiteId,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let site = service::own(&state.db, actor, caller.user, id).await?;
    let usage = service::current_usage(&state.db, actor, caller.user, id).await?;
    let quotes = crate::quotes::service::of_site(&state.db, caller.user, id, crate::http::PAGE_MAX).await?;
    let production = match &usage {
        None => None,
        Some(_) => {
            crate::quotes::service::production_estimate(
                &state.db,
                state.pvwatts_api.as_deref(),
                actor,
                caller.user,
                id,
                quotes.first(),
            )
            .await
        }
    };
    let chart = usage.as_ref().map(|u| {
        let labels: Vec<String> = (0..12).map(month_label).collect();
        let mut series = vec![Series {
            name: "kWh used",
            class: "series-b",
            values: u.monthly_kwh.iter().map(|v| v.max(0.0).round() as u64).collect(),
        }];
        if let Some(estimate) = &production {
            series.push(Series {
                name: "kWh produced",
                class: "series-a",
                values: estimate
                    .monthly
                    .iter()
                    .map(|v| v.value().max(0.0).round() as u64)
                    .collect(),
            });
        }
        let title = if production.is_some() {
            "Electricity used and produced per month (kWh)"
        } else {
            "Electricity used per month (kWh)"
        };
        BarChart::new(title, &labels, &series)
    });
    let production_note = production.map(|estimate| estimate.source);
    let quotes = quotes
        .into_iter()
        .map(|q| {
            (
                q.id.to_string(),
                q.version,
                q.created_at.format("%Y-%m-%d %H:%M").to_string(),
                format!("{:.2}", q.figures.system_kw.value()),
                q.figures.price_cents.whole(),
            )
        })
        .collect();
    let page = SitePage {
        nav: Nav::for_caller("sites", Some(caller)),
        quotes,
        panels: crate::catalog::panels(&state.db)
            .await
            .map_err(anyhow::Error::from)?,
        options: crate::catalog::options(&state.db, false)
            .await
            .map_err(anyhow::Error::from)?,
        production_note,
        month_names: (0..12).map(month_label).collect(),
        csrf: caller.csrf.clone(),
        interval_label: interval_label(usage.as_ref().and_then(|u| u.interval_secs)),
        site,
        usage,
        chart,
        notice,
        error,
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnSites>,
    IdPath(id): IdPath<SiteId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("imported") => Some("Usage recorded. Check what we understood below."),
        Some("quote_refused") => {
            Some("No quote could be made from these choices: check the share of usage (10–150 %).")
        }
        _ => None,
    };
    site_page(&state, &caller, &caller.actor(), id, StatusCode::OK, notice, None).await
}

/// Records usage and shows the result; a file that cannot be used is explained on the page.
async fn record(
    state: &AppState,
    caller: &PageCaller,
    actor: &Actor,
    id: SiteId,
    input: UsageInput,
) -> Result<Response, PageError> {
    match service::import_usage(&state.db, actor, caller.user, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/sites/{id}?notice=imported")).into_response()),
        Err(SiteError::Import(e)) => {
            let message = Some(sentence(&e.to_string()));
            site_page(state, caller, actor, id, StatusCode::BAD_REQUEST, None, message).await
        }
        Err(SiteError::Invalid(_)) => {
            let message = Some("Enter figures between 0 and 1,000,000 kWh.".to_owned());
            site_page(
                state,
                caller,
                actor,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                message,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A file form: same-origin, the session's CSRF token as the first field, then the file.
async fn upload(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    caller: PageUser<perm::OwnSites>,
    IdPath(id): IdPath<SiteId>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let file = file_after_csrf(&state, caller.session, multipart).await?;
    let actor = caller.actor();
    let Some(bytes) = file else {
        let message = Some("Choose a file to upload.".to_owned());
        return site_page(
            &state,
            &caller,
            &actor,
            id,
            StatusCode::BAD_REQUEST,
            None,
            message,
        )
        .await;
    };
    record(&state, &caller, &actor, id, UsageInput::GreenButton(bytes)).await
}

#[derive(Deserialize)]
struct TypedFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    annual_kwh: String,
    /// Twelve fields, January first, when the form for monthly figures was used.
    #[serde(default)]
    monthly_kwh: Vec<String>,
}

impl CsrfProtected for TypedFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn typed(
    State(state): State<AppState>,
    IdPath(id): IdPath<SiteId>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnSites, TypedFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let clean = |raw: &str| raw.replace([',', '_', ' '], "");
    let input = if fields.monthly_kwh.is_empty() {
        number("the yearly usage", &clean(&fields.annual_kwh)).map(UsageInput::Annual)
    } else if fields.monthly_kwh.len() != 12 {
        Err("Enter a figure for each of the twelve months.".to_owned())
    } else {
        let mut months = [0.0; 12];
        let mut problem = None;
        for (i, raw) in fields.monthly_kwh.iter().enumerate() {
            match number(&format!("{} usage", month_label(i)), &clean(raw)) {
                Ok(v) => months[i] = v,
                Err(message) => {
                    problem = Some(message);
                    break;
                }
            }
        }
        match problem {
            Some(message) => Err(message),
            None => Ok(UsageInput::Monthly(months)),
        }
    };
    match input {
        Ok(input) => record(&state, &caller, &actor, id, input).await,
        Err(message) => {
            site_page(
                &state,
                &caller,
                &actor,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
            )
            .await
        }
    }
}
