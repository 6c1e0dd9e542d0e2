//! Workflows that span the marketplace's domains: a step of a job that other domains must
//! follow (`steps`: a cancelled job gives back its crew days; the survey and the installation
//! wait for their booked day and their photos), booking a day for an order (`booking`), and
//! the crew's days ahead (`today`). It sits above jobs and scheduling, so neither imports the
//! other to do it, and each still writes only its own tables, all in one transaction.

pub mod api;
pub mod booking;
pub mod live;
pub mod pages;
pub mod steps;
pub mod today;
pub mod watch;

pub use steps::{StepRules, readiness, step};

/// The crew's days, in the API and the browser.
pub fn router() -> crate::access::Routes {
    api::router().merge(pages::router())
}
