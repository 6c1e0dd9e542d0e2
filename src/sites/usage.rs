//! A year of usage from whatever the customer gave us: a Green Button file (any length), twelve
//! monthly figures, or one annual figure. Whatever had to be estimated is said in `notes`.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use crate::sizing::greenbutton::{Interval, MonthTotal};

/// Days in each month of a common year, January first.
const DAYS: [f64; 12] = [
    31.0, 28.0, 31.0, 30.0, 31.0, 30.0, 31.0, 31.0, 30.0, 31.0, 30.0, 31.0,
];

#[derive(Clone, Debug, PartialEq)]
pub struct YearOfUsage {
    pub annual_kwh: f64,
    /// January first.
    pub monthly_kwh: [f64; 12],
    pub notes: Vec<String>,
}

/// Spreads `annual` over the months by their number of days.
pub fn by_days(annual: f64) -> [f64; 12] {
    DAYS.map(|d| annual * d / 365.0)
}

pub fn from_annual(annual_kwh: f64) -> YearOfUsage {
    YearOfUsage {
        annual_kwh,
        monthly_kwh: by_days(annual_kwh),
        notes: vec!["one annual figure was given: it is spread over the months by their length".into()],
    }
}

pub fn from_monthly(monthly_kwh: [f64; 12]) -> YearOfUsage {
    YearOfUsage {
        annual_kwh: monthly_kwh.iter().sum(),
        monthly_kwh,
        notes: Vec::new(),
    }
}

/// From an import: a year or more is averaged month by month, each calendar month from the
/// days its readings cover (a bill that starts on the 26th gives its first month six days, not
/// a whole month, and a month the file covers in part is scaled by its days, never averaged
/// with a whole one as if it were one); less than a year is scaled to a year.
pub fn from_import(
    months: &[MonthTotal],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    delivered_kwh: f64,
) -> YearOfUsage {
    let days = (end - start).num_seconds() as f64 / 86_400.0;
    if days >= 360.0 {
        let mut sums = [0.0; 12];
        let mut days = [0.0; 12];
        let mut counts = [0u32; 12];
        for m in months.iter().filter(|m| m.days_covered > 0.0) {
            let i = (m.month as usize).saturating_sub(1).min(11);
            sums[i] += m.delivered_kwh;
            days[i] += m.days_covered;
            counts[i] += 1;
        }
        let mut notes = Vec::new();
        if counts.iter().any(|c| *c > 1) {
            notes
                .push("months that appear in more than one year are averaged by the days each covers".into());
        }
        if counts
            .iter()
            .zip(days)
            .zip(DAYS)
            .any(|((count, covered), length)| *count == 1 && covered < length - 0.5)
        {
            notes.push("months the readings cover only in part are scaled from the days they cover".into());
        }
        let mut monthly = [0.0; 12];
        for i in 0..12 {
            monthly[i] = if days[i] > 0.0 {
                sums[i] / days[i] * DAYS[i]
            } else {
                0.0
            };
        }
        if counts.contains(&0) {
            notes.push("some months have no readings; they count as zero".into());
        }
        return YearOfUsage {
            annual_kwh: monthly.iter().sum(),
            monthly_kwh: monthly,
            notes,
        };
    }
    let days = days.max(1.0);
    let annual = delivered_kwh * 365.0 / days;
    YearOfUsage {
        annual_kwh: annual,
        monthly_kwh: by_days(annual),
        notes: vec![format!(
            "the file covers {:.0} days: the yearly figure is scaled from them and spread over the months \
             by their length; a full year of readings gives a more accurate quote",
            days
        )],
    }
}

/// Hours of the typical year hourly usage is laid on (365 days; 29 February is left out).
pub const HOURS: usize = 8760;

