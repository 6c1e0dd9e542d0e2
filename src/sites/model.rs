//! A home, parsed at the edge: past here a `NewSite` is known to be sensible.

use serde::Deserialize;
use utoipa::ToSchema;

/// What a customer sends to record a home (and nothing else: S-AC-4).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteForm {
    /// A name for the customer's own use ("Home", "Cabin").
    pub label: String,
    /// Street address, one field (it is encrypted at rest as one value).
    pub address: String,
    /// The home's five-digit ZIP code (ZIP+4 accepted). With it, the coordinates and the
    /// region may be left out: the home is placed from the ZIP code, in the region that serves
    /// it (422 `postal_code`/`unknown` for a ZIP code we cannot place, `not_served` where no
    /// region serves it yet).
    #[serde(default)]
    pub postal_code: Option<String>,
    /// Degrees; with `longitude`, where the home is (a phone's GPS, say). From the ZIP code
    /// when left out.
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Utility area, from `GET /api/v1/regions`; from the ZIP code when left out.
    #[serde(default)]
    pub region_id: Option<String>,
    /// Roof pitch in degrees from horizontal (0 flat … 90 vertical).
    pub roof_tilt_deg: f64,
    /// The direction the roof faces, degrees clockwise from north (180 = south).
    pub roof_azimuth_deg: f64,
    /// How many panels fit on the usable roof area. Estimated when left out (and marked
    /// `max_panels_estimated` until the survey measures the roof).
    #[serde(default)]
    pub max_panels: Option<i32>,
}

/// The panel count assumed when the customer does not know it: what the usable face of a
/// typical US house roof holds (about 45 m² at 1.9 m² a panel); the survey measures it.
pub const ESTIMATED_PANELS: i32 = 24;

/// A validated site, ready to store.
#[derive(Clone, Debug)]
pub struct NewSite {
    pub label: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub region_id: String,
    pub roof_tilt_deg: f64,
    pub roof_azimuth_deg: f64,
    pub max_panels: i32,
    pub max_panels_estimated: bool,
}

/// The first field that is wrong, and why.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct SiteProblem {
    pub field: &'static str,
    pub problem: &'static str,
}

fn problem(field: &'static str, problem: &'static str) -> SiteProblem {
    SiteProblem { field, problem }
}

fn text(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, SiteProblem> {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = collapsed.chars().count();
    if len < min {
        return Err(problem(field, "too short"));
    }
    if len > max {
        return Err(problem(field, "too long"));
    }
    if collapsed.chars().any(char::is_control) {
        return Err(problem(field, "contains characters that are not allowed"));
    }
    Ok(collapsed)
}

fn within(field: &'static str, value: f64, low: f64, high: f64) -> Result<f64, SiteProblem> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(problem(field, "out of range"))
    }
}

impl SiteForm {
    pub fn parse(self) -> Result<NewSite, SiteProblem> {
        let azimuth = within("roof_azimuth_deg", self.roof_azimuth_deg, 0.0, 360.0)?;
        let (max_panels, max_panels_estimated) = match self.max_panels {
            Some(n) if (1..=500).contains(&n) => (n, false),
            Some(_) => return Err(problem("max_panels", "out of range")),
            None => (ESTIMATED_PANELS, true),
        };
        let latitude = self.latitude.ok_or_else(|| problem("latitude", "required"))?;
        let longitude = self.longitude.ok_or_else(|| problem("longitude", "required"))?;
        let region_id = self.region_id.unwrap_or_default().trim().to_owned();
        if region_id.is_empty() || region_id.len() > 40 {
            return Err(problem("region_id", "unknown region"));
        }
        Ok(NewSite {
            label: text("label", &self.label, 1, 60)?,
            address: text("address", &self.address, 5, 300)?,
            latitude: within("latitude", latitude, -90.0, 90.0)?,
            longitude: within("longitude", longitude, -180.0, 180.0)?,
            region_id,
            roof_tilt_deg: within("roof_tilt_deg", self.roof_tilt_deg, 0.0, 90.0)?,
            // 360 and 0 are both north.
            roof_azimuth_deg: azimuth % 360.0,
            max_panels,
            max_panels_estimated,
        })
    }
}

/// The town of an address as people type it ("1200 Elm Street, Greensboro NC 27401" →
/// "Greensboro"): the part after the street, without the state and ZIP code. What a crew's
/// day list and a lock-screen notice may show; `None` when the address has no such part.
pub fn town_of(address: &str) -> Option<String> {
    let place = address.split(',').nth(1)?;
    let words: Vec<&str> = place
        .split_whitespace()
        .filter(|w| crate::geo::ZipCode::parse(w).is_none())
        .collect();
    // A two-letter state code after the town ("Greensboro NC").
    let end = match words.as_slice() {
        [.., last] if words.len() > 1 && last.len() == 2 && last.chars().all(|c| c.is_ascii_uppercase()) => {
            words.len() - 1
        }
        _ => words.len(),
    };
    let town = words[..end].join(" ");
    (!town.is_empty()).then_some(town)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SiteForm {
        SiteForm {
            label: " Home ".into(),
            address: "123  Main St, Greensboro NC 27401".into(),
            postal_code: None,
            latitude: Some(36.07),
            longitude: Some(-79.79),
            region_id: Some("us-nc-piedmont".into()),
            roof_tilt_deg: 25.0,
            roof_azimuth_deg: 360.0,
            max_panels: Some(24),
        }
    }

    #[test]
    fn a_sensible_site_parses_and_is_tidied() {
        let site = form().parse().unwrap();
        assert_eq!(site.label, "Home");
        assert_eq!(site.address, "123 Main St, Greensboro NC 27401");
        assert_eq!(site.roof_azimuth_deg, 0.0);
        assert_eq!((site.max_panels, site.max_panels_estimated), (24, false));
        let unknown = SiteForm {
            max_panels: None,
            ..form()
        };
        let site = unknown.parse().unwrap();
        assert_eq!(
            (site.max_panels, site.max_panels_estimated),
            (ESTIMATED_PANELS, true)
        );
    }

    #[test]
    fn nonsense_is_refused_field_by_field() {
        type Spoil = fn(&mut SiteForm);
        let cases: [(Spoil, &str); 7] = [
            (|f| f.latitude = Some(91.0), "latitude"),
            (|f| f.longitude = Some(f64::NAN), "longitude"),
            (|f| f.latitude = None, "latitude"),
            (|f| f.roof_tilt_deg = -5.0, "roof_tilt_deg"),
            (|f| f.max_panels = Some(0), "max_panels"),
            (|f| f.address = "x".into(), "address"),
            (|f| f.label = "Home\u{7}".into(), "label"),
        ];
        for (spoil, field) in cases {
            let mut f = form();
            spoil(&mut f);
            assert_eq!(f.parse().unwrap_err().field, field);
        }
    }

    #[test]
    fn the_town_is_the_part_after_the_street() {
        assert_eq!(
            town_of("1200 Elm Street, Greensboro NC 27401").as_deref(),
            Some("Greensboro")
        );
        assert_eq!(
            town_of("9 Harbor Way, Dutch Harbor, AK, 99692").as_deref(),
            Some("Dutch Harbor")
        );
        assert_eq!(
            town_of("44 Oak Lane, Winston Salem").as_deref(),
            Some("Winston Salem")
        );
        assert_eq!(town_of("1200 Elm Street, 27401"), None);
        assert_eq!(town_of("1200 Elm Street"), None);
    }
}
