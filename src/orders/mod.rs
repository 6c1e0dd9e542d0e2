//! Orders: an accepted quote with its exact figures, its deposit, and the days booked for it.

pub mod api;
mod error;
pub mod model;
pub mod pages;
pub mod roadmap;
pub mod service;
pub(crate) mod store;

use crate::access::Routes;

/// Orders, in the API and the browser.
pub fn router() -> Routes {
    api::router().merge(pages::router())
}
