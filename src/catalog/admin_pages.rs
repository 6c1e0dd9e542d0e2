//! The admin page of the catalog: panels, regions (prices, tariffs, yield, weather), quote
//! options, and the weather files regions are simulated with. The same services as the admin
//! API, so the rules and the audit rows are the same.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::admin::{self, CatalogError, NewOption, NewPanel, NewRegion, OptionPatch, RegionPatch};
use super::holidays::{self, Holiday, NewHoliday};
use super::{Panel, QuoteOption, Region};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::auth::browser::{CsrfProtected, PageCaller, file_after_csrf};
use crate::http::PageError;
use crate::http::origin::SameOrigin;
use crate::sizing::weather::{self, WeatherFile};
use crate::state::AppState;
use crate::web::form::Problems;
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/catalog", Permission::ManageCatalog, page)
        .post("/admin/catalog/panels", Permission::ManageCatalog, add_panel)
        .post(
            "/admin/catalog/panels/{id}",
            Permission::ManageCatalog,
            change_panel,
        )
        .post("/admin/catalog/regions", Permission::ManageCatalog, add_region)
        .post(
            "/admin/catalog/regions/{id}",
            Permission::ManageCatalog,
            change_region,
        )
        .post("/admin/catalog/options", Permission::ManageCatalog, add_option)
        .post(
            "/admin/catalog/options/{id}",
            Permission::ManageCatalog,
            change_option,
        )
        .post("/admin/catalog/holidays", Permission::ManageCatalog, add_holiday)
        .post(
            "/admin/catalog/holidays/{id}/remove",
            Permission::ManageCatalog,
            remove_holiday,
        )
        .upload(
            "/admin/catalog/weather",
            Permission::ManageCatalog,
            upload_weather,
        )
}

#[derive(Template)]
#[template(path = "admin/catalog.html")]
struct CatalogAdminPage {
    nav: Nav,
    csrf: String,
    panels: Vec<Panel>,
    regions: Vec<Region>,
    options: Vec<QuoteOption>,
    weather: Vec<WeatherFile>,
    /// Holidays from today on.
    holidays: Vec<Holiday>,
    notice: Option<&'static str>,
    /// The form that came back, as typed, with its problems (none the first time).
    sent: Sent,
}

impl CatalogAdminPage {
    fn region_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.regions
            .iter()
            .find(|r| r.id == id)
            .map_or(id, |r| r.name.as_str())
    }

    /// What field `name` of `form` shows: as typed when that form came back, else `stored`.
    fn value(&self, form: &str, name: &str, stored: impl std::fmt::Display) -> String {
        if self.sent.form == form
            && let Some((_, typed)) = self.sent.values.iter().find(|(n, _)| *n == name)
        {
            return typed.clone();
        }
        stored.to_string()
    }

    /// Whether `form` came back with problems (to open its panel).
    fn failed(&self, form: &str) -> bool {
        self.sent.form == form && !self.sent.problems.is_empty()
    }

    /// A number's range in words, stated beside its label before it is hit: "50 to 1,000".
    fn limits(&self, name: &str) -> String {
        admin::range(name).map_or_else(String::new, |(low, high)| {
            format!("{} to {}", grouped(low), grouped(high))
        })
    }
}

