//! The quote page (with its charts and assumptions, printable) and the form that makes one.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::service::{self, Quote, QuoteError, QuoteRequest};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::auth::browser::CsrfProtected;
use crate::http::{IdPath, PageError};
use crate::ids::{QuoteId, SiteId};
use crate::sites::service::{self as sites, Site};
use crate::sites::usage::month_label;
use crate::state::AppState;
use crate::values::Kwh;
use crate::values::Money;
use crate::web::chart::{BarChart, Extras, Series, Unit};
use crate::web::{Nav, render};

pub fn router() -> Routes {
    Routes::new()
        .get("/quotes/{id}", Permission::OwnSites, show)
        .post("/sites/{id}/quote", Permission::OwnSites, create)
}

/// Whole dollars with thousands separators (`$18,450`).
pub fn money(cents: i64) -> String {
    Money::from_cents(cents).whole()
}

/// Dollars and cents, for unit prices that are not whole dollars (`$2.50`).
pub fn money_exact(cents: i64) -> String {
    Money::from_cents(cents).to_string()
}

#[derive(Template)]
#[template(path = "quotes/quote.html")]
struct QuotePage {
    nav: Nav,
    site: Site,
    quote: Quote,
    price: String,
    system_price: String,
    /// Each option: what and how many, and its total.
    option_lines: Vec<(String, String)>,
    deposit: String,
    monthly_chart: BarChart,
    /// Month, used, produced: the monthly chart as a table.
    monthly_table: Vec<(String, String, String)>,
    savings_chart: BarChart,
    /// The customer the quote is for.
    customer: String,
    /// `Q-3F9A-12C4`.
    reference: String,
    valid_until: String,
    expired: bool,
    company_name: String,
    company_contact: String,
    /// Year, production kWh, savings, cumulative (formatted).
    years: Vec<(u32, String, String, String)>,
    csrf: String,
    /// The order made from this quote, if it was accepted.
    order_id: Option<String>,
    notice: Option<&'static str>,
}

