//! Typical meteorological year files in the TMY3 format (Wilcox and Marion, *Users Manual for
//! TMY3 Data Sets*, NREL/TP-581-43156, 2008): line 1 is the station, line 2 the column names,
//! then one row per hour of a typical year.
//!
//! A TMY3 year stitches typical months from different years, so each row carries its own year;
//! the year is ignored and the rows are read as one non-leap year, 1 January 01:00 to
//! 31 December 24:00, in order and without gaps. Timestamps are hour-ending local standard
//! time: the row at 13:00 holds the averages over 12:00–13:00. Columns are found by their
//! header, so extra or reordered columns do no harm. Input is bounded in bytes and rows, and
//! every value must be physically plausible, so a damaged file is refused with the line and
//! column to look at rather than turned into a wrong estimate.

use std::io::Read;

use csv::StringRecord;

/// Rows in a TMY3 file: one hour each of a 365-day year.
pub const HOURS_PER_YEAR: usize = 8760;
/// No hourly year has more rows than a leap year; reading stops there.
pub const MAX_ROWS: usize = 8784;
/// TMY3 files are about 1.7 MB; this leaves room for wider variants and no more.
pub const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// Days in each month of the typical (non-leap) year.
const MONTH_DAYS: [u8; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// The weather station on line 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Station {
    pub id: String,
    pub name: String,
    pub state: String,
    /// Local standard time minus UTC, in hours (−5 for US Eastern).
    pub utc_offset_hours: f64,
    /// Degrees, north positive.
    pub latitude: f64,
    /// Degrees, east positive.
    pub longitude: f64,
    pub elevation_m: f64,
}

/// One hour of weather, averaged over the hour that ends at `hour`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeatherHour {
    pub month: u8,
    pub day: u8,
    /// Hour-ending local standard time, 1..=24 as in the file.
    pub hour: u8,
    /// Global horizontal irradiance, W/m².
    pub ghi: f64,
    /// Direct normal irradiance, W/m².
    pub dni: f64,
    /// Diffuse horizontal irradiance, W/m².
    pub dhi: f64,
    /// Dry-bulb air temperature, °C.
    pub temp_air: f64,
    /// Wind speed, m/s.
    pub wind_speed: f64,
    /// Ground reflectance, when the file has a measured value.
    pub albedo: Option<f64>,
}

/// A typical meteorological year: the station and its 8,760 hours in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Tmy {
    pub station: Station,
    pub hours: Vec<WeatherHour>,
}

