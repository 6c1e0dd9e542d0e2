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

#[cfg(test)]
use super::model::ChosenOption;
use super::model::{Assumption, Figures, HOURS, Hourly, Inputs, OptionLine, YearFigures};
use crate::values::{Kw, Kwh, Money};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    #[error("there is no usage to size a system for")]
    NoUsage,
    #[error("the roof's production estimate is zero")]
    NoProduction,
}

/// Computes the quote. With `hourly`, self-consumption is matched hour by hour (and
/// `i.hourly_matching` must say so, for the assumptions); without, the stated share is used.
pub fn compute(i: &Inputs, hourly: Option<Hourly<'_>>) -> Result<Figures, CalcError> {
    // NaN counts as no usage.
    if !i.annual_usage_kwh.is_finite() || i.annual_usage_kwh <= Kwh::ZERO {
        return Err(CalcError::NoUsage);
    }
    let specific_yield: f64 = i.production_per_kw_monthly.iter().sum();
    if !specific_yield.is_finite() || specific_yield <= 0.0 || i.panel_watts == 0 {
        return Err(CalcError::NoProduction);
    }
    let target_kw = i.annual_usage_kwh.value() * i.offset_percent / 100.0 / specific_yield;
    let wanted = (target_kw * 1000.0 / f64::from(i.panel_watts)).ceil().max(1.0) as u32;
    let panels = if i.roof_estimated {
        // The most any roof is allowed to hold (the sites' bound), not a guess about this one.
        wanted.min(500)
    } else {
        wanted.min(i.max_panels.max(1))
    };
    let system_w = u64::from(panels) * u64::from(i.panel_watts);
    let system_kw = Kw::from_watts(system_w);

    let system_price = i.price_per_watt_cents * system_w as i64;
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
    let price = system_price + options.iter().map(|o| o.total_cents).sum::<Money>();
    let tax_credit = price.percent(i.tax_credit_percent);
    let net_cost = price - tax_credit;
    let deposit = price.percent(f64::from(i.deposit_percent));

    let production_monthly: Vec<Kwh> = i
        .production_per_kw_monthly
        .iter()
        .map(|p| Kwh(*p) * system_kw)
        .collect();
    let annual_production: Kwh = production_monthly.iter().copied().sum();
    let hourly = hourly.filter(|h| h.usage_kwh.len() == HOURS && h.production_per_kw.len() == HOURS);
    let self_consumed: Kwh = match hourly {
        // Each hour, the home uses what it produces up to what it needs at that hour.
        Some(h) => h
            .usage_kwh
            .iter()
            .zip(h.production_per_kw)
            .map(|(u, p)| Kwh((p * system_kw.value()).min(*u).max(0.0)))
            .sum(),
        // Without hourly data: the stated share of production, never more than the month's
        // usage; the rest goes to the grid at the export rate.
        None => production_monthly
            .iter()
            .zip(i.monthly_usage_kwh.iter())
            .map(|(p, u)| (*p * i.self_consumption_share).min(Kwh(*u)))
            .sum(),
    };
    let exported = annual_production - self_consumed;

    let degradation = i.degradation_percent / 100.0;
    let escalation = i.escalation_percent / 100.0;
    let mut years = Vec::with_capacity(i.years as usize);
    let mut cumulative = Money::ZERO;
    let mut payback_year = None;
    for year in 1..=i.years {
        let n = f64::from(year - 1);
        let factor = (1.0 - degradation).powf(n);
        let prices = (1.0 + escalation).powf(n);
        let savings = Money::from_dollars(
            (self_consumed.value() * i.retail_rate + exported.value() * i.export_rate) * factor * prices,
        );
        cumulative += savings;
        if payback_year.is_none() && cumulative >= net_cost {
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
        system_price_cents: system_price,
        options,
        price_cents: price,
        tax_credit_cents: tax_credit,
        net_cost_cents: net_cost,
        deposit_cents: deposit,
        annual_production_kwh: annual_production,
        offset_achieved_percent: annual_production.value() / i.annual_usage_kwh.value() * 100.0,
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
        a("Yearly usage", format!("{:.0} kWh", i.annual_usage_kwh.value())),
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
            if i.roof_estimated {
                format!("{wanted} needed; the roof is measured at the survey")
            } else {
                format!("{wanted} needed, {} fit", i.max_panels)
            },
        ),
        a("Price per watt", i.price_per_watt_cents.to_string()),
        a(
            "Options",
            if i.options.is_empty() {
                "none".to_owned()
            } else {
                i.options
                    .iter()
                    .map(|o| {
                        let each = if o.per_panel { " per panel" } else { "" };
                        format!("{} at {}{each}", o.name, o.price_cents)
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
            annual_usage_kwh: Kwh(10_000.0),
            monthly_usage_kwh: [10_000.0 / 12.0; 12],
            production_per_kw_monthly: [1_400.0 / 12.0; 12],
            production_source: "test".into(),
            self_consumption_share: 0.3,
            offset_percent: 100.0,
            panel_name: "Test 410".into(),
            panel_watts: 410,
            max_panels: 30,
            roof_estimated: false,
            price_per_watt_cents: Money::from_cents(250),
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
        assert!((f.system_kw.value() - 7.38).abs() < 1e-12);
        assert!(!f.limited_by_roof);
        // 7,380 W × $2.50 = $18,450; deposit 10 % = $1,845.
        assert_eq!(f.price_cents, Money::from_cents(1_845_000));
        assert_eq!(f.deposit_cents, Money::from_cents(184_500));
        assert_eq!(f.net_cost_cents, Money::from_cents(1_845_000));
        // 7.38 kW × 1,400 = 10,332 kWh: 103.32 % of usage.
        assert!((f.annual_production_kwh.value() - 10_332.0).abs() < 1e-6);
        assert!((f.offset_achieved_percent - 103.32).abs() < 1e-9);
    }

    #[test]
    fn savings_and_payback_match_the_hand_computation() {
        let f = compute(&inputs(), None).unwrap();
        // Self-consumed 30 % of 10,332 = 3,099.6 kWh (below the usage each month);
        // exported 7,232.4 kWh. Year 1: 3,099.6 × 0.14 + 7,232.4 × 0.04 = $433.944 + $289.296.
        assert!((f.self_consumed_kwh.value() - 3_099.6).abs() < 1e-6);
        assert!((f.exported_kwh.value() - 7_232.4).abs() < 1e-6);
        assert_eq!(f.years[0].savings_cents.cents(), 72_324);
        // Year 2: $723.24 × 0.995 × 1.03 = $741.2125… → 74,121 cents.
        assert_eq!(f.years[1].savings_cents.cents(), 74_121);
        // Year 25: 723.24 × 0.995^24 × 1.03^24 = 723.24 × 0.88665 × 2.03279.
        let y25 = 723.24 * 0.995f64.powi(24) * 1.03f64.powi(24);
        assert_eq!(f.years[24].savings_cents.cents(), (y25 * 100.0).round() as i64);
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
                price_cents: Money::from_cents(2_500),
                per_panel: true,
            },
            ChosenOption {
                id: "battery".into(),
                name: "Battery".into(),
                price_cents: Money::from_cents(1_200_000),
                per_panel: false,
            },
        ];
        let plain = compute(&inputs(), None).unwrap();
        let f = compute(&i, None).unwrap();
        // 18 panels × $25 = $450, plus $12,000 once: $18,450 + $12,450 = $30,900.
        assert_eq!(f.options[0].quantity, 18);
        assert_eq!(f.options[0].total_cents, Money::from_cents(45_000));
        assert_eq!(f.options[1].quantity, 1);
        assert_eq!(f.system_price_cents, Money::from_cents(1_845_000));
        assert_eq!(f.price_cents, Money::from_cents(3_090_000));
        assert_eq!(f.deposit_cents, Money::from_cents(309_000));
        assert_eq!(f.years, plain.years, "savings do not count the options");
        assert!(f.payback_year.is_none() || f.payback_year > plain.payback_year);
        let listed = f.assumptions.iter().find(|a| a.name == "Options").unwrap();
        assert!(listed.value.contains("Critter guard at $25.00 per panel"));
        assert!(listed.value.contains("Battery at $12,000.00"));
    }

    #[test]
    fn the_roof_limits_the_size_and_says_so() {
        let mut i = inputs();
        i.max_panels = 12;
        let f = compute(&i, None).unwrap();
        assert_eq!(f.panels, 12);
        assert!(f.limited_by_roof);
        assert!((f.system_kw.value() - 4.92).abs() < 1e-12);
        // A roof not measured yet does not cap the size with a guess.
        i.roof_estimated = true;
        let f = compute(&i, None).unwrap();
        assert_eq!(f.panels, 18);
        assert!(!f.limited_by_roof);
        let roof = f
            .assumptions
            .iter()
            .find(|a| a.name.starts_with("Panels needed"))
            .unwrap();
        assert!(roof.value.contains("measured at the survey"), "{}", roof.value);
    }

    #[test]
    fn a_tax_credit_lowers_the_net_cost_only() {
        let mut i = inputs();
        i.tax_credit_percent = 30.0;
        let f = compute(&i, None).unwrap();
        assert_eq!(f.tax_credit_cents, Money::from_cents(553_500));
        assert_eq!(f.net_cost_cents, Money::from_cents(1_291_500));
        assert_eq!(
            f.deposit_cents,
            Money::from_cents(184_500),
            "the deposit is on the price"
        );
    }

    #[test]
    fn without_usage_or_production_there_is_no_quote() {
        let mut i = inputs();
        i.annual_usage_kwh = Kwh::ZERO;
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
        i.annual_usage_kwh = Kwh(8760.0);
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
            (f.self_consumed_kwh.value() - 3_285.0).abs() < 1e-6,
            "{}",
            f.self_consumed_kwh
        );
        assert!((f.exported_kwh.value() - (5.74 * 1_642.5 - 3_285.0)).abs() < 1e-6);
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
            short.self_consumed_kwh.value().abs() < 1e-9,
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
