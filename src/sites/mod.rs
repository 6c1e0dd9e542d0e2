//! Customers' homes: location and roof facts, and the electricity usage a quote is sized from.

pub mod api;
mod error;
pub mod model;
pub mod pages;
pub mod service;
pub(crate) mod store;
pub mod usage;

use crate::access::Routes;

/// The customer's homes and usage, in the API and the browser.
pub fn router() -> Routes {
    api::router().merge(pages::router())
}