/// Why a file was refused, with the line and column to look at.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum TmyError {
    #[error("the file could not be read: {0}")]
    Read(String),
    #[error("the file is larger than {} MB; a TMY3 file is about 2 MB", MAX_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file is empty")]
    Empty,
    #[error(
        "line 1: expected the station (id, name, state, UTC offset, latitude, longitude, elevation), \
         found {0} field(s)"
    )]
    Metadata(usize),
    #[error("line 1: the station's {field} `{value}` is not a number between {min} and {max}")]
    MetadataValue {
        field: &'static str,
        value: String,
        min: f64,
        max: f64,
    },
    #[error("line 2: the column names are missing")]
    NoHeader,
    #[error("line 2: no column named `{0}`; is this a TMY3 file?")]
    MissingColumn(&'static str),
    #[error("line {line}: the row ends before column `{column}`")]
    ShortRow { line: u64, column: &'static str },
    #[error("line {line}, column `{column}`: `{value}` is not a number")]
    NotANumber {
        line: u64,
        column: &'static str,
        value: String,
    },
    #[error("line {line}, column `{column}`: {value} is outside the plausible range {min} to {max}")]
    OutOfRange {
        line: u64,
        column: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error(
        "line {line}: expected {expected}, found `{found}`; rows must run hourly from 01/01 01:00 to \
         12/31 24:00 in order, without 29 February"
    )]
    Timestamp {
        line: u64,
        expected: String,
        found: String,
    },
    #[error("the file has more than {MAX_ROWS} hourly rows; a TMY3 file holds one year ({HOURS_PER_YEAR})")]
    TooManyRows,
    #[error("the file has {0} hourly rows; a TMY3 file holds exactly {HOURS_PER_YEAR}, one non-leap year")]
    RowCount(usize),
}

impl From<csv::Error> for TmyError {
    fn from(e: csv::Error) -> Self {
        Self::Read(e.to_string())
    }
}

/// A numeric column: its TMY3 header and the range a real measurement can take.
struct Column {
    header: &'static str,
    min: f64,
    max: f64,
}

const DATE: &str = "Date (MM/DD/YYYY)";
const TIME: &str = "Time (HH:MM)";
// Small negative irradiances are sensor offsets at night; the model clips them to zero.
const GHI: Column = Column {
    header: "GHI (W/m^2)",
    min: -10.0,
    max: 1500.0,
};
const DNI: Column = Column {
    header: "DNI (W/m^2)",
    min: -10.0,
    max: 1500.0,
};
const DHI: Column = Column {
    header: "DHI (W/m^2)",
    min: -10.0,
    max: 1000.0,
};
const TEMP_AIR: Column = Column {
    header: "Dry-bulb (C)",
    min: -90.0,
    max: 60.0,
};
const WIND_SPEED: Column = Column {
    header: "Wspd (m/s)",
    min: 0.0,
    max: 75.0,
};
/// TMY3 writes 0 or −9900 where no albedo was measured; those read as absent.
const ALBEDO: Column = Column {
    header: "Alb (unitless)",
    min: 0.0,
    max: 1.0,
};

/// Where each column sits in this file.
struct Layout {
    date: usize,
    time: usize,
    ghi: usize,
    dni: usize,
    dhi: usize,
    temp_air: usize,
    wind_speed: usize,
    albedo: Option<usize>,
}

impl Layout {
    fn from_header(header: &StringRecord) -> Result<Self, TmyError> {
        let find = |name: &'static str| header.iter().position(|h| h.trim() == name);
        let require = |name: &'static str| find(name).ok_or(TmyError::MissingColumn(name));
        Ok(Self {
            date: require(DATE)?,
            time: require(TIME)?,
            ghi: require(GHI.header)?,
            dni: require(DNI.header)?,
            dhi: require(DHI.header)?,
            temp_air: require(TEMP_AIR.header)?,
            wind_speed: require(WIND_SPEED.header)?,
            albedo: find(ALBEDO.header),
        })
    }
}

impl Tmy {
    /// Reads a TMY3 file; see the module documentation for what is accepted.
    pub fn parse(reader: impl Read) -> Result<Tmy, TmyError> {
        // One byte past the limit tells a file of exactly the limit from a longer one.
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(reader.take(MAX_BYTES + 1));
        let mut record = StringRecord::new();

        if !next_record(&mut csv, &mut record)? {
            return Err(TmyError::Empty);
        }
        let station = parse_station(&record)?;
        if !next_record(&mut csv, &mut record)? {
            return Err(TmyError::NoHeader);
        }
        let layout = Layout::from_header(&record)?;

        let mut hours = Vec::with_capacity(HOURS_PER_YEAR);
        let mut rows = 0;
        while next_record(&mut csv, &mut record)? {
            if rows == MAX_ROWS {
                return Err(TmyError::TooManyRows);
            }
            if rows < HOURS_PER_YEAR {
                hours.push(parse_hour(&record, &layout, rows)?);
            }
            rows += 1;
        }
        if rows != HOURS_PER_YEAR {
            return Err(TmyError::RowCount(rows));
        }
        Ok(Tmy { station, hours })
    }
}

/// Reads the next record, refusing input past `MAX_BYTES` before it is interpreted (a record
/// cut at the limit would otherwise read as a short row).
fn next_record<R: Read>(csv: &mut csv::Reader<R>, record: &mut StringRecord) -> Result<bool, TmyError> {
    let more = csv.read_record(record)?;
    if csv.position().byte() > MAX_BYTES {
        return Err(TmyError::TooLarge);
    }
    Ok(more)
}

fn parse_station(record: &StringRecord) -> Result<Station, TmyError> {
    if record.len() < 7 {
        return Err(TmyError::Metadata(record.len()));
    }
    let text = |i: usize| record.get(i).unwrap_or_default().to_owned();
    let number = |i: usize, field: &'static str, min: f64, max: f64| {
        let value = record.get(i).unwrap_or_default();
        value
            .parse::<f64>()
            .ok()
            .filter(|v| (min..=max).contains(v))
            .ok_or_else(|| TmyError::MetadataValue {
                field,
                value: value.to_owned(),
                min,
                max,
            })
    };
    Ok(Station {
        id: text(0),
        name: text(1),
        state: text(2),
        utc_offset_hours: number(3, "UTC offset", -12.0, 14.0)?,
        latitude: number(4, "latitude", -90.0, 90.0)?,
        longitude: number(5, "longitude", -180.0, 180.0)?,
        elevation_m: number(6, "elevation", -500.0, 9000.0)?,
    })
}

