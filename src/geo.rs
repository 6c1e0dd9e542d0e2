//! Places from ZIP codes, offline: the Census ZIP Code Tabulation Areas with their internal
//! points (`geo/zcta-2021.tsv`, public domain; see `geo/README.md`), compiled into the binary,
//! and the lists of ZIP codes a region serves. A leaf: it imports nothing of the application.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The gazetteer, compiled in (about 0.8 MB).
const GAZETTEER: &str = include_str!("../geo/zcta-2021.tsv");

/// A five-digit US ZIP code, validated (the ZIP+4 suffix, if typed, is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZipCode([u8; 5]);

impl ZipCode {
    /// `27401`, `27401-1234` and ` 27401 ` are the same ZIP code.
    pub fn parse(raw: &str) -> Option<ZipCode> {
        let raw = raw.trim();
        let five = match raw.split_once('-') {
            Some((five, four)) if four.len() == 4 && four.bytes().all(|b| b.is_ascii_digit()) => five,
            Some(_) => return None,
            None => raw,
        };
        let bytes: [u8; 5] = five.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_digit).then_some(ZipCode(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("00000")
    }

    /// The three-digit prefix (the USPS sectional centre), as a number.
    fn prefix(&self) -> u16 {
        self.0[..3].iter().fold(0, |n, d| n * 10 + u16::from(d - b'0'))
    }
}

impl std::fmt::Display for ZipCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Latitude and longitude in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

impl Location {
    /// A `geo:` link (RFC 5870) with a pin at the place: the phone's own map app opens it.
    pub fn geo_uri(&self) -> String {
        format!(
            "geo:{lat:.5},{lon:.5}?q={lat:.5},{lon:.5}",
            lat = self.latitude,
            lon = self.longitude
        )
    }
}

struct Gazetteer {
    places: HashMap<ZipCode, Location>,
    /// The centre of each three-digit area: where a ZIP code with no tabulation area of its
    /// own (a post-office box, one large building) is placed.
    areas: HashMap<u16, Location>,
}

fn gazetteer() -> &'static Gazetteer {
    // Read-only data parsed once on first use; nothing in it changes while the process runs.
    static PLACES: OnceLock<Gazetteer> = OnceLock::new();
    PLACES.get_or_init(|| {
        let places: HashMap<ZipCode, Location> = GAZETTEER
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let zip = ZipCode::parse(fields.next()?)?;
                let latitude = fields.next()?.parse().ok()?;
                let longitude = fields.next()?.parse().ok()?;
                Some((zip, Location { latitude, longitude }))
            })
            .collect();
        let mut sums: HashMap<u16, (f64, f64, f64)> = HashMap::new();
        for (zip, at) in &places {
            let sum = sums.entry(zip.prefix()).or_default();
            *sum = (sum.0 + at.latitude, sum.1 + at.longitude, sum.2 + 1.0);
        }
        let areas = sums
            .into_iter()
            .map(|(prefix, (lat, lon, n))| {
                (
                    prefix,
                    Location {
                        latitude: lat / n,
                        longitude: lon / n,
                    },
                )
            })
            .collect();
        Gazetteer { places, areas }
    })
}

/// Where a ZIP code is: its tabulation area's internal point, or, for a ZIP code without one
/// (post-office boxes, single buildings), the centre of its three-digit area: in a city a few
/// kilometres off, in a large rural area (Alaska, Montana) far more, so such a home's place is
/// approximate until the survey. `None` when no ZIP code of that area exists.
pub fn locate(zip: ZipCode) -> Option<Location> {
    let g = gazetteer();
    g.places.get(&zip).or_else(|| g.areas.get(&zip.prefix())).copied()
}

/// The ZIP code whose tabulation area's point lies nearest to `at` (to show a stored place, a
/// crew's base, in the words admins typed it in). A scan of the 33,791 points: a fraction of a
/// millisecond, for admin pages only.
pub fn nearest(at: Location) -> Option<ZipCode> {
    let cos = at.latitude.to_radians().cos();
    gazetteer()
        .places
        .iter()
        .map(|(zip, p)| {
            // Equirectangular distance: exact enough to rank neighbours.
            let (dy, dx) = (p.latitude - at.latitude, (p.longitude - at.longitude) * cos);
            (dy * dy + dx * dx, *zip)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.0.cmp(&b.1.0)))
        .map(|(_, zip)| zip)
}

