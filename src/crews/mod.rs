//! Installer companies and their crews: where they work, what they can do, how many jobs a
//! day, on which days, and who is in them. Admins manage them; matching reads them.

pub mod api;
mod error;
pub mod model;
pub mod pages;
pub mod ratings;
pub mod service;
pub(crate) mod store;

pub use model::Crew;

use crate::access::Routes;

/// Companies and crews, in the admin API and the admin pages.
pub fn router() -> Routes {
    api::router().merge(pages::router())
}