/// Parses data row `index` (0-based), which must be hour `index` of the typical year.
fn parse_hour(record: &StringRecord, layout: &Layout, index: usize) -> Result<WeatherHour, TmyError> {
    let line = record.position().map_or(0, |p| p.line());
    let (month, day, hour) = expected_timestamp(index);
    check_timestamp(record, layout, line, (month, day, hour))?;
    let value = |column: usize, spec: &Column| {
        let raw = field(record, column, spec.header, line)?;
        let value = raw.parse::<f64>().ok().filter(|v| v.is_finite());
        value.ok_or_else(|| TmyError::NotANumber {
            line,
            column: spec.header,
            value: raw.to_owned(),
        })
    };
    let in_range = |column: usize, spec: &Column| {
        let value = value(column, spec)?;
        if !(spec.min..=spec.max).contains(&value) {
            return Err(TmyError::OutOfRange {
                line,
                column: spec.header,
                value,
                min: spec.min,
                max: spec.max,
            });
        }
        Ok(value)
    };
    Ok(WeatherHour {
        month,
        day,
        hour,
        ghi: in_range(layout.ghi, &GHI)?,
        dni: in_range(layout.dni, &DNI)?,
        dhi: in_range(layout.dhi, &DHI)?,
        temp_air: in_range(layout.temp_air, &TEMP_AIR)?,
        wind_speed: in_range(layout.wind_speed, &WIND_SPEED)?,
        albedo: match layout.albedo {
            Some(column) if value(column, &ALBEDO)? > 0.0 => Some(in_range(column, &ALBEDO)?),
            _ => None,
        },
    })
}

fn field<'r>(
    record: &'r StringRecord,
    column: usize,
    name: &'static str,
    line: u64,
) -> Result<&'r str, TmyError> {
    record
        .get(column)
        .ok_or(TmyError::ShortRow { line, column: name })
}

/// Month, day and hour-ending of hour `index` (0-based) of a non-leap year.
fn expected_timestamp(index: usize) -> (u8, u8, u8) {
    let mut day_of_year = index / 24;
    let hour = (index % 24 + 1) as u8;
    for (month, &days) in (1u8..).zip(MONTH_DAYS.iter()) {
        if day_of_year < usize::from(days) {
            return (month, (day_of_year + 1) as u8, hour);
        }
        day_of_year -= usize::from(days);
    }
    (12, 31, hour)
}

