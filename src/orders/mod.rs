//! Orders: an accepted quote with its exact figures, its deposit, and the days booked for it.

pub mod api;
mod error;
pub mod pages;
pub mod service;
pub(crate) mod store;
