//! Green Button (NAESB ESPI) usage import: an Atom feed whose entries hold `ReadingType`,
//! `MeterReading` and `IntervalBlock` resources linked by `self`/`up`/`related` hrefs.
//!
//! Streaming with quick-xml, bounded in size, depth, readings and time, and closed to the
//! classic XML attacks (S-SF-2): a document type declaration is refused outright, so no entity
//! can be declared, expanded or fetched; quick-xml never resolves external resources anyway.
//! Element names are matched by local name, so any namespace prefix (`espi:`, `ns0:`, none)
//! works. Units are never guessed: a reading type without `uom` is refused, gas (therms) and
//! other commodities are refused with a message that says what the file is.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use quick_xml::events::Event;
use serde::Serialize;

/// ESPI unit codes (IEC 61968-9 `UnitSymbolKind`).
const UOM_WATT_HOUR: u32 = 72;
const UOM_THERM: u32 = 169;
/// ESPI `FlowDirectionKind`: energy delivered to the home, and received from it (exported by
/// panels already on the roof).
const FLOW_DELIVERED: u32 = 1;
const FLOW_RECEIVED: u32 = 19;
/// ESPI `CommodityKind` values that are electricity.
const ELECTRIC_COMMODITIES: [u32; 3] = [0, 1, 2];

/// Bounds on what one upload may cost.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_readings: usize,
    pub max_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            // Real files nest about 8 deep.
            max_depth: 32,
            // Five years of 15-minute readings.
            max_readings: 5 * 366 * 96,
            max_time: Duration::from_secs(2),
        }
    }
}

/// Why a file was refused, in words a customer can act on.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is larger than {0} MB")]
    TooLarge(usize),
    #[error("the file declares a document type or entities, which are not accepted")]
    DocumentType,
    #[error("the file nests elements more than {0} deep")]
    TooDeep(usize),
    #[error("the file has more than {0} readings")]
    TooManyReadings(usize),
    #[error("the file took too long to read")]
    TooSlow,
    #[error("the file is not well-formed XML near byte {position}: {detail}")]
    Malformed { position: u64, detail: String },
    #[error("the file is not a Green Button usage file (no interval readings found)")]
    NoReadings,
    #[error("this is a gas usage file (therms); upload your electricity usage instead")]
    Gas,
    #[error("this file measures something other than electricity (commodity {0})")]
    NotElectricity(u32),
    #[error("the readings are in unit code {0}, not watt-hours")]
    NotEnergy(u32),
    #[error("the file does not say what unit its readings are in")]
    MissingUnits,
    #[error("the readings cannot be matched to their reading type")]
    UnlinkedReadings,
    #[error("{element} holds `{text}`, which is not a whole number")]
    BadNumber { element: &'static str, text: String },
}

/// One interval of the import, in kWh.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    /// Unix seconds, UTC.
    pub start: i64,
    pub duration_secs: u32,
    pub kwh: f64,
}

/// Energy of one calendar month (local time of the file). A reading that spans a month's end
/// (a bill from the 26th to the 25th) is spread evenly over the time it covers, so each month
/// gets its days' share.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MonthTotal {
    pub year: i32,
    pub month: u32,
    pub delivered_kwh: f64,
    pub exported_kwh: f64,
    /// How many days of the month the delivered readings cover (a month the file starts or
    /// ends in is covered only in part).
    pub days_covered: f64,
}