/// A number for people: thousands grouped, no trailing zeros ("1,000", "0.01", "-5").
fn grouped(v: f64) -> String {
    let text = v.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if !fraction.is_empty() {
        out = format!("{out}.{fraction}");
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// Each number's name in a problem's message, so the summary at the top names its field.
const NUMBER_WORDS: [(&str, &str); 11] = [
    ("watts", "the power in watts"),
    ("efficiency_percent", "the efficiency in %"),
    ("width_mm", "the width in mm"),
    ("height_mm", "the height in mm"),
    ("warranty_years", "the warranty in years"),
    ("specific_yield", "the yield in kWh per kW"),
    ("price_per_watt_cents", "the price in cents per watt"),
    ("deposit_percent", "the deposit in %"),
    ("retail_rate", "the retail rate in $/kWh"),
    ("export_rate", "the export rate in $/kWh"),
    ("escalation_percent", "the price rise in % a year"),
];

/// One catalog form as it was sent, checked field by field: what was typed (sent back when it
/// cannot be saved) and every problem, each under its field's id on the page, `{form}-{name}`.
#[derive(Default)]
struct Sent {
    /// The form's key: `new-region`, `region-{id}`, `holiday`, `new-option`, `option-{id}`,
    /// `new-panel`, `weather`.
    form: String,
    values: Vec<(&'static str, String)>,
    problems: Problems,
}

impl Sent {
    fn new(form: impl Into<String>, about: &'static str) -> Sent {
        Sent {
            form: form.into(),
            values: Vec::new(),
            problems: Problems::about(about),
        }
    }

    fn id(&self, name: &str) -> String {
        format!("{}-{name}", self.form)
    }

    /// Keeps a field as typed; gives it back trimmed.
    fn keep(&mut self, name: &'static str, raw: &str) -> String {
        self.values.push((name, raw.to_owned()));
        raw.trim().to_owned()
    }

    /// A number within its range (thousands separators allowed), or a problem beside it.
    fn number<T: std::str::FromStr + Copy + Into<f64>>(
        &mut self,
        name: &'static str,
        raw: &str,
    ) -> Option<T> {
        let typed = self.keep(name, raw).replace(',', "");
        let value = typed.parse::<T>().ok().filter(|v| {
            let v: f64 = (*v).into();
            v.is_finite() && admin::within(name, v).is_ok()
        });
        if value.is_none() {
            let (low, high) = admin::range(name).unwrap_or((0.0, 0.0));
            let whole = std::any::type_name::<T>() != "f64";
            let kind = if whole { "a whole number" } else { "a number" };
            let words = NUMBER_WORDS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("it", |(_, w)| *w);
            let id = self.id(name);
            self.problems.add(
                id,
                format!(
                    "Enter {words} as {kind} from {} to {}.",
                    grouped(low),
                    grouped(high)
                ),
            );
        }
        value
    }

    /// Dollars as typed ("12,000", "$25.50") to cents within the option price's range.
    fn dollars(&mut self, name: &'static str, raw: &str) -> Option<i64> {
        let typed = self.keep(name, raw);
        let value = cents(&typed).filter(|c| admin::within("price_cents", *c as f64).is_ok());
        if value.is_none() {
            let (_, high) = admin::range("price_cents").unwrap_or_default();
            let id = self.id(name);
            self.problems.add(
                id,
                format!(
                    "Enter the price in dollars, from $0 to ${}.",
                    grouped(high / 100.0)
                ),
            );
        }
        value
    }

    /// Text of at most `max` characters, or a problem saying so.
    fn text(&mut self, name: &'static str, raw: &str, max: usize, words: &str) -> Option<String> {
        let typed = self.keep(name, raw);
        let value = admin::text(name, &typed, max).ok();
        if value.is_none() {
            let id = self.id(name);
            self.problems
                .add(id, format!("Enter {words}, up to {max} characters."));
        }
        value
    }

    /// A catalog id (lower-case letters, digits and dashes), or a problem saying so.
    fn slug(&mut self, raw: &str) -> Option<String> {
        let typed = self.keep("id", raw);
        let value = admin::slug(&typed).ok();
        if value.is_none() {
            let id = self.id("id");
            self.problems.add(
                id,
                "Enter an id of lower-case letters, digits and dashes, up to 40.",
            );
        }
        value
    }

    /// A field the service's rules refuse, beside that field.
    fn invalid(&mut self, field: &'static str) {
        let message = match field {
            "weather_key" => "That weather file is no longer stored: choose another.".to_owned(),
            "time_zone" => "Enter a time zone name such as America/Chicago.".to_owned(),
            "zip_codes" => "Write the ZIP codes as 274, 270-277 or 99685, separated by commas.".to_owned(),
            "day" => "Choose a day from today to five years ahead.".to_owned(),
            "region_id" => "That region no longer exists: choose another.".to_owned(),
            other => format!(
                "Check the {}: it is missing or out of range.",
                other.replace('_', " ")
            ),
        };
        // A rule about a field the form does not have (none today) lands on its first field.
        let name = if self.values.iter().any(|(n, _)| *n == field) {
            field
        } else {
            self.values.first().map_or("id", |(n, _)| *n)
        };
        let id = self.id(name);
        self.problems.add(id, message);
    }

    /// A refusal from the service, beside the field it concerns.
    fn refused(mut self, e: CatalogError) -> Result<Sent, PageError> {
        let (name, message) = match e {
            CatalogError::Internal(e) => return Err(PageError::Internal(e)),
            CatalogError::NotFound => return Err(PageError::NotFound),
            CatalogError::Invalid(field) => {
                self.invalid(field);
                return Ok(self);
            }
            CatalogError::Exists => ("id", "That id is taken: choose another.".to_owned()),
            CatalogError::HolidayExists => ("day", sentence(&e.to_string())),
            e @ (CatalogError::Weather(_)
            | CatalogError::WeatherNotText
            | CatalogError::WeatherExists
            | CatalogError::TooManyWeatherFiles) => ("file", sentence(&e.to_string())),
        };
        let id = self.id(name);
        self.problems.add(id, message);
        Ok(self)
    }
}

async fn render_page(
    state: &AppState,
    caller: &PageCaller,
    status: StatusCode,
    notice: Option<&'static str>,
    sent: Sent,
) -> Result<Response, PageError> {
    let db = &state.db;
    let page = CatalogAdminPage {
        nav: Nav::for_caller("staff", Some(caller)),
        csrf: caller.csrf.clone(),
        panels: super::all_panels(db).await.map_err(anyhow::Error::from)?,
        regions: super::all_regions(db).await.map_err(anyhow::Error::from)?,
        options: super::options(db, true).await.map_err(anyhow::Error::from)?,
        weather: weather::list(db).await.map_err(anyhow::Error::from)?,
        holidays: holidays::upcoming(db, chrono::Utc::now().date_naive())
            .await
            .map_err(anyhow::Error::from)?,
        notice,
        sent,
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageCatalog>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("saved") => Some("Saved. New quotes use it; quotes already made keep their figures."),
        Some("holiday") => Some("Holiday saved. The calendar no longer offers that day."),
        Some("holiday_removed") => {
            Some("Holiday removed. The calendar offers that day again where a crew works it.")
        }
        Some("weather") => {
            Some("Weather file stored. Choose it for a region to simulate that region's roofs with it.")
        }
        _ => None,
    };
    render_page(&state, &caller, StatusCode::OK, notice, Sent::default()).await
}

/// The outcome of a checked form: back to the page with a notice once saved, or the page again
/// with the form as typed and every problem (the checks' or the service's).
async fn outcome<T>(
    state: &AppState,
    caller: &PageCaller,
    sent: Sent,
    result: Option<Result<T, CatalogError>>,
    notice: &str,
) -> Result<Response, PageError> {
    let (status, sent) = match result {
        Some(Ok(_)) => return Ok(Redirect::to(&format!("/admin/catalog?notice={notice}")).into_response()),
        Some(Err(e @ (CatalogError::Weather(_) | CatalogError::WeatherNotText))) => {
            (StatusCode::BAD_REQUEST, sent.refused(e)?)
        }
        Some(Err(e @ CatalogError::Invalid(_))) => (StatusCode::UNPROCESSABLE_ENTITY, sent.refused(e)?),
        Some(Err(e)) => (StatusCode::CONFLICT, sent.refused(e)?),
        // The checks found problems: the service was not asked.
        None => (StatusCode::UNPROCESSABLE_ENTITY, sent),
    };
    render_page(state, caller, status, None, sent).await
}

/// Dollars as typed ("12,000", "$25.50") to cents.
fn cents(raw: &str) -> Option<i64> {
    let dollars: f64 = raw.trim().trim_start_matches('$').replace(',', "").parse().ok()?;
    dollars.is_finite().then(|| (dollars * 100.0).round() as i64)
}

#[derive(Deserialize)]
struct PanelFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    manufacturer: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    watts: String,
    #[serde(default)]
    efficiency_percent: String,
    #[serde(default)]
    width_mm: String,
    #[serde(default)]
    height_mm: String,
    #[serde(default)]
    warranty_years: String,
}

impl CsrfProtected for PanelFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl PanelFields {
    fn checked(&self, sent: &mut Sent) -> Option<NewPanel> {
        let id = sent.slug(&self.id);
        let manufacturer = sent.text("manufacturer", &self.manufacturer, 100, "the manufacturer");
        let model = sent.text("model", &self.model, 100, "the model");
        let watts = sent.number("watts", &self.watts);
        let efficiency_percent = sent.number("efficiency_percent", &self.efficiency_percent);
        let width_mm = sent.number("width_mm", &self.width_mm);
        let height_mm = sent.number("height_mm", &self.height_mm);
        let warranty_years = sent.number("warranty_years", &self.warranty_years);
        Some(NewPanel {
            id: id?,
            manufacturer: manufacturer?,
            model: model?,
            watts: watts?,
            efficiency_percent: efficiency_percent?,
            width_mm: width_mm?,
            height_mm: height_mm?,
            warranty_years: warranty_years?,
        })
    }
}

async fn add_panel(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, PanelFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let mut sent = Sent::new("new-panel", "the panel");
    let result = match fields.checked(&mut sent) {
        Some(new) => Some(admin::add_panel(&state.db, &actor, new).await),
        None => None,
    };
    outcome(&state, &caller, sent, result, "saved").await
}

#[derive(Deserialize)]
struct ActiveFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

impl CsrfProtected for ActiveFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn change_panel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, ActiveFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = admin::set_panel_active(&state.db, &actor, &id, fields.active == "true").await;
    outcome(&state, &caller, Sent::default(), Some(result), "saved").await
}

/// The region form's fields, as typed: the rates in dollars, the price in cents per watt.
#[derive(Deserialize)]
struct RegionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    utility: String,
    #[serde(default)]
    specific_yield: String,
    #[serde(default)]
    price_per_watt_cents: String,
    #[serde(default)]
    deposit_percent: String,
    #[serde(default)]
    retail_rate: String,
    #[serde(default)]
    export_rate: String,
    #[serde(default)]
    escalation_percent: String,
    #[serde(default)]
    weather_key: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    zip_codes: String,
    #[serde(default)]
    time_zone: String,
}

