//! A booked day as the marketplace keeps it and the customer sees it.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::Kind;
use super::store::booking;
use crate::audit::Target;
use crate::crews::model::ArrivalWindow;
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

    /// Offered or confirmed: it holds a crew's time.
    pub fn is_live(self) -> bool {
        matches!(self, BookingStatus::Offered | BookingStatus::Confirmed)
    }

    /// What people read.
    pub fn words(self) -> &'static str {
        match self {
            BookingStatus::Offered => "Waiting for a crew to confirm.",
            BookingStatus::Confirmed => "Confirmed by the crew.",
            BookingStatus::Unassigned => "No crew could take it.",
            BookingStatus::Cancelled => "Cancelled.",
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
    /// When the crew arrives, in the home's time zone; empty on bookings from before windows
    /// (the whole day).
    #[schema(value_type = Option<crate::crews::model::WindowText>)]
    pub window: Option<ArrivalWindow>,
    pub status: BookingStatus,
    #[serde(skip)]
    pub crew_id: Option<CrewId>,
}

impl Booking {
    /// `Tuesday 8 December, 8 am – 12 pm`.
    pub fn when_words(&self) -> String {
        when_words(self.date, self.window)
    }
}

/// A day and its window as people read them.
pub fn when_words(day: NaiveDate, window: Option<ArrivalWindow>) -> String {
    let day = day.format("%A %-d %B").to_string();
    match window {
        Some(w) => format!("{day}, {}", w.words()),
        None => day,
    }
}

/// The window a stored booking holds.
pub fn window_of(b: &booking::Model) -> Option<ArrivalWindow> {
    ArrivalWindow::from_minutes(b.arrive_from?, b.arrive_until?)
}

impl From<booking::Model> for Booking {
    fn from(b: booking::Model) -> Self {
        Self {
            id: BookingId(b.id),
            job_id: JobId(b.job_id),
            kind: Kind::parse(&b.kind).unwrap_or(Kind::Survey),
            date: b.day,
            window: window_of(&b),
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
