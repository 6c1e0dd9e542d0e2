//! Deposits through a payment provider: checkouts for amounts the server computed, confirmed
//! only by signed, fresh, once-only webhooks (S-IT-2).

pub mod api;
pub mod dev;
mod error;
pub mod provider;
pub mod service;
pub mod signature;
pub(crate) mod store;

pub use api::router;