impl CsrfProtected for RegionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl RegionFields {
    /// The changes of the region form, every field checked.
    fn checked(&self, sent: &mut Sent) -> Option<RegionPatch> {
        let price_per_watt_cents = sent.number("price_per_watt_cents", &self.price_per_watt_cents);
        let deposit_percent = sent.number("deposit_percent", &self.deposit_percent);
        let retail_rate = sent.number("retail_rate", &self.retail_rate);
        let export_rate = sent.number("export_rate", &self.export_rate);
        let escalation_percent = sent.number("escalation_percent", &self.escalation_percent);
        let specific_yield = sent.number("specific_yield", &self.specific_yield);
        let weather_key = sent.keep("weather_key", &self.weather_key);
        let zip_codes = sent.keep("zip_codes", &self.zip_codes);
        if zip_codes.len() > 1000 || crate::geo::ZipSet::parse(&zip_codes).is_err() {
            sent.invalid("zip_codes");
        }
        let time_zone = sent.keep("time_zone", &self.time_zone);
        if !time_zone.is_empty() && time_zone.parse::<chrono_tz::Tz>().is_err() {
            sent.invalid("time_zone");
        }
        let active = sent.keep("active", &self.active);
        if !sent.problems.is_empty() {
            return None;
        }
        Some(RegionPatch {
            specific_yield,
            price_per_watt_cents,
            deposit_percent,
            retail_rate,
            export_rate,
            escalation_percent,
            active: Some(active == "true"),
            weather_key: Some(weather_key),
            zip_codes: Some(zip_codes),
            // Left empty, the zone stays as it is (a new region: US Eastern).
            time_zone: Some(time_zone).filter(|z| !z.is_empty()),
        })
    }
}

