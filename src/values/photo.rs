//! What a job photo shows. Some steps need particular photos before a crew may complete them
//! (a survey: the roof and the meter; an installation: the array, the inverter and the
//! labels); which ones is a setting, so the names are a closed list both the settings and the
//! jobs room read.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhotoSubject {
    /// The roof faces the array will sit on.
    Roof,
    /// The utility meter.
    Meter,
    /// The main electrical panel.
    ServicePanel,
    /// The finished array.
    Array,
    /// The inverter and its wiring.
    Inverter,
    /// The code-required warning labels.
    Labels,
    /// Anything else worth keeping.
    Other,
}

impl PhotoSubject {
    pub const ALL: [PhotoSubject; 7] = [
        PhotoSubject::Roof,
        PhotoSubject::Meter,
        PhotoSubject::ServicePanel,
        PhotoSubject::Array,
        PhotoSubject::Inverter,
        PhotoSubject::Labels,
        PhotoSubject::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PhotoSubject::Roof => "roof",
            PhotoSubject::Meter => "meter",
            PhotoSubject::ServicePanel => "service_panel",
            PhotoSubject::Array => "array",
            PhotoSubject::Inverter => "inverter",
            PhotoSubject::Labels => "labels",
            PhotoSubject::Other => "other",
        }
    }

    /// What the crew reads on the checklist and the photo button.
    pub fn label(self) -> &'static str {
        match self {
            PhotoSubject::Roof => "The roof",
            PhotoSubject::Meter => "The meter",
            PhotoSubject::ServicePanel => "The electrical panel",
            PhotoSubject::Array => "The finished array",
            PhotoSubject::Inverter => "The inverter",
            PhotoSubject::Labels => "The warning labels",
            PhotoSubject::Other => "Something else",
        }
    }

    pub fn parse(raw: &str) -> Option<PhotoSubject> {
        PhotoSubject::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl std::fmt::Display for PhotoSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for s in PhotoSubject::ALL {
            assert_eq!(PhotoSubject::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(PhotoSubject::parse("selfie"), None);
        assert!(serde_json::from_str::<PhotoSubject>("\"selfie\"").is_err());
    }
}
