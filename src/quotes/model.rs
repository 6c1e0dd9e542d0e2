//! What a quote is made of and what the customer is shown: the inputs a quote is computed
//! from (kept with the quote, so anyone can redo the sums) and its figures. Money is `Money`
//! (integer cents), energy `Kwh`, a system's size `Kw`; on the API and in stored quotes each is
//! the bare number, under the same field names as before the types existed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::values::{Kw, Kwh, Money};

/// Everything a quote is computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub annual_usage_kwh: Kwh,
    /// January first.
    pub monthly_usage_kwh: [f64; 12],
    /// AC kWh one installed kW produces on this roof, by month (PVWatts or specific yield).
    pub production_per_kw_monthly: [f64; 12],
    /// Where the production figures come from, in words.
    pub production_source: String,
    /// Share of production used in the home as it is produced, when no hourly data allow
    /// matching production with usage hour by hour.
    pub self_consumption_share: f64,
    pub offset_percent: f64,
    pub panel_name: String,
    pub panel_watts: u32,
    pub max_panels: u32,
    /// The roof has not been measured yet (the customer did not know how many panels fit):
    /// the size is not capped by a guess, and the survey confirms it.
    #[serde(default)]
    pub roof_estimated: bool,
    pub price_per_watt_cents: Money,
    pub deposit_percent: u32,
    pub retail_rate: f64,
    pub export_rate: f64,
    pub escalation_percent: f64,
    pub degradation_percent: f64,
    pub tax_credit_percent: f64,
    pub years: u32,
    /// Self-consumption was matched hour by hour (hourly usage and hourly production).
    #[serde(default)]
    pub hourly_matching: bool,
    /// Options added to the panels, at the catalog's price when the quote was made.
    #[serde(default)]
    pub options: Vec<ChosenOption>,
}

/// An option as the catalog priced it when the quote was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChosenOption {
    pub id: String,
    pub name: String,
    pub price_cents: Money,
    pub per_panel: bool,
}

/// One option's line on the quote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OptionLine {
    pub id: String,
    pub name: String,
    /// How many: the panel count for per-panel options, otherwise 1.
    pub quantity: u32,
    #[schema(value_type = i64)]
    pub unit_price_cents: Money,
    #[schema(value_type = i64)]
    pub total_cents: Money,
}

/// A year of hourly usage and of production per installed kW, aligned hour by hour (index 0
/// is the hour starting at midnight on 1 January, local standard time, in a 365-day year).
pub struct Hourly<'a> {
    pub usage_kwh: &'a [f64],
    pub production_per_kw: &'a [f64],
}

/// Hours in the typical year both series are laid on.
pub const HOURS: usize = 8760;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct YearFigures {
    pub year: u32,
    #[schema(value_type = f64)]
    pub production_kwh: Kwh,
    #[schema(value_type = i64)]
    pub savings_cents: Money,
    #[schema(value_type = i64)]
    pub cumulative_savings_cents: Money,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assumption {
    pub name: String,
    pub value: String,
}

/// What the customer is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    #[schema(value_type = f64)]
    pub system_kw: Kw,
    pub panels: u32,
    /// The roof held fewer panels than the target offset needed.
    pub limited_by_roof: bool,
    /// The panels, inverter and installation: system watts × price per watt.
    #[serde(default)]
    #[schema(value_type = i64)]
    pub system_price_cents: Money,
    /// What the chosen options add.
    #[serde(default)]
    pub options: Vec<OptionLine>,
    /// The whole price: the system and its options.
    #[schema(value_type = i64)]
    pub price_cents: Money,
    #[schema(value_type = i64)]
    pub tax_credit_cents: Money,
    #[schema(value_type = i64)]
    pub net_cost_cents: Money,
    #[schema(value_type = i64)]
    pub deposit_cents: Money,
    #[schema(value_type = Vec<f64>)]
    pub production_monthly_kwh: Vec<Kwh>,
    #[schema(value_type = f64)]
    pub annual_production_kwh: Kwh,
    /// Year-one production as a share of annual usage.
    pub offset_achieved_percent: f64,
    #[schema(value_type = f64)]
    pub self_consumed_kwh: Kwh,
    #[schema(value_type = f64)]
    pub exported_kwh: Kwh,
    pub years: Vec<YearFigures>,
    /// `None` when savings never reach the net cost within the years shown.
    pub payback_year: Option<u32>,
    pub assumptions: Vec<Assumption>,
}
