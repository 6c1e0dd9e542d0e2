//! Jobs: the work of an order from the deposit to the utility's permission to operate, with
//! the lifecycle table that says who takes each step, the timeline the customer follows, and
//! the photos the crew takes.

pub mod api;
mod error;
pub mod lifecycle;
pub mod model;
pub mod pages;
pub mod party_view;
pub mod photos;
pub mod rating;
pub mod service;
pub(crate) mod store;

pub use lifecycle::JobState;
pub use service::{Job, JobError};

use crate::access::Routes;

/// Jobs and the installer portal, in the API and the browser.
pub fn router() -> Routes {
    api::router().merge(pages::router()).merge(rating::router())
}
