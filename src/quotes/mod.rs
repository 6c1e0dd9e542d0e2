//! Quotes: sized from the customer's real usage and the roof's simulated production, priced
//! from the region, with savings for 25 years and every assumption listed. Immutable: a change
//! is a new version.

pub mod api;
pub mod calc;
mod error;
pub mod model;
pub mod pages;
pub mod service;
pub(crate) mod store;

use crate::access::Routes;

/// Quotes, in the API and the browser.
pub fn router() -> Routes {
    api::router().merge(pages::router())
}
