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
use crate::http::origin::SameOrigin;
use crate::http::{IdPath, PageError};
use crate::ids::SiteId;
use crate::state::AppState;
use crate::web::chart::{BarChart, Extras, Series, Unit};
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/sites", Permission::OwnSites, list)
        .post("/sites", Permission::OwnSites, create)
        .get("/sites/{id}", Permission::OwnSites, show)
        .upload("/sites/{id}/usage/file", Permission::OwnSites, upload)
        .post("/sites/{id}/usage/typed", Permission::OwnSites, typed)
        .post("/sites/{id}/access-notes", Permission::OwnSites, access_notes)
}

#[derive(Template)]
#[template(path = "sites/list.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    /// Each home with a line about its roof, in words.
    sites: Vec<(Site, String)>,
    /// The add-home form as typed (empty the first time).
    form: HomeFields,
    /// Every problem with the form, as (field id, message), in the form's order.
    errors: Vec<(&'static str, String)>,
}

impl ListPage {
    /// The message beside `field`, if it has a problem.
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn number(field: &str, raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .map_err(|_| format!("Enter a number for {field}."))
}

/// The eight directions a roof can face, as people name them, with their degrees from north.
pub const DIRECTIONS: [(&str, &str, f64); 8] = [
    ("s", "South", 180.0),
    ("sw", "South-west", 225.0),
    ("se", "South-east", 135.0),
    ("w", "West", 270.0),
    ("e", "East", 90.0),
    ("nw", "North-west", 315.0),
    ("ne", "North-east", 45.0),
    ("n", "North", 0.0),
];

/// Roof pitches as people see them, with the degrees a quote uses. A flat roof's panels sit
/// on frames tilted about 10°.
pub const PITCHES: [(&str, &str, f64); 4] = [
    ("flat", "Flat (panels go on tilted frames)", 10.0),
    ("gentle", "Gentle (a low slope, easy to walk on)", 15.0),
    ("standard", "Standard (most houses)", 25.0),
    ("steep", "Steep (hard to stand on)", 40.0),
];

/// The nearest of the eight directions to `degrees`, in words.
fn direction_words(degrees: f64) -> &'static str {
    let d = degrees.rem_euclid(360.0);
    DIRECTIONS
        .iter()
        .min_by(|a, b| {
            let gap = |x: f64| (x - d).abs().min(360.0 - (x - d).abs());
            gap(a.2).total_cmp(&gap(b.2))
        })
        .map_or("South", |(_, words, _)| *words)
}

/// The nearest pitch to `degrees`, as one word (its key: flat, gentle, standard, steep).
fn pitch_words(degrees: f64) -> &'static str {
    PITCHES
        .iter()
        .min_by(|a, b| (a.2 - degrees).abs().total_cmp(&(b.2 - degrees).abs()))
        .map_or("standard", |(key, _, _)| *key)
}

/// A home's roof in a sentence: "A standard roof facing south, up to 20 panels", or "…, about
/// 24 panels (our estimate; we measure the roof at the survey)".
pub fn roof_words(site: &Site) -> String {
    let panels = if site.max_panels_estimated {
        format!(
            "about {} panels (our estimate; we measure the roof at the survey)",
            site.max_panels
        )
    } else {
        format!("up to {} panels", site.max_panels)
    };
    format!(
        "A {} roof facing {}, {panels}",
        pitch_words(site.roof_tilt_deg),
        direction_words(site.roof_azimuth_deg).to_lowercase()
    )
}

async fn list_page(
    state: &AppState,
    caller: &PageCaller,
    status: StatusCode,
    form: HomeFields,
    errors: Vec<(&'static str, String)>,
) -> Result<Response, PageError> {
    let sites = service::list_own(&state.db, caller.user, None, crate::http::PAGE_MAX)
        .await?
        .into_iter()
        .map(|s| {
            let roof = roof_words(&s);
            (s, roof)
        })
        .collect();
    let page = ListPage {
        nav: Nav::for_caller("sites", Some(caller)),
        csrf: caller.csrf.clone(),
        sites,
        form,
        errors,
    };
    render(status, &page)
}

async fn list(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnSites>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, StatusCode::OK, HomeFields::default(), Vec::new()).await
}

/// The add-home form as typed: kept whole, so an error never wipes what was entered.
#[derive(Deserialize)]
struct HomeFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    pitch: String,
    #[serde(default)]
    max_panels: String,
}