/// The row's date and time must be the expected hour; only the year may be anything.
fn check_timestamp(
    record: &StringRecord,
    layout: &Layout,
    line: u64,
    (month, day, hour): (u8, u8, u8),
) -> Result<(), TmyError> {
    let date = field(record, layout.date, DATE, line)?;
    let time = field(record, layout.time, TIME, line)?;
    let mut date_parts = date.split('/').map(str::parse::<u16>);
    let matches = matches!(
        (date_parts.next(), date_parts.next(), date_parts.next(), date_parts.next()),
        (Some(Ok(m)), Some(Ok(d)), Some(Ok(_)), None) if m == u16::from(month) && d == u16::from(day)
    ) && time
        .split_once(':')
        .is_some_and(|(h, m)| h.parse() == Ok(hour) && m == "00");
    if !matches {
        return Err(TmyError::Timestamp {
            line,
            expected: format!("{month:02}/{day:02} {hour:02}:00"),
            found: format!("{date} {time}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GREENSBORO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/weather/723170TYA.CSV");
    const SAND_POINT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/weather/703165TY.csv");

    const HEADER: &str = "Date (MM/DD/YYYY),Time (HH:MM),GHI (W/m^2),DNI (W/m^2),DHI (W/m^2),\
                          Dry-bulb (C),Wspd (m/s),Alb (unitless)";

    /// A synthetic file: a station line, `header`, and `rows` rows of a plausible hour.
    fn synthetic(header: &str, rows: usize) -> String {
        let mut text = format!("999999,\"TEST, SITE\",XX,-5.0,36.1,-79.9,273\n{header}\n");
        for index in 0..rows {
            let (month, day, hour) = expected_timestamp(index % HOURS_PER_YEAR);
            text.push_str(&format!(
                "{month:02}/{day:02}/1999,{hour:02}:00,500,600,100,20.5,3.0,0.2\n"
            ));
        }
        text
    }

    fn parse(text: &str) -> Result<Tmy, TmyError> {
        Tmy::parse(text.as_bytes())
    }

    /// Replaces the `row`-th data row (0-based) with `replacement`.
    fn with_row(text: &str, row: usize, replacement: &str) -> String {
        let mut lines: Vec<&str> = text.lines().collect();
        lines[row + 2] = replacement;
        lines.join("\n")
    }

    #[test]
    fn reads_both_test_files() {
        for (path, id, latitude, offset) in [
            (GREENSBORO, "723170", 36.1, -5.0),
            (SAND_POINT, "703165", 55.317, -9.0),
        ] {
            let tmy = Tmy::parse(std::fs::File::open(path).unwrap()).unwrap();
            assert_eq!(tmy.station.id, id);
            assert_eq!(tmy.station.latitude, latitude);
            assert_eq!(tmy.station.utc_offset_hours, offset);
            assert_eq!(tmy.hours.len(), HOURS_PER_YEAR);
            let last = tmy.hours[HOURS_PER_YEAR - 1];
            assert_eq!((last.month, last.day, last.hour), (12, 31, 24));
        }
        let greensboro = Tmy::parse(std::fs::File::open(GREENSBORO).unwrap()).unwrap();
        assert_eq!(greensboro.station.name, "GREENSBORO PIEDMONT TRIAD INT");
        assert_eq!(greensboro.station.elevation_m, 273.0);
        // Line 13 of the file: 1 January 1988, 11:00.
        let hour = greensboro.hours[10];
        assert_eq!(
            (hour.ghi, hour.dni, hour.dhi, hour.temp_air, hour.wind_speed),
            (199.0, 3.0, 198.0, 11.7, 6.2)
        );
        // Greensboro has no albedo measurements (0.00); Sand Point has them.
        assert_eq!(hour.albedo, None);
        let sand_point = Tmy::parse(std::fs::File::open(SAND_POINT).unwrap()).unwrap();
        assert_eq!(sand_point.hours[0].albedo, Some(0.24));
    }

    #[test]
    fn finds_columns_by_name_in_any_order() {
        let header =
            "Wspd (m/s),Time (HH:MM),Date (MM/DD/YYYY),DHI (W/m^2),DNI (W/m^2),GHI (W/m^2),Dry-bulb (C)";
        let mut text = format!("1,X,XX,-5,36,-80,0\n{header}\n");
        for index in 0..HOURS_PER_YEAR {
            let (month, day, hour) = expected_timestamp(index);
            text.push_str(&format!("2.5,{hour}:00,{month}/{day}/2001,90,700,650,-3\n"));
        }
        let tmy = parse(&text).unwrap();
        let hour = tmy.hours[100];
        assert_eq!(
            (hour.ghi, hour.dni, hour.dhi, hour.temp_air, hour.wind_speed),
            (650.0, 700.0, 90.0, -3.0, 2.5)
        );
        assert_eq!(hour.albedo, None);
    }

    #[test]
    fn accepts_a_complete_synthetic_year() {
        let tmy = parse(&synthetic(HEADER, HOURS_PER_YEAR)).unwrap();
        assert_eq!(tmy.station.name, "TEST, SITE");
        assert_eq!(tmy.hours[0].albedo, Some(0.2));
    }

    #[test]
    fn refuses_a_short_file() {
        let error = parse(&synthetic(HEADER, 8759)).unwrap_err();
        assert_eq!(error, TmyError::RowCount(8759));
        assert_eq!(
            error.to_string(),
            "the file has 8759 hourly rows; a TMY3 file holds exactly 8760, one non-leap year"
        );
        assert_eq!(parse("").unwrap_err(), TmyError::Empty);
        assert_eq!(parse("1,X,XX,-5,36,-80,0\n").unwrap_err(), TmyError::NoHeader);
    }

    #[test]
    fn refuses_too_many_rows_without_reading_on() {
        assert_eq!(
            parse(&synthetic(HEADER, 8761)).unwrap_err(),
            TmyError::RowCount(8761)
        );
        let error = parse(&synthetic(HEADER, 9000)).unwrap_err();
        assert_eq!(error, TmyError::TooManyRows);
        assert_eq!(
            error.to_string(),
            "the file has more than 8784 hourly rows; a TMY3 file holds one year (8760)"
        );
    }

    #[test]
    fn refuses_a_file_over_the_byte_limit() {
        let mut text = synthetic(HEADER, 10);
        text.push_str(&"x".repeat(MAX_BYTES as usize));
        assert_eq!(parse(&text).unwrap_err(), TmyError::TooLarge);
    }

    #[test]
    fn refuses_a_bad_number_with_line_and_column() {
        let text = with_row(
            &synthetic(HEADER, HOURS_PER_YEAR),
            4,
            "01/01/1999,05:00,500,6oo,100,20.5,3.0,0.2",
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 7, column `DNI (W/m^2)`: `6oo` is not a number"
        );
        let text = with_row(
            &synthetic(HEADER, HOURS_PER_YEAR),
            0,
            "01/01/1999,01:00,NaN,0,0,20.5,3.0,0.2",
        );
        assert!(matches!(
            parse(&text).unwrap_err(),
            TmyError::NotANumber { line: 3, .. }
        ));
    }

    #[test]
    fn refuses_implausible_values() {
        let base = synthetic(HEADER, HOURS_PER_YEAR);
        let error = parse(&with_row(&base, 9, "01/01/1999,10:00,1600,600,100,20.5,3.0,0.2")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 12, column `GHI (W/m^2)`: 1600 is outside the plausible range -10 to 1500"
        );
        let error = parse(&with_row(&base, 9, "01/01/1999,10:00,500,600,-11,20.5,3.0,0.2")).unwrap_err();
        assert!(
            matches!(
                error,
                TmyError::OutOfRange {
                    column: "DHI (W/m^2)",
                    ..
                }
            ),
            "{error}"
        );
        let error = parse(&with_row(&base, 9, "01/01/1999,10:00,500,600,100,20.5,3.0,1.5")).unwrap_err();
        assert!(
            matches!(
                error,
                TmyError::OutOfRange {
                    column: "Alb (unitless)",
                    ..
                }
            ),
            "{error}"
        );
        // Slightly negative irradiance and a missing albedo (−9900) are accepted.
        let tmy = parse(&with_row(&base, 9, "01/01/1999,10:00,-2,0,-1,20.5,3.0,-9900")).unwrap();
        assert_eq!((tmy.hours[9].ghi, tmy.hours[9].albedo), (-2.0, None));
    }

    #[test]
    fn refuses_a_missing_column() {
        let header = HEADER.replace("Dry-bulb (C)", "Dry bulb");
        let error = parse(&synthetic(&header, HOURS_PER_YEAR)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: no column named `Dry-bulb (C)`; is this a TMY3 file?"
        );
        let text = with_row(&synthetic(HEADER, HOURS_PER_YEAR), 20, "01/01/1999,21:00,500,600");
        let error = parse(&text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 23: the row ends before column `DHI (W/m^2)`"
        );
    }

    #[test]
    fn refuses_bad_station_metadata() {
        let text = synthetic(HEADER, 1).replacen("36.1", "north", 1);
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "line 1: the station's latitude `north` is not a number between -90 and 90"
        );
        let text = synthetic(HEADER, 1).replacen(",273", "", 1);
        assert_eq!(parse(&text).unwrap_err(), TmyError::Metadata(6));
    }

    #[test]
    fn refuses_rows_out_of_order_or_a_leap_day() {
        let base = synthetic(HEADER, HOURS_PER_YEAR);
        let error = parse(&with_row(&base, 24, "01/01/1999,24:00,0,0,0,5,1,0.2")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 27: expected 01/02 01:00, found `01/01/1999 24:00`; rows must run hourly from 01/01 01:00 \
             to 12/31 24:00 in order, without 29 February"
        );
        let leap_day = with_row(&base, 59 * 24, "02/29/1996,01:00,0,0,0,5,1,0.2");
        assert!(matches!(
            parse(&leap_day).unwrap_err(),
            TmyError::Timestamp { line: 1419, .. }
        ));
        let half_hour = with_row(&base, 3, "01/01/1999,04:30,0,0,0,5,1,0.2");
        assert!(matches!(
            parse(&half_hour).unwrap_err(),
            TmyError::Timestamp { .. }
        ));
    }

    #[test]
    fn hour_index_maps_to_the_calendar() {
        assert_eq!(expected_timestamp(0), (1, 1, 1));
        assert_eq!(expected_timestamp(23), (1, 1, 24));
        assert_eq!(expected_timestamp(59 * 24), (3, 1, 1));
        assert_eq!(expected_timestamp(HOURS_PER_YEAR - 1), (12, 31, 24));
    }
}