/// The parts of `interval` in each local calendar month: (year, month, kWh, seconds).
fn by_month(interval: &Interval, utc_offset_secs: i32) -> Vec<(i32, u32, f64, i64)> {
    let local = |secs: i64| Utc.timestamp_opt(secs, 0).single().unwrap_or_default();
    let start = interval.start + i64::from(utc_offset_secs);
    let length = i64::from(interval.duration_secs);
    let end = start + length;
    if length == 0 {
        let at = local(start);
        return vec![(at.year(), at.month(), interval.kwh, 0)];
    }
    let mut parts = Vec::with_capacity(1);
    let mut from = start;
    while from < end {
        let at = local(from);
        let (year, month) = (at.year(), at.month());
        let (next_year, next_month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let next = NaiveDate::from_ymd_opt(next_year, next_month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(end, |d| d.and_utc().timestamp());
        let until = next.clamp(from + 1, end);
        let secs = until - from;
        parts.push((year, month, interval.kwh * secs as f64 / length as f64, secs));
        from = until;
    }
    parts
}

/// What the import understood, shown to the customer before anything is computed from it.
#[derive(Clone, Debug, Serialize)]
pub struct Usage {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The most common reading length.
    pub interval_secs: u32,
    pub readings: usize,
    /// Energy delivered to the home (what it used from the grid).
    pub delivered_kwh: f64,
    /// Energy the home sent to the grid (existing panels), reported apart, never netted.
    pub exported_kwh: f64,
    pub monthly: Vec<MonthTotal>,
    /// Offset of the file's local time from UTC, in seconds (`LocalTimeParameters`).
    pub utc_offset_secs: i32,
    /// What the import had to assume, in words ("flow direction not stated: taken as delivered").
    pub notes: Vec<String>,
    #[serde(skip)]
    pub delivered: Vec<Interval>,
}

#[derive(Clone, Debug, Default)]
struct ReadingType {
    uom: Option<u32>,
    multiplier: Option<i32>,
    flow: Option<u32>,
    commodity: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default)]
struct RawReading {
    start: Option<i64>,
    duration: Option<u32>,
    value: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    ReadingType,
    MeterReading,
    IntervalBlock,
    LocalTime,
    Other,
}

#[derive(Default)]
struct Entry {
    self_href: Option<String>,
    up_href: Option<String>,
    related: Vec<String>,
    kind: Option<Kind>,
    reading_type: ReadingType,
    readings: Vec<RawReading>,
    tz_offset: Option<i32>,
}

/// Hrefs may be relative (`ReadingType/07`) or absolute (`https://…/resource/ReadingType/07`):
/// compare from the resource path on.
fn normalise(href: &str) -> String {
    let path = href.split("/resource/").last().unwrap_or(href);
    path.trim_start_matches('/').trim_end_matches('/').to_owned()
}

fn parse_int<T: std::str::FromStr>(element: &'static str, text: &str) -> Result<T, ImportError> {
    text.trim().parse().map_err(|_| ImportError::BadNumber {
        element,
        text: text.trim().chars().take(32).collect(),
    })
}

/// Reads a Green Button file and sums its electricity readings.
pub fn import(bytes: &[u8], limits: Limits) -> Result<Usage, ImportError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImportError::TooLarge(limits.max_bytes / (1024 * 1024)));
    }
    let entries = read_entries(bytes, limits)?;
    summarise(entries)
}

