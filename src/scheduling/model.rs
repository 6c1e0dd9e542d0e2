//! A booked day as the marketplace keeps it and the customer sees it.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::Kind;
use super::store::booking;
use crate::audit::Target;
use crate::ids::{BookingId, CrewId, JobId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Offered to a crew, waiting for its answer.
    Offered,
    /// A crew accepted the day.
    Confirmed,
    /// No crew could take the day: the customer picks another.
    Unassigned,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Offered => "offered",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Unassigned => "unassigned",
            BookingStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> BookingStatus {
        match raw {
            "confirmed" => BookingStatus::Confirmed,
            "unassigned" => BookingStatus::Unassigned,
            "cancelled" => BookingStatus::Cancelled,
            _ => BookingStatus::Offered,
        }
    }
}

/// A booked day as the customer sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Booking {
    #[schema(value_type = String)]
    pub id: BookingId,
    #[schema(value_type = String)]
    pub job_id: JobId,
    pub kind: Kind,
    pub date: NaiveDate,
    pub status: BookingStatus,
    #[serde(skip)]
    pub crew_id: Option<CrewId>,
}

impl From<booking::Model> for Booking {
    fn from(b: booking::Model) -> Self {
        Self {
            id: BookingId(b.id),
            job_id: JobId(b.job_id),
            kind: Kind::parse(&b.kind).unwrap_or(Kind::Survey),
            date: b.day,
            status: BookingStatus::parse(&b.status),
            crew_id: b.crew_id.map(CrewId),
        }
    }
}

pub fn booking_target(id: BookingId) -> Target {
    Target {
        kind: "booking",
        id: id.to_string(),
    }
}
