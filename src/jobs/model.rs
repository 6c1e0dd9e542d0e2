//! What a job looks like to the parties who see it: the system (its price only for those who
//! pay or sell it), the place, the customer's contact, the booked days, the timeline, the
//! photos and the steps the viewer may take. Money is `Money`, a system's size `Kw`.

use serde::Serialize;
use utoipa::ToSchema;

use super::lifecycle::JobState;
use super::photos::Photo;
use super::service::{Job, TimelineEntry};
use crate::scheduling::booking::Booking;
use crate::values::{Kw, Money, PhotoSubject};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SystemSummary {
    #[schema(value_type = f64)]
    pub system_kw: Kw,
    pub panels: i32,
    pub battery: bool,
    /// The customer's price and deposit: not shown to crews.
    #[schema(value_type = Option<i64>)]
    pub price_cents: Option<Money>,
    #[schema(value_type = Option<i64>)]
    pub deposit_cents: Option<Money>,
    pub currency: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Place {
    pub label: String,
    /// Masked for staff without a grant.
    pub address: String,
    /// Where the home is, for the crew's map app (not for staff without a grant).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// How the crew gets in (gate code, dog, parking): for the owner and the assigned crew.
    pub access_notes: Option<String>,
    pub region_id: String,
    pub roof_tilt_deg: f64,
    pub roof_azimuth_deg: f64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CustomerContact {
    pub name: String,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    pub label: &'static str,
    pub system: SystemSummary,
    pub place: Place,
    /// For the crew and staff (masked without a grant); the owner knows who they are.
    pub customer: Option<CustomerContact>,
    pub bookings: Vec<Booking>,
    pub timeline: Vec<TimelineEntry>,
    pub photos: Vec<Photo>,
    /// The steps the caller may take now.
    pub next_steps: Vec<JobState>,
    /// `full`, or `masked` for staff without a live grant.
    pub personal_data: &'static str,
    /// For the assigned crew, when its next step is done on a booked day: whether it is open
    /// and why not (the day, the photos).
    pub readiness: Option<StepReadiness>,
}

/// A photo a step needs, and whether the job has one.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequiredPhoto {
    pub subject: PhotoSubject,
    pub label: &'static str,
    pub taken: bool,
}

/// Whether the crew may record the step done on a booked day (the survey, the installation)
/// now, and if not, why: the day has not come, or photos are missing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StepReadiness {
    pub step: JobState,
    /// The booked day, in the home's time zone; none while no day is confirmed.
    pub day: Option<chrono::NaiveDate>,
    pub photos: Vec<RequiredPhoto>,
    /// True when the step can be recorded now.
    pub open: bool,
    /// What it waits for when not open: `day` (none confirmed, or not yet come) or `photos`.
    pub waiting_for: Option<&'static str>,
    /// Why not, in a sentence the crew can act on.
    pub why_not: Option<String>,
}
