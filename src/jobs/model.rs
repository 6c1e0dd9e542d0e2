//! What a job looks like to the parties who see it: the system (its price only for those who
//! pay or sell it), the place, the customer's contact, the booked days, the timeline, the
//! photos and the steps the viewer may take. Money is `Money`, a system's size `Kw`.

use serde::Serialize;
use utoipa::ToSchema;

use super::lifecycle::JobState;
use super::photos::Photo;
use super::service::{Job, TimelineEntry};
use crate::scheduling::booking::Booking;
use crate::values::{Kw, Money};

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
}