/// The ZIP codes a region serves, as its admins write them: comma-separated three-digit
/// prefixes (`274`), ranges of prefixes (`270-277`) and whole ZIP codes (`99685`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZipSet {
    prefixes: Vec<(u16, u16)>,
    zips: Vec<ZipCode>,
}

/// A list entry that is none of the three forms.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a ZIP code, a three-digit prefix or a range of prefixes")]
pub struct BadZipEntry(pub String);

impl ZipSet {
    pub fn parse(list: &str) -> Result<ZipSet, BadZipEntry> {
        let mut set = ZipSet::default();
        let prefix = |s: &str| -> Option<u16> {
            (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
        };
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || BadZipEntry(entry.chars().take(20).collect());
            if let Some((low, high)) = entry.split_once('-') {
                let (low, high) = (
                    prefix(low.trim()).ok_or_else(bad)?,
                    prefix(high.trim()).ok_or_else(bad)?,
                );
                if low > high {
                    return Err(bad());
                }
                set.prefixes.push((low, high));
            } else if let Some(p) = prefix(entry) {
                set.prefixes.push((p, p));
            } else if entry.len() == 5 {
                set.zips.push(ZipCode::parse(entry).ok_or_else(bad)?);
            } else {
                return Err(bad());
            }
        }
        Ok(set)
    }

    pub fn contains(&self, zip: ZipCode) -> bool {
        let p = zip.prefix();
        self.zips.contains(&zip)
            || self
                .prefixes
                .iter()
                .any(|(low, high)| (*low..=*high).contains(&p))
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty() && self.zips.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_codes_are_five_digits_with_an_optional_plus_four() {
        assert_eq!(ZipCode::parse(" 27401 ").unwrap().as_str(), "27401");
        assert_eq!(ZipCode::parse("27401-1234").unwrap().as_str(), "27401");
        for bad in ["2740", "274011", "2740a", "27401-12", "", "٢٧٤٠١", "27401-abcd"] {
            assert_eq!(ZipCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_gazetteer_holds_the_whole_country() {
        assert_eq!(gazetteer().places.len(), 33_791);
        // Greensboro, NC; Honolulu; Anchorage; San Juan; Juneau.
        let greensboro = locate(ZipCode::parse("27401").unwrap()).unwrap();
        assert!(
            (greensboro.latitude - 36.0708).abs() < 0.001 && (greensboro.longitude + 79.7677).abs() < 0.001
        );
        for zip in ["96813", "99501", "00901", "99801", "10001", "94103"] {
            assert!(locate(ZipCode::parse(zip).unwrap()).is_some(), "{zip}");
        }
        // The Empire State Building's own ZIP code has no tabulation area: Manhattan's centre.
        let building = locate(ZipCode::parse("10118").unwrap()).unwrap();
        assert!(
            (building.latitude - 40.75).abs() < 0.2 && (building.longitude + 73.98).abs() < 0.2,
            "{building:?}"
        );
        // No ZIP code of the area exists.
        assert_eq!(locate(ZipCode::parse("00000").unwrap()), None);
        assert_eq!(locate(ZipCode::parse("21300").unwrap()), None);
    }

    #[test]
    fn the_nearest_zip_code_of_a_zip_codes_own_point_is_itself() {
        for zip in ["27401", "96813", "99501", "10001"] {
            let zip = ZipCode::parse(zip).unwrap();
            assert_eq!(nearest(locate(zip).unwrap()), Some(zip));
        }
        // A point in the Atlantic off Cape Hatteras: a coastal North Carolina ZIP code.
        let off_shore = nearest(Location {
            latitude: 35.2,
            longitude: -75.2,
        })
        .unwrap();
        assert!(off_shore.as_str().starts_with("279"), "{off_shore}");
    }

    #[test]
    fn a_region_serves_prefixes_ranges_and_single_zip_codes() {
        let set = ZipSet::parse("270-277, 286,99685").unwrap();
        let zip = |z| ZipCode::parse(z).unwrap();
        assert!(set.contains(zip("27401")) && set.contains(zip("27000")) && set.contains(zip("27799")));
        assert!(set.contains(zip("28601")) && set.contains(zip("99685")));
        assert!(!set.contains(zip("27801")) && !set.contains(zip("99686")) && !set.contains(zip("28501")));
        assert!(ZipSet::parse("").unwrap().is_empty());
        for bad in ["27", "277-270", "abc", "2740", "27-28", "274-"] {
            assert!(ZipSet::parse(bad).is_err(), "{bad}");
        }
    }
}
