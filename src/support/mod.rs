//! Customer support: find a customer, open their data with a reason, help with their account.

pub mod api;
mod error;
pub mod pages;
pub mod service;

use crate::access::Routes;

/// The support routes of the API and the back office.
pub fn router() -> Routes {
    api::router().merge(pages::router())
}
