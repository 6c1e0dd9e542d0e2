//! Booking days and dispatching them to crews. A customer picks a free day; the job is offered
//! to the best crew that serves the home and has room that day; the crew accepts or declines in
//! its portal; an offer not answered in time moves to the next crew. A crew's day can never hold
//! more jobs than its capacity, however many requests race for it (S-DE-2).

pub mod api;
pub mod booking;
mod capacity;
pub mod dispatch;
mod error;
mod model;
pub mod slots;
pub(crate) mod store;

pub use api::router;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::JobState;

/// What a booked day is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Survey,
    Install,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Survey => "survey",
            Kind::Install => "install",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        match raw {
            "survey" => Some(Kind::Survey),
            "install" => Some(Kind::Install),
            _ => None,
        }
    }

    /// The job state a booking of this kind needs…
    pub fn bookable_in(self) -> JobState {
        match self {
            Kind::Survey => JobState::DepositPaid,
            Kind::Install => JobState::PermitApproved,
        }
    }

    pub const ALL: [Kind; 2] = [Kind::Survey, Kind::Install];

    /// …and the state a crew's confirmation moves the job to.
    pub fn confirmed_state(self) -> JobState {
        match self {
            Kind::Survey => JobState::SurveyScheduled,
            Kind::Install => JobState::InstallScheduled,
        }
    }

    /// The step the crew records on the booked day itself.
    pub fn done_state(self) -> JobState {
        match self {
            Kind::Survey => JobState::Surveyed,
            Kind::Install => JobState::Installed,
        }
    }

    /// Whether a visit of this kind is still to come at `state`: waiting for a crew or
    /// confirmed, not yet done.
    pub fn pending_in(self, state: JobState) -> bool {
        state == self.bookable_in() || state == self.confirmed_state()
    }

    /// The kind of day on which the step to `state` is done, if any.
    pub fn done_on(state: JobState) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.done_state() == state)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Survey => "site survey",
            Kind::Install => "installation",
        }
    }
}