#[derive(serde::Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnSites>,
    IdPath(id): IdPath<QuoteId>,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("confirm_email") => Some(
            "Confirm your email address before ordering: use the link we sent you, or ask for a new one on your account page.",
        ),
        Some("expired") => Some(
            "This quote's price has expired. Get a new quote from your home's page: it uses the same usage at today's prices.",
        ),
        Some("order_exists") => {
            Some("This home already has an order in progress. Cancel it first to accept another quote.")
        }
        _ => None,
    };
    let actor = caller.actor();
    let quote = service::own(&state.db, &actor, caller.user, id).await?;
    let site = sites::own(&state.db, &actor, caller.user, quote.site_id).await?;
    let usage = sites::current_usage(&state.db, &actor, caller.user, quote.site_id).await?;
    let labels: Vec<String> = (0..12).map(month_label).collect();
    let usage_months: Vec<u64> = usage
        .map(|u| u.monthly_kwh.iter().map(|v| v.max(0.0).round() as u64).collect())
        .unwrap_or_default();
    let monthly_table: Vec<(String, String, String)> = labels
        .iter()
        .enumerate()
        .map(|(m, label)| {
            let produced = quote.figures.production_monthly_kwh.get(m);
            (
                label.clone(),
                usage_months
                    .get(m)
                    .map_or_else(String::new, |v| Kwh(*v as f64).to_string()),
                produced.map_or_else(String::new, |v| Kwh(v.value().max(0.0)).to_string()),
            )
        })
        .collect();
    let monthly_chart = BarChart::with(
        "Electricity used and produced per month",
        &labels,
        &[
            Series {
                name: "used",
                class: "series-b",
                values: usage_months,
            },
            Series {
                name: "produced",
                class: "series-a",
                values: quote
                    .figures
                    .production_monthly_kwh
                    .iter()
                    .map(|v| v.value().max(0.0).round() as u64)
                    .collect(),
            },
        ],
        Extras {
            unit: Some(Unit::Kwh),
            ..Extras::default()
        },
    );
    let year_labels: Vec<String> = quote.figures.years.iter().map(|y| y.year.to_string()).collect();
    let net_cost = quote.figures.net_cost_cents;
    // Savings add up year by year; the system has paid for itself when they pass its net cost.
    let savings_chart = BarChart::with(
        "Savings so far against the net cost",
        &year_labels,
        &[Series {
            name: "saved so far",
            class: "series-a",
            values: quote
                .figures
                .years
                .iter()
                .map(|y| (y.cumulative_savings_cents.cents().max(0) / 100) as u64)
                .collect(),
        }],
        Extras {
            unit: Some(Unit::Dollars),
            reference: Some((
                (net_cost.cents().max(0) / 100) as u64,
                format!("Net cost {}", net_cost.whole()),
            )),
            mark: quote.figures.payback_year.and_then(|year| {
                let index = quote.figures.years.iter().position(|y| y.year == year)?;
                Some((index, "Paid back".to_owned(), "the year it has paid for itself"))
            }),
        },
    );
    let years = quote
        .figures
        .years
        .iter()
        .map(|y| {
            (
                y.year,
                format!("{:.0}", y.production_kwh.value()),
                y.savings_cents.whole(),
                y.cumulative_savings_cents.whole(),
            )
        })
        .collect();
    let valid_until = quote.valid_until(state.settings.quote_valid_days);
    let order_id = crate::orders::service::of_quote(&state.db, quote.id)
        .await?
        .map(|o| o.to_string());
    let page = QuotePage {
        nav: Nav::for_caller("sites", Some(&caller)),
        csrf: caller.csrf.clone(),
        order_id,
        notice,
        price: quote.figures.price_cents.whole(),
        system_price: quote.figures.system_price_cents.whole(),
        option_lines: quote
            .figures
            .options
            .iter()
            .map(|o| {
                let what = if o.quantity > 1 {
                    format!("{} × {} at {}", o.quantity, o.name, o.unit_price_cents)
                } else {
                    o.name.clone()
                };
                (what, o.total_cents.whole())
            })
            .collect(),
        deposit: quote.figures.deposit_cents.whole(),
        customer: caller.name.clone(),
        reference: quote.id.reference("Q"),
        valid_until: valid_until.format("%-d %B %Y").to_string(),
        expired: chrono::Utc::now() > valid_until,
        company_name: state.settings.company_name.clone(),
        company_contact: state.settings.company_contact.clone(),
        site,
        quote,
        monthly_chart,
        monthly_table,
        savings_chart,
        years,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct QuoteFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    offset_percent: String,
    #[serde(default)]
    panel_id: String,
    /// One field per ticked option.
    #[serde(default)]
    options: Vec<String>,
}

impl CsrfProtected for QuoteFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn create(
    State(state): State<AppState>,
    IdPath(site_id): IdPath<SiteId>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnSites, QuoteFields>,
) -> Result<Response, PageError> {
    let request = QuoteRequest {
        site_id,
        offset_percent: fields.offset_percent.trim().parse().ok(),
        panel_id: Some(fields.panel_id).filter(|p| !p.is_empty()),
        options: fields.options,
    };
    let actor = caller.actor();
    match service::create(
        &state.db,
        state.pvwatts_api.as_deref(),
        &actor,
        caller.user,
        request,
    )
    .await
    {
        Ok(quote) => Ok(Redirect::to(&format!("/quotes/{}", quote.id)).into_response()),
        Err(QuoteError::NotFound) => Err(PageError::NotFound),
        Err(QuoteError::Invalid(_) | QuoteError::UsageRequired | QuoteError::Calc(_)) => {
            Ok(Redirect::to(&format!("/sites/{site_id}?notice=quote_refused")).into_response())
        }
        Err(QuoteError::Internal(e)) => Err(PageError::Internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_is_written_with_thousands_separators() {
        assert_eq!(money(1_845_000), "$18,450");
        assert_eq!(money(99), "$0");
        assert_eq!(money(123_456_789), "$1,234,567");
        assert_eq!(money(-250_000), "-$2,500");
        assert_eq!(super::money_exact(2_550), "$25.50");
        assert_eq!(super::money_exact(123_456_789), "$1,234,567.89");
    }
}
