//! The arithmetic of a quote, with nothing hidden: size for the target offset, panel count
//! within the roof, price and deposit, production and savings year by year for 25 years, and
//! the payback year. Every input that shapes the result is listed as an assumption, so the
//! customer (or anyone) can redo the sums. Money is integer cents; energy is kWh.
//!
//! Formulas (domain.md):
//! - size kWp = annual usage × offset ÷ specific yield; panels = ceil(kWp × 1000 ÷ panel W),
//!   at most what the roof holds;
//! - price = system W × price per watt + the chosen options (each once, or per panel);
//!   deposit = price × deposit share;
//! - production in year y = year-one production × (1 − degradation)^(y−1);
//! - savings in year y = (self-consumed kWh × retail rate + exported kWh × export rate)
//!   × (1 + escalation)^(y−1);
//! - payback = the first year in which cumulative savings reach the net cost.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Everything a quote is computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub annual_usage_kwh: f64,
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
    pub price_per_watt_cents: i64,
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
    pub price_cents: i64,
    pub per_panel: bool,
}

/// One option's line on the quote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OptionLine {
    pub id: String,
    pub name: String,
    /// How many: the panel count for per-panel options, otherwise 1.
    pub quantity: u32,
    pub unit_price_cents: i64,
    pub total_cents: i64,
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
    pub production_kwh: f64,
    pub savings_cents: i64,
    pub cumulative_savings_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assumption {
    pub name: String,
    pub value: String,
}

/// What the customer is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub system_kw: f64,
    pub panels: u32,
    /// The roof held fewer panels than the target offset needed.
    pub limited_by_roof: bool,
    /// The panels, inverter and installation: system watts × price per watt.
    #[serde(default)]
    pub system_price_cents: i64,
    /// What the chosen options add.
    #[serde(default)]
    pub options: Vec<OptionLine>,
    /// The whole price: the system and its options.
    pub price_cents: i64,
    pub tax_credit_cents: i64,
    pub net_cost_cents: i64,
    pub deposit_cents: i64,
    pub production_monthly_kwh: Vec<f64>,
    pub annual_production_kwh: f64,
    /// Year-one production as a share of annual usage.
    pub offset_achieved_percent: f64,
    pub self_consumed_kwh: f64,
    pub exported_kwh: f64,
    pub years: Vec<YearFigures>,
    /// `None` when savings never reach the net cost within the years shown.
    pub payback_year: Option<u32>,
    pub assumptions: Vec<Assumption>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    #[error("there is no usage to size a system for")]
    NoUsage,
    #[error("the roof's production estimate is zero")]
    NoProduction,
}

fn cents(dollars: f64) -> i64 {
    (dollars * 100.0).round() as i64
}

fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, (cents % 100).abs())
}

