//! Customer support: find a customer, open their data with a reason, help with their account.

pub mod api;
mod error;
pub mod pages;
pub mod service;