impl Default for HomeFields {
    fn default() -> Self {
        Self {
            csrf: String::new(),
            label: "Home".into(),
            address: String::new(),
            postal_code: String::new(),
            direction: "s".into(),
            pitch: "standard".into(),
            max_panels: String::new(),
        }
    }
}

impl CsrfProtected for HomeFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl HomeFields {
    /// The form as the service takes it, or every problem the page itself can see.
    fn to_form(&self) -> Result<SiteForm, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let direction = DIRECTIONS.iter().find(|(key, _, _)| *key == self.direction);
        if direction.is_none() {
            errors.push(("direction", "Choose the way the roof faces.".to_owned()));
        }
        let pitch = PITCHES.iter().find(|(key, _, _)| *key == self.pitch);
        if pitch.is_none() {
            errors.push(("pitch", "Choose how steep the roof is.".to_owned()));
        }
        let max_panels = match self.max_panels.trim() {
            "" => None,
            raw => match raw.parse::<i32>() {
                Ok(n) if (1..=500).contains(&n) => Some(n),
                _ => {
                    errors.push((
                        "max_panels",
                        "Enter how many panels fit as a whole number from 1 to 500, or leave it empty."
                            .to_owned(),
                    ));
                    None
                }
            },
        };
        if self.postal_code.trim().is_empty() {
            errors.push(("postal_code", "Enter the home's ZIP code.".to_owned()));
        } else if crate::geo::ZipCode::parse(&self.postal_code).is_none() {
            errors.push((
                "postal_code",
                "Enter a five-digit ZIP code, e.g. 27401.".to_owned(),
            ));
        }
        if self
            .address
            .split_whitespace()
            .collect::<String>()
            .chars()
            .count()
            < 4
        {
            errors.push((
                "address",
                "Enter the street address, e.g. 1200 Elm Street.".to_owned(),
            ));
        }
        // The summary lists problems in the form's order.
        const ORDER: [&str; 6] = [
            "label",
            "address",
            "postal_code",
            "direction",
            "pitch",
            "max_panels",
        ];
        errors.sort_by_key(|(field, _)| ORDER.iter().position(|f| f == field));
        match (direction, pitch, errors.is_empty()) {
            (Some(direction), Some(pitch), true) => Ok(SiteForm {
                label: self.label.clone(),
                address: self.address.clone(),
                postal_code: Some(self.postal_code.clone()),
                latitude: None,
                longitude: None,
                region_id: None,
                roof_tilt_deg: pitch.2,
                roof_azimuth_deg: direction.2,
                max_panels,
            }),
            _ => Err(errors),
        }
    }
}

/// What a refusal of the service means on the form, beside the field it concerns. `served`
/// names the areas we install in, for a ZIP code outside them.
fn form_error(e: &SiteError, zip: &str, served: &str) -> Option<(&'static str, String)> {
    let zip = zip.trim();
    Some(match e {
        SiteError::UnknownZip => (
            "postal_code",
            format!(
                "We could not find the ZIP code {zip}. Check it against a letter you received at the home."
            ),
        ),
        SiteError::NotServed => (
            "postal_code",
            format!("We do not install in ZIP code {zip} yet. Today we install in: {served}."),
        ),
        SiteError::Invalid(problem) => match problem.field {
            "postal_code" => (
                "postal_code",
                "Enter a five-digit ZIP code, e.g. 27401.".to_owned(),
            ),
            "label" => (
                "label",
                "Give the home a name of 1 to 60 characters, e.g. Home.".to_owned(),
            ),
            "address" => (
                "address",
                "Enter the street address (5 to 300 characters).".to_owned(),
            ),
            "max_panels" => (
                "max_panels",
                "Enter a whole number from 1 to 500, or leave it empty.".to_owned(),
            ),
            _ => return None,
        },
        _ => return None,
    })
}

/// The names of the regions that take new homes, for "we do not install there yet".
async fn served_areas(state: &AppState) -> Result<String, PageError> {
    let names: Vec<String> = crate::catalog::regions(&state.db)
        .await
        .map_err(anyhow::Error::from)?
        .into_iter()
        .filter(|r| r.active && !r.zip_codes.is_empty())
        .map(|r| r.name)
        .collect();
    Ok(names.join(", "))
}