/// Computes the quote. With `hourly`, self-consumption is matched hour by hour (and
/// `i.hourly_matching` must say so, for the assumptions); without, the stated share is used.
pub fn compute(i: &Inputs, hourly: Option<Hourly<'_>>) -> Result<Figures, CalcError> {
    // NaN counts as no usage.
    if !i.annual_usage_kwh.is_finite() || i.annual_usage_kwh <= 0.0 {
        return Err(CalcError::NoUsage);
    }
    let specific_yield: f64 = i.production_per_kw_monthly.iter().sum();
    if !specific_yield.is_finite() || specific_yield <= 0.0 || i.panel_watts == 0 {
        return Err(CalcError::NoProduction);
    }
    let target_kw = i.annual_usage_kwh * i.offset_percent / 100.0 / specific_yield;
    let wanted = (target_kw * 1000.0 / f64::from(i.panel_watts)).ceil().max(1.0) as u32;
    let panels = wanted.min(i.max_panels.max(1));
    let system_w = u64::from(panels) * u64::from(i.panel_watts);
    let system_kw = system_w as f64 / 1000.0;

    let system_price_cents = system_w as i64 * i.price_per_watt_cents;
    let options: Vec<OptionLine> = i
        .options
        .iter()
        .map(|o| {
            let quantity = if o.per_panel { panels } else { 1 };
            OptionLine {
                id: o.id.clone(),
                name: o.name.clone(),
                quantity,
                unit_price_cents: o.price_cents,
                total_cents: o.price_cents * i64::from(quantity),
            }
        })
        .collect();
    let price_cents = system_price_cents + options.iter().map(|o| o.total_cents).sum::<i64>();
    let tax_credit_cents = (price_cents as f64 * i.tax_credit_percent / 100.0).round() as i64;
    let net_cost_cents = price_cents - tax_credit_cents;
    let deposit_cents = (price_cents as f64 * f64::from(i.deposit_percent) / 100.0).round() as i64;

    let production_monthly: Vec<f64> = i
        .production_per_kw_monthly
        .iter()
        .map(|p| p * system_kw)
        .collect();
    let annual_production: f64 = production_monthly.iter().sum();
    let hourly = hourly.filter(|h| h.usage_kwh.len() == HOURS && h.production_per_kw.len() == HOURS);
    let self_consumed: f64 = match hourly {
        // Each hour, the home uses what it produces up to what it needs at that hour.
        Some(h) => h
            .usage_kwh
            .iter()
            .zip(h.production_per_kw)
            .map(|(u, p)| (p * system_kw).min(*u).max(0.0))
            .sum(),
        // Without hourly data: the stated share of production, never more than the month's
        // usage; the rest goes to the grid at the export rate.
        None => production_monthly
            .iter()
            .zip(i.monthly_usage_kwh.iter())
            .map(|(p, u)| (p * i.self_consumption_share).min(*u))
            .sum(),
    };
    let exported = annual_production - self_consumed;

    let degradation = i.degradation_percent / 100.0;
    let escalation = i.escalation_percent / 100.0;
    let mut years = Vec::with_capacity(i.years as usize);
    let mut cumulative = 0i64;
    let mut payback_year = None;
    for year in 1..=i.years {
        let n = f64::from(year - 1);
        let factor = (1.0 - degradation).powf(n);
        let prices = (1.0 + escalation).powf(n);
        let savings = cents((self_consumed * i.retail_rate + exported * i.export_rate) * factor * prices);
        cumulative += savings;
        if payback_year.is_none() && cumulative >= net_cost_cents {
            payback_year = Some(year);
        }
        years.push(YearFigures {
            year,
            production_kwh: annual_production * factor,
            savings_cents: savings,
            cumulative_savings_cents: cumulative,
        });
    }
    Ok(Figures {
        system_kw,
        panels,
        limited_by_roof: wanted > panels,
        system_price_cents,
        options,
        price_cents,
        tax_credit_cents,
        net_cost_cents,
        deposit_cents,
        annual_production_kwh: annual_production,
        offset_achieved_percent: annual_production / i.annual_usage_kwh * 100.0,
        production_monthly_kwh: production_monthly,
        self_consumed_kwh: self_consumed,
        exported_kwh: exported,
        years,
        payback_year,
        assumptions: assumptions(i, specific_yield, wanted),
    })
}

