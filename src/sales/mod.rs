//! Sales: the pipeline of leads by stage and week.

pub mod api;
pub mod pages;
pub mod service;

use crate::access::Routes;

/// The pipeline, in the API and the back office.
pub fn router() -> Routes {
    api::router().merge(pages::router())
}