async fn create(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnSites, HomeFields>,
) -> Result<Response, PageError> {
    let form = match fields.to_form() {
        Ok(form) => form,
        Err(errors) => {
            return list_page(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, fields, errors).await;
        }
    };
    let actor = caller.actor();
    match service::create(&state.db, &actor, caller.user, form).await {
        Ok(site) => Ok(Redirect::to(&format!("/sites/{}?notice=added", site.id)).into_response()),
        Err(e) => match form_error(&e, &fields.postal_code, &served_areas(&state).await?) {
            Some(error) => {
                list_page(
                    &state,
                    &caller,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    fields,
                    vec![error],
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "sites/site.html")]
struct SitePage {
    nav: Nav,
    csrf: String,
    site: Site,
    /// The roof in words.
    roof: String,
    /// The electricity company that serves the home, and the region's name.
    utility: String,
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
    /// The typed usage as it was sent, with its problems, when it was refused.
    typed: TypedEcho,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// Typed usage sent back to its form: what was typed, and each field's problem.
#[derive(Default)]
struct TypedEcho {
    annual: String,
    /// Twelve values once the monthly form was used (empty otherwise).
    months: Vec<String>,
    /// Field id (`annual`, `month-1` … `month-12`) and its message.
    errors: Vec<(String, String)>,
}

impl SitePage {
    fn typed_error(&self, field: &str) -> Option<&str> {
        self.typed
            .errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// What was typed for month `n` (1 to 12).
    fn month_value(&self, n: &usize) -> &str {
        self.typed
            .months
            .get(n.wrapping_sub(1))
            .map_or("", String::as_str)
    }

    fn month_error(&self, n: &usize) -> Option<&str> {
        self.typed_error(&format!("month-{n}"))
    }
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
    site_page_with(
        state,
        caller,
        actor,
        id,
        status,
        notice,
        error,
        TypedEcho::default(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn site_page_with(
    state: &AppState,
    caller: &PageCaller,
    actor: &Actor,
    id: SiteId,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: TypedEcho,
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
        BarChart::with(
            title,
            &labels,
            &series,
            Extras {
                unit: Some(Unit::Kwh),
                ..Extras::default()
            },
        )
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
    let utility = match crate::catalog::region(&state.db, &site.region_id)
        .await
        .map_err(anyhow::Error::from)?
    {
        Some(region) => format!("{} ({})", region.utility, region.name),
        None => "A region we no longer serve".to_owned(),
    };
    let page = SitePage {
        roof: roof_words(&site),
        utility,
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
        typed,
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
        Some("added") => {
            Some("Home added. Next: your electricity usage, so the quote fits what you really use.")
        }
        Some("imported") => Some("Usage recorded. Check what we understood below."),
        Some("access") => Some("Saved. The crew reads these notes before it comes."),
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

/// Month names as a sentence says them (the chart's labels are short).
const FULL_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

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
    let mut echo = TypedEcho {
        annual: fields.annual_kwh.clone(),
        months: fields.monthly_kwh.clone(),
        errors: Vec::new(),
    };
    let input = if fields.monthly_kwh.is_empty() {
        match number("the yearly usage", &clean(&fields.annual_kwh)) {
            Ok(v) => Some(UsageInput::Annual(v)),
            Err(message) => {
                echo.errors.push(("annual".into(), message));
                None
            }
        }
    } else {
        // Every month is checked, so each problem shows at once beside its month.
        echo.months.resize(12, String::new());
        let mut months = [0.0; 12];
        for (i, raw) in echo.months.iter().enumerate() {
            match number(&format!("{} usage", FULL_MONTHS[i]), &clean(raw)) {
                Ok(v) => months[i] = v,
                Err(message) => echo.errors.push((format!("month-{}", i + 1), message)),
            }
        }
        echo.errors.is_empty().then_some(UsageInput::Monthly(months))
    };
    match input {
        Some(input) => record(&state, &caller, &actor, id, input).await,
        None => {
            site_page_with(
                &state,
                &caller,
                &actor,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                echo,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct AccessNotesFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    access_notes: String,
}

impl CsrfProtected for AccessNotesFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The notes the crew reads before it comes (gate code, dog, where to park).
async fn access_notes(
    State(state): State<AppState>,
    IdPath(id): IdPath<SiteId>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnSites, AccessNotesFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    match service::set_access_notes(&state.db, &actor, caller.user, id, &fields.access_notes).await {
        Ok(_) => Ok(Redirect::to(&format!("/sites/{id}?notice=access")).into_response()),
        Err(SiteError::Invalid(_)) => {
            let message = Some("Keep the notes for the crew to 500 characters of plain text.".to_owned());
            site_page(
                &state,
                &caller,
                &actor,
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