async fn add_region(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, RegionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let mut sent = Sent::new("new-region", "the new region");
    let id = sent.slug(&fields.id);
    let name = sent.text("name", &fields.name, 100, "the region's name");
    let utility = sent.text("utility", &fields.utility, 100, "the utility's name");
    let result = match (id, name, utility, fields.checked(&mut sent)) {
        (Some(id), Some(name), Some(utility), Some(p)) => {
            let new = NewRegion {
                id,
                name,
                utility,
                specific_yield: p.specific_yield.unwrap_or_default(),
                price_per_watt_cents: p.price_per_watt_cents.unwrap_or_default(),
                deposit_percent: p.deposit_percent.unwrap_or_default(),
                retail_rate: p.retail_rate.unwrap_or_default(),
                export_rate: p.export_rate.unwrap_or_default(),
                escalation_percent: p.escalation_percent.unwrap_or_default(),
                weather_key: p.weather_key,
                zip_codes: p.zip_codes.unwrap_or_default(),
                time_zone: p.time_zone,
            };
            Some(admin::add_region(&state.db, &actor, new).await)
        }
        _ => None,
    };
    outcome(&state, &caller, sent, result, "saved").await
}

async fn change_region(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, RegionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let mut sent = Sent::new(format!("region-{id}"), "the region");
    let result = match fields.checked(&mut sent) {
        Some(patch) => Some(admin::update_region(&state.db, &actor, &id, patch).await),
        None => None,
    };
    outcome(&state, &caller, sent, result, "saved").await
}

#[derive(Deserialize)]
struct OptionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Dollars.
    #[serde(default)]
    price: String,
    #[serde(default)]
    per_panel: String,
    #[serde(default)]
    active: String,
}