/// A typical year of hourly usage from a file of a year or more with readings of an hour or
/// less: hour `i` starts `i` hours after midnight on 1 January, local standard time, the same
/// layout as the typical-year weather. Hours covered by several years are averaged; `None`
/// when the file is shorter, coarser, or misses more than 1 % of the year's hours.
pub fn hourly_profile(delivered: &[Interval], utc_offset_secs: i32) -> Option<Vec<f64>> {
    let first = delivered.iter().map(|i| i.start).min()?;
    let last = delivered
        .iter()
        .map(|i| i.start + i64::from(i.duration_secs))
        .max()?;
    if last - first < 360 * 86_400
        || delivered
            .iter()
            .any(|i| i.duration_secs > 3600 || i.duration_secs == 0)
    {
        return None;
    }
    let mut sums = vec![0.0; HOURS];
    let mut years: Vec<Vec<i32>> = vec![Vec::new(); HOURS];
    for interval in delivered {
        let local = DateTime::from_timestamp(interval.start + i64::from(utc_offset_secs), 0)?.naive_utc();
        if local.month() == 2 && local.day() == 29 {
            continue;
        }
        // Day of a 365-day year: after February, leap years are one day ahead.
        let mut day = local.ordinal0() as usize;
        if local.date().leap_year() && local.month() > 2 {
            day -= 1;
        }
        let index = day * 24 + local.hour() as usize;
        let Some(slot) = sums.get_mut(index) else { continue };
        *slot += interval.kwh;
        if !years[index].contains(&local.year()) {
            years[index].push(local.year());
        }
    }
    let missing = years.iter().filter(|y| y.is_empty()).count();
    if missing * 100 > HOURS {
        return None;
    }
    Some(
        sums.into_iter()
            .zip(years)
            .map(|(sum, y)| if y.is_empty() { 0.0 } else { sum / y.len() as f64 })
            .collect(),
    )
}

/// The month names for charts and tables.
pub fn month_label(index: usize) -> String {
    NaiveDate::from_ymd_opt(2001, index as u32 + 1, 1)
        .map(|d| d.format("%b").to_string())
        .unwrap_or_default()
}

