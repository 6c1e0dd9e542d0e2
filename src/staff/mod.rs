//! Staff administration: invitations, roles, disabling, and the access review.

pub mod api;
pub mod audit_lines;
mod error;
pub mod pages;
pub mod review;
pub mod service;

use crate::access::Routes;

/// The staff administration routes of the API and the back office.
pub fn router() -> Routes {
    api::router().merge(pages::router())
}