fn read_entries(bytes: &[u8], limits: Limits) -> Result<Vec<Entry>, ImportError> {
    let started = Instant::now();
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let malformed = |reader: &quick_xml::Reader<&[u8]>, detail: String| ImportError::Malformed {
        position: reader.buffer_position(),
        detail,
    };
    // Local names of the open elements, outermost first.
    let mut path: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut entry: Option<Entry> = None;
    let mut reading = RawReading::default();
    let mut readings = 0usize;
    let mut events = 0u32;
    loop {
        events = events.wrapping_add(1);
        if events.is_multiple_of(4096) && started.elapsed() > limits.max_time {
            return Err(ImportError::TooSlow);
        }
        let event = reader
            .read_event()
            .map_err(|e| malformed(&reader, e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(ImportError::DocumentType),
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_owned();
                if path.len() >= limits.max_depth {
                    return Err(ImportError::TooDeep(limits.max_depth));
                }
                match name.as_str() {
                    "entry" => entry = Some(Entry::default()),
                    "IntervalReading" => reading = RawReading::default(),
                    _ => {}
                }
                if let Some(e) = entry.as_mut() {
                    note_kind(e, &name, &path);
                    if name == "link" {
                        note_link(e, &start);
                    }
                }
                path.push(name);
            }
            Event::Empty(empty) => {
                let name = empty.local_name().as_ref().to_owned();
                if let Some(e) = entry.as_mut() {
                    note_kind(e, &name, &path);
                    if name == "link" {
                        note_link(e, &empty);
                    }
                }
            }
            Event::End(_) => {
                let Some(name) = path.pop() else {
                    return Err(malformed(&reader, "a closing tag without its opening tag".into()));
                };
                match name.as_str() {
                    "IntervalReading" => {
                        if let Some(e) = entry.as_mut() {
                            readings += 1;
                            if readings > limits.max_readings {
                                return Err(ImportError::TooManyReadings(limits.max_readings));
                            }
                            e.readings.push(reading);
                        }
                    }
                    "entry" => {
                        if let Some(e) = entry.take() {
                            entries.push(e);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(text) => {
                let Some(e) = entry.as_mut() else { continue };
                note_text(e, &mut reading, &path, &text)?;
            }
            Event::GeneralRef(_) => {
                // Without a document type no entity can be declared; numbers and hrefs we
                // read never need one. A reference is either predefined (ignored) or unknown.
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(malformed(
            &reader,
            "the file ends before its elements are closed".into(),
        ));
    }
    Ok(entries)
}

fn note_kind(e: &mut Entry, name: &str, path: &[String]) {
    // The resource is the first element inside `content`.
    if e.kind.is_none() && path.last().is_some_and(|p| p == "content") {
        e.kind = Some(match name {
            "ReadingType" => Kind::ReadingType,
            "MeterReading" => Kind::MeterReading,
            "IntervalBlock" => Kind::IntervalBlock,
            "LocalTimeParameters" => Kind::LocalTime,
            _ => Kind::Other,
        });
    }
}

fn note_link(e: &mut Entry, link: &quick_xml::events::BytesStart<'_>) {
    let mut rel = None;
    let mut href = None;
    for attr in link.attributes().flatten() {
        let value = attr.value.into_owned();
        match attr.key.local_name().as_ref() {
            "rel" => rel = Some(value),
            "href" => href = Some(normalise(&value)),
            _ => {}
        }
    }
    let Some(href) = href else { return };
    match rel.as_deref() {
        Some("self") => e.self_href = Some(href),
        Some("up") => e.up_href = Some(href),
        Some("related") => e.related.push(href),
        _ => {}
    }
}

fn note_text(
    e: &mut Entry,
    reading: &mut RawReading,
    path: &[String],
    text: &str,
) -> Result<(), ImportError> {
    let Some(leaf) = path.last() else { return Ok(()) };
    let parent = path.len().checked_sub(2).and_then(|i| path.get(i));
    match e.kind {
        Some(Kind::ReadingType) if parent.is_some_and(|p| p == "ReadingType") => match leaf.as_str() {
            "uom" => e.reading_type.uom = Some(parse_int("uom", text)?),
            "powerOfTenMultiplier" => {
                e.reading_type.multiplier = Some(parse_int("powerOfTenMultiplier", text)?)
            }
            "flowDirection" => e.reading_type.flow = Some(parse_int("flowDirection", text)?),
            "commodity" => e.reading_type.commodity = Some(parse_int("commodity", text)?),
            _ => {}
        },
        Some(Kind::IntervalBlock) => match (parent.map(String::as_str), leaf.as_str()) {
            (Some("timePeriod"), "start") => reading.start = Some(parse_int("start", text)?),
            (Some("timePeriod"), "duration") => reading.duration = Some(parse_int("duration", text)?),
            (Some("IntervalReading"), "value") => reading.value = Some(parse_int("value", text)?),
            _ => {}
        },
        Some(Kind::LocalTime) if leaf == "tzOffset" => e.tz_offset = Some(parse_int("tzOffset", text)?),
        _ => {}
    }
    Ok(())
}

/// Matches each block of readings to its reading type and sums the electricity.
fn summarise(entries: Vec<Entry>) -> Result<Usage, ImportError> {
    let mut notes = Vec::new();
    let types: HashMap<String, ReadingType> = entries
        .iter()
        .filter(|e| e.kind == Some(Kind::ReadingType))
        .map(|e| (e.self_href.clone().unwrap_or_default(), e.reading_type.clone()))
        .collect();
    // MeterReading → its ReadingType, through the `related` links.
    let meter_types: HashMap<String, ReadingType> = entries
        .iter()
        .filter(|e| e.kind == Some(Kind::MeterReading))
        .filter_map(|e| {
            let rt = e.related.iter().find_map(|r| types.get(r))?;
            Some((e.self_href.clone()?, rt.clone()))
        })
        .collect();
    let utc_offset_secs = entries
        .iter()
        .find_map(|e| e.tz_offset)
        .unwrap_or(0)
        .clamp(-14 * 3600, 14 * 3600);
    let only_type = (types.len() == 1)
        .then(|| types.values().next().cloned())
        .flatten();

    let mut delivered: Vec<Interval> = Vec::new();
    let mut exported: Vec<Interval> = Vec::new();
    // A block repeated in the feed must not count twice; two different readings with one start
    // (a daylight-saving hour written twice) both count, as the utility billed them.
    let mut seen: HashMap<(u32, i64, u32, i64), usize> = HashMap::new();
    let mut duplicates = 0usize;
    let mut incomplete = 0usize;
    for (block_index, block) in entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == Some(Kind::IntervalBlock))
    {
        // A block's `up` is "<its MeterReading>/IntervalBlock".
        let meter = block
            .up_href
            .as_deref()
            .and_then(|up| up.strip_suffix("/IntervalBlock"))
            .and_then(|m| meter_types.get(m));
        let Some(rt) = meter.cloned().or_else(|| only_type.clone()) else {
            return Err(ImportError::UnlinkedReadings);
        };
        let factor = energy_factor(&rt, &mut notes)?;
        let flow = rt.flow.unwrap_or(FLOW_DELIVERED);
        let target = match flow {
            FLOW_RECEIVED => &mut exported,
            FLOW_DELIVERED => &mut delivered,
            // Net or total flows would count exports twice: refuse to guess.
            other => return Err(ImportError::NotEnergy(other)),
        };
        for r in &block.readings {
            let (Some(start), Some(duration), Some(value)) = (r.start, r.duration, r.value) else {
                incomplete += 1;
                continue;
            };
            match seen.get(&(flow, start, duration, value)) {
                Some(first) if *first != block_index => {
                    duplicates += 1;
                    continue;
                }
                Some(_) => {}
                None => {
                    seen.insert((flow, start, duration, value), block_index);
                }
            }
            target.push(Interval {
                start,
                duration_secs: duration,
                kwh: value as f64 * factor,
            });
        }
    }
    if delivered.is_empty() && exported.is_empty() {
        if types.values().any(|t| t.uom == Some(UOM_THERM)) {
            return Err(ImportError::Gas);
        }
        return Err(ImportError::NoReadings);
    }
    if duplicates > 0 {
        notes.push(format!(
            "{duplicates} readings repeated in another block were counted once"
        ));
    }
    delivered.sort_by_key(|i| i.start);
    exported.sort_by_key(|i| i.start);
    let starts = delivered.windows(2).filter(|w| w[0].start == w[1].start).count();
    if starts > 0 {
        notes.push(format!(
            "{starts} readings share their start time with another (a daylight-saving change?); all are counted"
        ));
    }
    if incomplete > 0 {
        notes.push(format!(
            "{incomplete} readings without a start, length or value were skipped"
        ));
    }
    Ok(totals(delivered, exported, utc_offset_secs, notes))
}

/// kWh per unit of `value`: Wh × 10^multiplier ÷ 1000.
fn energy_factor(rt: &ReadingType, notes: &mut Vec<String>) -> Result<f64, ImportError> {
    if let Some(c) = rt.commodity.filter(|c| !ELECTRIC_COMMODITIES.contains(c)) {
        return Err(if rt.uom == Some(UOM_THERM) || c == 7 {
            ImportError::Gas
        } else {
            ImportError::NotElectricity(c)
        });
    }
    match rt.uom {
        None => return Err(ImportError::MissingUnits),
        Some(UOM_THERM) => return Err(ImportError::Gas),
        Some(UOM_WATT_HOUR) => {}
        Some(other) => return Err(ImportError::NotEnergy(other)),
    }
    if rt.flow.is_none() {
        let note = "the flow direction is not stated: readings are taken as delivered to the home";
        if !notes.iter().any(|n| n == note) {
            notes.push(note.into());
        }
    }
    let multiplier = rt.multiplier.unwrap_or(0).clamp(-12, 12);
    Ok(10f64.powi(multiplier) / 1000.0)
}

/// Energy by local calendar month, each reading spread over the time it covers.
pub fn monthly(delivered: &[Interval], exported: &[Interval], utc_offset_secs: i32) -> Vec<MonthTotal> {
    let mut months: BTreeMap<(i32, u32), MonthTotal> = BTreeMap::new();
    for i in delivered {
        for (year, m, kwh, secs) in by_month(i, utc_offset_secs) {
            let total = months.entry((year, m)).or_insert(MonthTotal {
                year,
                month: m,
                delivered_kwh: 0.0,
                exported_kwh: 0.0,
                days_covered: 0.0,
            });
            total.delivered_kwh += kwh;
            total.days_covered += secs as f64 / 86_400.0;
        }
    }
    for i in exported {
        for (year, m, kwh, _) in by_month(i, utc_offset_secs) {
            months
                .entry((year, m))
                .or_insert(MonthTotal {
                    year,
                    month: m,
                    delivered_kwh: 0.0,
                    exported_kwh: 0.0,
                    days_covered: 0.0,
                })
                .exported_kwh += kwh;
        }
    }
    months.into_values().collect()
}

fn totals(
    delivered: Vec<Interval>,
    exported: Vec<Interval>,
    utc_offset_secs: i32,
    notes: Vec<String>,
) -> Usage {
    let all = || delivered.iter().chain(exported.iter());
    let start = all().map(|i| i.start).min().unwrap_or(0);
    let end = all()
        .map(|i| i.start + i64::from(i.duration_secs))
        .max()
        .unwrap_or(0);
    let mut lengths: HashMap<u32, usize> = HashMap::new();
    for i in all() {
        *lengths.entry(i.duration_secs).or_default() += 1;
    }
    let interval_secs = lengths
        .into_iter()
        .max_by_key(|(len, count)| (*count, *len))
        .map(|(len, _)| len)
        .unwrap_or(0);
    let at = |secs: i64| Utc.timestamp_opt(secs, 0).single().unwrap_or_default();
    Usage {
        start: at(start),
        end: at(end),
        interval_secs,
        readings: delivered.len() + exported.len(),
        delivered_kwh: delivered.iter().map(|i| i.kwh).sum(),
        exported_kwh: exported.iter().map(|i| i.kwh).sum(),
        monthly: monthly(&delivered, &exported, utc_offset_secs),
        utc_offset_secs,
        notes,
        delivered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/greenbutton/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(path).unwrap()
    }

    fn total(name: &str) -> f64 {
        import(&sample(name), Limits::default()).unwrap().delivered_kwh
    }

    #[test]
    fn totals_match_the_published_figures_to_a_tenth_of_a_kilowatt_hour() {
        // The figures of testdata/greenbutton/README.md.
        for (file, expected) in [
            ("Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml", 6_563.0),
            ("Mountain_Single_family_Jan_1_2011_to_Jan_1_2012.xml", 8_898.5),
            ("MonthlyOnlyElectricData.xml", 9_567.0),
            ("1hrLP_32Days.xml", 2_354.8),
            ("15minLP_15Days.xml", 1_397.7),
        ] {
            let got = total(file);
            assert!(
                (got - expected).abs() < 0.1,
                "{file}: {got} kWh, expected {expected}"
            );
        }
    }

    #[test]
    fn the_summary_says_what_was_understood() {
        let usage = import(
            &sample("Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml"),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(usage.interval_secs, 3600);
        assert_eq!(usage.readings, 8760);
        assert_eq!(usage.exported_kwh, 0.0);
        assert_eq!(usage.monthly.len(), 12, "{:?}", usage.monthly);
        let monthly: f64 = usage.monthly.iter().map(|m| m.delivered_kwh).sum();
        assert!((monthly - usage.delivered_kwh).abs() < 1e-6);
        let fifteen = import(&sample("15minLP_15Days.xml"), Limits::default()).unwrap();
        assert_eq!(fifteen.interval_secs, 900);
    }

    #[test]
    fn gas_is_refused_with_a_clear_message() {
        let err = import(&sample("Gas.xml"), Limits::default()).unwrap_err();
        assert_eq!(err, ImportError::Gas);
        assert!(err.to_string().contains("gas"));
    }

    /// A small file in the shape of a utility export, with `prefix` on the ESPI elements.
    fn document(prefix: &str, reading_type: &str, readings: &str) -> String {
        let p = prefix;
        format!(
            r#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:{ns}="http://naesb.org/espi">
 <entry><link rel="self" href="https://u.example/espi/1_1/resource/RetailCustomer/1/UsagePoint/1/MeterReading/1"/>
  <link rel="related" href="https://u.example/espi/1_1/resource/ReadingType/9"/>
  <content><{p}MeterReading/></content></entry>
 <entry><link rel="self" href="https://u.example/espi/1_1/resource/ReadingType/9"/>
  <content><{p}ReadingType>{reading_type}</{p}ReadingType></content></entry>
 <entry><link rel="up" href="https://u.example/espi/1_1/resource/RetailCustomer/1/UsagePoint/1/MeterReading/1/IntervalBlock"/>
  <content><{p}IntervalBlock>{readings}</{p}IntervalBlock></content></entry>
</feed>"#,
            ns = if prefix.is_empty() {
                "espi"
            } else {
                prefix.trim_end_matches(':')
            },
            reading_type = reading_type
                .replace('<', &format!("<{p}"))
                .replace(&format!("<{p}/"), &format!("</{p}")),
            readings = readings
                .replace('<', &format!("<{p}"))
                .replace(&format!("<{p}/"), &format!("</{p}")),
        )
    }

    fn reading(start: i64, value: i64) -> String {
        format!(
            "<IntervalReading><timePeriod><duration>3600</duration><start>{start}</start></timePeriod><value>{value}</value></IntervalReading>"
        )
    }

    #[test]
    fn any_prefix_multipliers_and_flow_directions_are_applied() {
        let rt_in =
            "<uom>72</uom><powerOfTenMultiplier>-1</powerOfTenMultiplier><flowDirection>1</flowDirection>";
        let rt_out =
            "<uom>72</uom><powerOfTenMultiplier>3</powerOfTenMultiplier><flowDirection>19</flowDirection>";
        let readings = format!(
            "{}{}",
            reading(1_300_000_000, 12_000),
            reading(1_300_003_600, 8_000)
        );
        for prefix in ["espi:", "ns0:", ""] {
            let usage = import(document(prefix, rt_in, &readings).as_bytes(), Limits::default()).unwrap();
            assert!(
                (usage.delivered_kwh - 2.0).abs() < 1e-9,
                "{prefix}: {}",
                usage.delivered_kwh
            );
            assert_eq!(usage.exported_kwh, 0.0);
            let usage = import(document(prefix, rt_out, &readings).as_bytes(), Limits::default()).unwrap();
            assert_eq!(usage.delivered_kwh, 0.0);
            assert!((usage.exported_kwh - 20_000.0).abs() < 1e-9);
        }
    }

    #[test]
    fn a_block_repeated_in_the_feed_counts_once_and_a_doubled_hour_counts_twice() {
        let rt = "<uom>72</uom><flowDirection>1</flowDirection>";
        let block = format!(
            "{}{}",
            reading(1_300_000_000, 1_000),
            reading(1_300_000_000, 2_000)
        );
        let once = document("espi:", rt, &block);
        let usage = import(once.as_bytes(), Limits::default()).unwrap();
        assert!(
            (usage.delivered_kwh - 3.0).abs() < 1e-9,
            "both readings of the doubled hour count"
        );
        assert!(
            usage.notes.iter().any(|n| n.contains("share their start")),
            "{:?}",
            usage.notes
        );
        let twice = once.replace(
            "</feed>",
            &format!(
                r#"<entry><link rel="up" href="https://u.example/espi/1_1/resource/RetailCustomer/1/UsagePoint/1/MeterReading/1/IntervalBlock"/><content><espi:IntervalBlock>{}</espi:IntervalBlock></content></entry></feed>"#,
                block.replace('<', "<espi:").replace("<espi:/", "</espi:")
            ),
        );
        let usage = import(twice.as_bytes(), Limits::default()).unwrap();
        assert!(
            (usage.delivered_kwh - 3.0).abs() < 1e-9,
            "{}",
            usage.delivered_kwh
        );
        assert!(
            usage
                .notes
                .iter()
                .any(|n| n.contains("repeated in another block"))
        );
    }

    #[test]
    fn a_file_without_units_is_refused_not_guessed() {
        let doc = document(
            "espi:",
            "<flowDirection>1</flowDirection>",
            &reading(1_300_000_000, 5),
        );
        assert_eq!(
            import(doc.as_bytes(), Limits::default()).unwrap_err(),
            ImportError::MissingUnits
        );
        let doc = document("espi:", "<uom>38</uom>", &reading(1_300_000_000, 5));
        assert_eq!(
            import(doc.as_bytes(), Limits::default()).unwrap_err(),
            ImportError::NotEnergy(38)
        );
        let doc = document(
            "espi:",
            "<uom>72</uom><commodity>9</commodity>",
            &reading(1_300_000_000, 5),
        );
        assert_eq!(
            import(doc.as_bytes(), Limits::default()).unwrap_err(),
            ImportError::NotElectricity(9)
        );
    }

    #[test]
    fn document_types_and_entities_are_refused_before_anything_is_read() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "http://169.254.169.254/latest/meta-data/">]><feed>&x;</feed>"#;
        assert_eq!(
            import(xxe.as_bytes(), Limits::default()).unwrap_err(),
            ImportError::DocumentType
        );
        let mut laughs = String::from(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#);
        for i in 1..10 {
            laughs.push_str(&format!(
                r#"<!ENTITY lol{i} "{}">"#,
                format!("&lol{};", i - 1).repeat(10)
            ));
        }
        laughs.push_str("]><feed>&lol9;</feed>");
        assert_eq!(
            import(laughs.as_bytes(), Limits::default()).unwrap_err(),
            ImportError::DocumentType
        );
    }

    #[test]
    fn oversized_deep_and_endless_inputs_are_refused_fast() {
        let limits = Limits::default();
        let big = vec![b' '; limits.max_bytes + 1];
        assert_eq!(import(&big, limits).unwrap_err(), ImportError::TooLarge(20));
        let deep = "<a>".repeat(100_000);
        let started = Instant::now();
        assert_eq!(
            import(deep.as_bytes(), limits).unwrap_err(),
            ImportError::TooDeep(32)
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        let small = Limits {
            max_readings: 10,
            ..limits
        };
        let many: String = (0..11).map(|i| reading(1_300_000_000 + i * 3600, 1)).collect();
        let doc = document("", "<uom>72</uom>", &many);
        assert_eq!(
            import(doc.as_bytes(), small).unwrap_err(),
            ImportError::TooManyReadings(10)
        );
    }

    #[test]
    fn malformed_files_say_where_and_what() {
        let file = sample("1hrLP_32Days.xml");
        let cut = &file[..file.len() / 2];
        let err = import(cut, Limits::default()).unwrap_err();
        assert!(matches!(err, ImportError::Malformed { .. }), "{err:?}");
        let doc = document("", "<uom>seventy-two</uom>", &reading(1, 1));
        let err = import(doc.as_bytes(), Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "uom holds `seventy-two`, which is not a whole number"
        );
        assert_eq!(
            import(b"<feed/>", Limits::default()).unwrap_err(),
            ImportError::NoReadings
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the bytes, the importer answers (an import or a reason), never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = import(&bytes, Limits::default());
        }

        /// Damaging a real file anywhere gives an answer, never a panic.
        #[test]
        fn damaged_files_never_panic(cut in 0usize..14_089, byte in proptest::num::u8::ANY) {
            let mut file = sample("MonthlyOnlyElectricData.xml");
            let at = cut.min(file.len() - 1);
            file[at] = byte;
            let _ = import(&file, Limits::default());
            let _ = import(&file[..at], Limits::default());
        }
    }
}