fn assumptions(i: &Inputs, specific_yield: f64, wanted: u32) -> Vec<Assumption> {
    let a = |name: &str, value: String| Assumption {
        name: name.to_owned(),
        value,
    };
    vec![
        a("Yearly usage", format!("{:.0} kWh", i.annual_usage_kwh)),
        a(
            "Target offset",
            format!("{:.0} % of yearly usage", i.offset_percent),
        ),
        a(
            "Production per installed kW",
            format!("{specific_yield:.0} kWh a year ({})", i.production_source),
        ),
        a("Panel", format!("{} ({} W)", i.panel_name, i.panel_watts)),
        a(
            "Panels needed for the target, and the roof's limit",
            format!("{wanted} needed, {} fit", i.max_panels),
        ),
        a("Price per watt", dollars(i.price_per_watt_cents)),
        a(
            "Options",
            if i.options.is_empty() {
                "none".to_owned()
            } else {
                i.options
                    .iter()
                    .map(|o| {
                        let each = if o.per_panel { " per panel" } else { "" };
                        format!("{} at {}{each}", o.name, dollars(o.price_cents))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
                    + " (priced only: a battery's effect on self-consumption is not counted in the savings)"
            },
        ),
        a("Deposit", format!("{} % of the price", i.deposit_percent)),
        a(
            "Electricity price (retail)",
            format!("${:.3} per kWh", i.retail_rate),
        ),
        a(
            "Paid for energy sent to the grid",
            format!("${:.3} per kWh", i.export_rate),
        ),
        a(
            "Electricity price rise",
            format!("{:.1} % a year", i.escalation_percent),
        ),
        a(
            "Panel output loss",
            format!("{:.1} % a year", i.degradation_percent),
        ),
        a(
            "Used in the home as produced",
            if i.hourly_matching {
                "matched hour by hour: your hourly usage against the hourly production estimate; \
                 the rest is sent to the grid"
                    .to_owned()
            } else {
                format!(
                    "{:.0} % of production, at most each month's usage; the rest is sent to the grid",
                    i.self_consumption_share * 100.0
                )
            },
        ),
        a(
            "Tax credit",
            format!(
                "{:.0} % (the federal credit ended for purchases after 2025)",
                i.tax_credit_percent
            ),
        ),
        a("Years shown", i.years.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat year: 10,000 kWh used, 1,400 kWh per kW produced, Greensboro prices.
    fn inputs() -> Inputs {
        Inputs {
            annual_usage_kwh: 10_000.0,
            monthly_usage_kwh: [10_000.0 / 12.0; 12],
            production_per_kw_monthly: [1_400.0 / 12.0; 12],
            production_source: "test".into(),
            self_consumption_share: 0.3,
            offset_percent: 100.0,
            panel_name: "Test 410".into(),
            panel_watts: 410,
            max_panels: 30,
            price_per_watt_cents: 250,
            deposit_percent: 10,
            retail_rate: 0.14,
            export_rate: 0.04,
            escalation_percent: 3.0,
            degradation_percent: 0.5,
            tax_credit_percent: 0.0,
            years: 25,
            hourly_matching: false,
            options: Vec::new(),
        }
    }

    #[test]
    fn size_price_and_deposit_match_the_hand_computation() {
        let f = compute(&inputs(), None).unwrap();
        // 10,000 ÷ 1,400 = 7.142857 kW → 7,142.857 W ÷ 410 W = 17.42 → 18 panels = 7.38 kW.
        assert_eq!(f.panels, 18);
        assert!((f.system_kw - 7.38).abs() < 1e-12);
        assert!(!f.limited_by_roof);
        // 7,380 W × $2.50 = $18,450; deposit 10 % = $1,845.
        assert_eq!(f.price_cents, 1_845_000);
        assert_eq!(f.deposit_cents, 184_500);
        assert_eq!(f.net_cost_cents, 1_845_000);
        // 7.38 kW × 1,400 = 10,332 kWh: 103.32 % of usage.
        assert!((f.annual_production_kwh - 10_332.0).abs() < 1e-6);
        assert!((f.offset_achieved_percent - 103.32).abs() < 1e-9);
    }

    #[test]
    fn savings_and_payback_match_the_hand_computation() {
        let f = compute(&inputs(), None).unwrap();
        // Self-consumed 30 % of 10,332 = 3,099.6 kWh (below the usage each month);
        // exported 7,232.4 kWh. Year 1: 3,099.6 × 0.14 + 7,232.4 × 0.04 = $433.944 + $289.296.
        assert!((f.self_consumed_kwh - 3_099.6).abs() < 1e-6);
        assert!((f.exported_kwh - 7_232.4).abs() < 1e-6);
        assert_eq!(f.years[0].savings_cents, 72_324);
        // Year 2: $723.24 × 0.995 × 1.03 = $741.2125… → 74,121 cents.
        assert_eq!(f.years[1].savings_cents, 74_121);
        // Year 25: 723.24 × 0.995^24 × 1.03^24 = 723.24 × 0.88665 × 2.03279.
        let y25 = 723.24 * 0.995f64.powi(24) * 1.03f64.powi(24);
        assert_eq!(f.years[24].savings_cents, (y25 * 100.0).round() as i64);
        // Payback: the first year whose running total reaches $18,450.
        let mut total = 0.0;
        let mut expected = None;
        for y in 0..25 {
            total += (723.24 * 0.995f64.powi(y) * 1.03f64.powi(y) * 100.0).round();
            if expected.is_none() && total >= 1_845_000.0 {
                expected = Some(y as u32 + 1);
            }
        }
        assert_eq!(f.payback_year, expected);
        assert_eq!(f.payback_year, Some(21));
    }

    #[test]
    fn options_add_to_the_price_and_the_deposit_but_not_to_the_savings() {
        let mut i = inputs();
        i.options = vec![
            ChosenOption {
                id: "guard".into(),
                name: "Critter guard".into(),
                price_cents: 2_500,
                per_panel: true,
            },
            ChosenOption {
                id: "battery".into(),
                name: "Battery".into(),
                price_cents: 1_200_000,
                per_panel: false,
            },
        ];
        let plain = compute(&inputs(), None).unwrap();
        let f = compute(&i, None).unwrap();
        // 18 panels × $25 = $450, plus $12,000 once: $18,450 + $12,450 = $30,900.
        assert_eq!(f.options[0].quantity, 18);
        assert_eq!(f.options[0].total_cents, 45_000);
        assert_eq!(f.options[1].quantity, 1);
        assert_eq!(f.system_price_cents, 1_845_000);
        assert_eq!(f.price_cents, 3_090_000);
        assert_eq!(f.deposit_cents, 309_000);
        assert_eq!(f.years, plain.years, "savings do not count the options");
        assert!(f.payback_year.is_none() || f.payback_year > plain.payback_year);
        let listed = f.assumptions.iter().find(|a| a.name == "Options").unwrap();
        assert!(listed.value.contains("Critter guard at $25.00 per panel"));
        assert!(listed.value.contains("Battery at $12000.00"));
    }

    #[test]
    fn the_roof_limits_the_size_and_says_so() {
        let mut i = inputs();
        i.max_panels = 12;
        let f = compute(&i, None).unwrap();
        assert_eq!(f.panels, 12);
        assert!(f.limited_by_roof);
        assert!((f.system_kw - 4.92).abs() < 1e-12);
    }

    #[test]
    fn a_tax_credit_lowers_the_net_cost_only() {
        let mut i = inputs();
        i.tax_credit_percent = 30.0;
        let f = compute(&i, None).unwrap();
        assert_eq!(f.tax_credit_cents, 553_500);
        assert_eq!(f.net_cost_cents, 1_291_500);
        assert_eq!(f.deposit_cents, 184_500, "the deposit is on the price");
    }

    #[test]
    fn without_usage_or_production_there_is_no_quote() {
        let mut i = inputs();
        i.annual_usage_kwh = 0.0;
        assert_eq!(compute(&i, None).unwrap_err(), CalcError::NoUsage);
        let mut i = inputs();
        i.production_per_kw_monthly = [0.0; 12];
        assert_eq!(compute(&i, None).unwrap_err(), CalcError::NoProduction);
    }

    #[test]
    fn with_hourly_data_self_consumption_is_matched_hour_by_hour() {
        // 1 kWh used every hour; 0.5 kWh per installed kW from 08:00 to 17:00.
        let usage = vec![1.0; HOURS];
        let per_kw: Vec<f64> = (0..HOURS)
            .map(|h| if (8..17).contains(&(h % 24)) { 0.5 } else { 0.0 })
            .collect();
        let mut i = inputs();
        i.annual_usage_kwh = 8760.0;
        i.monthly_usage_kwh = [0.0; 12];
        i.hourly_matching = true;
        // 0.5 × 9 hours × 365 days = 1,642.5 kWh per kW, spread over the months by days.
        let days = [
            31.0, 28.0, 31.0, 30.0, 31.0, 30.0, 31.0, 31.0, 30.0, 31.0, 30.0, 31.0,
        ];
        i.production_per_kw_monthly = days.map(|d| 4.5 * d);
        let f = compute(
            &i,
            Some(Hourly {
                usage_kwh: &usage,
                production_per_kw: &per_kw,
            }),
        )
        .unwrap();
        // 8,760 ÷ 1,642.5 = 5.33 kW → 14 panels of 410 W = 5.74 kW, 2.87 kWh each sunny hour:
        // the home takes its 1 kWh in each of the 3,285 sunny hours; the rest is exported.
        assert_eq!(f.panels, 14);
        assert!(
            (f.self_consumed_kwh - 3_285.0).abs() < 1e-6,
            "{}",
            f.self_consumed_kwh
        );
        assert!((f.exported_kwh - (5.74 * 1_642.5 - 3_285.0)).abs() < 1e-6);
        assert!(f.assumptions.iter().any(|a| a.value.contains("hour by hour")));
        // Mismatched lengths fall back to the stated share.
        let short = compute(
            &i,
            Some(Hourly {
                usage_kwh: &usage[..10],
                production_per_kw: &per_kw,
            }),
        )
        .unwrap();
        assert!(
            (short.self_consumed_kwh - 0.0).abs() < 1e-9,
            "monthly usage is zero in this case"
        );
    }

    #[test]
    fn every_input_is_listed_as_an_assumption() {
        let f = compute(&inputs(), None).unwrap();
        let text: String = f
            .assumptions
            .iter()
            .map(|a| format!("{} {}\n", a.name, a.value))
            .collect();
        for needle in [
            "10000 kWh",
            "100 %",
            "1400 kWh",
            "Test 410",
            "$2.50",
            "$0.140",
            "$0.040",
            "3.0 %",
            "0.5 %",
            "30 %",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }
}