impl CsrfProtected for OptionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn add_option(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, OptionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let mut sent = Sent::new("new-option", "the option");
    let id = sent.slug(&fields.id);
    let name = sent.text("name", &fields.name, 100, "the option's name");
    let description = sent.text("description", &fields.description, 500, "what the option is");
    let price_cents = sent.dollars("price", &fields.price);
    let per_panel = sent.keep("per_panel", &fields.per_panel) == "true";
    let result = match (id, name, description, price_cents) {
        (Some(id), Some(name), Some(description), Some(price_cents)) => {
            let new = NewOption {
                id,
                name,
                description,
                price_cents,
                per_panel,
            };
            Some(admin::add_option(&state.db, &actor, new).await)
        }
        _ => None,
    };
    outcome(&state, &caller, sent, result, "saved").await
}

async fn change_option(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, OptionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let mut sent = Sent::new(format!("option-{id}"), "the option's price");
    let price_cents = sent.dollars("price", &fields.price);
    let active = sent.keep("active", &fields.active) == "true";
    let result = match price_cents {
        Some(price_cents) => {
            let patch = OptionPatch {
                price_cents: Some(price_cents),
                active: Some(active),
            };
            Some(admin::update_option(&state.db, &actor, &id, patch).await)
        }
        None => None,
    };
    outcome(&state, &caller, sent, result, "saved").await
}

/// A file form: same-origin, the session's CSRF token as the first field, then the file.
async fn upload_weather(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    caller: PageUser<perm::ManageCatalog>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let file = file_after_csrf(&state, caller.session, multipart).await?;
    let mut sent = Sent::new("weather", "the weather file");
    let Some(bytes) = file else {
        let id = sent.id("file");
        sent.problems.add(id, "Choose a TMY3 file to upload.");
        return render_page(&state, &caller, StatusCode::BAD_REQUEST, None, sent).await;
    };
    let actor = caller.actor();
    let result = admin::upload_weather(&state.db, &actor, bytes).await;
    outcome(&state, &caller, sent, Some(result), "weather").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_dollars_become_cents() {
        assert_eq!(cents("12,000"), Some(1_200_000));
        assert_eq!(cents("$25.50"), Some(2_550));
        assert_eq!(cents(" 0 "), Some(0));
        assert_eq!(cents("twelve"), None);
        assert_eq!(cents("NaN"), None);
    }

    #[test]
    fn limits_are_written_for_people() {
        assert_eq!(grouped(1_000.0), "1,000");
        assert_eq!(grouped(10_000_000.0), "10,000,000");
        assert_eq!(grouped(0.01), "0.01");
        assert_eq!(grouped(-5.0), "-5");
        assert_eq!(grouped(300.0), "300");
    }

    #[test]
    fn every_problem_of_a_panel_form_is_found_and_what_was_typed_is_kept() {
        let fields = PanelFields {
            csrf: String::new(),
            id: "Bad Id".into(),
            manufacturer: "Acme".into(),
            model: String::new(),
            watts: "4,000".into(),
            efficiency_percent: "21.5".into(),
            width_mm: "wide".into(),
            height_mm: "1,700".into(),
            warranty_years: "25".into(),
        };
        let mut sent = Sent::new("new-panel", "the panel");
        assert!(fields.checked(&mut sent).is_none());
        let ids: Vec<&str> = sent.problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            ids,
            [
                "new-panel-id",
                "new-panel-model",
                "new-panel-watts",
                "new-panel-width_mm"
            ]
        );
        assert_eq!(
            sent.problems.of("new-panel-watts"),
            Some("Enter the power in watts as a whole number from 50 to 1,000.")
        );
        assert!(sent.values.contains(&("watts", "4,000".to_owned())));
    }
}

#[derive(Deserialize)]
struct HolidayFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region_id: String,
}

impl CsrfProtected for HolidayFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn add_holiday(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, HolidayFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let mut sent = Sent::new("holiday", "the holiday");
    let day = sent.keep("day", &fields.day);
    let day = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok();
    if day.is_none() {
        sent.invalid("day");
    }
    let name = sent.text("name", &fields.name, 80, "the holiday's name");
    let region_id = sent.keep("region_id", &fields.region_id);
    let result = match (day, name) {
        (Some(day), Some(name)) => {
            let new = NewHoliday { region_id, day, name };
            Some(holidays::add(&state.db, &actor, new).await)
        }
        _ => None,
    };
    outcome(&state, &caller, sent, result, "holiday").await
}

async fn remove_holiday(
    State(state): State<AppState>,
    crate::http::IdPath(id): crate::http::IdPath<uuid::Uuid>,
    SignedInForm(caller, _form): SignedInForm<perm::ManageCatalog, crate::auth::browser::CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = holidays::remove(&state.db, &actor, id).await;
    outcome(&state, &caller, Sent::default(), Some(result), "holiday_removed").await
}