/// The calendar month of a date, 0-based (January = 0).
pub fn month_index(at: DateTime<Utc>) -> usize {
    at.month0() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_hourly_year_lays_on_the_typical_calendar_and_short_or_coarse_files_do_not() {
        let start = Utc.with_ymd_and_hms(2011, 1, 1, 5, 0, 0).unwrap().timestamp();
        let hourly: Vec<Interval> = (0..8760)
            .map(|h| Interval {
                start: start + h * 3600,
                duration_secs: 3600,
                kwh: (h % 24) as f64,
            })
            .collect();
        // tzOffset −5 h: 05:00 UTC is local midnight.
        let profile = hourly_profile(&hourly, -5 * 3600).unwrap();
        assert_eq!(profile.len(), HOURS);
        assert_eq!(profile[0], 0.0);
        assert_eq!(profile[13], 13.0);
        assert_eq!(profile[HOURS - 1], 23.0);
        assert!(hourly_profile(&hourly[..1000], -5 * 3600).is_none(), "too short");
        let daily: Vec<Interval> = (0..365)
            .map(|d| Interval {
                start: start + d * 86_400,
                duration_secs: 86_400,
                kwh: 24.0,
            })
            .collect();
        assert!(hourly_profile(&daily, 0).is_none(), "too coarse");
    }

    #[test]
    fn an_annual_figure_is_spread_by_days() {
        let y = from_annual(3650.0);
        assert!((y.monthly_kwh[0] - 310.0).abs() < 1e-9);
        assert!((y.monthly_kwh[1] - 280.0).abs() < 1e-9);
        assert!((y.monthly_kwh.iter().sum::<f64>() - 3650.0).abs() < 1e-9);
    }

    #[test]
    fn a_short_import_is_scaled_to_a_year_and_says_so() {
        let start = Utc.with_ymd_and_hms(2012, 4, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2012, 5, 1, 0, 0, 0).unwrap();
        let y = from_import(&[], start, end, 300.0);
        assert!((y.annual_kwh - 300.0 * 365.0 / 30.0).abs() < 1e-9);
        assert!(y.notes[0].contains("30 days"));
    }

    #[test]
    fn a_year_of_months_is_taken_as_it_is() {
        let months: Vec<MonthTotal> = (1..=12)
            .map(|m| MonthTotal {
                year: 2011,
                month: m,
                delivered_kwh: f64::from(m),
                exported_kwh: 0.0,
                days_covered: DAYS[(m - 1) as usize],
            })
            .collect();
        let start = Utc.with_ymd_and_hms(2011, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2012, 1, 1, 0, 0, 0).unwrap();
        let y = from_import(&months, start, end, 78.0);
        assert_eq!(y.annual_kwh, 78.0);
        assert_eq!(y.monthly_kwh[11], 12.0);
        assert!(y.notes.is_empty());
    }

    /// Monthly bills from `from` to each next `day` of the month, using `per_day` kWh a day.
    fn bills(from: NaiveDate, until: NaiveDate, day: u32, per_day: f64) -> Vec<Interval> {
        let mut out = Vec::new();
        let mut start = from;
        while start < until {
            let next = start
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.with_day(day))
                .unwrap()
                .min(until);
            let secs = (next - start).num_seconds();
            out.push(Interval {
                start: start.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp(),
                duration_secs: secs as u32,
                kwh: per_day * secs as f64 / 86_400.0,
            });
            start = next;
        }
        out
    }

    fn year_from_bills(bills: &[Interval]) -> YearOfUsage {
        let months = crate::sizing::greenbutton::monthly(bills, &[], 0);
        let start = bills.first().unwrap().start;
        let last = bills.last().unwrap();
        let end = last.start + i64::from(last.duration_secs);
        let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap();
        let delivered = bills.iter().map(|b| b.kwh).sum();
        from_import(&months, at(start), at(end), delivered)
    }

    #[test]
    fn bills_that_straddle_months_are_spread_over_their_days() {
        // Thirteen bills from 26 August to 25 September a year later, 10 kWh every day: every
        // month is 10 kWh a day, and the year 3,650 kWh. Put in the month it starts, as
        // before, each bill made August hold a whole bill and the year came out low.
        let bills = bills(
            NaiveDate::from_ymd_opt(2011, 8, 26).unwrap(),
            NaiveDate::from_ymd_opt(2012, 9, 25).unwrap(),
            25,
            10.0,
        );
        assert_eq!(bills.len(), 13);
        let months = crate::sizing::greenbutton::monthly(&bills, &[], 0);
        let august = months.iter().find(|m| m.year == 2011 && m.month == 8).unwrap();
        assert!((august.delivered_kwh - 60.0).abs() < 1e-6, "{august:?}");
        assert!((august.days_covered - 6.0).abs() < 1e-9);
        let year = year_from_bills(&bills);
        for (i, kwh) in year.monthly_kwh.iter().enumerate() {
            assert!((kwh - 10.0 * DAYS[i]).abs() < 1e-6, "month {i}: {kwh}");
        }
        assert!((year.annual_kwh - 3_650.0).abs() < 1e-6, "{}", year.annual_kwh);
        assert!(year.notes.iter().any(|n| n.contains("averaged by the days")));
    }

    #[test]
    fn a_short_final_bill_does_not_halve_its_month() {
        // A year of bills on the 1st, then a 4-day final bill: September is 10 kWh a day from
        // the full bill and the short one alike, not the mean of 300 and 40.
        let mut all = bills(
            NaiveDate::from_ymd_opt(2011, 9, 1).unwrap(),
            NaiveDate::from_ymd_opt(2012, 9, 1).unwrap(),
            1,
            10.0,
        );
        all.extend(bills(
            NaiveDate::from_ymd_opt(2012, 9, 1).unwrap(),
            NaiveDate::from_ymd_opt(2012, 9, 5).unwrap(),
            1,
            10.0,
        ));
        let year = year_from_bills(&all);
        assert!(
            (year.monthly_kwh[8] - 300.0).abs() < 1e-6,
            "{}",
            year.monthly_kwh[8]
        );
        assert!((year.annual_kwh - 3_650.0).abs() < 1e-6);
    }
}
